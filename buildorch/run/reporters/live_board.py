"""What the live view shows: one row per image and an overall line, kept up to date by
the run's events, laid out for a terminal of a given size (no terminal I/O here).

Events come from several build threads: the caller holds a lock around `apply` and
`frame`. `apply` is O(1) for every event but the run's start; `frame` lays out only the
rows that fit, so its cost does not grow with the time a row has been shown.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from dataclasses import dataclass, field

from buildorch.run.events import (
    Finish,
    ImageFinished,
    ImageQueued,
    ImageStarted,
    RunFinished,
    RunStarted,
    Start,
    Step,
    StepCached,
    Update,
    shown_state,
)

ENDED = ("done", "cached", "unchanged", "failed", "skipped", "cancelled", "interrupted")
STATES = ("running", "waiting", *ENDED)  # the order of counts in the overall line
STATE_WIDTH = max(len(s) for s in STATES)
TIME_WIDTH = 6  # `59m59s`
DIGEST_SHOWN = 19  # `sha256:` and 12 hex digits, as the plain lines show it

Span = tuple[str, str]  # text and its style: a state's name, "failure", "dim" or ""
Line = tuple[Span, ...]


@dataclass
class Row:
    """An image as the view shows it (mutable: events update it in place)."""

    name: str
    index: int  # in plan order
    state: str = "waiting"
    waiting_for: tuple[str, ...] = ()
    started: float | None = None  # of its first attempt, on the view's clock
    duration: float | None = None
    step: str = ""  # the latest BuildKit step, or what it does before one
    steps: int = 0
    cached: int = 0
    detail: str = ""  # a failure's place and message, a skip's reason, a digest
    ended: int = 0  # the order it ended in (later is larger), 0 while it has not
    estimate: float = 0.0  # seconds, from earlier runs
    in_pending: bool = False  # its estimate still counts in Board.pending

    @property
    def is_ended(self) -> bool:
        return self.ended > 0


@dataclass
class Board:
    rows: dict[str, Row] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    running: set[str] = field(default_factory=set)
    started: float | None = None  # the run's start, on the view's clock
    duration: float | None = None  # the run's, once it finished
    jobs: int = 1
    has_estimate: bool = False
    pending: float = 0.0  # seconds of estimated work of the images not started yet
    _ends: int = 0

    def apply(self, event: Start | Update | Finish, now: float) -> bool:
        """Take one event in; whether the view changed."""
        if isinstance(event, RunStarted):
            self._run_started(event, now)
        elif isinstance(event, ImageQueued):
            row = self._row(event.image)
            row.waiting_for = event.waiting_for
        elif isinstance(event, ImageStarted):
            self._image_started(self._row(event.image), event.attempt, now)
        elif isinstance(event, Step):
            row = self._row(event.image)
            row.step = event.name
            row.steps += not is_from(event.name)
        elif isinstance(event, StepCached):
            self._row(event.image).cached += 1
        elif isinstance(event, ImageFinished):
            self._image_finished(self._row(event.image), event, now)
        elif isinstance(event, RunFinished):
            self.duration = event.duration
        else:
            return False
        return True

    def _row(self, name: str) -> Row:
        row = self.rows.get(name)
        if row is None:  # an image the run's start did not name (or not yet: unchanged)
            row = self.rows[name] = Row(name, len(self.rows))
            self.counts[row.state] += 1
        return row

    def _move(self, row: Row, state: str) -> None:
        self.counts[row.state] -= 1
        self.counts[state] += 1
        row.state = state

    def _run_started(self, event: RunStarted, now: float) -> None:
        self.started, self.jobs = now, max(event.jobs, 1)
        self.has_estimate = event.estimate is not None
        for index, name in enumerate(event.images):
            row = self._row(name)
            row.index = index
            if not row.is_ended and row.started is None:
                row.estimate = event.durations.get(name, 0.0)
                row.in_pending = True
                self.pending += row.estimate

    def _image_started(self, row: Row, attempt: int, now: float) -> None:
        if row.started is None:
            row.started = now
        if row.in_pending:
            row.in_pending = False
            self.pending -= row.estimate
        row.steps = row.cached = 0  # each attempt reads its own progress
        row.step = f"attempt {attempt}" if attempt > 1 else "starting"
        self.running.add(row.name)
        self._move(row, "running")

    def _image_finished(self, row: Row, event: ImageFinished, now: float) -> None:
        if row.in_pending:
            row.in_pending = False
            self.pending -= row.estimate
        self.running.discard(row.name)
        row.duration = event.duration
        if row.duration is None and row.started is not None:
            row.duration = now - row.started
        row.steps, row.cached = event.total_steps, event.cached_steps
        row.detail = _ended_detail(event)
        self._ends += 1
        row.ended = self._ends
        self._move(row, shown_state(event.state, event.cached_steps, event.total_steps))

    def elapsed(self, now: float) -> float:
        if self.duration is not None:
            return self.duration
        return now - self.started if self.started is not None else 0.0

    def remaining(self, now: float) -> float | None:
        """Seconds left, from earlier runs' durations: the work not done yet shared among
        the jobs, and at least what the longest running build still needs."""
        if not self.has_estimate:
            return None
        running = (self.rows[name] for name in self.running)
        left = [max(r.estimate - (now - r.started), 0.0) for r in running
                if r.started is not None]
        return max(max(left, default=0.0), (self.pending + sum(left)) / self.jobs)

    def frame(self, now: float, width: int, height: int) -> list[Line]:
        """The rows that fit in `height` lines (one is kept free, so that the terminal
        never scrolls), an `… and N more` line for those that do not, and the overall
        line; each line shorter than `width`."""
        room = max(height - 2, 0)
        rows = sorted(self.rows.values(), key=lambda r: r.index)
        hidden: list[Row] = []
        if len(rows) > room:
            room = max(room - 1, 0)
            shown = self._most_telling(room)
            kept = {r.name for r in shown}
            hidden = [r for r in rows if r.name not in kept]
            rows = shown
        layout = _Layout.of(rows, width)
        lines = [layout.line(row, self._detail(row), now) for row in rows]
        if hidden and height > 2:
            lines.append(_fit(((f"… and {len(hidden)} more ({_counts(hidden)})", "dim"),),
                              width))
        lines.append(_fit(((self.overall(now), ""),), width))
        return lines

    def _most_telling(self, room: int) -> list[Row]:
        """Running and failed first, then the most recently ended, then waiting."""
        rows = self.rows.values()
        running = sorted((r for r in rows if r.state == "running"),
                         key=lambda r: (r.started or 0.0, r.index))
        failed = sorted((r for r in rows if r.state == "failed"), key=lambda r: -r.ended)
        shown = (running + failed)[:room]
        if len(shown) < room:
            shown += heapq.nlargest(room - len(shown), (r for r in rows if r.is_ended
                                                        and r.state != "failed"),
                                    key=lambda r: r.ended)
        if len(shown) < room:
            shown += heapq.nsmallest(room - len(shown), (r for r in rows if not r.is_ended
                                                         and r.state != "running"),
                                     key=lambda r: r.index)
        return shown

    def _detail(self, row: Row) -> Span:
        if row.state == "running":
            return row.step, ""
        if row.state == "waiting":
            waits = [d for d in row.waiting_for if not self._ended(d)]
            return (f"for {', '.join(waits)}" if waits else ""), "dim"
        return row.detail, "failure" if row.state == "failed" else "dim"

    def _ended(self, name: str) -> bool:
        row = self.rows.get(name)
        return row is not None and row.is_ended

    def overall(self, now: float) -> str:
        """`12/40 finished (9 done, 2 cached, 1 failed) · 4 running · 24 waiting ·
        1m03s elapsed · ~2m left`."""
        total = len(self.rows)
        ended = sum(self.counts[s] for s in ENDED)
        parts = ", ".join(f"{self.counts[s]} {s}" for s in ENDED if self.counts[s])
        out = [f"{ended}/{total} finished" + (f" ({parts})" if parts else "")]
        out += [f"{self.counts[s]} {s}" for s in ("running", "waiting") if self.counts[s]]
        out.append(f"{clock(self.elapsed(now))} elapsed")
        left = self.remaining(now) if self.duration is None and ended < total else None
        if left is not None:
            out.append(f"~{rough(left)} left" if left >= 1 else "past the estimate")
        return " · ".join(out)


@dataclass(frozen=True)
class _Layout:
    """Column widths for the rows shown: state, image, time, cached share, detail."""

    name: int
    share: int
    width: int

    @classmethod
    def of(cls, rows: list[Row], width: int) -> _Layout:
        longest = max((len(r.name) for r in rows), default=0)
        share = max((len(_share(r)) for r in rows), default=0)
        return cls(min(longest, max(12, width // 4)), share, width)

    def line(self, row: Row, detail: Span, now: float) -> Line:
        head = (f" {_shorten(row.name, self.name):<{self.name}} "
                f"{_time(row, now):>{TIME_WIDTH}}  {_share(row):<{self.share}}  ")
        return _fit(((f"{row.state:<{STATE_WIDTH}}", row.state), (head, ""), detail),
                    self.width)


def _fit(spans: Line, width: int) -> Line:
    """The spans cut to `width - 1` characters (a line that fills the terminal's last
    column wraps on some terminals), the cut marked with `…`, trailing blanks gone."""
    room = max(width - 1, 0)
    out: list[Span] = []
    for text, style in spans:
        if len(text) > room:
            if room:
                out.append((text[: room - 1] + "…", style))
            break
        out.append((text, style))
        room -= len(text)
    while out and not out[-1][0].strip():
        out.pop()
    if out:
        out[-1] = (out[-1][0].rstrip(), out[-1][1])
    return tuple(out)


def is_from(step: str) -> bool:
    """`[base 1/3] FROM ...`: a base image resolved, which counts as a step neither run
    nor cached (as `run.progress_lines` counts them)."""
    return step.partition("] ")[2].startswith("FROM ")


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _share(row: Row) -> str:
    return f"{row.cached}/{row.steps} cached" if row.steps else ""


def _time(row: Row, now: float) -> str:
    if row.state == "running" and row.started is not None:
        return clock(now - row.started)
    if row.duration is None:
        return ""
    return f"{row.duration:.1f}s" if row.duration < 60 else clock(row.duration)


def _counts(rows: list[Row]) -> str:
    counts = Counter(r.state for r in rows)
    return ", ".join(f"{counts[s]} {s}" for s in STATES if counts[s])


def _ended_detail(event: ImageFinished) -> str:
    if event.failure is not None:
        where = event.failure.where()
        return f"{where}: {event.failure.message}" if where else event.failure.message
    if event.state == "succeeded":
        return event.digest[:DIGEST_SHOWN] if event.digest else ""
    return event.reason or ""


def clock(seconds: float) -> str:
    """`7s`, `1m03s`, `2h05m`: whole seconds, as a clock that ticks once a second."""
    whole = int(max(seconds, 0.0))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def rough(seconds: float) -> str:
    """An estimate, no finer than it is: `40s` (to 5 s), `3m`, `1h20m`."""
    if seconds < 60:
        return f"{max(5, 5 * math.ceil(seconds / 5))}s"
    minutes = math.ceil(seconds / 60)
    return f"{minutes}m" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"
