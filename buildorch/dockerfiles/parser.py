"""Reading a Dockerfile: the entry points `parse_dockerfile` and `load_dockerfile`.

Parsing is done by the `dockerfile` package, which wraps BuildKit's own Go parser, so line
continuations, the `# escape=` directive and heredocs are read exactly as the engine reads
them. The parsed instructions are then walked (`instructions`) into a `DockerfileInfo`
(`stages`), whose stage references must not form a cycle.

The module is pure: the only I/O is `load_dockerfile` reading one file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import dockerfile

from buildorch.dockerfiles.directives import read_directives
from buildorch.dockerfiles.instructions import StageCollector
from buildorch.dockerfiles.stages import DockerfileInfo, check_cycles
from buildorch.errors import ConfigError

# Distinct Dockerfile texts whose parse is kept (a monorepo has a few thousand at most).
_PARSE_CACHE_SIZE = 4096
_LINE_IN_MESSAGE_RE = re.compile(r"\bline (\d+)")


def parse_dockerfile(
    text: str, path: str = "Dockerfile", build_args: Mapping[str, str] | None = None,
) -> DockerfileInfo:
    """Analyse Dockerfile `text`; `path` is only used in messages and results."""
    text = text.removeprefix("\ufeff")
    syntax, escape = read_directives(text)
    collector = StageCollector(path, escape, build_args or {})
    for command in _parse_commands(text, path):
        collector.add(command)
    info = collector.finish(syntax)
    check_cycles(info)
    return info


def load_dockerfile(
    path: Path, build_args: Mapping[str, str] | None = None, display_path: str | None = None,
) -> DockerfileInfo:
    """Read and analyse the Dockerfile at `path`; messages name it `display_path`."""
    shown = display_path or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"Dockerfile not found: {shown}", file=shown) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"cannot read Dockerfile {shown}: {reason}", file=shown) from None
    return parse_dockerfile(_decode(data, shown), shown, build_args)


def _decode(data: bytes, shown: str) -> str:
    try:
        return data.decode("utf-8-sig")  # tolerates (and drops) a BOM
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"Dockerfile {shown} is not valid UTF-8", file=shown, line=line,
        ) from None


@lru_cache(maxsize=_PARSE_CACHE_SIZE)
def _parse_text(text: str) -> tuple[dockerfile.Command, ...]:
    # The Go parser is most of the cost of an analysis; its result is an immutable tuple,
    # so images sharing a Dockerfile (other target or build args) reuse it.
    commands: tuple[dockerfile.Command, ...] = dockerfile.parse_string(text)
    return commands


def _parse_commands(text: str, path: str) -> tuple[dockerfile.Command, ...]:
    try:
        commands = _parse_text(text)
    except dockerfile.GoParseError as exc:
        message = str(exc)
        if message == "file with no instructions":
            raise ConfigError("Dockerfile is empty (no instructions)", file=path) from None
        match = _LINE_IN_MESSAGE_RE.search(message)
        line = int(match.group(1)) if match else None
        raise ConfigError(f"Dockerfile syntax error: {message}", file=path, line=line) from None
    return commands
