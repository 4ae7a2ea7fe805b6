"""Plain progress: one prefixed line per state change per image (CI logs, pipes)."""

from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Sequence
from typing import TextIO

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
from buildorch.run.reporting import (
    FAILED_LOG_LINES,
    finished_detail,
    run_started_line,
    write_out,
)


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
            write_out(self._stream, text + "\n")

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
        self._ended(event, self._tails.pop(event.image, None))

    def _ended(self, event: ImageFinished, tail: Sequence[str] | None) -> None:
        """After an image's state line: a failed build's last log lines (`tail`, kept
        unless verbose)."""
        if event.state == "failed" and tail:
            self._write("\n".join(f"[{event.image}] {line}" for line in tail))
