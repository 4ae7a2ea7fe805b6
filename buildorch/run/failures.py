"""Read a failed build's log: where it failed, why, and whether a retry can help (pure).

Works on BuildKit's plain progress output, which every backend prints with
`--progress plain`:

    #6 [build 3/3] RUN exit 3
    #6 ERROR: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3
    ------
     > [build 3/3] RUN exit 3:
    ------
    Dockerfile:3
    --------------------
       3 | >>> RUN exit 3
    --------------------
    ERROR: failed to solve: process "/bin/sh -c exit 3" did not complete successfully: ...
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

TAIL_LINES = 20

_FILE_LINE = re.compile(r"^(\S+):(\d+)$")
_FAILED_STEP = re.compile(r"^ > \[(?:(\S+) )?\d+/\d+\] (.*):$")
_ERROR = re.compile(r"^(?:ERROR|error): (.*)$")
# A step that ran and failed is the user's to fix; retrying it only wastes time.
_STEP_FAILED = re.compile(r"did not complete successfully|executor failed running")
# Failures of the path to the builder or a registry, which a retry may get past.
_TRANSIENT = re.compile(
    r"connection refused|connection reset by peer|broken pipe|i/o timeout|TLS handshake timeout"
    r"|context deadline exceeded|no route to host|temporary failure in name resolution"
    r"|503 Service Unavailable|502 Bad Gateway|504 Gateway Timeout|429 Too Many Requests"
    r"|Cannot connect to the Docker daemon|error reading from server: EOF"
    r"|code = Unavailable|failed to dial|server closed the connection",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Failure:
    message: str  # the final error line, or the last line of output
    dockerfile: str | None = None
    line: int | None = None
    stage: str | None = None
    step: str | None = None  # the instruction that failed, as BuildKit shows it
    tail: tuple[str, ...] = ()
    transient: bool = False

    def where(self) -> str:
        place = f"{self.dockerfile}:{self.line}" if self.dockerfile and self.line else ""
        stage = f"stage {self.stage}" if self.stage else ""
        return ", ".join(p for p in (place, stage) if p)


def analyse(lines: Sequence[str], returncode: int) -> Failure:
    """What went wrong in a build whose output was `lines` and that exited `returncode`."""
    text = [line.rstrip("\n") for line in lines]
    dockerfile, line = _location(text)
    stage, step = _failed_step(text)
    message = _final_error(text) or (text[-1] if text else f"exit code {returncode}")
    return Failure(
        message=message, dockerfile=dockerfile, line=line, stage=stage, step=step,
        tail=tuple(_output_tail(text)), transient=is_transient(text),
    )


def is_transient(lines: Sequence[str]) -> bool:
    joined = "\n".join(lines[-200:])
    return not _STEP_FAILED.search(joined) and bool(_TRANSIENT.search(joined))


def _location(lines: Sequence[str]) -> tuple[str | None, int | None]:
    for i, text in enumerate(lines[:-1]):
        match = _FILE_LINE.match(text)
        if match and lines[i + 1].startswith("-----"):
            return match.group(1), int(match.group(2))
    return None, None


def _failed_step(lines: Sequence[str]) -> tuple[str | None, str | None]:
    for text in lines:
        match = _FAILED_STEP.match(text)
        if match:
            return match.group(1), match.group(2)
    return None, None


def _final_error(lines: Sequence[str]) -> str | None:
    for text in reversed(lines):
        match = _ERROR.match(text)
        if match:
            return match.group(1).removeprefix("failed to solve: ")
    return None


def _output_tail(lines: Sequence[str]) -> list[str]:
    """The failing step's own output if BuildKit quoted it, else the log's last lines."""
    for i, text in enumerate(lines):
        if _FAILED_STEP.match(text):
            quoted = []
            for following in lines[i + 1:]:
                if following.startswith("------"):
                    break
                quoted.append(following)
            if quoted:
                return quoted[-TAIL_LINES:]
    return [t for t in _without_cache_misses(lines) if t.strip()][-TAIL_LINES:]


_IMPORT = "importing cache manifest from "


def _without_cache_misses(lines: Sequence[str]) -> list[str]:
    """The log without its imports of cache entries that do not exist yet (a first run, a
    new branch): BuildKit quotes each as an error block, which is not why a build failed."""
    names: dict[str, str] = {}
    missed: set[str] = set()  # vertex numbers
    for text in lines:
        match = _VERTEX.match(text)
        if match is None:
            continue
        number, rest = match.groups()
        name = names.setdefault(number, rest)
        if name.startswith(_IMPORT) and rest.startswith("ERROR: ") and _NOT_FOUND.search(rest):
            missed.add(number)
    quotes = {f" > {names[n]}:" for n in missed}
    kept, i = [], 0
    while i < len(lines):
        match = _VERTEX.match(lines[i])
        if match and match.group(1) in missed:
            i += 1
        elif _quotes_one_of(lines[i:i + 3], quotes):
            i += 3
        else:
            kept.append(lines[i])
            i += 1
    return kept


def _quotes_one_of(block: Sequence[str], quotes: set[str]) -> bool:
    """`------` / ` > importing cache manifest from REF:` / `------`, REF one of `quotes`."""
    return (len(block) == 3 and block[1] in quotes
            and block[0].startswith("------") and block[2].startswith("------"))


_VERTEX = re.compile(r"^#(\d+) (.*)$")
_NOT_FOUND = re.compile(r"not found|manifest unknown|404|NoSuchKey", re.IGNORECASE)


@dataclass(frozen=True)
class CacheProblem:
    kind: str  # import | export
    source: str  # what BuildKit named: "importing cache manifest from REF", ...
    message: str


def cache_problems(lines: Sequence[str]) -> list[CacheProblem]:
    """Cache imports and exports that failed in a build BuildKit finished anyway.

    An import of an entry that does not exist yet (a new branch) is normal, not a problem.
    """
    names: dict[str, str] = {}
    problems = []
    for text in lines:
        match = _VERTEX.match(text.rstrip("\n"))
        if match is None:
            continue
        number, rest = match.groups()
        if number not in names:
            names[number] = rest
            continue
        name = names[number]
        kind = "import" if name.startswith("importing cache") else (
            "export" if name.startswith("exporting cache") else None)
        if kind and rest.startswith("ERROR: "):
            message = rest.removeprefix("ERROR: ")
            if kind == "export" or not _NOT_FOUND.search(message):
                problems.append(CacheProblem(kind, name, message))
    return problems
