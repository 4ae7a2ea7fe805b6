"""Checks, before any build starts, that the chosen backend can do what the run asks (pure)."""

from __future__ import annotations

from collections.abc import Iterable

from buildorch.errors import ConfigError
from buildorch.pipeline.loader import LoadedPipeline

_HINTS = {
    "s3": "use `transport: sync` (or `auto`) in the profile, or a standalone BuildKit "
          "(--backend buildctl/nerdctl, or a buildx container builder)",
    "registry": "enable the containerd image store in the Docker daemon "
                "(features.containerd-snapshotter), or use `cache: inline`",
    "local": "enable the containerd image store in the Docker daemon "
             "(features.containerd-snapshotter), or use `cache: inline`",
}


def cache_type_needed(profile_type: str, transport: str,
                      cache_exporters: frozenset[str]) -> str:
    """The exporter a profile needs: S3 through the sync transport needs only `local`."""
    if profile_type == "s3" and "s3" not in cache_exporters and transport in ("sync", "auto"):
        return "local"
    return profile_type


def check_cache(pipeline: LoadedPipeline, names: Iterable[str], backend: str,
                cache_exporters: frozenset[str]) -> None:
    for name in names:
        image = pipeline.images[name]
        if image.cache is None:
            continue
        needed = cache_type_needed(image.cache.type, image.cache.transport, cache_exporters)
        if needed in cache_exporters:
            continue
        path = ("images", name, "cache") if "cache" in pipeline.model.images[
            name].model_fields_set else ("defaults", "cache")
        file, line = pipeline.where(path)
        hint = _HINTS.get(image.cache.type, "choose another cache profile")
        raise ConfigError(
            f"cache profile '{image.cache_name}' needs {image.cache.type} cache export, which "
            f"backend {backend} here cannot do (it can: "
            f"{', '.join(sorted(cache_exporters)) or 'none'}); {hint}",
            file=file, line=line, field=".".join(str(p) for p in path))
