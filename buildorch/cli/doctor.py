"""`buildorch doctor`: which backends answer here, their versions, and what they can do."""

from __future__ import annotations

import argparse

from buildorch.backends.catalog import BACKEND_NAMES
from buildorch.backends.choice import BackendStatus, check


def command(args: argparse.Namespace) -> int:
    statuses = [check(name, args.builder) for name in BACKEND_NAMES]
    print("\n".join(line for status in statuses for line in _lines(status)))
    return 0 if any(s.reachable for s in statuses) else 1


def _lines(status: BackendStatus) -> list[str]:
    mark = "ok" if status.reachable else "--"
    lines = [f"[{mark}] {status.name}: {status.binary or 'not found'}"
             + (f", {status.version}" if status.version else "")
             + ("" if status.reachable else f" ({status.detail})")]
    if status.reachable:
        caps = status.capabilities
        lines.append(f"     cache export: {', '.join(sorted(caps.cache_exporters))}")
        lines.append(f"     outputs: {', '.join(sorted(caps.outputs))}")
        lines += [f"     {note}" for note in caps.notes]
    return lines
