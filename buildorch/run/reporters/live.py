"""The live view on a terminal (`--progress tty`, and `auto` on a terminal): a table of
images that rich redraws in place, notes printed above it, the summary below it.

Cheap by design: events only update the board under a lock and mark it dirty (build
logs are not even looked at: they are in each image's log file); one ticker thread
redraws at most `REFRESH_PER_SECOND` times a second, and only once a second when nothing
but the clocks changed. The live display is stopped at the run's end, and at exit in
any case, so that an error never leaves the cursor hidden.
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.text import Text

from buildorch.run.events import (
    Finish,
    LogLine,
    Note,
    Published,
    RunFinished,
    RunStarted,
    Start,
    Update,
)
from buildorch.run.reporters.live_board import Board, Line
from buildorch.run.reporting import run_started_line

REFRESH_PER_SECOND = 4

STYLES = {
    "running": "bold yellow", "waiting": "dim", "done": "green", "cached": "cyan",
    "unchanged": "cyan", "failed": "bold red", "skipped": "dim", "cancelled": "magenta",
    "interrupted": "magenta", "failure": "red", "dim": "dim", "": "",
}


def styled(lines: list[Line]) -> Text:
    """The board's lines as one rich Text (no markup: image names and steps are data)."""
    text = Text(no_wrap=True, overflow="crop", end="")
    for number, line in enumerate(lines):
        if number:
            text.append("\n")
        for part, style in line:
            text.append(part, STYLES.get(style, ""))
    return text


class LiveReporter:
    """The live view. `console` and `clock` are for tests; `ticker=False` leaves the
    redrawing to whoever calls `refresh` (tests)."""

    def __init__(self, stream: TextIO | None = None, *, console: Console | None = None,
                 clock: Callable[[], float] = time.monotonic, ticker: bool = True) -> None:
        # `tty` asked for the view: draw it even where rich would not see a terminal.
        self.console = console or Console(file=stream or sys.stdout, force_terminal=True,
                                          highlight=False)
        self.renders = 0  # frames drawn, for tests and the benchmark
        self._clock = clock
        self._board = Board()
        self._lock = threading.Lock()  # builds report from several threads
        self._dirty = False
        self._second = -1  # the run's elapsed second the last frame showed
        self._live: Live | None = None
        self._ticking = ticker
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    def started(self, event: Start) -> None:
        self._apply(event)
        if isinstance(event, RunStarted):
            self.console.print(run_started_line(event), markup=False, style="dim", soft_wrap=True)
            self._start()

    def update(self, event: Update) -> None:
        if isinstance(event, LogLine):
            return  # in the image's log file; never over the view
        if isinstance(event, Note):
            prefix = f"{event.image}: " if event.image else ""
            warning = event.level == "warning"
            self.console.print(f"{prefix}{'warning: ' if warning else ''}{event.text}",
                               markup=False, style="yellow" if warning else "",
                               soft_wrap=True)
        elif isinstance(event, Published):
            self.console.print(f"{event.image}: published {event.tag}", markup=False,
                               soft_wrap=True)
        else:
            self._apply(event)

    def finished(self, event: Finish) -> None:
        self._apply(event)
        if isinstance(event, RunFinished):
            self.close()
            self.console.print(event.summary, markup=False, soft_wrap=True)

    def _apply(self, event: Start | Update | Finish) -> None:
        now = self._clock()
        with self._lock:
            self._dirty = self._board.apply(event, now) or self._dirty

    def _start(self) -> None:
        if self._live is not None:
            return
        self._live = Live(console=self.console, auto_refresh=False, transient=False)
        atexit.register(self.close)
        self._live.start()
        self.refresh(force=True)
        if self._ticking:
            self._ticker = threading.Thread(target=self._tick, name="live-view", daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(1 / REFRESH_PER_SECOND):
            self.refresh()

    def refresh(self, force: bool = False) -> None:
        """Draw a frame if an event changed the board or a clock moved on a second."""
        live = self._live
        if live is None:
            return
        now = self._clock()
        with self._lock:
            second = int(self._board.elapsed(now))
            if not (force or self._dirty or second != self._second):
                return
            self._dirty, self._second = False, second
            width, height = self.console.size
            lines = self._board.frame(now, width, height)
        live.update(styled(lines), refresh=True)
        self.renders += 1

    def frame_text(self) -> str:
        """The frame as plain text, as it would be drawn now."""
        now = self._clock()
        with self._lock:
            width, height = self.console.size
            lines = self._board.frame(now, width, height)
        return styled(lines).plain

    def close(self) -> None:
        """Stop the ticker and the live display, leaving the last frame on screen and the
        cursor shown. Safe to call twice, and at exit."""
        self._stop.set()
        ticker, self._ticker = self._ticker, None
        if ticker is not None and ticker is not threading.current_thread():
            ticker.join()
        live = self._live
        if live is None:
            return
        self.refresh(force=True)
        self._live = None
        atexit.unregister(self.close)
        live.stop()
