"""Progress reporting behind one small interface: started, update, finished.

Each call carries a typed event (`run.events`). The reporters (`run/reporters/`: plain
lines, the live view on a terminal, GitHub Actions, the JSON event stream) implement
the same three methods; the texts they share are here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, TextIO

from buildorch.run.events import (
    Finish,
    ImageFinished,
    RunStarted,
    Start,
    Update,
)
from buildorch.text import plural

if TYPE_CHECKING:
    from buildorch.planning.plan import PlannedImage

FAILED_LOG_LINES = 20  # of a failed build's log, shown when it fails


class Reporter(Protocol):
    def started(self, event: Start) -> None: ...

    def update(self, event: Update) -> None: ...

    def finished(self, event: Finish) -> None: ...


def write_out(stream: TextIO, text: str) -> None:
    """Write `text` and flush it. Once nobody reads the output (`buildorch build | head`),
    the rest goes to /dev/null: a BrokenPipeError raised in a build thread would end the
    run halfway, its builds neither recorded nor cleaned up, and main exits 0 on it."""
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:  # the same descriptor, so that later writes and the flush at exit succeed
            os.dup2(devnull, stream.fileno())
        finally:
            os.close(devnull)


def steps_text(event: ImageFinished) -> str:
    return f"{event.cached_steps}/{event.total_steps} cached" if event.total_steps else ""


def finished_detail(event: ImageFinished) -> str:
    """`in 3.2s, 4/5 cached, sha256:1a2b3c4d5e6f` / `(Dockerfile:3, stage build) why`."""
    if event.failure is not None:
        where = event.failure.where()
        return f"({where}) {event.failure.message}" if where else event.failure.message
    if event.state != "succeeded":
        return f"({event.reason})" if event.reason else ""
    parts = [f"in {event.duration:.1f}s" if event.duration is not None else "",
             steps_text(event), event.digest[:19] if event.digest else "(no image)"]
    return ", ".join(p for p in parts if p)


def run_started_line(event: RunStarted) -> str:
    estimate = f", about {event.estimate:.0f}s from earlier runs" if event.estimate else ""
    return (f"run {event.run_id}: {plural(len(event.images), 'image')}, backend "
            f"{event.backend}, up to {event.jobs} at once{estimate}")


def run_estimate(todo: Sequence[PlannedImage], jobs: int) -> tuple[float | None, dict[str, float]]:
    """How long the run may take, and each image's duration in an earlier run: no estimate
    where no image to build ran before (the plan's default guesses are not announced as
    earlier runs' figures)."""
    durations = {i.name: i.estimate for i in todo if i.measured}
    if not durations:
        return None, {}
    return max([i.remaining for i in todo] + [sum(i.estimate for i in todo) / jobs]), durations
