"""Cache work around a build: S3 sync downloads before it, uploads and checks after it.

A cache that cannot be reached never fails a build unless `--cache-strict`: each
problem becomes a warning on the image (and in the record), and the caller decides.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from buildorch.errors import ConfigError
from buildorch.pipeline.loader import LoadedPipeline
from buildorch.planning.plan import PlannedImage
from buildorch.run.record import ImageRun
from buildorch.run.reporting import Reporter

SYNC_BLOB_STORE = ".buildorch/s3-blobs"


def preflight_s3(pipeline: LoadedPipeline, names: Iterable[str], strict: bool) -> list[str]:
    """Each S3 profile in use: a missing bucket or bad credentials is a configuration error
    (exit 2); an endpoint that does not answer is a warning (an uncached build), or an error
    with `--cache-strict`."""
    profiles = {pipeline.images[n].cache_name: pipeline.images[n].cache for n in names}
    warnings = []
    for name, profile in profiles.items():
        if profile is None or profile.type != "s3":
            continue
        from botocore.exceptions import ClientError

        from buildorch.cache.s3 import sync as s3_sync

        try:
            s3_sync.preflight(s3_sync.S3Location.from_profile(profile))
        except s3_sync.S3CacheError as exc:
            if strict or isinstance(exc.__cause__, ClientError):
                raise ConfigError(f"cache profile '{name}': {exc}") from None
            warnings.append(f"cache profile '{name}': {exc}; building without it")
    return warnings


class CacheTransfers:
    def __init__(self, pipeline: LoadedPipeline, root: Path, reporter: Reporter) -> None:
        self.pipeline = pipeline
        self.root = root
        self.reporter = reporter

    def _warn(self, run: ImageRun, name: str, text: str) -> str:
        run.cache.setdefault("warnings", []).append(text)
        self.reporter.message(f"==> {name}: warning: {text}")
        return text

    def download(self, image: PlannedImage, run: ImageRun) -> str | None:
        """Fetch the S3 entries the build imports (sync transport)."""
        steps = image.cache.sync_downloads
        profile = self.pipeline.images[image.name].cache
        if not steps or profile is None:
            return None
        from buildorch.cache.s3 import sync as s3_sync

        location = s3_sync.S3Location.from_profile(profile)
        problems = []
        for step in steps:
            started = time.monotonic()
            try:
                # one blob store for every entry: a branch and main share most blobs
                stats = s3_sync.download(location, self.pipeline.model.name, image.name,
                                         step.scope, self.root / step.folder,
                                         store=self.root / SYNC_BLOB_STORE)
            except s3_sync.S3CacheError as exc:
                problems.append(self._warn(run, image.name,
                                           f"cache import from S3 failed: {exc}"))
                continue
            run.cache.setdefault("downloads", []).append(
                {"scope": step.scope, "found": stats is not None,
                 "seconds": round(time.monotonic() - started, 3),
                 **({} if stats is None else vars(stats))})
        return problems[0] if problems else None

    def after_build(self, image: PlannedImage, run: ImageRun, run_id: str) -> str | None:
        """Warn about cache imports/exports BuildKit skipped; upload the S3 export."""
        problems = [self._warn(run, image.name, f"cache {p['kind']} failed ({p['source']}): "
                                                f"{p['message']}")
                    for p in run.cache.get("log_problems", [])]
        if not problems:
            problems += self._record_registry_exports(image, run)
        step = image.cache.sync_upload
        profile = self.pipeline.images[image.name].cache
        if step is not None and profile is not None:
            from buildorch.cache.s3 import sync as s3_sync

            folder = self.root / step.folder.replace("{run_id}", run_id)
            started = time.monotonic()
            try:
                stats = s3_sync.upload(s3_sync.S3Location.from_profile(profile), folder,
                                       self.pipeline.model.name, image.name, step.scope)
            except s3_sync.S3CacheError as exc:
                problems.append(self._warn(run, image.name, f"cache export to S3 failed: {exc}"))
            else:
                run.cache["upload"] = {"scope": step.scope,
                                       "seconds": round(time.monotonic() - started, 3),
                                       **vars(stats)}
        return problems[0] if problems else None

    def _record_registry_exports(self, image: PlannedImage, run: ImageRun) -> list[str]:
        """Note each registry cache export in the repository's ledger, for `cache prune`."""
        from buildorch.cache.admin.registry import record_export
        from buildorch.oci.registry import ImageRef, RegistryClient, RegistryError

        problems = []
        for spec in image.cache.exports:
            attrs = dict(part.split("=", 1) for part in spec.split(",") if "=" in part)
            if attrs.get("type") != "registry":
                continue
            ref = ImageRef.parse(attrs["ref"])
            repo = f"{ref.host}/{ref.repository}"
            try:
                manifest = RegistryClient(ref.host).manifest(ref.repository, ref.tag or "latest")
                if manifest is not None:
                    record_export(repo, ref.tag or "latest", manifest.digest)
            except RegistryError as exc:
                problems.append(self._warn(run, image.name, f"cache ledger not updated: {exc}"))
        return problems
