"""Reading a user's text file (a pipeline, a cache profile, a Dockerfile) for analysis:
bounded in size, UTF-8, and every failure a ConfigError naming the file (and the line
where there is one)."""

from __future__ import annotations

from pathlib import Path

from buildorch.errors import ConfigError

# Past this the parsers (PyYAML, BuildKit's own Dockerfile parser) take seconds to minutes.
MAX_BYTES = 4 << 20


def read_text(path: Path, shown: str, what: str = "file", max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of `path` (a BOM dropped); `shown` names it in messages (also in
    the message itself when `what` is more than "file")."""
    named = "" if what == "file" else f" {shown}"
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise ConfigError(f"{what} not found{':' if named else ''}{named}", file=shown) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what}{named}: {exc.strerror or exc}",
                          file=shown) from None
    if len(data) > max_bytes:
        raise ConfigError(f"{what} is larger than {max_bytes >> 20} MiB", file=shown)
    return decode(data, shown, what)


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
