"""`--changed-since REF`: the images whose inputs differ between a revision and the working
tree, plus everything built on them, each with the reason it is selected (pure).

An image is changed where a changed path (changed, added or deleted) is
- a file of a folder its build sees, as that folder's ignore file filters it: the context
  (`<Dockerfile>.dockerignore` beside the Dockerfile, else `.dockerignore`) and each local
  named context (its own `.dockerignore`, as BuildKit reads it for a `local` named context,
  moby/buildkit frontend/dockerui/namedcontext.go);
- one of those ignore files (or one that would take over: `<Dockerfile>.dockerignore`);
- its Dockerfile, or its cache profile (or a profile file found before it);
or where its pipeline entry changed (`pipeline/entry_diff.py`). A remote context is the
builder's to fetch: such an image is changed only through its entry or cache profile.
A local input outside the repository cannot be compared: the image counts as changed.
"""

from __future__ import annotations

import bisect
import posixpath
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from buildorch.planning.graph import BuildGraph


class Ignores(Protocol):
    """What a folder's ignore file leaves out (inputs/dockerignore.IgnoreMatcher)."""

    def excluded(self, rel_path: str, is_dir: bool) -> bool: ...


@dataclass(frozen=True)
class Folder:
    """A local folder a build sees."""

    path: str  # relative to the repository, with '/' ('' for its top)
    ignore: Ignores
    ignore_files: tuple[str, ...]  # the ignore files that decide, or would if added


@dataclass(frozen=True)
class Watched:
    """What one image's build reads from the repository."""

    folders: tuple[Folder, ...] = ()
    files: tuple[tuple[str, str], ...] = ()  # (path, the reason when it changed)
    outside: str | None = None  # why a change cannot be seen (an input outside the repo)


class ChangedPaths:
    """The paths that differ, sorted, so that those under a folder are found by bisection."""

    def __init__(self, paths: frozenset[str]) -> None:
        self.paths = paths
        self._sorted = sorted(paths)

    def under(self, folder: str) -> Iterator[str]:
        """Each changed path inside `folder`, relative to it."""
        if not folder:
            yield from self._sorted
            return
        prefix = folder + "/"
        for path in self._sorted[bisect.bisect_left(self._sorted, prefix):]:
            if not path.startswith(prefix):
                return
            yield path[len(prefix):]


def direct_reasons(watched: Mapping[str, Watched], changed: ChangedPaths,
                   entries: Mapping[str, str], base: str) -> dict[str, list[str]]:
    """Why each image is changed itself (`entries`: the reasons from its pipeline entry);
    paths are shown relative to `base`, the pipeline's folder in the repository."""
    reasons: dict[str, list[str]] = {}
    for name, inputs in watched.items():
        found = _file_reasons(inputs, changed, base)
        if name in entries:
            found.insert(0, entries[name])
        visible = sorted({posixpath.join(f.path, rel) for f in inputs.folders
                          for rel in _visible(f, changed)})
        if visible:
            more = f" (+{len(visible) - 1} more)" if len(visible) > 1 else ""
            found.append(f"changed: {_shown(visible[0], base)}{more}")
        if inputs.outside is not None:
            found.append(inputs.outside)
        if found:
            reasons[name] = found
    return reasons


def _file_reasons(inputs: Watched, changed: ChangedPaths, base: str) -> list[str]:
    found = dict.fromkeys(why for path, why in inputs.files if path in changed.paths)
    for folder in inputs.folders:
        for path in folder.ignore_files:
            if path in changed.paths:
                found[f"ignore file changed: {_shown(path, base)}"] = None
    return list(found)


def _visible(folder: Folder, changed: ChangedPaths) -> Iterator[str]:
    for rel in changed.under(folder.path):
        if not folder.ignore.excluded(rel, False):
            yield rel


def _shown(path: str, base: str) -> str:
    return posixpath.relpath(path, base) if base else path


def with_dependents(graph: BuildGraph, direct: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """The changed images and everything built on them, each with why, in build order: an
    image built on a selected one names those it is built on."""
    reasons: dict[str, str] = {}
    for name in graph.graph.sorter().static_order():
        own = list(direct.get(name, ()))
        on = [p for p in graph.graph.predecessors(name) if p in reasons]
        if on:
            own.append(f"built on {', '.join(on)}")
        if own:
            reasons[name] = "; ".join(own)
    return reasons
