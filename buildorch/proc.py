"""The one helper that starts subprocesses.

Every child runs in its own process group (so Ctrl-C handling can stop a build and all of
its children), its argv is a list (never a shell string), and a failure raises an error
that shows the redacted command, the exit code and the tail of the output.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from buildorch.errors import BuildorchError

TAIL_LINES = 20
REDACTED = "***"


class ToolNotFoundError(BuildorchError):
    """A binary buildorch needs is not on PATH."""


class CommandError(BuildorchError):
    """A command exited non-zero (when the caller asked for a check)."""

    exit_code = 1

    def __init__(self, argv: Sequence[str], returncode: int, output: str) -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.output = output
        tail = "\n".join(output.rstrip().splitlines()[-TAIL_LINES:])
        super().__init__(
            f"command failed with exit code {returncode}: {render_argv(argv)}"
            + (f"\n{tail}" if tail else "")
        )


@dataclass(frozen=True)
class Result:
    returncode: int
    output: str


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret value as ***. (Credential attributes of cache specs are
    redacted on the typed spec, `AttrSpec.redacted`, and their values scrubbed here.)"""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def redact_argv(argv: Iterable[str], secrets: Iterable[str] = ()) -> list[str]:
    """argv as buildorch may show or store it."""
    secrets = tuple(secrets)
    return [redact(arg, secrets) for arg in argv]


def render_argv(argv: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """A readable command line for messages (quoting only where needed), after the
    environment variables it runs with besides the caller's (`NAME=value ...`)."""
    import shlex

    assigned = [f"{k}={shlex.quote(v)}" for k, v in (env or {}).items()]
    return " ".join([*assigned, shlex.join(argv)])


def which(binary: str, path: str | None = None) -> str:
    found = shutil.which(binary, path=path)
    if found is None:
        raise ToolNotFoundError(f"'{binary}' was not found on PATH; install it or fix PATH")
    return found


def run(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    check: bool = True,
    secrets: Iterable[str] = (),
    stdin: str | None = None,
) -> Result:
    """Run `argv` to completion, capturing stdout and stderr together."""
    if not argv:
        raise ValueError("empty argv")
    binary = which(argv[0], path=(env or os.environ).get("PATH"))
    secrets = tuple(secrets)
    with subprocess.Popen(
        [binary, *argv[1:]],
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    ) as child:
        try:
            out, _ = child.communicate(stdin, timeout=timeout)
        except BaseException:  # timeout or Ctrl-C: do not leave the group running
            stop_group(child)
            raise
    output = redact(out or "", secrets)
    if check and child.returncode != 0:
        raise CommandError(redact_argv(argv, secrets), child.returncode, output)
    return Result(child.returncode, output)


def capture(argv: Sequence[str], *, cwd: Path | None = None,
            timeout: float | None = None) -> tuple[int, bytes, str]:
    """Run `argv` to completion; its exit code, its stdout as bytes (NUL-separated listings
    of file names, in any encoding) kept apart from its stderr (for messages)."""
    if not argv:
        raise ValueError("empty argv")
    binary = which(argv[0])
    with subprocess.Popen(
        [binary, *argv[1:]], cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=True,
    ) as child:
        try:
            out, err = child.communicate(timeout=timeout)
        except BaseException:  # timeout or Ctrl-C: do not leave the group running
            stop_group(child)
            raise
    return child.returncode, out, err.decode(errors="replace")


def stop_group(child: subprocess.Popen[str] | subprocess.Popen[bytes],
               deadline: float = 10.0) -> None:
    """TERM the child's whole process group, then KILL what is left after `deadline`."""
    for sig, wait in ((signal.SIGTERM, deadline), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            break
        if _group_gone(child, wait):
            break
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=1)


def _group_gone(child: subprocess.Popen[str] | subprocess.Popen[bytes], wait: float) -> bool:
    """Wait until no live process is left in the child's group (the leader is reaped)."""
    end = time.monotonic() + wait
    while time.monotonic() < end:
        child.poll()
        if not _live_members(child.pid):
            return True
        time.sleep(0.05)
    return False


def _live_members(pgid: int) -> bool:
    # killpg(pgid, 0) also counts zombies that no one has reaped yet; /proc tells them apart.
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


class Running:
    """A started child whose output is streamed line by line to a callback."""

    def __init__(self, argv: Sequence[str], child: subprocess.Popen[str]) -> None:
        self.argv = list(argv)
        self._child = child
        self._stopped = False

    @property
    def pid(self) -> int:
        return self._child.pid

    def lines(self) -> Iterator[str]:
        assert self._child.stdout is not None
        yield from self._child.stdout

    def wait(self) -> int:
        return self._child.wait()

    def stop(self, deadline: float = 10.0) -> None:
        """Stop the child and everything it started (TERM, then KILL after `deadline`)."""
        self._stopped = True
        stop_group(self._child, deadline)

    @property
    def stopped(self) -> bool:
        return self._stopped


def start(
    argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
) -> Running:
    """Start `argv` in its own process group with stdout and stderr merged into one pipe."""
    if not argv:
        raise ValueError("empty argv")
    binary = which(argv[0], path=(env or os.environ).get("PATH"))
    child = subprocess.Popen(
        [binary, *argv[1:]], cwd=cwd, env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, errors="replace", bufsize=1, start_new_session=True,
    )
    return Running(argv, child)
