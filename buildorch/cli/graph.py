"""`buildorch graph`: draw the dependency graph (text, dot, mermaid; `--stages`)."""

from __future__ import annotations

import argparse

from buildorch.cli.changed_since import narrow
from buildorch.cli.loading import load, warn_hints


def command(args: argparse.Namespace) -> int:
    from buildorch.planning import render_graph
    from buildorch.planning.plan import make_plan

    pipeline, graph = load(args)
    chosen = narrow(args, pipeline, graph)
    if chosen.nothing:
        print(chosen.nothing)
        return 0
    plan = make_plan(pipeline, graph, args.names)
    warn_hints(pipeline, graph, plan.order, unkept=False)
    draw = {"dot": render_graph.to_dot, "mermaid": render_graph.to_mermaid,
            "text": render_graph.to_text}[args.format]
    print(draw(pipeline, plan, stages=args.stages))
    return 0
