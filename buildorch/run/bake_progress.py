"""Split the plain progress of one `docker buildx bake` of a chain into its members'
logs, as if each had been built alone (pure).

Bake prefixes each vertex with a target name, but BuildKit shares the vertices of a
chain's targets (a dependent's definition holds its dependency's steps), and the prefix
is of whichever target showed a step first: seen with buildx 0.13.1, `#10 [c 2/2] RUN
echo a1` is a step of a, built for c. Only a target's own vertices are named right:
`[b internal] load build definition ...` and `[b] exporting to image`. A chain builds
shows its own steps under its own name. A step is the first member's (in chain order)
whose Dockerfile has an instruction of the same text not yet seen (`expected`: variables
from the build args expanded, whitespace collapsed): a fully cached chain is solved all
at once, and its steps print in any order. A step no member's Dockerfile names as shown
(a variable set by ENV) belongs to the member being built: a link starts when the one
before has its result, as that one's `[b] exporting to image` vertex starts, so to the
member whose export started last (the first member before any), which holds while steps
run (a cold chain). That vertex's `DONE` says that b is stored. The target names are taken out
of the lines, which then read as `docker buildx build` prints them (`#10 [2/2] RUN ...`,
`#11 exporting to image`).
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

_VERTEX = re.compile(r"^#(\d+) (.*)$")
# `[target rest] name` or `[target] name`, in a vertex's first line or an error's quote
_PREFIXED = re.compile(r"^(#\d+ | > )\[([^\] ]+)(?: ([^\]]+))?\] ?(.*)$")
_STEP = re.compile(r"^(?:\S+ )?\d+/\d+$")  # `1/2` or `stage 1/2`: a Dockerfile step
_EXPORT = "exporting to "  # `exporting to image`, `... oci image format`, `... client ...`
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


class Routed(NamedTuple):
    member: str  # whose log the line goes to
    line: str  # as `docker buildx build` would print it
    stored: str | None  # a member whose image the line says is stored


def step_text(text: str, args: Mapping[str, str] | None = None) -> str:
    """An instruction as a step's name shows it: build args expanded, spaces collapsed."""
    known = args or {}
    expanded = _VARIABLE.sub(lambda m: known.get(m.group(1) or m.group(2), m.group(0)), text)
    return " ".join(expanded.split())


class BakeRouter:
    """Fed every line of the bake, in order."""

    def __init__(self, members: Sequence[str],
                 expected: Mapping[str, Iterable[str]] | None = None) -> None:
        self.members = tuple(members)
        # member -> the step texts of its Dockerfile not yet seen (as step_text gives them)
        self._expected = {m: collections.Counter(texts) for m, texts in (expected or {}).items()}
        self.current = 0  # index of the member being built
        self._owner: dict[int, str] = {}  # vertex number -> member
        self._exports: dict[int, str] = {}  # a member's image export vertex
        self.stored: list[str] = []

    @property
    def building(self) -> str:
        """The member whose steps run now."""
        return self.members[min(self.current, len(self.members) - 1)]

    @property
    def unfinished(self) -> str:
        """The first member not stored: the one a failure is of (steps or export)."""
        return next((m for m in self.members if m not in self.stored), self.members[-1])

    def feed(self, line: str) -> Routed:
        text = line.rstrip("\n")
        shown, target, rest, name = self._unprefixed(text)
        match = _VERTEX.match(text)
        if match is None:
            return Routed(self.building, shown, None)
        number, status = int(match.group(1)), match.group(2)
        if number not in self._owner:
            own = target is not None and (rest is None or not _STEP.match(rest))
            self._owner[number] = target if own and target else self._step_owner(name)
            if target is not None and rest is None and name.startswith(_EXPORT):
                self._exports[number] = target
                if target == self.building:
                    self.current += 1
            return Routed(self._owner[number], shown, None)
        stored = self._exports.get(number) if status.startswith("DONE") else None
        if stored is not None:
            self.stored.append(stored)
        return Routed(self._owner[number], shown, stored)

    def _step_owner(self, name: str) -> str:
        text = step_text(name)
        for member in self.members:
            left = self._expected.get(member)
            if left and left[text] > 0:
                left[text] -= 1
                return member
        return self.building

    def _unprefixed(self, text: str) -> tuple[str, str | None, str | None, str]:
        """The line without its target name; the target, the rest of the bracket and the
        vertex's name (None, None, "" where no member's name prefixes it)."""
        match = _PREFIXED.match(text)
        if match is None or match.group(2) not in self.members:
            return text, None, None, ""
        lead, target, rest, name = match.groups()
        shown = f"{lead}[{rest}] {name}" if rest else f"{lead}{name}"
        return shown, target, rest, name
