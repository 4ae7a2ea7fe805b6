"""Split the plain progress of one `docker buildx bake` of a chain into its members'
logs, as if each had been built alone (pure).

Bake prefixes each vertex with a target name, but BuildKit shares the vertices of a
chain's targets (a dependent's definition holds its dependency's steps), and the prefix
is of whichever target showed a step first: seen with buildx 0.13.1, `#10 [c 2/2] RUN
echo a1` is a step of a, built for c. Only a target's own vertices are named right:
`[b internal] load build definition ...` and `[b] exporting to image`. A chain builds
one member at a time (each waits for the one before), so a step belongs to the first
member whose image is not stored yet; the `[b] exporting to image` vertex's `DONE` says
that b is stored, and what follows is the next member's. The target names are taken out
of the lines, which then read as `docker buildx build` prints them (`#10 [2/2] RUN ...`,
`#11 exporting to image`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

_VERTEX = re.compile(r"^#(\d+) (.*)$")
# `[target rest] name` or `[target] name`, in a vertex's first line or an error's quote
_PREFIXED = re.compile(r"^(#\d+ | > )\[([^\] ]+)(?: ([^\]]+))?\] ?(.*)$")
_STEP = re.compile(r"^(?:\S+ )?\d+/\d+$")  # `1/2` or `stage 1/2`: a Dockerfile step
_EXPORT = "exporting to "  # `exporting to image`, `... oci image format`, `... client ...`


class Routed(NamedTuple):
    member: str  # whose log the line goes to
    line: str  # as `docker buildx build` would print it
    stored: str | None  # a member whose image the line says is stored


class BakeRouter:
    """Fed every line of the bake, in order."""

    def __init__(self, members: Sequence[str]) -> None:
        self.members = tuple(members)
        self.current = 0  # index of the member being built
        self._owner: dict[int, str] = {}  # vertex number -> member
        self._exports: dict[int, str] = {}  # a member's image export vertex

    @property
    def building(self) -> str:
        return self.members[min(self.current, len(self.members) - 1)]

    def feed(self, line: str) -> Routed:
        text = line.rstrip("\n")
        shown, target, rest, name = self._unprefixed(text)
        match = _VERTEX.match(text)
        if match is None:
            return Routed(self.building, shown, None)
        number, status = int(match.group(1)), match.group(2)
        if number not in self._owner:
            own = target is not None and (rest is None or not _STEP.match(rest))
            self._owner[number] = target if own and target else self.building
            if target is not None and rest is None and name.startswith(_EXPORT):
                self._exports[number] = target
            return Routed(self._owner[number], shown, None)
        stored = self._exports.get(number) if status.startswith("DONE") else None
        member = self._owner[number]
        if stored is not None and stored == self.building:
            self.current += 1
        return Routed(member, shown, stored)

    def _unprefixed(self, text: str) -> tuple[str, str | None, str | None, str]:
        """The line without its target name; the target, the rest of the bracket and the
        vertex's name (None, None, "" where no member's name prefixes it)."""
        match = _PREFIXED.match(text)
        if match is None or match.group(2) not in self.members:
            return text, None, None, ""
        lead, target, rest, name = match.groups()
        shown = f"{lead}[{rest}] {name}" if rest else f"{lead}{name}"
        return shown, target, rest, name
