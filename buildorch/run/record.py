"""Run records: `.buildorch/runs/<id>/record.json` plus one log per image.

A record holds the resolved plan, the exact argv of every build (secrets redacted),
digests, times, attempts and the outcome, so that a run can be audited, reproduced
(`repro`) and used to estimate durations for the next run's critical path.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

RUNS_FOLDER = Path(".buildorch") / "runs"
HISTORY_RUNS = 20  # records read for duration estimates


class State(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # not started: a dependency failed, or the run stopped first
    CANCELLED = "cancelled"  # started, then stopped because another build failed
    INTERRUPTED = "interrupted"  # started, then stopped by Ctrl-C


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
    failure: dict[str, Any] | None = None
    cached_steps: int = 0
    total_steps: int = 0
    cache: dict[str, Any] = field(default_factory=dict)  # imports, exports, transfers, warnings

    @property
    def duration(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return self.ended - self.started


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def run_folder(run_id: str, root: Path | None = None) -> Path:
    return (root or Path.cwd()) / RUNS_FOLDER / run_id


def write_record(folder: Path, record: Mapping[str, Any]) -> Path:
    """Write atomically, so that a reader never sees half a record."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "record.json"
    partial = folder / "record.json.tmp"
    partial.write_text(json.dumps(record, indent=2, default=_encode) + "\n")
    partial.replace(target)
    return target


def _encode(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot encode {type(value).__name__}")


def image_entry(run: ImageRun) -> dict[str, Any]:
    entry = asdict(run)
    entry["state"] = run.state.value
    entry["duration"] = run.duration
    return entry


def previous_durations(pipeline: str, root: Path | None = None) -> dict[str, float]:
    """Each image's duration in the latest runs of `pipeline` that built it successfully."""
    folder = (root or Path.cwd()) / RUNS_FOLDER
    if not folder.is_dir():
        return {}
    durations: dict[str, float] = {}
    for run in sorted(folder.iterdir(), reverse=True)[:HISTORY_RUNS]:
        record = _read(run / "record.json")
        if record is None or record.get("pipeline") != pipeline:
            continue
        for name, image in record.get("images", {}).items():
            if image.get("state") == State.SUCCEEDED.value and image.get("duration"):
                durations.setdefault(name, float(image["duration"]))
    return durations


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
