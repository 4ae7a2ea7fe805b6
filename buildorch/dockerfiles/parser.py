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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import dockerfile

from buildorch.dockerfiles.directives import read_directives
from buildorch.dockerfiles.instructions import StageCollector
from buildorch.dockerfiles.platform_args import platform_args
from buildorch.dockerfiles.stages import DockerfileInfo, check_cycles
from buildorch.errors import ConfigError
from buildorch.oci import platforms as oci_platforms
from buildorch.oci.reference import InvalidReference
from buildorch.oci.reference import check as check_reference
from buildorch.textfile import read_text

# Distinct Dockerfile texts whose parse is kept (a monorepo has a few thousand at most).
_PARSE_CACHE_SIZE = 4096
_LINE_IN_MESSAGE_RE = re.compile(r"\bline (\d+)")
MAX_BYTES = 1 << 20
MAX_LINES = 25_000


@dataclass(frozen=True)
class BuildPlatforms:
    """What is built for (`os/arch[/variant]`), on what, and which stage: the values of
    BuildKit's automatic ARGs. None: this machine's platform."""

    target: str | None = None
    build: str | None = None
    stage: str | None = None  # the --target; None: the last stage


def parse_dockerfile(
    text: str, path: str = "Dockerfile", build_args: Mapping[str, str] | None = None,
    platforms: BuildPlatforms = BuildPlatforms(),
) -> DockerfileInfo:
    """Analyse Dockerfile `text`; `path` is only used in messages and results."""
    text = text.removeprefix("\ufeff")
    syntax, escape = read_directives(text)
    commands = _parse_commands(text, path)
    native = oci_platforms.native().format()
    automatic = platform_args(platforms.target or native, platforms.build or native,
                              platforms.stage or _last_stage_name(commands))
    collector = StageCollector(path, escape, build_args or {}, automatic)
    for command in commands:
        collector.add(command)
    info = collector.finish(syntax)
    check_cycles(info)
    _check_image_references(info)
    return info


def _check_image_references(info: DockerfileInfo) -> None:
    # BuildKit parses the name of every stage's base image and every COPY/mount source
    # that is no stage (`resolveBaseImage`: ParseNormalizedNamed), reachable or not.
    for ref in info.image_references():
        try:
            check_reference(ref.ref)
        except InvalidReference as exc:
            raise ConfigError(f"failed to parse stage name {ref.ref!r}: {exc}",
                              file=info.path, line=ref.line) from None


def _last_stage_name(commands: tuple[dockerfile.Command, ...]) -> str:
    """TARGETSTAGE when no target is given: the last stage's name (BuildKit's default),
    lower-cased as instructions/parse.go parseBuildStageName stores it."""
    for command in reversed(commands):
        if (command.cmd or "").upper() == "FROM":
            args = command.value
            return args[2].lower() if len(args) == 3 and args[1].lower() == "as" else ""
    return ""


def load_dockerfile(
    path: Path, build_args: Mapping[str, str] | None = None, display_path: str | None = None,
    platforms: BuildPlatforms = BuildPlatforms(),
) -> DockerfileInfo:
    """Read and analyse the Dockerfile at `path`; messages name it `display_path`."""
    shown = display_path or str(path)
    return parse_dockerfile(read_dockerfile(path, shown), shown, build_args, platforms)


def read_dockerfile(path: Path, shown: str) -> str:
    """The text of the Dockerfile at `path`; messages name it `shown`. Bounded: BuildKit's
    parser takes time that grows with the square of continued or heredoc lines."""
    text = read_text(path, shown, "Dockerfile", MAX_BYTES)
    lines = text.count("\n") + (not text.endswith("\n"))
    if lines > MAX_LINES:
        raise ConfigError(f"Dockerfile has {lines:,} lines; buildorch reads at most "
                          f"{MAX_LINES:,}", file=shown)
    return text


@lru_cache(maxsize=_PARSE_CACHE_SIZE)
def _parse_text(text: str) -> tuple[dockerfile.Command, ...]:
    # The Go parser is most of the cost of an analysis; its result is an immutable tuple,
    # so images sharing a Dockerfile (other target or build args) reuse it.
    commands: tuple[dockerfile.Command, ...] = dockerfile.parse_string(text)
    return commands


def instruction_texts(text: str) -> tuple[str, ...]:
    """Each instruction as written (continuation lines joined), as BuildKit names a step
    before it expands variables; none for a text the parser refuses."""
    try:
        return tuple(command.original for command in _parse_text(text))
    except dockerfile.GoParseError:
        return ()


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
