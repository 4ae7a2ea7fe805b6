"""Plain progress: one line per state change per image; a failed build's log tail."""

from __future__ import annotations

import io
import os

from buildorch.run.events import (
    CacheMiss,
    ImageFinished,
    ImageQueued,
    ImageStarted,
    LogLine,
    Note,
    Published,
    RunFinished,
    RunStarted,
    Step,
    StepCached,
)
from buildorch.run.failures import Failure
from buildorch.run.reporters.plain import PlainReporter

DIGEST = "sha256:" + "1a" * 32


def _run(verbose: bool) -> list[str]:
    out = io.StringIO()
    r = PlainReporter(out, verbose=verbose)
    r.started(RunStarted("R1", "shop", "docker", ("base", "api", "web"), 4, 42.0))
    r.update(ImageQueued("base", ()))
    r.started(ImageStarted("base", 1))
    r.update(CacheMiss("base", "reg/cache:base"))
    r.update(CacheMiss("base", "reg/cache:base"))  # the same miss again: said once
    r.update(Step("base", 5, "[1/2] RUN make"))
    r.update(StepCached("base", 5, "[1/2] RUN make"))
    r.update(LogLine("base", "#5 CACHED"))
    r.finished(ImageFinished("base", "succeeded", 1.25, DIGEST, 2, 2))
    r.started(ImageStarted("api", 2))
    for n in range(25):
        r.update(LogLine("api", f"line {n}"))
    r.finished(ImageFinished("api", "failed", 3.0, failure=Failure(
        "exit code: 3", "api/Dockerfile", 3, "build", "RUN exit 3")))
    r.finished(ImageFinished("web", "skipped", reason="api failed"))
    r.update(Note("gone", "web", "warning"))
    r.update(Published("base", "reg/base:1"))
    r.finished(RunFinished("R1", "failed", 4.0, {"succeeded": 1}, "rec.json", "SUMMARY"))
    return out.getvalue().splitlines()


def test_plain_lines_show_state_changes_and_the_failed_builds_last_20_log_lines() -> None:
    lines = _run(verbose=False)
    assert lines == [
        "run R1: 3 images, backend docker, up to 4 at once, about 42s from earlier runs",
        "==> base: started",
        "==> base: no cache yet at reg/cache:base",
        "==> base: cached in 1.2s, 2/2 cached, sha256:1a1a1a1a1a1a",
        "==> api: started (attempt 2)",
        "==> api: failed (api/Dockerfile:3, stage build) exit code: 3",
        *[f"[api] line {n}" for n in range(5, 25)],
        "==> web: skipped (api failed)",
        "==> web: warning: gone",
        "==> base: published reg/base:1",
        "SUMMARY",
    ]


def test_verbose_shows_every_log_line_as_it_comes_and_no_tail_again() -> None:
    lines = _run(verbose=True)
    assert "[base] #5 CACHED" in lines
    assert lines.count("[api] line 0") == 1 and lines.count("[api] line 24") == 1


def closed_pipe() -> io.TextIOWrapper:
    """A stream whose reader went away (`buildorch build | head -1`, once head exits)."""
    read, write = os.pipe()
    os.close(read)
    return os.fdopen(write, "w", encoding="utf-8")


def test_a_closed_output_does_not_end_the_run() -> None:
    """Writing raises BrokenPipeError: the run must go on (and be recorded, and exit with
    its own code), not stop halfway in whichever build thread wrote."""
    stream = closed_pipe()
    r = PlainReporter(stream)
    r.started(RunStarted("R1", "shop", "docker", ("base",), 4))
    r.started(ImageStarted("base", 1))
    r.finished(ImageFinished("base", "succeeded", 1.0, DIGEST, 0, 1))
    r.finished(RunFinished("R1", "succeeded", 1.0, {"succeeded": 1}, "rec.json", "SUMMARY"))
    stream.close()  # what was left in its buffer goes nowhere, without an error
