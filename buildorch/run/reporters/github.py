"""GitHub Actions (`GITHUB_ACTIONS=true`): the plain lines, then, as each image ends, its
log in a collapsible group, an error annotation on a failing Dockerfile line, and at the
run's end a markdown summary appended to `$GITHUB_STEP_SUMMARY`.

Builds run in parallel, so a group cannot wrap live output: an image's group is printed
when it ends, read from its log file (or, without one, the lines kept of it).

A build's output must not be able to issue workflow commands (`::set-output`, `::error`,
`::add-mask`...). The runner reads `::name ...::` at the start of a line and
`##[name ...]` anywhere in one (actions/runner src/Runner.Common/ActionCommand.cs,
TryParseV2 and TryParse), so any text that holds either is fenced by
`::stop-commands::<token>` ... `::<token>::`, with a fresh random token each time; the
values of our own commands are escaped as actions/toolkit does
(packages/core/src/command.ts, escapeData and escapeProperty).
"""

from __future__ import annotations

import os
import secrets
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import TextIO

from buildorch.errors import ConfigError
from buildorch.run.events import Finish, ImageFinished, RunFinished, shown_state
from buildorch.run.recorded import read_record
from buildorch.run.reporters.plain import PlainReporter
from buildorch.run.reporters.step_summary import code_block, markdown_summary, text
from buildorch.workdir import STATE

GROUP_LINES = 5000  # of an image's log, in its group (the whole log is in the run folder)


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str) -> str:
    """`::name key=value,...::message`, every value escaped."""
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{name}{f' {props}' if props else ''}::{escape_data(message)}"


def may_command(text: str) -> bool:
    """Whether the runner could read a workflow command in `text` (over-cautious: `::`
    anywhere, not only at a line's start, whatever the runner counts as a line break)."""
    return "::" in text or "##[" in text


def fenced(text: str) -> str:
    """`text` with workflow commands stopped around it."""
    token = secrets.token_hex(16)
    while token in text:  # cannot be guessed; checked all the same
        token = secrets.token_hex(16)
    return f"::stop-commands::{token}\n{text}\n::{token}::"


class GitHubReporter(PlainReporter):
    def __init__(self, stream: TextIO | None = None, verbose: bool = False,
                 env: Mapping[str, str] | None = None, root: Path | None = None) -> None:
        super().__init__(stream or sys.stdout, verbose)
        env = os.environ if env is None else env
        self._root = root or Path.cwd()  # where the run's paths are relative to
        self._workspace = Path(env.get("GITHUB_WORKSPACE") or self._root)
        self._summary_file = env.get("GITHUB_STEP_SUMMARY") or None

    def _write(self, text: str) -> None:
        super()._write(fenced(text) if may_command(text) else text)

    def finished(self, event: Finish) -> None:
        super().finished(event)
        if isinstance(event, RunFinished) and self._summary_file:
            self._append_summary(event)

    def _ended(self, event: ImageFinished, tail: Sequence[str] | None) -> None:
        """The image's log as a group, and an annotation where it failed."""
        block = []
        lines = self._log_lines(event, tail)
        if lines:
            block += [command("group", group_title(event)), fenced("\n".join(lines)),
                      "::endgroup::"]
        if event.failure is not None:
            block.append(self._annotation(event))
        if block:
            super()._write("\n".join(block))  # our own commands: not fenced

    def _log_lines(self, event: ImageFinished, tail: Sequence[str] | None) -> list[str]:
        """The end of the image's log file, else the lines kept of it."""
        if event.log:
            kept, total = last_lines(self._root / event.log, GROUP_LINES)
            if kept:
                earlier = total - len(kept)
                return [f"({earlier} earlier lines in {event.log})"] * bool(earlier) + kept
        return list(tail or ())

    def _annotation(self, event: ImageFinished) -> str:
        failure = event.failure
        assert failure is not None
        title = f"{event.image} failed"
        path = self._repository_path(failure.dockerfile) if failure.dockerfile else None
        if path and failure.line:
            return command("error", failure.message, file=path, line=str(failure.line),
                           title=title)
        return command("error", failure.message, title=title)

    def _repository_path(self, dockerfile: str) -> str | None:
        """`dockerfile` (relative to where buildorch runs) relative to the repository's
        root, as annotations name files; None outside the repository or for a Dockerfile
        buildorch wrote itself (`dockerfile_inline`, in the run folder)."""
        try:
            absolute = os.path.realpath(self._root / dockerfile)
        except ValueError:  # a NUL in it: no file of the repository
            return None
        relative = PurePath(os.path.relpath(absolute, os.path.realpath(self._workspace)))
        if relative.parts[:1] in ((os.pardir,), (STATE,)) or relative.is_absolute():
            return None
        inside = os.path.relpath(absolute, os.path.realpath(self._root))
        if PurePath(inside).parts[:1] == (STATE,):
            return None
        return relative.as_posix()

    def _append_summary(self, event: RunFinished) -> None:
        assert self._summary_file is not None
        try:
            markdown = markdown_summary(read_record(self._root / event.record, event.record))
        except ConfigError as exc:  # the record is gone: the text summary will do
            markdown = f"buildorch: {text(exc.render())}\n\n{code_block(event.summary)}\n"
        try:
            with Path(self._summary_file).open("a", encoding="utf-8") as out:
                out.write(markdown)
        except OSError as exc:
            self._write(f"warning: cannot write the step summary to {self._summary_file}: "
                        f"{exc.strerror or exc}")


def last_lines(path: Path, count: int) -> tuple[list[str], int]:
    """A file's last `count` lines, read through rather than held whole, and how many lines
    it has; none where it cannot be read."""
    kept: deque[str] = deque(maxlen=count)
    total = 0
    try:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                kept.append(line.rstrip("\n"))
                total += 1
    except (OSError, ValueError):  # ValueError: a NUL in the name
        return [], 0
    return list(kept), total


def group_title(event: ImageFinished) -> str:
    """`api (done in 3.2s)`."""
    shown = shown_state(event.state, event.cached_steps, event.total_steps)
    took = f" in {event.duration:.1f}s" if event.duration is not None else ""
    return f"{event.image} ({shown}{took})"
