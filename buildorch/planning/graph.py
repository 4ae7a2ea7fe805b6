"""The dependency graph of a pipeline's images, selection and critical path.

Edges point from a dependency to the image built on it. They come from `depends_on`,
from named contexts `{image: X}`, and from a Dockerfile that names another image's tag
in `FROM`, `COPY --from=` or `RUN --mount=...,from=`. A Dockerfile reference to a pipeline
image's repository under another tag or registry is no edge but a `NearMiss`, which the
commands warn about.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, KeysView, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from graphlib import CycleError, TopologicalSorter

from buildorch.errors import ConfigError
from buildorch.oci.reference import ImageRef, context_key
from buildorch.pipeline.loaded import LoadedPipeline, ResolvedImage
from buildorch.pipeline.references import unknown
from buildorch.pipeline.yaml_source import dotted

# Without a duration from an earlier run, every image counts the same.
DEFAULT_ESTIMATE_SECONDS = 30.0


@dataclass(frozen=True)
class Edge:
    source: str  # the dependency
    target: str  # the image built on it
    kind: str  # depends_on | context | from | copy | mount
    file: str
    line: int | None
    field: str | None  # pipeline field, or None for a Dockerfile line
    ref: str | None = None  # for a Dockerfile edge: the image reference as written


@dataclass(frozen=True)
class NearMiss:
    """A Dockerfile reference to a pipeline image's repository (the path after the registry
    host) that names none of that image's tags: another tag (`base:latest` for a pipeline tag
    `base:2024`), or no registry where the tag has one (or the other way round). It is no
    edge: the build uses whatever the registry holds, not this run's build."""

    image: str  # the image whose Dockerfile has the reference
    kind: str  # from | copy | mount
    ref: str  # the image reference as BuildKit reads it (ARGs expanded)
    file: str  # the Dockerfile, as shown
    line: int
    nearly: tuple[tuple[str, str], ...]  # (pipeline image, its tag) it nearly names

    def instruction(self) -> str:
        """The reference as the Dockerfile writes it: `FROM x`, `COPY --from=x`."""
        return {"from": f"FROM {self.ref}", "copy": f"COPY --from={self.ref}"}.get(
            self.kind, f"RUN --mount=...,from={self.ref}")


class Dag:
    """Image names, and edges from a dependency to the images built on it.

    The part of networkx's DiGraph that planning uses, kept in plain dicts (in insertion
    order, as networkx does) that graphlib sorts: importing networkx would be most of the
    start-up of `validate`, `plan`, `graph` and `build` (0.1-0.2 s; 0.08 s of a fully cached
    12-image build's 1 s). Only a cycle's explanation uses networkx.
    """

    def __init__(self, nodes: Iterable[str] = (),
                 edges: Iterable[tuple[str, str]] = ()) -> None:
        self._pred: dict[str, dict[str, None]] = {}
        self._succ: dict[str, dict[str, None]] = {}
        for node in nodes:
            self.add_node(node)
        for source, target in edges:
            self.add_edge(source, target)

    def add_node(self, node: str) -> None:
        self._pred.setdefault(node, {})
        self._succ.setdefault(node, {})

    def add_edge(self, source: str, target: str) -> None:
        self.add_node(source)
        self.add_node(target)
        self._succ[source][target] = None
        self._pred[target][source] = None

    @property
    def nodes(self) -> KeysView[str]:
        return self._pred.keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self._pred)

    def __contains__(self, node: object) -> bool:
        return node in self._pred

    def predecessors(self, node: str) -> Iterator[str]:
        return iter(self._pred[node])

    def successors(self, node: str) -> Iterator[str]:
        return iter(self._succ[node])

    def descendants(self, node: str) -> set[str]:
        """Every node reachable from `node` (networkx's `descendants`)."""
        return _reachable(node, self._succ)

    def ancestors(self, node: str) -> set[str]:
        """Every node `node` is reachable from (networkx's `ancestors`)."""
        return _reachable(node, self._pred)

    def out_degree(self, node: str) -> int:
        return len(self._succ[node])

    def number_of_edges(self) -> int:
        return sum(len(targets) for targets in self._succ.values())

    def subgraph(self, keep: Iterable[str]) -> Dag:
        """The nodes in `keep` and the edges between them, in this graph's order."""
        kept = set(keep)
        nodes = [n for n in self._pred if n in kept]
        return Dag(nodes, ((n, s) for n in nodes for s in self._succ[n] if s in kept))

    def sorter(self) -> TopologicalSorter[str]:
        """graphlib's sorter of this graph (each node with its predecessors)."""
        return TopologicalSorter(self._pred)


