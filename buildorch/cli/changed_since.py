"""`--changed-since REF` for `build`, `plan` and `graph`: which images to select, and why.

git (pipeline/git_changes) gives the paths that differ and the pipeline file at REF;
pipeline/entry_diff compares the entries; planning/changed_since decides, adding everything
built on a changed image. The IMAGE|GROUP names given narrow the result.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from buildorch.errors import ConfigError, shorten

if TYPE_CHECKING:
    from buildorch.pipeline.git_changes import GitChanges
    from buildorch.pipeline.loaded import LoadedPipeline
    from buildorch.planning.graph import BuildGraph


@dataclass(frozen=True)
class Selection:
    names: tuple[str, ...]  # what to plan: IMAGE|GROUP names, or the changed images
    reasons: Mapping[str, str] = field(default_factory=dict)  # why each changed image is
    nothing: str | None = None  # set where --changed-since selected nothing: the message


def narrow(args: argparse.Namespace, pipeline: LoadedPipeline, graph: BuildGraph) -> Selection:
    """The selection; with --changed-since, `args.names` become the changed images, so that
    every later step (checks, input digests, the plan) sees them."""
    chosen = selection(args, pipeline, graph)
    if args.changed_since is not None:
        args.names = list(chosen.names)
    return chosen


def selection(args: argparse.Namespace, pipeline: LoadedPipeline,
              graph: BuildGraph) -> Selection:
    ref: str | None = args.changed_since
    if ref is None:
        return Selection(tuple(args.names))
    from buildorch.pipeline.git_changes import changes_since
    from buildorch.planning.changed_since import ChangedPaths, direct_reasons, with_dependents
    from buildorch.planning.graph import expand_selection
    from buildorch.planning.watched_inputs import WatchedReader

    changes = changes_since(ref, pipeline.folder)
    watched = WatchedReader(pipeline, changes.relative, args.cache_config).all()
    direct = direct_reasons(watched, ChangedPaths(changes.paths), entry_reasons(pipeline, changes),
                            changes.relative(pipeline.folder) or "")
    reasons = with_dependents(graph, direct)
    wanted = set(expand_selection(args.names, pipeline.images, pipeline.model.groups)
                 if args.names else pipeline.images)
    names = tuple(n for n in pipeline.images if n in reasons and n in wanted)
    if not names:
        return Selection((), reasons, f"nothing changed since {shorten(ref)}")
    return Selection(names, reasons)


def entry_reasons(pipeline: LoadedPipeline, changes: GitChanges) -> dict[str, str]:
    """Why each image's pipeline entry counts as changed since the revision."""
    from buildorch.pipeline.entry_diff import entry_changes
    from buildorch.pipeline.yaml_source import parse_yaml

    rel = changes.relative(pipeline.path)
    old_text = None if rel is None else changes.text_at_ref(rel)
    if old_text is None:
        return dict.fromkeys(pipeline.images, f"the pipeline file is not in {changes.ref}")
    if rel not in changes.paths:  # the same file: no entry changed (variables neither)
        return {}
    try:
        old = parse_yaml(old_text, f"{rel} at {changes.ref}")
    except ConfigError:
        return dict.fromkeys(pipeline.images, f"the pipeline file at {changes.ref} is no YAML")
    entries = {name: pipeline.entry_key(name) for name in pipeline.images}  # a matrix's
    also = {name: image.cache_source.data for name, image in pipeline.images.items()
            if image.cache_source is not None}
    return entry_changes(old, pipeline.source, entries, also)
