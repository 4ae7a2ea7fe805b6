"""`buildorch validate`: load and check the pipeline, and plan it for its backend (no
engine is asked), so that what the backend cannot do is an error now; exit 2 on errors.
The pipeline's hints (near misses, results nobody keeps) are warnings, and with
`--strict` errors listed with the others."""

from __future__ import annotations

import argparse

from buildorch.cli.loading import load, pipeline_hints, requested_backend, warn
from buildorch.text import plural


def command(args: argparse.Namespace) -> int:
    from buildorch.backends.catalog import offline_backend
    from buildorch.errors import Problems
    from buildorch.planning.input_sources import check_ignore_files
    from buildorch.planning.plan import make_plan
    from buildorch.planning.requests import PlanOptions

    pipeline, graph = load(args)
    backend = offline_backend(requested_backend(args, pipeline))
    problems = Problems()
    with problems.collecting():
        make_plan(pipeline, graph, list(pipeline.images), PlanOptions(backend=backend))
    for error in check_ignore_files(pipeline):  # read by `plan` and `build` for digests
        problems.add(error)
    for hint in pipeline_hints(pipeline, graph, pipeline.images):
        if args.strict:
            problems.add(hint)
        else:
            warn(hint.render())
    problems.raise_if_any()
    print(f"{pipeline.display}: ok ({plural(len(pipeline.images), 'image')}, "
          f"{plural(graph.graph.number_of_edges(), 'dependency', 'dependencies')})")
    return 0
