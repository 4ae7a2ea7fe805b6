"""Read a build's plain BuildKit progress as it streams (pure): which step runs, which
steps came from cache, which cache imports found nothing, which base images resolved
to which digests.

Every backend prints the same plain progress (`--progress plain`): a vertex is named
once by number, and its later lines carry the same number:

    #5 [api 2/4] RUN make
    #5 CACHED
    #3 importing cache manifest from localhost:5000/cache:api
    #3 ERROR: failed to configure registry cache importer: ... not found
    #4 [base 1/2] FROM localhost:5000/busybox:latest@sha256:6d9a...
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from buildorch.run.events import CacheMiss, Step, StepCached, Update

_VERTEX = re.compile(r"^#(\d+) (.*)$")
# A Dockerfile step: `[stage k/n] INSTRUCTION`, not `[internal] ...` or `[auth] ...`.
_STEP = re.compile(r"^\[(?:\S+ )?\d+/\d+\] ")
_FROM_DIGEST = re.compile(r"^\[(?:\S+ )?\d+/\d+\] FROM (\S+?)@(sha256:[0-9a-f]{64})$")
_FROM = re.compile(r"^\[(?:\S+ )?\d+/\d+\] FROM ")
_IMPORT = "importing cache manifest from "
_NOT_FOUND = re.compile(r"not found|manifest unknown|404|NoSuchKey", re.IGNORECASE)


@dataclass
class ProgressReader:
    """One build attempt's progress, fed line by line."""

    image: str
    steps: set[int] = field(default_factory=set)  # those that run or come from cache
    cached: set[int] = field(default_factory=set)
    bases: dict[str, str] = field(default_factory=dict)  # FROM reference -> digest
    _names: dict[int, str] = field(default_factory=dict)

    @property
    def total_steps(self) -> int:
        return len(self.steps)

    @property
    def cached_steps(self) -> int:
        return len(self.cached)

    def feed(self, line: str) -> list[Update]:
        match = _VERTEX.match(line.rstrip("\n"))
        if match is None:
            return []
        number, rest = int(match.group(1)), match.group(2)
        name = self._names.get(number)
        if name is None:
            self._names[number] = rest
            return self._named(number, rest)
        if rest == "CACHED" and number in self.steps and number not in self.cached:
            self.cached.add(number)
            return [StepCached(self.image, number, name)]
        if name.startswith(_IMPORT) and rest.startswith("ERROR: ") and _NOT_FOUND.search(rest):
            return [CacheMiss(self.image, name.removeprefix(_IMPORT).rstrip(":"))]
        return []

    def _named(self, number: int, name: str) -> list[Update]:
        if not _STEP.match(name):
            return []
        base = _FROM_DIGEST.match(name)
        if base:
            self.bases[base.group(1)] = base.group(2)
        if not _FROM.match(name):  # a base image is resolved, neither run nor cached
            self.steps.add(number)
        return [Step(self.image, number, name)]
