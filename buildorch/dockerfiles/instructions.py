"""The walk over a Dockerfile's parsed instructions that collects stages and references.

It mirrors what BuildKit's dockerfile frontend (frontend/dockerfile/instructions and
dockerfile2llb) reads from each instruction: global ARGs before the first FROM, one stage
per FROM, and the stage or image each `COPY --from` and `RUN --mount=...,from=` names.

- BuildKit does NOT expand variables in `COPY --from` nor in a mount's `from=` (it fails
  with "variable expansion is not supported for --from"); we fail the same way instead of
  expanding, so the graph never contains a name BuildKit would not use.
- `ADD` has no `--from` flag in BuildKit, and ONBUILD triggers only run in images built on
  top of this one, so neither creates references here.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import dockerfile

from buildorch.dockerfiles.shell_words import LexError, expand_word
from buildorch.dockerfiles.stages import (
    STAGE_INDEX_RE,
    DockerfileInfo,
    Reference,
    RefKind,
    Stage,
)
from buildorch.errors import ConfigError
from buildorch.oci import platforms

# Instructions BuildKit's dockerfile frontend accepts; anything else fails the build.
_KNOWN_INSTRUCTIONS = frozenset({
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
    "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
    "WORKDIR",
})
_STAGE_NAME_RE = re.compile(r"[a-z][a-z0-9-_.]*")
# BuildKit rejects `from=` values matching `\$.` in mounts; we apply it to COPY --from too.
_VARIABLE_RE = re.compile(r"\$.")


class StageCollector:
    """Walks the parsed instructions once and collects stages and references."""

    def __init__(self, path: str, escape: str, build_args: Mapping[str, str],
                 automatic: Mapping[str, str]) -> None:
        self.path = path
        self.escape = escape
        self.build_args = build_args
        self.global_args: dict[str, str | None] = {}
        # Values FROM may expand: BuildKit's automatic platform ARGs (a build arg of the
        # same name wins), then the global ARGs as they are set.
        self.env: dict[str, str] = {k: build_args.get(k, v) for k, v in automatic.items()}
        self.stages: list[Stage] = []
        self.references: list[Reference] = []

    def add(self, command: dockerfile.Command) -> None:
        # The parser keeps the instruction's case as written (`from a` gives cmd 'from').
        # A line holding only the escape character continues into nothing: no instruction,
        # which BuildKit reports as an unknown (empty) one (moby/buildkit parser.Parse).
        cmd = (command.cmd or "").upper()
        line = command.start_line
        if not cmd:
            raise self._error("empty instruction: a line holding only the escape character "
                              "continues into nothing", line)
        if cmd not in _KNOWN_INSTRUCTIONS:
            raise self._error(f"unknown instruction: {command.cmd}", line)
        if cmd == "FROM":
            self._add_stage(command, line)
        elif not self.stages:
            self._add_global(cmd, command, line)
        elif cmd == "COPY":
            self._add_copy(command.flags, line)
        elif cmd == "RUN":
            self._add_mounts(command.flags, line)

    def finish(self, syntax: str | None) -> DockerfileInfo:
        if not self.stages:
            raise self._error("Dockerfile has no FROM instruction (no build stage)", None)
        self._check_indices()
        return DockerfileInfo(
            path=self.path, syntax=syntax, escape=self.escape,
            global_args=MappingProxyType(self.global_args),
            stages=tuple(self.stages), references=tuple(self.references),
        )

    def _check_indices(self) -> None:
        # COPY --from=<number> must name an existing stage; BuildKit fails for any target.
        for ref in self.references:
            is_index = ref.kind == "copy" and STAGE_INDEX_RE.fullmatch(ref.ref)
            if is_index and not 0 <= int(ref.ref) < len(self.stages):
                raise self._error(f"invalid stage index {ref.ref}", ref.line)

    # -- before the first FROM -------------------------------------------------------------

    def _add_global(self, cmd: str, command: dockerfile.Command, line: int) -> None:
        if cmd != "ARG":
            raise self._error(f"{cmd} before the first FROM: only ARG may come before it", line)
        for word in command.value:
            self._add_arg(word, line)

    def _add_arg(self, word: str, line: int) -> None:
        key, has_value, raw = word.partition("=")
        if not key:
            raise self._error("ARG names can not be blank", line)
        # As buildMetaArgs: a build arg wins unexpanded; a default is expanded with the
        # ARGs before it; `ARG X` alone keeps an earlier value.
        if key in self.build_args:
            value: str | None = self.build_args[key]
        elif has_value:
            value = self._expand(raw, line)
        else:
            value = self.global_args.get(key)
        self.global_args[key] = value
        if value is not None:
            self.env[key] = value

    # -- stages and references ---------------------------------------------------------

    def _add_stage(self, command: dockerfile.Command, line: int) -> None:
        args = command.value
        name = self._stage_name(args, line)
        base = self._expand(args[0], line)
        if not base:
            raise self._error(f"base name ({args[0]}) should not be blank", line)
        index = len(self.stages)
        flag = _flag_values(command.flags, "platform")
        # `--platform=` with nothing after it is no platform at all (BuildKit tests the
        # flag's raw value before expanding it); only an expansion to "" is an error.
        platform = self._platform(flag[-1], line) if flag and flag[-1] else None
        self.stages.append(Stage(index, name, base, line, platform))
        self.references.append(Reference("from", base, line, index))

    def _stage_name(self, args: tuple[str, ...], line: int) -> str | None:
        if len(args) == 3 and args[1].lower() == "as":
            name = args[2].lower()
            if not _STAGE_NAME_RE.fullmatch(name):
                raise self._error(
                    f"invalid name for build stage: {args[2]!r}, name can't start with a "
                    "number or contain symbols", line,
                )
            return name
        if len(args) != 1:
            raise self._error("FROM requires either one or three arguments", line)
        return None

    def _add_copy(self, flags: tuple[str, ...], line: int) -> None:
        if not flags:
            return
        values = self._required_flag(flags, "from", line)
        if len(values) > 1:
            raise self._error("Duplicate flag specified: from", line)
        if values and values[0]:  # an empty --from= means the build context
            self._add_reference("copy", values[0], line)

    def _add_mounts(self, flags: tuple[str, ...], line: int) -> None:
        if not flags:
            return
        for spec in self._required_flag(flags, "mount", line):
            source = _mount_from(spec)
            if source:
                self._add_reference("mount", source, line)

    def _add_reference(self, kind: RefKind, ref: str, line: int) -> None:
        if _VARIABLE_RE.search(ref):
            raise self._error(
                f"variable expansion is not supported for {kind} from={ref!r}; define a "
                "stage with FROM using a global ARG instead", line,
            )
        self.references.append(Reference(kind, ref, line, len(self.stages) - 1))

    def _platform(self, value: str, line: int) -> str:
        """`FROM --platform=` expanded with the global ARGs, as BuildKit does."""
        expanded = self._expand(value, line)
        if not expanded:
            raise self._error(f"empty platform value from expression {value}", line)
        try:
            return platforms.parse(expanded).format()
        except platforms.InvalidPlatform as exc:
            raise self._error(f"failed to parse platform {value}: {exc}", line) from None

    def _required_flag(self, flags: tuple[str, ...], name: str, line: int) -> list[str]:
        values = _flag_values(flags, name)
        if None in values:
            raise self._error(f"Missing a value on flag: {name}", line)
        return [v for v in values if v is not None]

    def _expand(self, word: str, line: int) -> str:
        try:
            return expand_word(word, self.env, self.escape)
        except LexError as exc:
            raise self._error(f"failed to process {word!r}: {exc}", line) from None

    def _error(self, message: str, line: int | None) -> ConfigError:
        return ConfigError(message, file=self.path, line=line)


def _flag_values(flags: Iterable[str], name: str) -> list[str | None]:
    """Values of `--name=value` flags (None for a bare `--name`), as BuildKit's BFlags."""
    values: list[str | None] = []
    for flag in flags:
        if flag == "--":  # end of flags
            break
        key, has_value, value = flag[2:].partition("=")
        if key == name:  # flag names are case-sensitive
            values.append(value if has_value else None)
    return values


def _mount_from(spec: str) -> str:
    """The `from=` of one --mount value (a CSV list of key=value, keys case-insensitive)."""
    fields = next(csv.reader([spec])) if '"' in spec else spec.split(",")
    source = ""
    for field in fields:
        key, has_value, value = field.partition("=")
        if has_value and key.lower() == "from":
            source = value
    return source
