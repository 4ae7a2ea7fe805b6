"""The live view's board: rows, states, steps, cached shares, the overall line and the
estimate, the rows chosen when they do not all fit; every frame fits its terminal."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from buildorch.run.events import (
    ImageFinished,
    ImageQueued,
    ImageStarted,
    LogLine,
    RunFinished,
    RunStarted,
    Step,
    StepCached,
)
from buildorch.run.failures import Failure
from buildorch.run.reporters.live_board import Board, Line, clock, rough

DIGEST = "sha256:" + "1a" * 32
FAILURE = Failure("process \"/bin/sh -c exit 3\" did not complete successfully: exit code: 3",
                  "bad/Dockerfile", 3, "build", "RUN exit 3")


def text(line: Line) -> str:
    return "".join(part for part, _style in line)


def rows(board: Board, now: float, width: int = 100, height: int = 40) -> dict[str, str]:
    """Each shown row by its image: the row's text without its state column."""
    lines = [text(line) for line in board.frame(now, width, height)[:-1]]
    return {line.split()[1]: line for line in lines if not line.startswith("…")}


def started_board(names: tuple[str, ...] = ("base", "api", "web"), jobs: int = 2,
                  estimate: float | None = 30.0) -> Board:
    board = Board()
    durations = {n: 10.0 for n in names} if estimate is not None else {}
    board.apply(RunStarted("R", "shop", "docker", names, jobs, estimate, durations), 100.0)
    for name in names:
        board.apply(ImageQueued(name, () if name == "base" else ("base",)), 100.0)
    return board


def test_rows_show_state_elapsed_step_and_cached_share_in_plan_order() -> None:
    board = started_board()
    board.apply(ImageStarted("base", 1), 101.0)
    board.apply(Step("base", 4, "[base 1/3] FROM localhost:5000/busybox@sha256:ab"), 101.0)
    board.apply(Step("base", 5, "[base 2/3] COPY . /src"), 101.5)
    board.apply(StepCached("base", 5, "[base 2/3] COPY . /src"), 101.5)
    board.apply(Step("base", 6, "[base 3/3] RUN make"), 102.0)
    assert board.apply(LogLine("base", "#6 make: done"), 102.0) is False
    shown = [text(line) for line in board.frame(113.7, 100, 40)]
    assert shown[0].split() == ["running", "base", "12s", "1/2", "cached", "[base", "3/3]", "RUN",
                                "make"]  # the FROM step counts neither as run nor as cached
    assert shown[1].split() == ["waiting", "api", "for", "base"]
    assert shown[2].split() == ["waiting", "web", "for", "base"]
    assert shown[3] == "0/3 finished · 1 running · 2 waiting · 13s elapsed · ~10s left"


def test_ended_rows_show_duration_counts_from_the_event_and_why() -> None:
    board = started_board()
    board.apply(ImageStarted("base", 1), 101.0)
    board.apply(ImageFinished("base", "succeeded", 4.25, DIGEST, 3, 3), 105.0)
    board.apply(ImageStarted("api", 1), 105.0)
    board.apply(ImageFinished("api", "failed", 2.0, failure=FAILURE), 107.0)
    board.apply(ImageFinished("web", "skipped", reason="api failed"), 107.0)
    shown = rows(board, 110.0)
    assert shown["base"].split() == ["cached", "base", "4.2s", "3/3", "cached",
                                     "sha256:1a1a1a1a1a1a"]
    assert shown["api"].startswith("failed      api    2.0s")
    assert "bad/Dockerfile:3, stage build: process" in shown["api"]
    assert shown["web"].split() == ["skipped", "web", "api", "failed"]  # no longer `for base`
    overall = text(board.frame(110.0, 100, 40)[-1])
    assert overall.startswith("3/3 finished (1 cached, 1 failed, 1 skipped) · 10s elapsed")
    assert "left" not in overall


def test_a_success_with_steps_run_is_done_and_a_retry_starts_its_counts_again() -> None:
    board = started_board()
    board.apply(ImageStarted("base", 1), 101.0)
    board.apply(Step("base", 5, "[1/2] RUN a"), 101.0)
    board.apply(StepCached("base", 5, "[1/2] RUN a"), 101.0)
    board.apply(ImageStarted("base", 2), 103.0)
    assert rows(board, 104.0)["base"].split() == ["running", "base", "3s", "attempt", "2"]
    board.apply(Step("base", 5, "[1/2] RUN a"), 104.0)
    assert "0/1 cached" in rows(board, 104.0)["base"]
    board.apply(ImageFinished("base", "succeeded", None, DIGEST, 0, 1), 106.0)
    assert rows(board, 107.0)["base"].split()[:3] == ["done", "base", "5.0s"]  # since attempt 1


def test_an_image_an_earlier_build_serves_is_unchanged_and_leaves_the_estimate() -> None:
    board = started_board()
    board.apply(ImageFinished("base", "unchanged", reason="as built in run R0"), 100.0)
    assert rows(board, 100.0)["base"].split() == ["unchanged", "base", "as", "built", "in",
                                                  "run", "R0"]
    assert board.remaining(100.0) == 10.0  # api and web, 10 s each, on 2 jobs


