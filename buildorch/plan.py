"""The resolved plan of a run: build requests, edges, order and critical path (pure).

Values that only a run knows are placeholders: `{digest:NAME}` is the digest image NAME
produces in this run (dependents are pinned to it, never to a tag), `{run_id}` the run's
id. The executor fills them in; everything else is the exact argv that will run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from buildorch.backends.docker import docker_argv
from buildorch.graph import (
    BuildGraph,
    Edge,
    build_order,
    critical_path,
    estimates_for,
    expand_selection,
    remaining_path,
    with_dependencies,
)
from buildorch.loader import LoadedPipeline, ResolvedImage
from buildorch.request import BuildRequest, SecretRef, SshRef

RUN_DIR = ".buildorch/runs/{run_id}"
PLACEHOLDERS = {
    "{digest:NAME}": "the digest image NAME produces in this run",
    "{ref:NAME}": "the local name of untagged image NAME in this run",
    "{run_id}": "the id of the run",
}


@dataclass(frozen=True)
class PlannedImage:
    name: str
    request: BuildRequest
    argv: tuple[str, ...]
    depends_on: tuple[str, ...]
    stages: tuple[str, ...]  # Dockerfile stages this build runs, in file order
    estimate: float
    remaining: float  # longest estimated time from this build's start to the run's end


@dataclass(frozen=True)
class Plan:
    pipeline: str
    file: str
    selection: tuple[str, ...]
    images: tuple[PlannedImage, ...]  # in build order
    edges: tuple[Edge, ...]
    critical_path: tuple[str, ...]
    critical_seconds: float

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.images)


def repository_of(tag: str) -> str:
    """`localhost:5000/shop/base:dev` -> `localhost:5000/shop/base`."""
    name = tag.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def pinned_source(image: ResolvedImage) -> str:
    repo = repository_of(image.spec.tags[0]) if image.spec.tags else f"{{ref:{image.name}}}"
    return f"docker-image://{repo}@{{digest:{image.name}}}"


def _local_path(folder: Path, value: str) -> str:
    path = Path(value).expanduser()
    return os.path.relpath(path if path.is_absolute() else folder / path)


def _named_contexts(
    p: LoadedPipeline, image: ResolvedImage, graph: BuildGraph
) -> tuple[tuple[str, str], ...]:
    contexts: dict[str, str] = {}
    for name, ctx in image.spec.contexts.items():
        if isinstance(ctx, str):
            contexts[name] = ctx if "://" in ctx else _local_path(p.folder, ctx)
        else:
            contexts[name] = pinned_source(p.images[ctx.image])
    # A Dockerfile naming another image's tag is pinned to that build's digest too.
    for edge in graph.edges_into(image.name):
        if edge.ref is not None:
            contexts.setdefault(edge.ref, pinned_source(p.images[edge.source]))
    return tuple(contexts.items())


def make_request(p: LoadedPipeline, image: ResolvedImage, graph: BuildGraph) -> BuildRequest:
    spec = image.spec
    builder = next((b.address for b in p.model.builders if b.name == spec.builder), None)
    return BuildRequest(
        name=image.name,
        context=os.path.relpath(image.context_dir),
        dockerfile=image.dockerfile_display,
        target=spec.target,
        args=tuple(spec.args.items()),
        named_contexts=_named_contexts(p, image, graph),
        secrets=tuple(
            SecretRef(s.id, src=_local_path(p.folder, s.src) if s.src else None, env=s.env)
            for s in spec.secrets
        ),
        ssh=tuple(SshRef(s.id, tuple(_local_path(p.folder, x) for x in s.paths))
                  for s in spec.ssh),
        platforms=tuple(spec.platforms),
        labels=tuple(spec.labels.items()),
        tags=tuple(spec.tags),
        push=spec.push,
        load=bool(spec.tags) and not spec.push,
        network=spec.network,
        no_cache=spec.no_cache,
        metadata_file=f"{RUN_DIR}/{image.name}.metadata.json",
        builder=builder,
    )


def make_plan(p: LoadedPipeline, graph: BuildGraph, names: Sequence[str]) -> Plan:
    selection = expand_selection(names, p.images, p.model.groups)
    sub = with_dependencies(graph, selection)
    estimates = estimates_for(p.images, sub.nodes)
    order = build_order(sub, estimates)
    remaining = remaining_path(sub, estimates)
    path, seconds = critical_path(sub, estimates)
    planned = tuple(_planned(p, graph, sub, name, estimates, remaining) for name in order)
    edges = tuple(e for e in graph.edges if e.source in sub and e.target in sub)
    return Plan(p.model.name, p.display, tuple(selection), planned, edges, tuple(path), seconds)


def _planned(
    p: LoadedPipeline, graph: BuildGraph, sub: nx.DiGraph, name: str,
    estimates: Mapping[str, float], remaining: Mapping[str, float],
) -> PlannedImage:
    image = p.images[name]
    request = make_request(p, image, graph)
    stages = tuple(s.name or str(s.index) for s in image.info.needed_stages(image.spec.target))
    return PlannedImage(name, request, tuple(docker_argv(request)),
                        tuple(sorted(sub.predecessors(name))), stages, estimates[name],
                        remaining[name])


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "pipeline": plan.pipeline,
        "file": plan.file,
        "selection": list(plan.selection),
        "nodes": [
            {
                "name": i.name,
                "context": i.request.context,
                "dockerfile": i.request.dockerfile,
                "target": i.request.target,
                "tags": list(i.request.tags),
                "stages": list(i.stages),
                "depends_on": list(i.depends_on),
                "estimated_seconds": i.estimate,
                "argv": list(i.argv),
            }
            for i in plan.images
        ],
        "edges": [
            {"from": e.source, "to": e.target, "kind": e.kind,
             "declared_at": f"{e.file}:{e.line}" if e.line else e.file}
            for e in plan.edges
        ],
        "order": list(plan.order),
        "critical_path": {"images": list(plan.critical_path), "seconds": plan.critical_seconds},
        "placeholders": PLACEHOLDERS,
    }


def plan_text(plan: Plan) -> str:
    from buildorch.proc import render_argv

    lines = [f"pipeline {plan.pipeline} ({plan.file}): {len(plan.images)} images",
             f"critical path: {' -> '.join(plan.critical_path)} (~{plan.critical_seconds:.0f}s)",
             ""]
    for step, image in enumerate(plan.images, 1):
        after = f" after {', '.join(image.depends_on)}" if image.depends_on else ""
        lines.append(f"{step:>3}. {image.name}{after}")
        lines.append(f"     {render_argv(image.argv)}")
    return "\n".join(lines)
