"""Before any build: the chosen backend can export every cache the run asks for (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from buildorch.backends.capabilities import GHA, LOCAL, REGISTRY, S3, CacheType
from buildorch.cache.plan import gha_missing
from buildorch.errors import ConfigError
from buildorch.pipeline.loaded import LoadedPipeline

_HINTS = {
    S3: "use `transport: sync` (or `auto`) in the profile, or a standalone BuildKit "
        "(--backend buildctl/nerdctl, or a buildx container builder)",
    REGISTRY: "enable the containerd image store in the Docker daemon "
              "(features.containerd-snapshotter), or use `cache: inline`",
    LOCAL: "enable the containerd image store in the Docker daemon "
           "(features.containerd-snapshotter), or use `cache: inline`",
}


def cache_type_needed(profile_type: CacheType, transport: str,
                      cache_exporters: frozenset[CacheType]) -> CacheType:
    """The exporter a profile needs: S3 through the sync transport needs only `local`."""
    if profile_type == S3 and S3 not in cache_exporters and transport in ("sync", "auto"):
        return LOCAL
    return profile_type


def check_cache(pipeline: LoadedPipeline, names: Iterable[str], backend: str,
                cache_exporters: frozenset[CacheType]) -> None:
    for name in names:
        image = pipeline.images[name]
        if image.cache is None:
            continue
        needed = cache_type_needed(image.cache.type, image.cache.transport, cache_exporters)
        if needed in cache_exporters:
            continue
        hint = _HINTS.get(image.cache.type, "choose another cache profile")
        raise pipeline.error(
            f"cache profile '{image.cache_name}' needs {image.cache.type} cache export, which "
            f"backend {backend} here cannot do (it can: "
            f"{', '.join(sorted(cache_exporters)) or 'none'}); {hint}",
            pipeline.field_path(name, "cache"))


def gha_warnings(pipeline: LoadedPipeline, actions_env: Mapping[str, str],
                 strict: bool, hidden_by: str | None = None) -> list[str]:
    """Each `gha` profile in use that lacks GitHub Actions' cache variables is left out
    (a warning, as for any unreachable cache), or an error with `--cache-strict`;
    `hidden_by` names what keeps them from the builder though they are set here."""
    warnings = []
    profiles = {i.cache_name: i.cache for i in pipeline.images.values() if i.cache is not None}
    for name, profile in sorted(profiles.items(), key=lambda item: str(item[0])):
        missing = gha_missing(profile, actions_env) if profile.type == GHA else ()
        if not missing:
            continue
        why = (f"{hidden_by} does not receive" if hidden_by is not None else
               "GitHub Actions gives only to steps that expose them (for example "
               "crazy-max/ghaction-github-runtime)")
        text = f"cache profile '{name}' (gha) needs {' and '.join(missing)}, which {why}"
        if strict:
            raise ConfigError(text)
        warnings.append(f"{text}; building without it")
    return warnings
