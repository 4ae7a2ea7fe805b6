"""Before any build: each S3 cache profile in use can be reached.

A missing bucket or bad credentials is a configuration error (exit 2); an endpoint that
does not answer is a warning (the build goes on uncached), or an error with
`--cache-strict`.
"""

from __future__ import annotations

from collections.abc import Iterable

from buildorch.backends.capabilities import S3
from buildorch.errors import ConfigError
from buildorch.pipeline.loaded import LoadedPipeline


def check_s3(pipeline: LoadedPipeline, names: Iterable[str], strict: bool) -> list[str]:
    """Warnings for S3 profiles that cannot be reached now; raises for broken ones."""
    profiles = {pipeline.images[n].cache_name: pipeline.images[n].cache for n in names}
    warnings = []
    for name, profile in profiles.items():
        if profile is None or profile.type != S3:
            continue
        # boto3 only here: `buildorch --help` must not import it
        from botocore.exceptions import ClientError

        from buildorch.cache.s3.client import S3CacheError, S3Location, check_bucket

        try:
            check_bucket(S3Location.from_profile(profile))
        except S3CacheError as exc:
            if strict or isinstance(exc.__cause__, ClientError):
                raise ConfigError(f"cache profile '{name}': {exc}") from None
            warnings.append(f"cache profile '{name}': {exc}; building without it")
    return warnings
