"""What a Dockerfile defines, and which of its stages a build touches.

`DockerfileInfo` holds the stages, global ARGs and references one analysis found, and
resolves the references the way BuildKit's dockerfile frontend (dockerfile2llb) does, to
predict which stages and which external images a `docker buildx build --target X` really
touches:

- `FROM <name>` is a stage reference only if a stage with that exact name is defined
  *earlier* in the file (dispatchStates.addState looks the name up among the stages
  registered so far, case-sensitively against the lower-cased stage names). Anything else,
  including a stage defined later, is an image or named context.
- `COPY --from=<x>` and `RUN --mount=...,from=<x>` are resolved after all stages are known
  (buildStageDependencyGraph), by name case-insensitively, and for COPY also by numeric
  index. A reference to a stage defined later is recorded as an edge, but the build fails
  when that stage is needed ("cannot copy from stage ..., it needs to be defined before
  current stage"), so `needed_stages` raises for it; a cycle fails for every target, so
  parsing raises for it (`check_cycles`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from buildorch.errors import ConfigError

RefKind = Literal["from", "copy", "mount"]
# (used stage index, using stage index, kind, line): the edge used -> user.
StageEdge = tuple[int, int, str, int]

SCRATCH = "scratch"
# A stage index as `COPY --from=<index>` may give it.
STAGE_INDEX_RE = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class Stage:
    index: int  # 0-based position
    name: str | None  # the `AS` name, lower-cased as BuildKit does; None if unnamed
    base: str  # FROM's image argument after expanding global ARGs
    line: int  # 1-based line of the FROM
    platform: str | None  # value of --platform= if given (not expanded)

    @property
    def display_name(self) -> str:
        """How buildorch names the stage everywhere: its name, else `stage-N` (N its 0-based
        index), the name BuildKit gives an unnamed stage in its progress output and errors
        (dockerfile2llb/convert.go buildDispatchStates: `fmt.Sprintf("stage-%d", i)`)."""
        return self.name if self.name is not None else f"stage-{self.index}"


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

    def image_references(self) -> tuple[Reference, ...]:
        """References of every stage to images or named contexts (not `scratch`)."""
        return tuple(ref for ref, resolved in zip(self.references, self._resolved, strict=True)
                     if resolved is None and ref.ref != SCRATCH)

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
        if STAGE_INDEX_RE.fullmatch(ref):
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
                    f"stage {self.stages[used].display_name!r} is used by {kind} in stage "
                    f"{self.stages[user].display_name!r} but defined after it; BuildKit needs "
                    "it to be defined before the stage that uses it",
                    file=self.path, line=line,
                )

    def _unknown_target_message(self, target: str) -> str:
        names = self.stage_names()
        listed = f"stages: {', '.join(names)}" if names else "it has no named stages"
        return f"target {target!r} is not a stage of {self.path} ({listed})"


def check_cycles(info: DockerfileInfo) -> None:
    """Raise ConfigError if the stages' references form a cycle."""
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
                f"circular dependency detected on stage: {info.stages[used].display_name}",
                file=info.path, line=line,
            )
        _visit(used, uses, state, info)
    state[node] = 2
