"""Which reproducible images a backend cannot give identical digests (pure): the images it
keeps (loads or pushes) where its builder cannot rewrite their timestamps. The build still
runs (with SOURCE_DATE_EPOCH), and says so in one warning."""

from __future__ import annotations

from collections.abc import Collection

from buildorch.backends.catalog import get_backend
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.pipeline.reproducible import is_reproducible
from buildorch.planning.graph import BuildGraph, expand_selection, with_dependencies
from buildorch.planning.requests import PlanOptions, RequestContext, builder_address, outputs_of
from buildorch.text import plural


def timestamp_warning(pipeline: LoadedPipeline, graph: BuildGraph, names: Collection[str],
                      options: PlanOptions) -> str | None:
    """One line naming the reproducible images of the selection (and what it depends on)
    whose kept image the builder cannot rewrite the timestamps of, and why; None: there are
    none."""
    selection = expand_selection(list(names), pipeline.images, pipeline.model.groups)
    ctx = RequestContext(pipeline, graph, with_dependencies(graph, selection),
                         get_backend(options.backend), options)
    by_problem: dict[str, list[str]] = {}
    for name in sorted(ctx.sub.nodes):
        image = pipeline.images[name]
        out = outputs_of(ctx, image)
        if not is_reproducible(pipeline, name) or not (out.load or out.push):
            continue
        problem = ctx.backend.rewrite_timestamp_problem(builder_address(ctx, image))
        if problem is not None:
            by_problem.setdefault(problem, []).append(name)
    if not by_problem:
        return None
    found = [n for names_ in by_problem.values() for n in names_]
    return (f"reproducible: backend {ctx.backend.name} cannot rewrite the timestamps of "
            f"{plural(len(found), 'image')} ({', '.join(found)}), built with "
            f"SOURCE_DATE_EPOCH only: {'; '.join(by_problem)}")
