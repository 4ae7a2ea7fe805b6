"""`buildorch cache ls|stats|prune`: the pipeline's registry and S3 caches (effects).

One section per cache profile in use. Protected on prune: each profile's default branch
and its `export_branches` (`cache.admin.entries.protected_scopes`).
"""

from __future__ import annotations

import argparse

from buildorch.backends.capabilities import REGISTRY, S3
from buildorch.cache.admin import registry, s3
from buildorch.cache.admin.entries import Entry, PruneResult, protected_scopes
from buildorch.cache.admin.render import render_entries, render_prune, render_stats
from buildorch.cache.profiles import CacheProfile
from buildorch.cache.s3.client import S3Location
from buildorch.cli.loading import load
from buildorch.errors import BuildorchError
from buildorch.pipeline.loaded import LoadedPipeline

SUPPORTED = (REGISTRY, S3)


def command(args: argparse.Namespace) -> int:
    pipeline, _ = load(args)
    print(run(pipeline, args.action, getattr(args, "older_than", None),
              getattr(args, "dry_run", False), getattr(args, "grace_hours", 1.0)))
    return 0


def profiles_in_use(pipeline: LoadedPipeline) -> dict[str, CacheProfile]:
    found: dict[str, CacheProfile] = {}
    for image in pipeline.images.values():
        if image.cache is not None and image.cache_name is not None:
            found.setdefault(image.cache_name, image.cache)
    return found


def run(pipeline: LoadedPipeline, action: str, older_than: float | None, dry_run: bool,
        grace_hours: float = 1.0) -> str:
    profiles = profiles_in_use(pipeline)
    if not profiles:
        raise BuildorchError("no image of this pipeline uses a cache profile (try --cache NAME)")
    sections = []
    for name, profile in sorted(profiles.items()):
        if profile.type not in SUPPORTED:
            body = f"not supported for {profile.type} caches (registry and s3 only)"
        elif action == "prune":
            assert older_than is not None
            body = render_prune(_prune(pipeline, profile, older_than, dry_run, grace_hours))
        else:
            entries = _entries(pipeline, profile)
            body = render_entries(entries) if action == "ls" else render_stats(entries)
        sections.append(f"# cache profile {name} ({profile.type})\n{body}")
    return "\n\n".join(sections)


def _known(pipeline: LoadedPipeline) -> list[tuple[str, str]]:
    """(pipeline, image) pairs: they split S3 native entry names."""
    return [(pipeline.model.name, image) for image in pipeline.images]


def _entries(pipeline: LoadedPipeline, profile: CacheProfile) -> list[Entry]:
    if profile.type == REGISTRY:
        return registry.list_entries(profile.ref or "", images=tuple(pipeline.images))
    return s3.list_entries(S3Location.from_profile(profile), known=_known(pipeline))


def _prune(pipeline: LoadedPipeline, profile: CacheProfile, older_than: float, dry_run: bool,
           grace_hours: float) -> PruneResult:
    protected = protected_scopes(profile)
    if profile.type == REGISTRY:
        return registry.prune(profile.ref or "", older_than, protected, dry_run=dry_run,
                              images=tuple(pipeline.images))
    return s3.prune(S3Location.from_profile(profile), older_than, protected, dry_run=dry_run,
                    grace_hours=grace_hours, known=_known(pipeline))
