"""Reading a user's text file (a pipeline, a cache profile, a Dockerfile) for analysis:
bounded in size, UTF-8, and every failure a ConfigError naming the file (and the line
where there is one)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from buildorch.errors import ConfigError

# Past this the parsers (PyYAML, BuildKit's own Dockerfile parser) take seconds to minutes.
MAX_BYTES = 4 << 20


def read_text(path: Path, shown: str, what: str = "file", max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of `path` (a BOM dropped); `shown` names it in messages (also in
    the message itself when `what` is more than "file")."""
    named = "" if what == "file" else f" {shown}"
    try:
        with path.open("rb") as handle:
            data = _read_bounded(handle, max_bytes)
    except FileNotFoundError:
        raise ConfigError(f"{what} not found{':' if named else ''}{named}", file=shown) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what}{named}: {exc.strerror or exc}",
                          file=shown) from None
    if len(data) > max_bytes:
        raise ConfigError(f"{what} is larger than {max_bytes >> 20} MiB", file=shown)
    return decode(data, shown, what)


def _read_bounded(handle: BinaryIO, max_bytes: int) -> bytes:
    """At most max_bytes + 1 bytes (one more than allowed tells a file that is too big).

    Asked for max_bytes + 1 at once, Python allocates that much for every file however
    small (1 MiB per Dockerfile: a third of reading 2,000 of them); so the file's size says
    how much to ask for, and a file longer than that (it grew, or is no regular file)
    is read on."""
    try:
        size = os.fstat(handle.fileno()).st_size
    except OSError:
        size = 0
    want = min(size, max_bytes) + 1
    data = handle.read(want)
    if len(data) == want and want <= max_bytes:
        data += handle.read(max_bytes + 1 - want)
    return data


def decode(data: bytes, shown: str, what: str = "file") -> str:
    try:
        text = data.decode("utf-8-sig")  # tolerates (and drops) a BOM
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{what} is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                          file=shown, line=line) from None
    nul = text.find("\0")
    if nul >= 0:
        raise ConfigError(f"{what} holds a NUL character", file=shown,
                          line=text.count("\n", 0, nul) + 1)
    return text
