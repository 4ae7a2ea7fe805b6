"""The live view of `buildorch build` in a real pseudo-terminal, on the stack: a row per
image, states passing from waiting to running to done in successive frames, the final
summary below the view; a failing RUN shown as failed with its Dockerfile file:line
(exit 1); Ctrl-C leaves the cursor shown (exit 130).

The terminal is Python's own (`pty.fork`): the child's stdout is a terminal of 32 rows
and 120 columns, so `--progress auto` picks the live view as it would for a person.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import MakeProject

pytestmark = pytest.mark.engine

BASE = os.environ.get("BUILDORCH_BASE_IMAGE", "localhost:5000/busybox:latest")
ROWS, COLUMNS = 32, 120
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
REDRAW = re.compile(r"\r(?:\x1b\[2K\x1b\[1A)*\x1b\[2K")  # rich's cursor-up over a frame
HIDE, SHOW = "\x1b[?25l", "\x1b[?25h"
ROW = re.compile(r"^(waiting|running|done|cached|failed|skipped|unchanged|cancelled|"
                 r"interrupted) +(\S+)(.*)$")

PIPELINE = """\
version: 1
name: live
images:
  base: {context: base}
  a: {context: a, contexts: {base: {image: base}}}
  b: {context: b, contexts: {base: {image: base}}}
"""


@dataclass(frozen=True)
class TerminalRun:
    code: int
    raw: str  # everything the terminal received, escapes included

    @property
    def frames(self) -> list[str]:
        """Each frame drawn (with any note printed above it), without escapes; the last
        one runs on to the summary."""
        drawn = self.raw.replace("\r\n", "\n").split(HIDE, 1)[-1]
        return [ANSI.sub("", part) for part in REDRAW.split(drawn)]

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw.replace("\r\n", "\n"))


def states(frame: str) -> dict[str, tuple[str, str]]:
    """Each row of a frame: image -> (state, the rest of the row)."""
    return {m.group(2): (m.group(1), m.group(3)) for line in frame.splitlines()
            for m in [ROW.match(line)] if m}


def run_in_terminal(args: list[str], cwd: Path, *, interrupt: Callable[[str], bool] | None = None,
                    timeout: float = 300) -> TerminalRun:
    """`buildorch ARGS` with a pseudo-terminal as its terminal; Ctrl-C typed into it once
    `interrupt(output so far)` holds."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env["TERM"] = "xterm-256color"
    argv = [sys.executable, "-m", "buildorch", *args]
    pid, fd = pty.fork()
    if pid == 0:  # the child: set the terminal's size, then become buildorch
        try:
            fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
            os.chdir(cwd)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    chunks: list[bytes] = []
    deadline, typed = time.monotonic() + timeout, False
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: every writer to the terminal is gone
                break
            if not data:
                break
            chunks.append(data)
            if interrupt is not None and not typed and interrupt(
                    b"".join(chunks).decode(errors="replace")):
                os.write(fd, b"\x03")  # the terminal sends SIGINT to the foreground group
                typed = True
        else:
            os.kill(pid, signal.SIGKILL)
            pytest.fail(f"buildorch still running after {timeout}s")
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return TerminalRun(os.waitstatus_to_exitcode(status), b"".join(chunks).decode(errors="replace"))


def first_frame(frames: list[str], image: str, wanted: tuple[str, ...], after: int = 0) -> int:
    """The first frame from `after` on where `image` is in one of the `wanted` states."""
    for number in range(after, len(frames)):
        if states(frames[number]).get(image, ("",))[0] in wanted:
            return number
    raise AssertionError(f"{image} never {wanted} in frames {after}+: "
                         f"{[states(f).get(image) for f in frames]}")


