"""`history`: recent runs, one row each (pure, from records read back)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from buildorch.run.builder_load import builds_on
from buildorch.run.recorded import RecordedRun
from buildorch.text import table

DAMAGED = "(damaged record)"


@dataclass(frozen=True)
class HistoryEntry:
    run_id: str
    record: RecordedRun | None  # None: the record could not be read
    problem: str | None = None


def duration_text(seconds: float | None) -> str:
    """`0.7s`, `42s`, `3m05s`, `1h02m`."""
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def builders_text(run: RecordedRun) -> str:
    """A pool run's builders with the builds each ran (run/builder_load, a platform of an
    image built per platform counting as one), `(down)` after one that stopped answering
    (before the run or during it): `one:6 two:3(down)`; `-` without a pool."""
    built = builds_on(run)
    return " ".join(f"{name}:{built[name]}{'(down)' if b.down is not None else ''}"
                    for name, b in run.builders.items()) or "-"


def _row(entry: HistoryEntry, pooled: bool, repros: bool) -> tuple[str, ...]:
    run = entry.record
    extra = (pooled, repros)
    if run is None:
        return (entry.run_id, "-", "-", DAMAGED, "-", "-", "-", "-", "-", "-",
                *("-" for shown in extra if shown))
    rate = run.cache_hit_rate
    started = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started))
    built = sum(1 for i in run.images.values() if i.state == "succeeded"
                and not (i.total_steps and i.cached_steps == i.total_steps))
    cached = run.count("succeeded") - built
    optional = (builders_text(run), run.reproduces or "-")
    return (run.id, run.pipeline, started, run.outcome, duration_text(run.duration),
            str(built), str(cached), str(run.count("unchanged")),
            str(run.count("failed")), f"{rate:.0%}" if rate is not None else "-",
            *(value for value, shown in zip(optional, extra, strict=True) if shown))


def history_table(entries: Sequence[HistoryEntry]) -> str:
    """BUILT: images whose build ran a step; CACHED: every step from cache; UNCHANGED: not
    built (an earlier build served them); CACHE HITS: steps from cache over all steps;
    BUILDERS (only where some run had a pool of builders): `builders_text`; REPRODUCES
    (only where some run was a `buildorch repro`): the run it rebuilt."""
    read = [e.record for e in entries if e.record is not None]
    pooled = any(r.builders for r in read)
    repros = any(r.reproduces for r in read)
    header = ("RUN", "PIPELINE", "STARTED", "OUTCOME", "DURATION", "BUILT", "CACHED",
              "UNCHANGED", "FAILED", "CACHE HITS", *(("BUILDERS",) if pooled else ()),
              *(("REPRODUCES",) if repros else ()))
    return table([header, *(_row(e, pooled, repros) for e in entries)])
