"""Errors that reach the user as one line and an exit code."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

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


SHOWN_ERRORS = 20  # configuration errors listed at once; the rest are counted


class ConfigErrors(ConfigError):
    """Every configuration error found, one per line, sorted by file and line, so that one
    `validate` shows them all. A ConfigError itself: one of them is the first."""

    def __init__(self, errors: list[ConfigError]) -> None:
        unique = {e.render(): e for e in errors}
        self.errors = sorted(unique.values(),
                             key=lambda e: (e.file or "", e.line or 0, e.field or ""))
        first = self.errors[0]
        super().__init__(first.message, file=first.file, line=first.line, field=first.field)
        self.args = (self.render_all(),)

    def render_all(self) -> str:
        lines = [e.render() for e in self.errors[:SHOWN_ERRORS]]
        rest = len(self.errors) - SHOWN_ERRORS
        if rest > 0:
            lines.append(f"... and {rest} more error{'s' if rest > 1 else ''}")
        return "\n".join(lines)


class Problems:
    """Collects configuration errors so that checking goes on past the first one."""

    def __init__(self) -> None:
        self.errors: list[ConfigError] = []
        self.settled: set[str] = set()  # fields already wrong: what follows from it is not news

    def add(self, error: ConfigError, settles: bool = False) -> None:
        """Record `error`, unless its field already has one; `settles`: later errors of this
        field (and inside it) follow from this one and are left out."""
        for one in error.errors if isinstance(error, ConfigErrors) else [error]:
            if not self._follows(one.field):
                self.errors.append(one)
        if settles and error.field:
            self.settled.add(error.field)

    def _follows(self, field: str | None) -> bool:
        return field is not None and any(
            field == s or field.startswith((s + ".", s + "[")) for s in self.settled)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ConfigErrors(self.errors)

    @contextlib.contextmanager
    def collecting(self) -> Iterator[None]:
        """Record a ConfigError raised inside and go on."""
        try:
            yield
        except ConfigError as exc:
            self.add(exc)
