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

A step served by an imported cache whose layers the engine no longer holds (a wiped
engine, images removed) is not `CACHED`: BuildKit downloads its layers from the cache
and reports the step `DONE` (seen with docker buildx 0.13 on the stack). It did not run
either, so it counts as cached:

    #7 [2/2] RUN make
    #7 sha256:47b7ccba... 108B / 108B done
    #7 DONE 0.0s

A step is counted once by its name (`[stage k/n] INSTRUCTION`): BuildKit names the same
step again under another number when it solves it a second time in one build (after a
cache import that found nothing, or merged with a concurrent build's vertex), e.g.
`#6 [build 2/4] COPY . .` DONE then `#9 [build 2/4] COPY . .` CACHED. A step that ran in
any of its vertices ran; it is cached only if it was served from cache and never ran.
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
# A layer downloaded (or unpacked) for a vertex, and a RUN step's own output (`#7 0.104 x`).
_LAYER = re.compile(r"^(?:extracting )?sha256:[0-9a-f]{64}(?: |$)")
_OUTPUT = re.compile(r"^\d+\.\d+ ")
_IMPORT = "importing cache manifest from "
_NOT_FOUND = re.compile(r"not found|manifest unknown|404|NoSuchKey", re.IGNORECASE)


@dataclass
class ProgressReader:
    """One build attempt's progress, fed line by line."""

    image: str
    steps: set[str] = field(default_factory=set)  # names of those that run or come from cache
    bases: dict[str, str] = field(default_factory=dict)  # FROM reference -> digest
    _names: dict[int, str] = field(default_factory=dict)
    _numbers: set[int] = field(default_factory=set)  # the vertices that are steps
    _loaded: set[int] = field(default_factory=set)  # steps whose layers came from a cache
    _output: set[int] = field(default_factory=set)  # steps that printed output of their own
    _cached: set[str] = field(default_factory=set)
    _ran: set[str] = field(default_factory=set)
    _seen: set[str] = field(default_factory=set)  # every step's name, FROM too

    @property
    def total_steps(self) -> int:
        return len(self.steps)

    @property
    def cached_steps(self) -> int:
        return len(self._cached - self._ran)

    def feed(self, line: str) -> list[Update]:
        match = _VERTEX.match(line.rstrip("\n"))
        if match is None:
            return []
        number, rest = int(match.group(1)), match.group(2)
        name = self._names.get(number)
        if name is None:
            self._names[number] = rest
            return self._named(number, rest)
        if number in self._numbers:
            return self._step_line(number, name, rest)
        if name.startswith(_IMPORT) and rest.startswith("ERROR: ") and _NOT_FOUND.search(rest):
            return [CacheMiss(self.image, name.removeprefix(_IMPORT).rstrip(":"))]
        return []

    def _step_line(self, number: int, name: str, rest: str) -> list[Update]:
        if _OUTPUT.match(rest):
            self._output.add(number)
        elif _LAYER.match(rest):
            self._loaded.add(number)
        loaded = number in self._loaded and number not in self._output
        if rest == "CACHED" or (loaded and rest.startswith("DONE")):
            first = name not in self._cached and name not in self._ran
            self._cached.add(name)
            return [StepCached(self.image, number, name)] if first else []
        if rest.startswith("DONE"):
            self._ran.add(name)
        return []

    def _named(self, number: int, name: str) -> list[Update]:
        if not _STEP.match(name):
            return []
        base = _FROM_DIGEST.match(name)
        if base:
            self.bases[base.group(1)] = base.group(2)
        counted = _FROM.match(name) is None  # a base image is resolved, neither run nor cached
        if counted:
            self._numbers.add(number)
        if name in self._seen:
            return []
        self._seen.add(name)
        if counted:
            self.steps.add(name)
        return [Step(self.image, number, name)]
