"""Run records: `.buildorch/runs/<id>/record.json` plus one log per image.

A record holds the resolved plan, the exact argv of every build (secrets redacted),
digests, times, attempts and the outcome, so that a run can be audited, reproduced
(`repro`) and used to estimate durations for the next run's critical path. The values
are typed while the run goes on; they become JSON only when the record is written.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from buildorch.jsontypes import Json, JsonObject
from buildorch.run.events import ImageFinished
from buildorch.run.failures import CacheProblem, Failure
from buildorch.statefile import write_atomically
from buildorch.workdir import runs_folder

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from buildorch.cache.s3.download import DownloadStats
    from buildorch.cache.s3.upload import UploadStats

HISTORY_RUNS = 20  # records read for duration estimates


class State(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # not started: a dependency failed, or the run stopped first
    UNCHANGED = "unchanged"  # not built: an earlier build of the same inputs serves
    CANCELLED = "cancelled"  # started, then stopped because another build failed
    INTERRUPTED = "interrupted"  # started, then stopped by Ctrl-C


def _fields(value: DataclassInstance) -> JsonObject:
    """A dataclass of plain values as a JSON object (tuples become lists when written)."""
    data: JsonObject = dataclasses.asdict(value)
    return data


@dataclass(frozen=True)
class CacheDownload:
    """An S3 entry fetched before a build (sync transport); `stats` None: no such entry."""

    scope: str
    seconds: float
    stats: DownloadStats | None = None

    def to_json(self) -> JsonObject:
        found: JsonObject = {"scope": self.scope, "found": self.stats is not None,
                             "seconds": self.seconds}
        return {**found, **(_fields(self.stats) if self.stats is not None else {})}


@dataclass(frozen=True)
class CacheUpload:
    """An S3 entry uploaded after a build (sync transport)."""

    scope: str
    seconds: float
    stats: UploadStats

    def to_json(self) -> JsonObject:
        return {"scope": self.scope, "seconds": self.seconds, **_fields(self.stats)}


@dataclass
class CacheRun:
    """What happened to one build's cache: problems BuildKit logged, transfers, warnings."""

    log_problems: list[CacheProblem] | None = None  # known once the build succeeded
    warnings: list[str] = field(default_factory=list)
    downloads: list[CacheDownload] = field(default_factory=list)
    upload: CacheUpload | None = None

    def to_json(self) -> JsonObject:
        data: JsonObject = {}
        if self.log_problems is not None:
            data["log_problems"] = [_fields(p) for p in self.log_problems]
        if self.warnings:
            data["warnings"] = list(self.warnings)
        if self.downloads:
            data["downloads"] = [d.to_json() for d in self.downloads]
        if self.upload is not None:
            data["upload"] = self.upload.to_json()
        return data


@dataclass(frozen=True)
class PlatformRun:
    """One platform of an image a pool built per platform (run/platform_builds)."""

    platform: str
    builder: str
    pushed: str | None = None  # the digest its push reported
    digest: str | None = None  # its manifest in the joined index (once published)
    log: str | None = None


@dataclass
class ImageRun:
    name: str
    state: State = State.PENDING
    argv: list[str] = field(default_factory=list)  # redacted
    started: float | None = None
    ended: float | None = None
    digest: str | None = None
    attempts: int = 0
    log: str | None = None
    reason: str | None = None  # why skipped, cancelled or failed
    failure: Failure | None = None  # its `dockerfile` as the request names it
    cached_steps: int = 0
    total_steps: int = 0
    cache: CacheRun = field(default_factory=CacheRun)
    input_digest: str | None = None
    unchanged_from: str | None = None  # the run whose build serves this one
    note: str | None = None  # why an earlier build of the same inputs was not reused
    base_images: dict[str, str] = field(default_factory=dict)  # FROM reference -> digest
    # With a pool of builders (run/pool): the builder it ran on; the builders it was running on
    # when they stopped answering (it ran again elsewhere); the builders its image was copied
    # to for dependents placed there.
    builder: str | None = None
    lost_on: list[str] = field(default_factory=list)
    copied_to: list[str] = field(default_factory=list)
    platforms: list[PlatformRun] = field(default_factory=list)  # built per platform

    @property
    def done(self) -> bool:
        return self.state in (State.SUCCEEDED, State.UNCHANGED)

    @property
    def duration(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return self.ended - self.started

    def to_json(self) -> JsonObject:
        return {
            "name": self.name, "state": self.state.value, "argv": list(self.argv),
            "started": self.started, "ended": self.ended, "digest": self.digest,
            "attempts": self.attempts, "log": self.log, "reason": self.reason,
            "failure": None if self.failure is None else _fields(self.failure),
            "cached_steps": self.cached_steps, "total_steps": self.total_steps,
            "cache": self.cache.to_json(), "duration": self.duration,
            "input_digest": self.input_digest, "unchanged_from": self.unchanged_from,
            "note": self.note, "base_images": dict(self.base_images),
            "builder": self.builder, "lost_on": list(self.lost_on),
            "copied_to": list(self.copied_to),
            "platforms": [_fields(p) for p in self.platforms],
        }


def finished_event(run: ImageRun, state: State | None = None) -> ImageFinished:
    """The event that reports `run`'s end (in `state`, where the run does not hold it yet)."""
    reason = f"as built in run {run.unchanged_from}" if run.unchanged_from else run.reason
    return ImageFinished(run.name, (state or run.state).value, run.duration, run.digest,
                         run.cached_steps, run.total_steps, reason, run.failure, run.log)


def new_run_id() -> str:
    """Sorts by start time, to the millisecond: two runs started within one second (a
    no-op run takes less) still sort in the order they started."""
    now = time.time_ns() // 1_000_000
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 1000))
    return f"{stamp}.{now % 1000:03d}Z-{secrets.token_hex(3)}"


def write_record(folder: Path, record: JsonObject) -> Path:
    """Write atomically, so that a reader never sees half a record."""
    target = folder / "record.json"
    write_atomically(target, json.dumps(record, indent=2) + "\n")
    return target


def previous_durations(pipeline: str, root: Path | None = None) -> dict[str, float]:
    """Each image's duration in the latest runs of `pipeline` that built it successfully."""
    folder = runs_folder(root)
    if not folder.is_dir():
        return {}
    durations: dict[str, float] = {}
    for run in sorted(folder.iterdir(), reverse=True)[:HISTORY_RUNS]:
        record = _read(run / "record.json")
        if record is None or record.get("pipeline") != pipeline:
            continue
        images = record.get("images")
        for name, image in images.items() if isinstance(images, dict) else ():
            duration = image.get("duration") if isinstance(image, dict) else None
            succeeded = isinstance(image, dict) and image.get("state") == State.SUCCEEDED.value
            if succeeded and isinstance(duration, int | float) and duration:
                durations.setdefault(name, float(duration))
    return durations


def _read(path: Path) -> dict[str, Json] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
