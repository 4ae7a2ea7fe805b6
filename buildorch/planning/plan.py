"""The resolved plan of a run: build requests, edges, order and critical path (pure).

Values that only a run knows are placeholders: `{digest:NAME}` is the digest image NAME
produces in this run (dependents are pinned to it, never to a tag), `{run_id}` the run's
id. The executor fills them in; everything else is the exact argv that will run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from buildorch.backends import Backend, get_backend
from buildorch.backends.request import BuildRequest, SecretRef, SshRef, repository_of
from buildorch.cache.plan import CacheContext, ImageCache, plan_cache
from buildorch.pipeline.loader import LoadedPipeline, ResolvedImage
from buildorch.planning.graph import (
    BuildGraph,
    Edge,
    build_order,
    critical_path,
    estimates_for,
    expand_selection,
    remaining_path,
    with_dependencies,
)
from buildorch.preflight.secrets import secret_path
from buildorch.proc import redact_argv, render_argv

RUN_DIR = ".buildorch/runs/{run_id}"
LOCAL_NAMESPACE = "buildorch.local"  # local names of untagged images others build on
PLACEHOLDERS = {
    "{digest:NAME}": "the digest image NAME produces in this run",
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
    publish: tuple[str, ...] = ()  # tags published once every build of the run succeeded
    cache: ImageCache = field(default_factory=ImageCache)


@dataclass(frozen=True)
class Plan:
    pipeline: str
    file: str
    backend: str
    selection: tuple[str, ...]
    images: tuple[PlannedImage, ...]  # in build order
    edges: tuple[Edge, ...]
    critical_path: tuple[str, ...]
    critical_seconds: float

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.images)


@dataclass(frozen=True)
class PlanOptions:
    backend: str = "docker"
    push: bool = False  # --push: publish every selected image that has tags
    builder: str | None = None  # --builder: the address for every image
    history: Mapping[str, float] = field(default_factory=dict)  # durations of earlier runs
    # (image, secret id) of optional secrets whose source is absent: not passed at all
    omit_secrets: frozenset[tuple[str, str]] = frozenset()
    cache: CacheContext | None = None  # None: no cache import or export


@dataclass(frozen=True)
class _Context:
    """What every request of one plan shares."""

    pipeline: LoadedPipeline
    graph: BuildGraph
    sub: nx.DiGraph
    backend: Backend
    options: PlanOptions

    def published(self, name: str) -> bool:
        return self.options.push or self.pipeline.images[name].spec.push

    def run_tag(self, name: str) -> str | None:
        """The local name under which a dependent build finds image `name`.

        The docker driver resolves neither `name@digest` from its local store nor pushes by
        digest, so a dependency is stored under a tag that only this run creates; the
        executor checks it holds the recorded digest before a dependent starts.
        """
        if not self.backend.local_store or not self.sub.out_degree(name):
            return None
        return f"{LOCAL_NAMESPACE}/{self.pipeline.model.name}/{name}:{{run_id}}"

    def pinned_source(self, name: str) -> str:
        """How a dependent build reaches image `name`: only ever this run's build of it."""
        run_tag = self.run_tag(name)
        if run_tag is not None:
            return f"docker-image://{run_tag}"
        tags = self.pipeline.images[name].spec.tags
        digest = f"{{digest:{name}}}"
        if self.published(name) and tags:
            return f"docker-image://{repository_of(tags[0])}@{digest}"
        return f"oci-layout://{RUN_DIR}/{name}.oci@{digest}"


def _local_path(folder: Path, value: str) -> str:
    """A path from the pipeline (`~` expanded, relative to its folder), relative to here."""
    return os.path.relpath(secret_path(folder, value))


def _named_contexts(ctx: _Context, image: ResolvedImage) -> tuple[tuple[str, str], ...]:
    contexts: dict[str, str] = {}
    for name, source in image.spec.contexts.items():
        if isinstance(source, str):
            contexts[name] = source if "://" in source else _local_path(ctx.pipeline.folder, source)
        else:
            contexts[name] = ctx.pinned_source(source.image)
    # A Dockerfile naming another image's tag is pinned to that build's digest too.
    for edge in ctx.graph.edges_into(image.name):
        if edge.ref is not None:
            contexts.setdefault(edge.ref, ctx.pinned_source(edge.source))
    return tuple(contexts.items())


