"""Progress reporting behind one small interface: started, update, finished.

Each call carries a typed event (`run.events`). `PlainReporter` writes one prefixed line
per state change (CI logs, pipes); the live view, the GitHub Actions reporter and the
JSON event stream implement the same three methods.
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from typing import Protocol, TextIO

from buildorch.run.events import (
    CacheMiss,
    Finish,
    ImageFinished,
    LogLine,
    Note,
    Published,
    RunFinished,
    RunStarted,
    Start,
    Update,
    shown_state,
)
from buildorch.text import plural

FAILED_LOG_LINES = 20  # of a failed build's log, shown when it fails


class Reporter(Protocol):
    def started(self, event: Start) -> None: ...

    def update(self, event: Update) -> None: ...

    def finished(self, event: Finish) -> None: ...


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


class PlainReporter:
    """`==> image: state` lines; an image's BuildKit log only when it fails (its last
    lines), or every line as it comes with `verbose`."""

    def __init__(self, stream: TextIO | None = None, verbose: bool = False) -> None:
        self._stream = stream or sys.stdout
        self._verbose = verbose
        self._lock = threading.Lock()  # builds report from several threads
        self._tails: dict[str, deque[str]] = {}
        self._misses: set[tuple[str, str]] = set()

    def _write(self, text: str) -> None:
        with self._lock:
            self._stream.write(text + "\n")
            self._stream.flush()

    def started(self, event: Start) -> None:
        if isinstance(event, RunStarted):
            self._write(run_started_line(event))
            return
        again = f" (attempt {event.attempt})" if event.attempt > 1 else ""
        self._tails[event.image] = deque(maxlen=FAILED_LOG_LINES)
        self._write(f"==> {event.image}: started{again}")

    def update(self, event: Update) -> None:
        if isinstance(event, LogLine):
            if self._verbose:
                self._write(f"[{event.image}] {event.line}")
            else:
                self._tails.setdefault(event.image, deque(maxlen=FAILED_LOG_LINES)).append(
                    event.line)
        elif isinstance(event, CacheMiss):
            if (event.image, event.source) not in self._misses:
                self._misses.add((event.image, event.source))
                self._write(f"==> {event.image}: no cache yet at {event.source}")
        elif isinstance(event, Note):
            prefix = f"==> {event.image}: " if event.image else ""
            level = "warning: " if event.level == "warning" else ""
            self._write(f"{prefix}{level}{event.text}")
        elif isinstance(event, Published):
            self._write(f"==> {event.image}: published {event.tag}")

    def finished(self, event: Finish) -> None:
        if isinstance(event, RunFinished):
            self._write(event.summary)
            return
        shown = shown_state(event.state, event.cached_steps, event.total_steps)
        detail = finished_detail(event)
        self._write(f"==> {event.image}: {shown}{f' {detail}' if detail else ''}")
        tail = self._tails.pop(event.image, None)
        if event.state == "failed" and tail and not self._verbose:
            self._write("\n".join(f"[{event.image}] {line}" for line in tail))
