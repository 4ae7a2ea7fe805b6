"""`buildorch plan`: the resolved plan, as text or JSON."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from buildorch.cli.changed_since import narrow
from buildorch.cli.loading import load, offline_plan, warn_hints


def command(args: argparse.Namespace) -> int:
    from buildorch.planning.plan_output import plan_json, plan_text
    from buildorch.run.why import explain_plan, explanation_text

    pipeline, graph = load(args)
    chosen = narrow(args, pipeline, graph)
    if chosen.nothing:
        print(chosen.nothing)
        return 0
    plan = offline_plan(args, pipeline, graph, args.names)  # no engine asked
    plan = dataclasses.replace(plan, reasons=chosen.reasons)
    warn_hints(pipeline, graph, plan.order)
    why = explain_plan(plan, None, Path.cwd()) if args.explain else {}
    if args.format == "json":
        # Indented for people; compact (and far faster to encode) when piped to a program.
        print(json.dumps(plan_json(plan, why), indent=2 if sys.stdout.isatty() else None))
    else:
        print(plan_text(plan))
        for name, lines in why.items():
            print(explanation_text(name, lines))
    return 0