def project(make_project: MakeProject, b_fails: bool = False) -> Path:
    token = uuid.uuid4().hex
    b_last = "RUN echo about to fail; exit 3" if b_fails else "RUN true"
    return make_project(PIPELINE, files={
        "base/Dockerfile": f"FROM {BASE}\nRUN echo {token} > /token && sleep 2\n",
        # the step's output (LOGMARK-42) is in the build log only, never in the view
        "a/Dockerfile": f"FROM base\nRUN echo {token}-a LOGMARK-$((6*7)) && sleep 1\n",
        "b/Dockerfile": f"FROM base\nRUN echo {token}-b && sleep 1\n{b_last}\n",
    })


def test_the_live_view_shows_rows_moving_from_waiting_to_done_then_the_summary(
        engine: str, make_project: MakeProject) -> None:
    path = project(make_project)
    run = run_in_terminal(["build", "-f", str(path), "--backend", "docker", "--progress",
                           "auto"], path.parent)
    assert run.code == 0, run.text[-3000:]
    frames = run.frames
    assert len(frames) >= 4, run.text[-3000:]
    for image in ("a", "b"):
        waiting = first_frame(frames, image, ("waiting",))
        running = first_frame(frames, image, ("running",), waiting + 1)
        first_frame(frames, image, ("done",), running + 1)
    base_running = first_frame(frames, "base", ("running",))
    assert "RUN echo" in "".join(states(f).get("base", ("", ""))[1] for f in frames)
    first_frame(frames, "base", ("done",), base_running + 1)
    last = states(frames[-1])
    assert {name: state for name, (state, _rest) in last.items()} == {
        "base": "done", "a": "done", "b": "done"}
    assert re.search(r"\d+\.\ds +0/1 cached  sha256:[0-9a-f]{12}$", last["a"][1].rstrip())
    assert "3/3 finished (3 done)" in frames[-1]
    assert frames[-1].index("3/3 finished") < frames[-1].index("IMAGE")  # summary below
    assert re.search(r"run \S+ succeeded in [\d.]+s, 0% of steps cached: record in ", run.text)
    assert "LOGMARK-42" not in run.text
    assert run.raw.rindex(SHOW) > run.raw.rindex(HIDE)
    assert all(len(f.splitlines()) < ROWS for f in frames[:-1])


def test_a_failing_run_step_shows_as_failed_with_its_dockerfile_line(
        engine: str, make_project: MakeProject) -> None:
    path = project(make_project, b_fails=True)
    run = run_in_terminal(["build", "-f", str(path), "--backend", "docker", "--progress",
                           "tty", "--keep-going"], path.parent)
    assert run.code == 1, run.text[-3000:]
    frames = run.frames
    failed = first_frame(frames, "b", ("failed",))
    first_frame(frames[:failed], "b", ("running",))
    state, rest = states(frames[-1])["b"]
    assert state == "failed"
    assert "b/Dockerfile:3: process \"/bin/sh -c echo about to fail; exit 3\"" in rest
    assert states(frames[-1])["a"][0] == "done"
    assert "b failed at b/Dockerfile:3" in run.text  # the summary below the view
    assert "about to fail" in run.text.split("b failed at")[1]  # the log's last lines
    assert run.raw.rindex(SHOW) > run.raw.rindex(HIDE)


def test_ctrl_c_interrupts_and_leaves_the_terminal_sane(
        engine: str, make_project: MakeProject) -> None:
    marker = uuid.uuid4().hex[:8]
    path = make_project("version: 1\nname: slow\nimages:\n  slow: {context: slow}\n", files={
        "slow/Dockerfile": f"FROM {BASE}\nRUN sleep 60; echo {marker}\n"})

    def sleeping(output: str) -> bool:
        return f"RUN sleep 60; echo {marker}" in ANSI.sub("", output)

    began = time.monotonic()
    run = run_in_terminal(["build", "-f", str(path), "--backend", "docker"], path.parent,
                          interrupt=sleeping)
    assert run.code == 130, run.text[-3000:]
    assert time.monotonic() - began < 50
    assert states(run.frames[-1])["slow"][0] == "interrupted"
    assert run.raw.rindex(SHOW) > run.raw.rindex(HIDE)
    assert re.search(r"run \S+ interrupted", run.text)
