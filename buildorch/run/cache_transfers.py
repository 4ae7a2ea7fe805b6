"""Cache work around a build: S3 sync downloads before it, uploads and checks after it.

A cache that cannot be reached never fails a build unless `--cache-strict`: each
problem becomes a warning on the image (and in the record), and the caller decides.
"""

from __future__ import annotations

import time
from pathlib import Path

from buildorch.backends.capabilities import REGISTRY
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.planning.plan import PlannedImage
from buildorch.run.events import Note
from buildorch.run.record import CacheDownload, CacheUpload, ImageRun
from buildorch.run.reporting import Reporter
from buildorch.workdir import SYNC_BLOB_STORE


class CacheTransfers:
    def __init__(self, pipeline: LoadedPipeline, root: Path, reporter: Reporter) -> None:
        self.pipeline = pipeline
        self.root = root
        self.reporter = reporter

    def _warn(self, run: ImageRun, name: str, text: str) -> str:
        run.cache.warnings.append(text)
        self.reporter.update(Note(text, name, "warning"))
        return text

    def download(self, image: PlannedImage, run: ImageRun) -> str | None:
        """Fetch the S3 entries the build imports (sync transport)."""
        steps = image.cache.sync_downloads
        profile = self.pipeline.images[image.name].cache
        if not steps or profile is None:
            return None
        from buildorch.cache.s3.client import S3CacheError, S3Location
        from buildorch.cache.s3.download import download

        location = S3Location.from_profile(profile)
        problems = []
        for step in steps:
            started = time.monotonic()
            try:
                # one blob store for every entry: a branch and main share most blobs
                stats = download(location, self.pipeline.model.name, image.name, step.scope,
                                 self.root / step.folder, store=self.root / SYNC_BLOB_STORE)
            except S3CacheError as exc:
                problems.append(self._warn(run, image.name,
                                           f"cache import from S3 failed: {exc}"))
                continue
            run.cache.downloads.append(
                CacheDownload(step.scope, round(time.monotonic() - started, 3), stats))
        return problems[0] if problems else None

    def after_build(self, image: PlannedImage, run: ImageRun, run_id: str) -> str | None:
        """Warn about cache imports/exports BuildKit skipped; upload the S3 export."""
        problems = [self._warn(run, image.name, f"cache {p.kind} failed ({p.source}): "
                                                f"{p.message}")
                    for p in run.cache.log_problems or ()]
        if not problems:
            problems += self._record_registry_exports(image, run)
        step = image.cache.sync_upload
        profile = self.pipeline.images[image.name].cache
        if step is not None and profile is not None:
            from buildorch.cache.s3.client import S3CacheError, S3Location
            from buildorch.cache.s3.upload import upload

            folder = self.root / step.folder.replace("{run_id}", run_id)
            started = time.monotonic()
            try:
                stats = upload(S3Location.from_profile(profile), folder,
                               self.pipeline.model.name, image.name, step.scope)
            except S3CacheError as exc:
                problems.append(self._warn(run, image.name, f"cache export to S3 failed: {exc}"))
            else:
                run.cache.upload = CacheUpload(step.scope, round(time.monotonic() - started, 3),
                                               stats)
        return problems[0] if problems else None

    def _record_registry_exports(self, image: PlannedImage, run: ImageRun) -> list[str]:
        """Note each registry cache export in the repository's ledger, for `cache prune`."""
        from buildorch.cache.admin.registry_ledger import record_export
        from buildorch.oci.reference import ImageRef
        from buildorch.oci.registry import RegistryClient, RegistryError

        problems = []
        for spec in image.cache.exports:
            target = spec.get("ref")
            if spec.type != REGISTRY or target is None:
                continue
            ref = ImageRef.parse(target)
            repo = f"{ref.host}/{ref.repository}"
            try:
                manifest = RegistryClient(ref.host).manifest(ref.repository, ref.tag or "latest")
                if manifest is not None:
                    record_export(repo, ref.tag or "latest", manifest.digest)
            except RegistryError as exc:
                problems.append(self._warn(run, image.name, f"cache ledger not updated: {exc}"))
        return problems
