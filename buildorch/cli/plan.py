"""`buildorch plan`: the resolved plan, as text or JSON."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from buildorch.cli.changed_since import narrow
from buildorch.cli.loading import load, plan_options, requested_backend, warn_hints

if TYPE_CHECKING:
    from buildorch.planning.plan import Plan


def command(args: argparse.Namespace) -> int:
    from buildorch.backends.capabilities import S3
    from buildorch.backends.catalog import get_backend, offline_backend
    from buildorch.planning.plan import make_plan
    from buildorch.planning.plan_output import plan_json, plan_text

    pipeline, graph = load(args)
    chosen = narrow(args, pipeline, graph)
    if chosen.nothing:
        print(chosen.nothing)
        return 0
    # Planning asks no engine which backend answers.
    backend = get_backend(offline_backend(requested_backend(args, pipeline)))
    native_s3 = S3 in backend.assumed_capabilities().cache_exporters
    plan = make_plan(pipeline, graph, args.names,
                     plan_options(args, pipeline, graph, backend.name, native_s3))
    plan = dataclasses.replace(plan, reasons=chosen.reasons)
    warn_hints(pipeline, graph, plan.order)
    why = explanations(plan) if args.explain else {}
    if args.format == "json":
        # Indented for people; compact (and far faster to encode) when piped to a program.
        print(json.dumps(plan_json(plan, why), indent=2 if sys.stdout.isatty() else None))
    else:
        print(plan_text(plan))
        for name, lines in why.items():
            print("\n".join([f"{name}: {lines[0]}", *lines[1:]]))
    return 0


def explanations(plan: Plan) -> dict[str, list[str]]:
    from buildorch.run.earlier_builds import BuildIndex
    from buildorch.run.why import explain

    index = BuildIndex.load(Path.cwd())
    return {i.name: explain(plan.pipeline, i, index, Path.cwd()) for i in plan.images}
