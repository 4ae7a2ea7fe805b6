"""Errors that reach the user as one line and an exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_BUILD_FAILED = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130


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
        return f"{prefix}: {self.message}" if prefix else self.message
