"""The GitHub Actions runner's reading of a step's output, simulated as actions/runner
does it (src/Runner.Common/ActionCommand.cs: `::name k=v,...::data` at a line's start
after leading white space, `##[name ...]data` anywhere in a line, lines split as .NET's
ReadLine splits them; src/Runner.Worker/ActionCommandManager.cs: after
`::stop-commands::TOKEN` nothing but `::TOKEN::` is processed). Every command name counts
as registered, so the simulation errs on the side of seeing commands."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Command:
    name: str
    properties: dict[str, str]
    data: str


@dataclass
class Runner:
    """What the runner processed: commands in order, and a stop token still in force."""

    processed: list[Command] = field(default_factory=list)
    stopped: str | None = None


def _unescape(value: str, extra: Sequence[tuple[str, str]] = ()) -> str:
    for escaped, char in (("%0D", "\r"), ("%0A", "\n"), *extra, ("%25", "%")):
        value = value.replace(escaped, char)
    return value


def _parse(line: str) -> Command | None:
    trimmed = line.lstrip()
    if trimmed.startswith("::") and (end := trimmed.find("::", 2)) > 2:
        info = trimmed[2:end]
        name, _, props = info.partition(" ")
        pairs = (p.split("=", 1) for p in props.split(",") if "=" in p)
        return Command(name, {k: _unescape(v, (("%3A", ":"), ("%2C", ","))) for k, v in pairs},
                       _unescape(trimmed[end + 2:]))
    start = line.find("##[")
    end = line.find("]", start)
    if start >= 0 and end > start + 3:
        name = line[start + 3:end].split(" ")[0]
        return Command(name, {}, line[end + 1:]) if name else None
    return None


def commands(out: str) -> Runner:
    """The runner's reading of `out`: lines as .NET's ReadLine splits them."""
    runner = Runner()
    for line in re.split(r"\r\n|\r|\n", out):
        found = _parse(line)
        if found is None:
            continue
        if runner.stopped is not None:
            if found.name.lower() == runner.stopped.lower():
                runner.stopped = None
            continue
        if found.name == "stop-commands":
            runner.stopped = found.data
            continue
        runner.processed.append(found)
    return runner
