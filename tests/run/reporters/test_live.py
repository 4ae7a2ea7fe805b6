"""The live view on a (fake) terminal: rows, states, steps, cached shares, the overall and
overflow lines, notes above the view, the summary below it, never a log line; frames at
most 4 times a second; the cursor shown again at the end, even when the run crashes."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import threading
import time

from rich.console import Console

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
from buildorch.run.reporters.choose import reporter_for
from buildorch.run.reporters.live import REFRESH_PER_SECOND, LiveReporter
from buildorch.run.reporters.plain import PlainReporter

DIGEST = "sha256:" + "2b" * 32
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
HIDE, SHOW = "\x1b[?25l", "\x1b[?25h"


def frames(output: str) -> list[str]:
    """The frames rich drew, without escapes (and with any note printed above one): the
    first comes once the cursor is hidden, each later one after the cursor moved up over
    the last, erasing its lines."""
    drawn = output.split(HIDE, 1)[1]
    return [ANSI.sub("", part).strip("\r\n") for part in
            re.split(r"\r(?:\x1b\[2K\x1b\[1A)*\x1b\[2K", drawn)]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def terminal(width: int = 100, height: int = 20) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=width, height=height), out


def live(width: int = 100, height: int = 20) -> tuple[LiveReporter, io.StringIO, FakeClock]:
    console, out = terminal(width, height)
    clock = FakeClock()
    return LiveReporter(console=console, clock=clock, ticker=False), out, clock


def start(reporter: LiveReporter, names: tuple[str, ...]) -> None:
    reporter.started(RunStarted("R1", "shop", "docker", names, 2, 20.0,
                                {n: 10.0 for n in names}))
    for name in names:
        reporter.update(ImageQueued(name, () if name == "base" else ("base",)))


def test_rows_follow_the_events_and_log_lines_never_show() -> None:
    reporter, out, clock = live()
    start(reporter, ("base", "api", "web"))
    reporter.started(ImageStarted("base", 1))
    reporter.update(CacheMiss("base", "localhost:5000/cache:base"))
    reporter.update(Step("base", 5, "[base 2/3] COPY . /src"))
    reporter.update(StepCached("base", 5, "[base 2/3] COPY . /src"))
    reporter.update(Step("base", 6, "[base 3/3] RUN make"))
    reporter.update(LogLine("base", "SECRET-LOG-LINE make: compiling"))
    clock.now += 3.2
    reporter.refresh()
    frame = reporter.frame_text().splitlines()
    assert frame[0].split() == ["running", "base", "3s", "1/2", "cached", "[base", "3/3]", "RUN",
                                "make"]
    assert frame[1].split() == ["waiting", "api", "for", "base"]
    assert frame[3] == "0/3 finished · 1 running · 2 waiting · 3s elapsed · ~15s left"
    reporter.finished(ImageFinished("base", "succeeded", 3.5, DIGEST, 1, 2))
    reporter.started(ImageStarted("api", 1))
    reporter.finished(ImageFinished("api", "failed", 1.0, failure=Failure(
        "exit code: 3", "api/Dockerfile", 7, "build", "RUN exit 3")))
    reporter.finished(ImageFinished("web", "skipped", reason="api failed"))
    reporter.refresh()
    frame = reporter.frame_text().splitlines()
    assert frame[0].split()[:5] == ["done", "base", "3.5s", "1/2", "cached"]
    assert frame[1].startswith("failed") and "api/Dockerfile:7, stage build: exit code: 3" in \
        frame[1]
    assert frame[2].split() == ["skipped", "web", "api", "failed"]
    assert frame[3] == "3/3 finished (1 done, 1 failed, 1 skipped) · 3s elapsed"
    reporter.finished(RunFinished("R1", "failed", 4.5, {}, "rec.json", "THE SUMMARY"))
    shown = ANSI.sub("", out.getvalue())
    assert "SECRET-LOG-LINE" not in shown and "cache:base" not in shown
    assert "run R1: 3 images, backend docker, up to 2 at once" in shown
    # the last frame stays, with the run's own duration, and the summary comes below it
    assert shown.rstrip().endswith("3/3 finished (1 done, 1 failed, 1 skipped) · 4s elapsed"
                                   "\nTHE SUMMARY")


def test_notes_and_published_tags_print_above_the_view() -> None:
    reporter, out, _clock = live()
    start(reporter, ("base",))
    reporter.update(Note("a cache export failed", "base", "warning"))
    reporter.update(Published("base", "localhost:5000/shop/base:1"))
    reporter.update(Note("[bold]not markup[/bold]"))
    reporter.finished(RunFinished("R1", "succeeded", 1.0, {}, "rec.json", "SUMMARY"))
    shown = ANSI.sub("", out.getvalue())
    assert "base: warning: a cache export failed\n" in shown
    assert "base: published localhost:5000/shop/base:1\n" in shown
    assert "[bold]not markup[/bold]\n" in shown
    # each note is printed above a redrawn view: the view is the last thing before the summary
    last_view = shown.rindex("waiting     base")
    assert shown.rindex("not markup") < last_view < shown.rindex("SUMMARY")


def test_the_view_never_grows_taller_than_the_terminal() -> None:
    reporter, out, clock = live(width=80, height=12)
    names = tuple(f"img-{n:03d}" for n in range(200))
    start(reporter, names)
    for name in names[:50]:
        reporter.started(ImageStarted(name, 1))
        reporter.finished(ImageFinished(name, "succeeded", 0.7, DIGEST, 2, 2))
    reporter.started(ImageStarted("img-150", 1))
    clock.now += 65
    reporter.refresh()
    frame = reporter.frame_text().splitlines()
    assert len(frame) == 11
    assert frame[0].split()[:3] == ["running", "img-150", "1m05s"]
    assert [line.split()[1] for line in frame[1:9]] == [f"img-{n:03d}" for n in range(49, 41, -1)]
    assert frame[9] == "… and 191 more (149 waiting, 42 cached)"
    assert frame[10].startswith("50/200 finished (50 cached) · 1 running · 149 waiting · 1m05s")
    reporter.close()
    drawn = frames(out.getvalue())
    assert len(drawn) >= 3  # the first frame, the refresh, the last at close
    assert all(len(frame.splitlines()) <= 11 for frame in drawn)


def test_frames_are_drawn_at_most_four_times_a_second_whatever_the_events() -> None:
    console, out = terminal()
    reporter = LiveReporter(console=console)
    names = tuple(f"img-{n}" for n in range(200))
    start(reporter, names)
    began = time.monotonic()

    def build(share: tuple[str, ...]) -> None:
        for name in share:
            reporter.started(ImageStarted(name, 1))
            for n in range(10):
                reporter.update(Step(name, n, f"[{n}/10] RUN step {n}"))
                reporter.update(StepCached(name, n, f"[{n}/10] RUN step {n}"))
                for _ in range(20):
                    reporter.update(LogLine(name, "#5 a log line"))
            reporter.finished(ImageFinished(name, "succeeded", 0.1, DIGEST, 10, 10))
            time.sleep(0.012)

    threads = [threading.Thread(target=build, args=(names[k::4],)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - began
    drawn = reporter.renders
    reporter.finished(RunFinished("R1", "succeeded", seconds, {}, "rec.json", "SUMMARY"))
    assert seconds > 0.5  # the ticker had time to draw
    assert 2 <= drawn <= REFRESH_PER_SECOND * seconds + 2  # the first frame, then the ticker
    assert "200/200 finished (200 cached)" in ANSI.sub("", out.getvalue())


def test_the_clocks_alone_redraw_once_a_second() -> None:
    reporter, _out, clock = live()
    start(reporter, ("base",))
    reporter.started(ImageStarted("base", 1))
    reporter.refresh()
    drawn = reporter.renders
    for _ in range(3):
        clock.now += 0.3
        reporter.refresh()
    assert reporter.renders == drawn  # still within the same second
    clock.now += 0.2
    reporter.refresh()
    assert reporter.renders == drawn + 1


def test_the_cursor_is_shown_again_at_the_end_and_close_is_safe_twice() -> None:
    reporter, out, _clock = live()
    start(reporter, ("base",))
    assert HIDE in out.getvalue()
    reporter.close()
    reporter.close()
    assert out.getvalue().rindex(SHOW) > out.getvalue().rindex(HIDE)
    reporter.finished(RunFinished("R1", "interrupted", 1.0, {}, "rec.json", "SUMMARY"))
    assert out.getvalue().endswith("SUMMARY\n")


CRASH = """
import io, sys
from rich.console import Console
from buildorch.run.events import ImageStarted, RunStarted
from buildorch.run.reporters.live import LiveReporter
reporter = LiveReporter(sys.stdout)
reporter.started(RunStarted("R1", "shop", "docker", ("base",), 1))
reporter.started(ImageStarted("base", 1))
raise RuntimeError("a bug in the run")
"""


def test_a_crash_mid_run_leaves_the_cursor_shown() -> None:
    result = subprocess.run([sys.executable, "-c", CRASH], capture_output=True, text=True,
                            check=False, timeout=60)
    assert result.returncode == 1
    assert "RuntimeError: a bug in the run" in result.stdout + result.stderr
    assert HIDE in result.stdout
    assert result.stdout.rindex(SHOW) > result.stdout.rindex(HIDE)
    assert "running     base" in ANSI.sub("", result.stdout)


def test_tty_progress_picks_the_live_view_and_plain_stays_plain() -> None:
    assert isinstance(reporter_for("tty", stream=io.StringIO(), env={}), LiveReporter)
    assert isinstance(reporter_for("plain", stream=io.StringIO(), env={}), PlainReporter)
    assert isinstance(reporter_for("auto", stream=io.StringIO(), env={}), PlainReporter)