def _reachable(node: str, links: dict[str, dict[str, None]]) -> set[str]:
    seen: set[str] = set()
    todo = [node]
    while todo:
        for other in links[todo.pop()]:
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


@dataclass(frozen=True)
class BuildGraph:
    graph: Dag  # nodes: image names
    edges: tuple[Edge, ...]
    near_misses: tuple[NearMiss, ...] = ()

    def edges_into(self, name: str) -> list[Edge]:
        """The edges into `name` in the order of `edges`, grouped by their source."""
        return [e for edges in self._edges_by_target.get(name, {}).values() for e in edges]

    @cached_property
    def _edges_by_target(self) -> dict[str, dict[str, list[Edge]]]:
        found: dict[str, dict[str, list[Edge]]] = {}
        for edge in self.edges:
            found.setdefault(edge.target, {}).setdefault(edge.source, []).append(edge)
        return found

    def near_misses_of(self, name: str) -> tuple[NearMiss, ...]:
        return self._near_misses_by_image.get(name, ())

    @cached_property
    def _near_misses_by_image(self) -> dict[str, tuple[NearMiss, ...]]:
        found: dict[str, list[NearMiss]] = {}
        for miss in self.near_misses:
            found.setdefault(miss.image, []).append(miss)
        return {name: tuple(misses) for name, misses in found.items()}


def build_graph(p: LoadedPipeline) -> BuildGraph:
    implicit, near_misses = _dockerfile_references(p.images)
    edges = [*_explicit_edges(p), *implicit]
    graph = Dag(p.images, ((edge.source, edge.target) for edge in edges))
    _check_acyclic(graph, edges)
    return BuildGraph(graph, tuple(edges), tuple(near_misses))


def _explicit_edges(p: LoadedPipeline) -> Iterable[Edge]:
    # on each image's fields with `defaults` merged in: `defaults.depends_on` counts too
    for name, image in p.images.items():
        for i, dep in enumerate(image.spec.depends_on):
            path = p.field_path(name, "depends_on", i)
            yield Edge(dep, name, "depends_on", *p.where(path), dotted(path))
        for ctx_name, ctx in image.spec.contexts.items():
            if not isinstance(ctx, str):
                path = p.field_path(name, "contexts", ctx_name)
                yield Edge(ctx.image, name, "context", *p.where(path), dotted(path))


def _dockerfile_references(
    images: Mapping[str, ResolvedImage],
) -> tuple[list[Edge], list[NearMiss]]:
    """The implicit edges, and the references that nearly name a pipeline image."""
    # A reference names a pipeline image when it names one of its tags; a digest it
    # also pins is replaced by this run's build, like the tag.
    owners: dict[str, str] = {}
    by_path: dict[str, list[tuple[str, str]]] = {}  # repository path -> (image, tag)
    for name, img in images.items():
        for tag in img.spec.tags:
            parsed = ImageRef.parse(tag)
            owners[parsed.tagged_name()] = name
            by_path.setdefault(parsed.familiar_path(), []).append((name, tag))
    edges: list[Edge] = []
    misses: list[NearMiss] = []
    for name, image in images.items():
        if image.info is None:
            continue  # a Dockerfile in a remote context: only the builder reads it
        named_contexts = {context_key(key) for key in image.spec.contexts}
        # A named context called like a stage replaces that stage: BuildKit never
        # resolves its FROM (dockerfile2llb/convert.go, namedContext(st.Name)).
        replaced = {s.index for s in image.info.stages
                    if s.name is not None and context_key(s.name) in named_contexts}
        for ref in image.info.external_references(image.spec.target):
            if context_key(ref.ref) in named_contexts:
                continue  # a named context replaces the image; its edge is explicit
            if ref.kind == "from" and ref.stage in replaced:
                continue
            parsed = ImageRef.parse(ref.ref)
            owner = owners.get(parsed.tagged_name())
            if owner is not None:
                if owner != name:  # an image's own tag names what the registry holds
                    edges.append(Edge(owner, name, ref.kind, image.dockerfile_display,
                                      ref.line, None, ref.ref))
                continue
            nearly = _others(by_path.get(parsed.familiar_path(), ()), name)
            if nearly:
                misses.append(NearMiss(name, ref.kind, ref.ref, image.dockerfile_display,
                                       ref.line, nearly))
    return edges, misses