def test_the_estimate_shares_pending_work_among_jobs_and_waits_for_the_longest_build() -> None:
    names = tuple(f"i{n}" for n in range(8))
    board = started_board(names, jobs=4)
    assert board.remaining(100.0) == 20.0  # 8 x 10 s on 4 jobs
    board.apply(ImageStarted("i0", 1), 100.0)
    assert board.remaining(104.0) == (70 + 6) / 4
    for name in names[1:]:
        board.apply(ImageFinished(name, "cancelled"), 104.0)
    assert board.remaining(104.0) == 6.0  # i0 alone: what it still needs
    assert board.remaining(125.0) == 0.0
    assert text(board.frame(125.0, 100, 40)[-1]).endswith("25s elapsed · past the estimate")
    assert started_board(estimate=None).remaining(100.0) is None


def test_a_finished_run_shows_its_own_duration() -> None:
    board = started_board()
    board.apply(RunFinished("R", "succeeded", 42.5, {}, "r.json", "S"), 200.0)
    assert "42s elapsed" in text(board.frame(500.0, 100, 40)[-1])


def test_too_many_rows_show_running_and_failed_then_recent_then_waiting() -> None:
    names = tuple(f"img-{n:02d}" for n in range(30))
    board = started_board(names, jobs=4)
    for n in range(10):
        board.apply(ImageStarted(names[n], 1), 100.0 + n)
        board.apply(ImageFinished(names[n], "succeeded", 1.0, DIGEST, 1, 1), 101.0 + n)
    board.apply(ImageStarted("img-10", 1), 111.0)
    board.apply(ImageFinished("img-10", "failed", 1.0, failure=FAILURE), 112.0)
    board.apply(ImageStarted("img-20", 1), 112.0)
    board.apply(ImageStarted("img-11", 1), 113.0)
    lines = [text(line) for line in board.frame(114.0, 80, 10)]
    assert len(lines) == 9  # one line of the terminal kept free
    assert [line.split()[:2] for line in lines[:7]] == [
        ["running", "img-20"], ["running", "img-11"], ["failed", "img-10"],
        ["cached", "img-09"], ["cached", "img-08"], ["cached", "img-07"], ["cached", "img-06"]]
    assert lines[7] == "… and 23 more (17 waiting, 6 cached)"
    assert lines[8].startswith("11/30 finished (10 cached, 1 failed) · 2 running · 17 waiting")
    few = [text(line) for line in board.frame(114.0, 80, 6)]
    assert [line.split()[1] for line in few[:3]] == ["img-20", "img-11", "img-10"]
    assert few[3].startswith("… and 27 more")


def test_waiting_rows_fill_what_room_is_left_in_plan_order() -> None:
    board = started_board(tuple(f"w{n}" for n in range(20)))
    lines = [text(line) for line in board.frame(100.0, 80, 6)]
    assert [line.split()[1] for line in lines[:3]] == ["w0", "w1", "w2"]


def test_long_steps_and_names_are_shortened_to_the_width() -> None:
    board = started_board(("a-very-long-image-name-indeed-longer-than-a-quarter",))
    board.apply(ImageStarted("a-very-long-image-name-indeed-longer-than-a-quarter", 1), 100.0)
    board.apply(Step("a-very-long-image-name-indeed-longer-than-a-quarter", 3,
                     "[2/3] RUN " + "x" * 200), 100.0)
    first = text(board.frame(101.0, 60, 10)[0])
    assert len(first) == 59 and first.endswith("[2/3] RUN …")
    assert "a-very-long-im…" in first  # a quarter of the width, at least 12


def test_clock_and_rough_estimates() -> None:
    assert [clock(s) for s in (0.4, 7.9, 63, 3599, 7500)] == ["0s", "7s", "1m03s", "59m59s",
                                                               "2h05m"]
    assert [rough(s) for s in (1, 12, 59, 61, 119, 3700)] == ["5s", "15s", "60s", "2m", "2m",
                                                              "1h02m"]


EVENTS = st.lists(st.tuples(
    st.sampled_from(("start", "step", "cached", "succeeded", "failed", "skipped")),
    st.integers(0, 39), st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=120)),
    max_size=200)


@settings(max_examples=150, deadline=None)
@given(EVENTS, st.integers(1, 200), st.integers(1, 60), st.integers(1, 40))
def test_every_frame_fits_the_terminal(events: list[tuple[str, int, str]], width: int,
                                       height: int, images: int) -> None:
    names = tuple(f"image-{n}" for n in range(images))
    board = started_board(names, jobs=3)
    for now, (kind, number, name) in enumerate(events, start=101):
        image = names[number % images]
        events_by_kind: dict[str, ImageStarted | Step | StepCached | ImageFinished] = {
            "start": ImageStarted(image, 1), "step": Step(image, number, name),
            "cached": StepCached(image, number, name),
            "succeeded": ImageFinished(image, "succeeded", 1.0, DIGEST, 1, 2),
            "failed": ImageFinished(image, "failed", 1.0, failure=FAILURE),
            "skipped": ImageFinished(image, "skipped", reason=name)}
        board.apply(events_by_kind[kind], float(now))
    lines = board.frame(400.0, width, height)
    assert len(lines) <= max(height - 1, 1)
    assert all(len(text(line)) < max(width, 2) for line in lines)
    assert sum(board.counts.values()) == images