def _outputs(ctx: _Context, image: ResolvedImage) -> dict[str, Any]:
    """Tags and outputs: nothing is published under a tag until the whole run succeeded."""
    if ctx.backend.local_store:
        # Stored locally; tags are pushed from the local store at the end of the run.
        run_tag = ctx.run_tag(image.name)
        tags = (*image.spec.tags, *((run_tag,) if run_tag else ()))
        return {"tags": tags, "load": bool(tags)}
    if ctx.published(image.name) and image.spec.tags:
        repos = tuple(dict.fromkeys(repository_of(t) for t in image.spec.tags))
        return {"tags": repos, "push": True, "push_by_digest": True}
    if ctx.sub.out_degree(image.name):
        return {"outputs": (f"type=oci,dest={RUN_DIR}/{image.name}.oci,tar=false",)}
    return {"tags": tuple(image.spec.tags)}


def image_cache(ctx: _Context, image: ResolvedImage) -> ImageCache:
    if image.cache is None or ctx.options.cache is None:
        return ImageCache()
    return plan_cache(image.cache, ctx.pipeline.model.name, image.name, tuple(image.spec.tags),
                      os.path.relpath(ctx.pipeline.folder), ctx.options.cache)


def make_request(ctx: _Context, image: ResolvedImage, cache: ImageCache) -> BuildRequest:
    p, spec = ctx.pipeline, image.spec
    builder = ctx.options.builder or next(
        (b.address for b in p.model.builders if b.name == spec.builder), None)
    return BuildRequest(
        name=image.name,
        context=os.path.relpath(image.context_dir),
        dockerfile=image.dockerfile_display,
        target=spec.target,
        args=tuple(spec.args.items()),
        named_contexts=_named_contexts(ctx, image),
        secrets=tuple(
            SecretRef(s.id, src=_local_path(p.folder, s.src) if s.src else None, env=s.env)
            for s in spec.secrets if (image.name, s.id) not in ctx.options.omit_secrets
        ),
        ssh=tuple(SshRef(s.id, tuple(_local_path(p.folder, x) for x in s.paths))
                  for s in spec.ssh),
        platforms=tuple(spec.platforms),
        labels=tuple(spec.labels.items()),
        cache_from=cache.imports,
        cache_to=cache.exports,
        network=spec.network,
        no_cache=spec.no_cache,
        metadata_file=f"{RUN_DIR}/{image.name}.metadata.json",
        builder=builder,
        **_outputs(ctx, image),
    )


def make_plan(
    p: LoadedPipeline, graph: BuildGraph, names: Sequence[str],
    options: PlanOptions | None = None,
) -> Plan:
    options = options or PlanOptions()
    selection = expand_selection(names, p.images, p.model.groups)
    sub = with_dependencies(graph, selection)
    estimates = estimates_for(p.images, sub.nodes, options.history)
    order = build_order(sub, estimates)
    remaining = remaining_path(sub, estimates)
    path, seconds = critical_path(sub, estimates)
    ctx = _Context(p, graph, sub, get_backend(options.backend), options)
    planned = tuple(_planned(ctx, name, estimates, remaining) for name in order)
    edges = tuple(e for e in graph.edges if e.source in sub and e.target in sub)
    return Plan(p.model.name, p.display, options.backend, tuple(selection), planned, edges,
                tuple(path), seconds)


def _planned(
    ctx: _Context, name: str, estimates: Mapping[str, float], remaining: Mapping[str, float],
) -> PlannedImage:
    image = ctx.pipeline.images[name]
    cache = image_cache(ctx, image)
    request = make_request(ctx, image, cache)
    stages = tuple(s.name or str(s.index) for s in image.info.needed_stages(image.spec.target))
    publish = tuple(image.spec.tags) if ctx.published(name) else ()
    return PlannedImage(name, request, tuple(ctx.backend.build_argv(request)),
                        tuple(sorted(ctx.sub.predecessors(name))), stages, estimates[name],
                        remaining[name], publish, cache)


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "pipeline": plan.pipeline,
        "file": plan.file,
        "backend": plan.backend,
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
                "argv": redact_argv(i.argv),
                "publish": list(i.publish),
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

    lines = [f"pipeline {plan.pipeline} ({plan.file}): {len(plan.images)} images",
             f"critical path: {' -> '.join(plan.critical_path)} (~{plan.critical_seconds:.0f}s)",
             ""]
    for step, image in enumerate(plan.images, 1):
        after = f" after {', '.join(image.depends_on)}" if image.depends_on else ""
        lines.append(f"{step:>3}. {image.name}{after}")
        lines.append(f"     {render_argv(redact_argv(image.argv))}")
    return "\n".join(lines)