def _others(candidates: Iterable[tuple[str, str]], name: str) -> tuple[tuple[str, str], ...]:
    """One (image, tag) per pipeline image other than `name`, in pipeline order."""
    first: dict[str, str] = {}
    for image, tag in candidates:
        if image != name:
            first.setdefault(image, tag)
    return tuple(first.items())


def _check_acyclic(dag: Dag, edges: Sequence[Edge]) -> None:
    try:
        dag.sorter().prepare()  # fast; networkx's find_cycle only to explain a failure
    except CycleError:
        pass
    else:
        return
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(dag)
    for edge in edges:
        if graph.has_edge(edge.source, edge.target):
            graph.edges[edge.source, edge.target]["edges"].append(edge)
        else:
            graph.add_edge(edge.source, edge.target, edges=[edge])
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    # Edges point from a dependency to its dependent; people read "a depends on b".
    names = [cycle[0][0], *reversed([u for u, _ in cycle])]
    declared = [e for u, v in cycle for e in graph.edges[u, v]["edges"]]
    # Point at a line of the pipeline if the cycle has one; else at a Dockerfile line.
    first = next((e for e in declared if e.field), declared[0])
    chain = " -> ".join(names)
    raise ConfigError(f"dependency cycle: {chain} (each depends on the next)", file=first.file,
                      line=first.line, field=first.field)


def expand_selection(
    names: Sequence[str], images: Iterable[str], groups: Mapping[str, Sequence[str]]
) -> list[str]:
    """Images named directly or through (nested) groups; default group `default`, else all."""
    ordered = list(images)
    image_set = set(ordered)
    if not names:
        names = ["default"] if "default" in groups else ordered
    chosen: dict[str, None] = {}
    stack = list(reversed(names))
    seen_groups: set[str] = set()
    while stack:
        name = stack.pop()
        if name in groups:
            if name not in seen_groups:
                seen_groups.add(name)
                stack.extend(reversed(groups[name]))
        elif name in image_set:
            chosen[name] = None
        else:
            raise ConfigError(unknown("image or group", name, {*image_set, *groups}))
    return list(chosen)


def with_dependencies(graph: BuildGraph, selected: Iterable[str]) -> Dag:
    """The subgraph of the selection plus everything it depends on."""
    # One search from all selected images at once (nx.ancestors starts one per image).
    keep = set(selected)
    stack = list(keep)
    while stack:
        for dep in graph.graph.predecessors(stack.pop()):
            if dep not in keep:
                keep.add(dep)
                stack.append(dep)
    return graph.graph.subgraph(keep)


def remaining_path(sub: Dag, estimates: Mapping[str, float]) -> dict[str, float]:
    """For each node, the longest estimated time from its start to the end of the run."""
    longest: dict[str, float] = {}
    for node in reversed(list(sub.sorter().static_order())):
        after = max((longest[s] for s in sub.successors(node)), default=0.0)
        longest[node] = estimates[node] + after
    return longest


def critical_path(sub: Dag, estimates: Mapping[str, float]) -> tuple[list[str], float]:
    """The chain of images whose estimates add up to the longest: the run's lower bound."""
    longest = remaining_path(sub, estimates)
    if not longest:
        return [], 0.0
    node = max(longest, key=lambda n: (longest[n], n))
    path = [node]
    while successors := list(sub.successors(node)):
        node = max(successors, key=lambda n: (longest[n], n))
        path.append(node)
    return path, longest[path[0]]


def build_order(sub: Dag, estimates: Mapping[str, float]) -> list[str]:
    """A topological order that starts the longest remaining path first: of the images
    whose dependencies are all placed, the one with the longest remaining path (then the
    name) comes next, as networkx's lexicographical_topological_sort orders."""
    longest = remaining_path(sub, estimates)
    sorter = sub.sorter()
    sorter.prepare()
    ready = [(-longest[n], n) for n in sorter.get_ready()]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        node = heapq.heappop(ready)[1]
        order.append(node)
        sorter.done(node)
        for n in sorter.get_ready():
            heapq.heappush(ready, (-longest[n], n))
    return order


def estimates_for(
    images: Mapping[str, ResolvedImage], nodes: Iterable[str],
    history: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """An image's duration in an earlier run, else its `estimated_seconds`, else a default."""
    history = history or {}
    return {n: history.get(n) or images[n].spec.estimated_seconds or DEFAULT_ESTIMATE_SECONDS
            for n in nodes}
