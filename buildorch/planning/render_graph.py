"""Draw a plan's graph as Graphviz dot, Mermaid or indented text (pure).

With `stages`, each image is a box of the Dockerfile stages its build runs, with the
edges between those stages; an edge between images goes from the dependency's target
stage to the stage of the dependent that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

from buildorch.dockerfiles.per_platform import PlatformAnalyses
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.planning.graph import Edge
from buildorch.planning.plan import Plan


@dataclass(frozen=True)
class _Node:
    id: str
    label: str


@dataclass(frozen=True)
class _Drawing:
    clusters: tuple[tuple[_Node, tuple[_Node, ...]], ...]  # image, its stage nodes
    edges: tuple[tuple[str, str, str], ...]  # from id, to id, label


def _stage_id(image_index: int, stage_index: int) -> str:
    return f"i{image_index}s{stage_index}"


def _drawing(p: LoadedPipeline, plan: Plan, stages: bool) -> _Drawing:
    index = {name: i for i, name in enumerate(plan.order)}
    clusters = []
    edges: list[tuple[str, str, str]] = []
    for name, i in index.items():
        image = p.images[name]
        nodes: tuple[_Node, ...] = ()
        if stages and image.info is not None:
            needed = image.info.needed_stages(image.spec.target)
            nodes = tuple(_Node(_stage_id(i, s.index), s.display_name) for s in needed)
            keep = {s.index for s in needed}
            edges += [(_stage_id(i, a), _stage_id(i, b), kind)
                      for a, b, kind, _ in image.info.stage_edges() if a in keep and b in keep]
        clusters.append((_Node(f"i{i}", name), nodes))
    for edge in plan.edges:
        source = _end_of(p, index, edge.source, stages)
        edges += [(source, target, edge.kind) for target in _starts_of(p, index, edge, stages)]
    return _Drawing(tuple(clusters), tuple(edges))


def _end_of(p: LoadedPipeline, index: dict[str, int], name: str, stages: bool) -> str:
    image = p.images[name]
    if not stages or image.info is None:
        return f"i{index[name]}"
    return _stage_id(index[name], image.info.target_stage(image.spec.target).index)


def _starts_of(p: LoadedPipeline, index: dict[str, int], edge: Edge, stages: bool) -> list[str]:
    i = index[edge.target]
    image = p.images[edge.target]
    if not stages or image.info is None:
        return [f"i{i}"]
    return [_stage_id(i, s) for s in _using_stages(image.info, image.spec.target, edge)]


def _using_stages(info: PlatformAnalyses, target: str | None, edge: Edge) -> list[int]:
    """The stages of `image` that use the dependency of `edge` (its first stage if none)."""
    context = edge.field.rsplit(".", 1)[-1] if edge.kind == "context" and edge.field else None
    using = sorted({ref.stage for ref in info.external_references(target)
                    if (edge.ref is not None and ref.line == edge.line) or ref.ref == context})
    return using or [info.needed_stages(target)[0].index]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(p: LoadedPipeline, plan: Plan, stages: bool = False) -> str:
    drawing = _drawing(p, plan, stages)
    lines = [f"digraph {_quote(plan.pipeline)} {{", "  rankdir=LR;", "  node [shape=box];"]
    for image, nodes in drawing.clusters:
        if nodes:
            lines.append(f"  subgraph cluster_{image.id} {{ label={_quote(image.label)};")
            lines += [f"    {n.id} [label={_quote(n.label)}];" for n in nodes]
            lines.append("  }")
        else:
            lines.append(f"  {image.id} [label={_quote(image.label)}];")
    lines += [f"  {a} -> {b} [label={_quote(kind)}];" for a, b, kind in drawing.edges]
    lines.append("}")
    return "\n".join(lines)


def to_mermaid(p: LoadedPipeline, plan: Plan, stages: bool = False) -> str:
    drawing = _drawing(p, plan, stages)
    lines = ["flowchart LR"]
    for image, nodes in drawing.clusters:
        if nodes:
            lines.append(f"  subgraph {image.id}[{_quote(image.label)}]")
            lines += [f"    {n.id}[{_quote(n.label)}]" for n in nodes]
            lines.append("  end")
        else:
            lines.append(f"  {image.id}[{_quote(image.label)}]")
    lines += [f"  {a} -->|{kind}| {b}" for a, b, kind in drawing.edges]
    return "\n".join(lines)


def to_text(p: LoadedPipeline, plan: Plan, stages: bool = False) -> str:
    lines: list[str] = []
    for planned in plan.images:
        after = f"  <- {', '.join(planned.depends_on)}" if planned.depends_on else ""
        lines.append(f"{planned.name}{after}")
        image = p.images[planned.name]
        info = image.info
        if stages and info is not None:
            for stage in info.needed_stages(image.spec.target):
                uses = sorted({info.stages[a].display_name for a, b, _, _ in info.stage_edges()
                               if b == stage.index})
                suffix = f"  <- {', '.join(uses)}" if uses else ""
                lines.append(f"  {stage.display_name} (FROM {stage.base}){suffix}")
    return "\n".join(lines)

