"""`buildorch validate`: load and check the pipeline, and plan it for its backend (no
engine is asked), so that what the backend cannot do is an error now; exit 2 on errors."""

from __future__ import annotations

import argparse

from buildorch.cli.loading import load, requested_backend
from buildorch.text import plural


def command(args: argparse.Namespace) -> int:
    from buildorch.backends.catalog import offline_backend
    from buildorch.planning.plan import make_plan
    from buildorch.planning.requests import PlanOptions

    pipeline, graph = load(args)
    backend = offline_backend(requested_backend(args, pipeline))
    make_plan(pipeline, graph, list(pipeline.images), PlanOptions(backend=backend))
    print(f"{pipeline.display}: ok ({plural(len(pipeline.images), 'image')}, "
          f"{plural(graph.graph.number_of_edges(), 'dependency', 'dependencies')})")
    return 0
