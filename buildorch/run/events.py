"""What a run tells its reporter, as typed events (the JSON event stream is these, one
per line; `schemas/events.schema.json` describes them).

Three kinds of call carry them (see `reporting.Reporter`): `started` (the run, an image's
attempt), `update` (queued, a step, a cached step, a cache miss, a log line, a note,
a published tag) and `finished` (an image, whatever its end, and the run).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from buildorch.run.failures import Failure


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    pipeline: str
    backend: str
    images: tuple[str, ...]  # the plan's images, in plan order
    jobs: int
    estimate: float | None = None  # seconds, from earlier runs' durations
    durations: dict[str, float] = field(default_factory=dict)  # earlier runs', per image
    kind: str = "run_started"


@dataclass(frozen=True)
class ImageQueued:
    image: str
    waiting_for: tuple[str, ...]  # the dependencies it waits for
    kind: str = "queued"


@dataclass(frozen=True)
class ImageStarted:
    image: str
    attempt: int
    kind: str = "started"


@dataclass(frozen=True)
class Step:
    """A BuildKit step of the image's build began (`#7 [api 2/4] RUN make`)."""

    image: str
    vertex: int
    name: str
    kind: str = "step"


@dataclass(frozen=True)
class StepCached:
    image: str
    vertex: int
    name: str
    kind: str = "cached"


@dataclass(frozen=True)
class CacheMiss:
    """A cache import found nothing (normal for a new branch): a note, not an error."""

    image: str
    source: str
    kind: str = "cache_miss"


@dataclass(frozen=True)
class LogLine:
    image: str
    line: str  # redacted, without its newline
    kind: str = "log"


@dataclass(frozen=True)
class Note:
    """A warning or remark, for an image or (image None) the run."""

    text: str
    image: str | None = None
    level: str = "info"  # info | warning
    kind: str = "note"


@dataclass(frozen=True)
class Published:
    image: str
    tag: str
    kind: str = "published"


@dataclass(frozen=True)
class ImageFinished:
    """An image's end: succeeded, unchanged, failed, skipped, cancelled or interrupted."""

    image: str
    state: str
    duration: float | None = None
    digest: str | None = None
    cached_steps: int = 0
    total_steps: int = 0
    reason: str | None = None  # why skipped, failed, cancelled; which run serves it
    failure: Failure | None = None
    log: str | None = None  # the image's log, relative to the repository

    @property
    def kind(self) -> str:
        return {"succeeded": "finished", "unchanged": "finished"}.get(self.state, self.state)


@dataclass(frozen=True)
class RunFinished:
    run_id: str
    outcome: str  # succeeded | failed | interrupted
    duration: float
    counts: dict[str, int]  # images per state
    record: str  # the record's path, relative to the repository
    summary: str  # the end-of-run summary as text
    kind: str = "run_finished"


def shown_state(state: str, cached_steps: int, total_steps: int) -> str:
    """How an image's end is shown: a success whose every step came from cache is
    `cached`, any other success `done`; other states as they are."""
    if state != "succeeded":
        return state
    return "cached" if total_steps and cached_steps == total_steps else "done"


Start = RunStarted | ImageStarted
Update = ImageQueued | Step | StepCached | CacheMiss | LogLine | Note | Published
Finish = ImageFinished | RunFinished
