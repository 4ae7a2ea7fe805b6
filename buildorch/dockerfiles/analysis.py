"""Static analysis of Dockerfiles: stages, global ARGs and the references between stages.

Parsing is done by the `dockerfile` package, which wraps BuildKit's own Go parser, so line
continuations, the `# escape=` directive and heredocs are read exactly as the engine reads
them. What this module adds mirrors BuildKit's dockerfile frontend (frontend/dockerfile/
instructions and dockerfile2llb), because the goal is to predict which stages and which
external images a `docker buildx build --target X` really touches:

- `FROM <name>` is a stage reference only if a stage with that exact name is defined
  *earlier* in the file (dispatchStates.addState looks the name up among the stages
  registered so far, case-sensitively against the lower-cased stage names). Anything else,
  including a stage defined later, is an image or named context.
- `COPY --from=<x>` and `RUN --mount=...,from=<x>` are resolved after all stages are known
  (buildStageDependencyGraph), by name case-insensitively, and for COPY also by numeric
  index. A reference to a stage defined later is recorded as an edge, but the build fails
  when that stage is needed ("cannot copy from stage ..., it needs to be defined before
  current stage"), so `needed_stages` raises for it; a cycle fails for every target, so
  parsing raises for it.
- BuildKit does NOT expand variables in `COPY --from` nor in a mount's `from=` (it fails
  with "variable expansion is not supported for --from"); we fail the same way instead of
  expanding, so the graph never contains a name BuildKit would not use.
- `ADD` has no `--from` flag in BuildKit, and ONBUILD triggers only run in images built on
  top of this one, so neither creates references here.

The module is pure: the only I/O is `load_dockerfile` reading one file.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import dockerfile

from buildorch.errors import ConfigError

RefKind = Literal["from", "copy", "mount"]
# (used stage index, using stage index, kind, line): the edge used -> user.
StageEdge = tuple[int, int, str, int]

SCRATCH = "scratch"
DEFAULT_ESCAPE = "\\"

# Instructions BuildKit's dockerfile frontend accepts; anything else fails the build.
_KNOWN_INSTRUCTIONS = frozenset({
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
    "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
    "WORKDIR",
})
# ARGs BuildKit defines itself (from the platforms and target); usable in FROM without an
# ARG line. We cannot know the platforms, so they only have a value if build_args gives one.
_BUILTIN_ARGS = frozenset({
    "BUILDPLATFORM", "BUILDOS", "BUILDOSVERSION", "BUILDARCH", "BUILDVARIANT",
    "TARGETPLATFORM", "TARGETOS", "TARGETOSVERSION", "TARGETARCH", "TARGETVARIANT",
    "TARGETSTAGE",
})
_KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
# BuildKit's parser/directives.go regexp, applied after the leading '#'.
_DIRECTIVE_RE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
# At most: a shebang plus one line per known directive; any other line ends the block.
_MAX_DIRECTIVE_LINES = 1 + len(_KNOWN_DIRECTIVES)
_STAGE_NAME_RE = re.compile(r"[a-z][a-z0-9-_.]*")
_INDEX_RE = re.compile(r"[+-]?[0-9]+")
# BuildKit rejects `from=` values matching `\$.` in mounts; we apply it to COPY --from too.
_VARIABLE_RE = re.compile(r"\$.")
# Distinct Dockerfile texts whose parse is kept (a monorepo has a few thousand at most).
_PARSE_CACHE_SIZE = 4096
_LINE_IN_MESSAGE_RE = re.compile(r"\bline (\d+)")
# Words without quotes, `$` or the escape character need no shell processing (fast path).
_NEEDS_LEX = {
    "\\": re.compile(r"[$'\"\\]"),
    "`": re.compile(r"[$'\"`]"),
}
# Characters that name a shell special parameter after `$` (always unset for us).
_SPECIAL_PARAMS = frozenset("@*#?-$!0")


@dataclass(frozen=True)
class Stage:
    index: int  # 0-based position
    name: str | None  # the `AS` name, lower-cased as BuildKit does; None if unnamed
    base: str  # FROM's image argument after expanding global ARGs
    line: int  # 1-based line of the FROM
    platform: str | None  # value of --platform= if given (not expanded)

    def label(self) -> str:
        """How messages name the stage: its name, else its index."""
        return self.name if self.name is not None else str(self.index)


@dataclass(frozen=True)
class Reference:
    kind: RefKind  # FROM <x>, COPY --from=<x>, RUN --mount=...,from=<x>
    ref: str  # stage name, stage index as text, or image ref / named context
    line: int
    stage: int  # index of the stage in which the reference occurs


@dataclass(frozen=True)
class DockerfileInfo:
    path: str
    syntax: str | None  # frontend image from a `# syntax=` parser directive
    escape: str  # '\\' or '`'
    global_args: Mapping[str, str | None]  # ARGs before the first FROM, after overrides
    stages: tuple[Stage, ...]
    references: tuple[Reference, ...]

    def stage_names(self) -> tuple[str, ...]:
        """Names of the named stages, in file order."""
        return tuple(s.name for s in self.stages if s.name is not None)

    def resolve_stage(self, ref: str) -> Stage | None:
        """A stage by name (case-insensitive) or by index as COPY --from=0 uses it."""
        index = self._resolve_copy(ref)
        return self.stages[index] if index is not None else None

    def target_stage(self, target: str | None) -> Stage:
        """The stage `--target` builds: the last one by default, else by name only."""
        if not target:  # BuildKit treats an empty target like no target
            return self.stages[-1]
        index = self._by_name.get(target.lower())
        if index is None:
            raise ConfigError(self._unknown_target_message(target), file=self.path)
        return self.stages[index]

    def stage_edges(self) -> tuple[StageEdge, ...]:
        """(used, user, kind, line) for every reference that names a stage of this file."""
        return self._edges

    def needed_stages(self, target: str | None) -> tuple[Stage, ...]:
        """The stages BuildKit builds for `target`: it and all it uses, in file order."""
        needed = self._needed_indices(target)
        self._check_order(needed)
        return tuple(self.stages[i] for i in sorted(needed))

    def external_references(self, target: str | None) -> tuple[Reference, ...]:
        """References of the needed stages to images or named contexts (not `scratch`)."""
        needed = frozenset(s.index for s in self.needed_stages(target))
        return tuple(
            ref
            for ref, resolved in zip(self.references, self._resolved, strict=True)
            if ref.stage in needed and resolved is None and ref.ref != SCRATCH
        )

    # -- derived data, computed once per instance --------------------------------------

    @cached_property
    def _by_name(self) -> dict[str, int]:
        # Later stages win on duplicate names, like BuildKit's statesByName map.
        return {s.name: s.index for s in self.stages if s.name is not None}

    @cached_property
    def _resolved(self) -> tuple[int | None, ...]:
        """For each reference, the index of the stage it names, or None.

        References are in file order, so the stages a FROM can see (those before it) are
        collected while walking them: linear, however many stages there are."""
        earlier: dict[str, int] = {}
        added = 0
        resolved: list[int | None] = []
        for ref in self.references:
            if ref.kind != "from":
                resolved.append(self._resolve_later(ref))
                continue
            for stage in self.stages[added : ref.stage]:
                if stage.name is not None:
                    earlier[stage.name] = stage.index  # a later duplicate wins
            added = max(added, ref.stage)
            # Exact match: BuildKit does not lower-case FROM's argument.
            resolved.append(earlier.get(ref.ref))
        return tuple(resolved)

    @cached_property
    def _edges(self) -> tuple[StageEdge, ...]:
        return tuple(
            (used, ref.stage, ref.kind, ref.line)
            for ref, used in zip(self.references, self._resolved, strict=True)
            if used is not None
        )

    @cached_property
    def _uses(self) -> dict[int, tuple[int, ...]]:
        uses: dict[int, list[int]] = {}
        for used, user, _kind, _line in self._edges:
            uses.setdefault(user, []).append(used)
        return {user: tuple(used) for user, used in uses.items()}

    # -- helpers -----------------------------------------------------------------------

    def _resolve_later(self, ref: Reference) -> int | None:
        # COPY/mount are resolved once all stages are known, case-insensitively.
        if ref.kind == "copy":
            return self._resolve_copy(ref.ref)
        return self._by_name.get(ref.ref.lower())  # mounts: by name only, no index

    def _resolve_copy(self, ref: str) -> int | None:
        if _INDEX_RE.fullmatch(ref):
            index = int(ref)
            return index if 0 <= index < len(self.stages) else None
        return self._by_name.get(ref.lower())

    def _needed_indices(self, target: str | None) -> set[int]:
        start = self.target_stage(target).index
        needed = {start}
        pending = [start]
        while pending:
            for used in self._uses.get(pending.pop(), ()):
                if used not in needed:
                    needed.add(used)
                    pending.append(used)
        return needed

    def _check_order(self, needed: Iterable[int]) -> None:
        # BuildKit dispatches stages in file order and fails when a stage is used before
        # it has been built; FROM never does this (it only sees earlier stages).
        wanted = frozenset(needed)
        for used, user, kind, line in self._edges:
            if user in wanted and used >= user:
                raise ConfigError(
                    f"stage {self.stages[used].label()!r} is used by {kind} in stage "
                    f"{self.stages[user].label()!r} but defined after it; BuildKit needs "
                    "it to be defined before the stage that uses it",
                    file=self.path, line=line,
                )

    def _unknown_target_message(self, target: str) -> str:
        names = self.stage_names()
        listed = f"stages: {', '.join(names)}" if names else "it has no named stages"
        return f"target {target!r} is not a stage of {self.path} ({listed})"


# -- parsing -------------------------------------------------------------------------------


def parse_dockerfile(
    text: str, path: str = "Dockerfile", build_args: Mapping[str, str] | None = None,
) -> DockerfileInfo:
    """Analyse Dockerfile `text`; `path` is only used in messages and results."""
    text = text.removeprefix("\ufeff")
    syntax, escape = _read_directives(text)
    builder = _Builder(path, escape, build_args or {})
    for command in _parse_commands(text, path):
        builder.add(command)
    info = builder.finish(syntax)
    _check_cycles(info)
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


def _read_directives(text: str) -> tuple[str | None, str]:
    """(syntax frontend, escape character) from the parser directives at the top."""
    lines = text.split("\n", _MAX_DIRECTIVE_LINES)[:_MAX_DIRECTIVE_LINES]
    found = _scan_directives(lines)
    # Syntax detection skips a shebang line; the escape directive does not.
    if lines[0].startswith("#!"):
        syntax_value = _scan_directives(lines[1:]).get("syntax")
    else:
        syntax_value = found.get("syntax")
    syntax = syntax_value.split()[0] if syntax_value else None
    return syntax, found.get("escape", DEFAULT_ESCAPE)


def _scan_directives(lines: Iterable[str]) -> dict[str, str]:
    # Directives end at the first line that is not one: a blank line, an ordinary comment,
    # an unknown directive or an instruction. Duplicates are rejected by the parser.
    found: dict[str, str] = {}
    for line in lines:
        match = _DIRECTIVE_RE.match(line.lstrip())
        if match is None or match.group(1).lower() not in _KNOWN_DIRECTIVES:
            break
        found.setdefault(match.group(1).lower(), match.group(2))
    return found


class _Builder:
    """Walks the parsed instructions once and collects stages and references."""

    def __init__(self, path: str, escape: str, build_args: Mapping[str, str]) -> None:
        self.path = path
        self.escape = escape
        self.build_args = build_args
        self.global_args: dict[str, str | None] = {}
        # Values FROM may expand: builtins the caller supplied, then set global ARGs.
        self.env: dict[str, str] = {k: v for k, v in build_args.items() if k in _BUILTIN_ARGS}
        self.stages: list[Stage] = []
        self.references: list[Reference] = []

    def add(self, command: dockerfile.Command) -> None:
        # The parser keeps the instruction's case as written (`from a` gives cmd 'from').
        cmd = command.cmd.upper()
        line = command.start_line
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
            is_index = ref.kind == "copy" and _INDEX_RE.fullmatch(ref.ref)
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
        platform = _flag_values(command.flags, "platform")
        self.stages.append(Stage(index, name, base, line, platform[-1] if platform else None))
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

    def _required_flag(self, flags: tuple[str, ...], name: str, line: int) -> list[str]:
        values = _flag_values(flags, name)
        if None in values:
            raise self._error(f"Missing a value on flag: {name}", line)
        return [v for v in values if v is not None]

    def _expand(self, word: str, line: int) -> str:
        try:
            return expand_word(word, self.env, self.escape)
        except _LexError as exc:
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


def _check_cycles(info: DockerfileInfo) -> None:
    # BuildKit rejects a cycle for every target. FROM edges always point backwards, so
    # only a COPY/mount of a later (or the same) stage can close one: search only then.
    edges = info.stage_edges()
    if all(used < user for used, user, _kind, _line in edges):
        return
    uses: dict[int, list[tuple[int, int]]] = {}
    for used, user, _kind, line in edges:
        uses.setdefault(user, []).append((used, line))
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    for stage in info.stages:
        _visit(stage.index, uses, state, info)


def _visit(
    node: int, uses: Mapping[int, list[tuple[int, int]]], state: dict[int, int],
    info: DockerfileInfo,
) -> None:
    if state.get(node) == 2:
        return
    state[node] = 1
    for used, line in uses.get(node, ()):
        if state.get(used) == 1:
            raise ConfigError(
                f"circular dependency detected on stage: {info.stages[used].label()}",
                file=info.path, line=line,
            )
        _visit(used, uses, state, info)
    state[node] = 2


# -- shell-word expansion (a port of the subset of BuildKit's shell.Lex used here) -------


class _LexError(ValueError):
    pass


def expand_word(word: str, env: Mapping[str, str], escape: str = DEFAULT_ESCAPE) -> str:
    """Expand `$X`, `${X}`, `${X:-w}`, `${X-w}`, `${X:+w}`, `${X+w}`, `${X:?w}` and remove
    quotes and escapes, as BuildKit does for FROM and global ARG values. Unset names
    expand to ''. Raises _LexError on a syntax error or an unsupported modifier."""
    if not _NEEDS_LEX[escape].search(word):
        return word
    return _Lexer(word, env, escape).scan(None)


class _Lexer:
    def __init__(self, word: str, env: Mapping[str, str], escape: str) -> None:
        self.word = word
        self.env = env
        self.escape = escape
        self.pos = 0

    def scan(self, stop: str | None) -> str:
        """Process up to `stop` (consumed) or the end of the word."""
        out: list[str] = []
        word = self.word
        special = _NEEDS_LEX[self.escape]
        while self.pos < len(word):
            # Copy the run of ordinary characters in one slice, not char by char.
            match = special.search(word, self.pos)
            end = match.start() if match else len(word)
            if stop is not None:
                found = word.find(stop, self.pos, end)
                if found >= 0:
                    out.append(word[self.pos : found])
                    self.pos = found + 1
                    return "".join(out)
            out.append(word[self.pos : end])
            self.pos = end
            if end < len(word):
                out.append(self._token(word[end]))
        if stop is not None:
            raise _LexError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(out)

    def _token(self, ch: str) -> str:
        if ch == "$":
            return self._dollar()
        if ch == "'":
            return self._single_quoted()
        if ch == '"':
            return self._double_quoted()
        self.pos += 1
        if ch != self.escape:
            return ch
        # The escape character takes the next one literally; a trailing one vanishes.
        escaped = self.word[self.pos : self.pos + 1]
        self.pos += 1
        return escaped

    def _single_quoted(self) -> str:
        end = self.word.find("'", self.pos + 1)
        if end < 0:
            raise _LexError("unexpected end of statement while looking for matching single-quote")
        text = self.word[self.pos + 1 : end]
        self.pos = end + 1
        return text

    def _double_quoted(self) -> str:
        out: list[str] = []
        word = self.word
        self.pos += 1
        while self.pos < len(word):
            ch = word[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "$":
                out.append(self._dollar())
                continue
            self.pos += 1
            # Inside double quotes the escape only escapes `"`, `$` and itself.
            if ch == self.escape and word[self.pos : self.pos + 1] in ('"', "$", self.escape):
                ch = word[self.pos]
                self.pos += 1
            out.append(ch)
        raise _LexError("unexpected end of statement while looking for matching double-quote")

    def _dollar(self) -> str:
        self.pos += 1  # the '$'
        if self.word[self.pos : self.pos + 1] != "{":
            name = self._name()
            return self.env.get(name, "") if name else "$"
        self.pos += 1  # the '{'
        nxt = self.word[self.pos : self.pos + 1]
        if not nxt:
            raise _LexError("syntax error: missing '}'")
        if nxt in "{}:":
            raise _LexError("syntax error: bad substitution")
        return self._braced(self._name())

    def _braced(self, name: str) -> str:
        modifier = self._next_char()
        if modifier == "}":
            return self.env.get(name, "")
        null_is_unset = modifier == ":"
        if null_is_unset:
            modifier = self._next_char()
        if modifier not in ("-", "+", "?"):
            shown = (":" if null_is_unset else "") + modifier
            raise _LexError(f"unsupported modifier ({shown}) in substitution")
        word = self.scan("}")
        return _apply_modifier(name, modifier, word, self.env.get(name), null_is_unset)

    def _next_char(self) -> str:
        ch = self.word[self.pos : self.pos + 1]
        if not ch:
            raise _LexError("syntax error: missing '}'")
        self.pos += 1
        return ch

    def _name(self) -> str:
        word = self.word
        start = self.pos
        if start >= len(word):
            return ""
        first = word[start]
        if first.isdigit():
            end = start
            while end < len(word) and word[end].isdigit():
                end += 1
        elif first in _SPECIAL_PARAMS:
            end = start + 1
        else:
            end = start
            while end < len(word) and (word[end].isalnum() or word[end] == "_"):
                end += 1
        self.pos = end
        return word[start:end]


def _apply_modifier(
    name: str, modifier: str, word: str, value: str | None, null_is_unset: bool,
) -> str:
    unset = value is None or (null_is_unset and value == "")
    if modifier == "-":
        return word if unset else value or ""
    if modifier == "+":
        return "" if unset else word
    # '?': an error when unset (or empty with ':'), worded like BuildKit's.
    if value is None:
        raise _LexError(f"{name}: {word or 'is not allowed to be unset'}")
    if unset:
        raise _LexError(f"{name}: {word or 'is not allowed to be empty'}")
    return value
