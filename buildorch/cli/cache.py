"""`buildorch cache ls|stats|prune`: the pipeline's registry and S3 caches (effects).

Protected on prune: each profile's default branch and its `export_branches`.
"""

from __future__ import annotations

from buildorch.cache.keys import scope_key
from buildorch.cache.profiles import CacheProfile
from buildorch.errors import BuildorchError
from buildorch.pipeline.loader import LoadedPipeline


def profiles_in_use(pipeline: LoadedPipeline) -> dict[str, CacheProfile]:
    found: dict[str, CacheProfile] = {}
    for image in pipeline.images.values():
        if image.cache is not None and image.cache_name is not None:
            found.setdefault(image.cache_name, image.cache)
    return found


def protected_scopes(profile: CacheProfile) -> set[str]:
    return {scope_key(profile.default_branch), *(scope_key(b) for b in profile.export_branches)}


def run(pipeline: LoadedPipeline, action: str, older_than: float | None, dry_run: bool,
        grace_hours: float = 1.0) -> str:
    profiles = profiles_in_use(pipeline)
    if not profiles:
        raise BuildorchError("no image of this pipeline uses a cache profile (try --cache NAME)")
    sections = []
    for name, profile in sorted(profiles.items()):
        title = f"# cache profile {name} ({profile.type})"
        if profile.type == "registry":
            body = _registry(pipeline, profile, action, older_than, dry_run)
        elif profile.type == "s3":
            known = [(pipeline.model.name, image) for image in pipeline.images]
            body = _s3(profile, action, older_than, dry_run, grace_hours, known)
        else:
            body = f"not supported for {profile.type} caches (registry and s3 only)"
        sections.append(f"{title}\n{body}")
    return "\n\n".join(sections)


def _registry(pipeline: LoadedPipeline, profile: CacheProfile, action: str,
              older_than: float | None, dry_run: bool) -> str:
    from buildorch.cache.admin import registry as admin

    images = tuple(pipeline.images)
    ref = profile.ref or ""
    if action == "prune":
        assert older_than is not None
        return admin.render_prune(admin.prune(ref, older_than, protected_scopes(profile),
                                              dry_run=dry_run, images=images))
    entries = admin.list_entries(ref, images=images)
    return admin.render_entries(entries) if action == "ls" else admin.render_stats(entries)


def _s3(profile: CacheProfile, action: str, older_than: float | None, dry_run: bool,
        grace_hours: float, known: list[tuple[str, str]]) -> str:
    from buildorch.cache.admin import s3 as admin
    from buildorch.cache.s3.sync import S3Location

    location = S3Location.from_profile(profile)
    if action == "prune":
        assert older_than is not None
        return admin.render_prune(admin.prune(location, older_than, protected_scopes(profile),
                                              dry_run=dry_run, grace_hours=grace_hours,
                                              known=known))
    entries = admin.list_entries(location, known=known)
    if action == "ls":
        return admin.render_entries(entries)
    return admin.render_stats(admin.stats(entries), entries)
