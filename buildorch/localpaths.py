"""Local paths a pipeline names: `~` expanded without crashing on an unknown user, and
checks that answer no (instead of raising) for names the file system refuses."""

from __future__ import annotations

from pathlib import Path


class InvalidPath(ValueError):
    """A path that cannot be used; the message says why."""


def expand_home(value: str) -> Path:
    """`value` with a leading `~` or `~user` expanded."""
    try:
        return Path(value).expanduser()
    except RuntimeError:  # ~user of a user this machine does not know
        raise InvalidPath(f"cannot expand {value.split('/', 1)[0]!r}: no such user") from None


def is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):  # a name too long for the file system, a NUL in it
        return False


def is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):
        return False
