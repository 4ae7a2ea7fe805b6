"""Errors that reach the user as one line and an exit code."""

from __future__ import annotations

import re

EXIT_OK = 0
EXIT_BUILD_FAILED = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
SHOWN_MAX = 60  # characters of a user's value echoed in a message
MESSAGE_MAX = 600  # characters of a one-line error message


def shorten(value: object, limit: int = SHOWN_MAX) -> str:
    """A user's value as a message may echo it: control characters (newlines) escaped,
    and long values cut with an ellipsis."""
    text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class BuildorchError(Exception):
    """An error the CLI prints as one line (no traceback) and exits with `exit_code`."""

    exit_code = EXIT_CONFIG


class ConfigError(BuildorchError):
    """A configuration error that names where in which file it is."""

    def __init__(
        self, message: str, *, file: str | None = None, line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        super().__init__(self.render())

    def render(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}" if self.line else self.file
        parts = [p for p in (where, self.field) if p]
        prefix = ": ".join(parts)
        text = f"{prefix}: {self.message}" if prefix else self.message
        # one line, whatever a message echoed: a configuration error is read at a glance
        return shorten(text, MESSAGE_MAX)
