"""Builds one builder session runs back to back (pure): each image whose only dependency
feeds it through a named context gets that dependency's result in-session, in one
`docker buildx bake` where a `target:` context hands it over (issue 13). It cannot start
before its dependency is done anyway, and it saves a builder process, a dependency check
and a store round trip per link.

BuildKit keys a step's cache on how its base was reached: through a `target:` link, on the
dependency's build definition; through `docker-image://`, on the stored image. So a link
is a property of the pipeline, never of one run: the same images are always linked,
whatever the selection, the images an earlier build serves or the order of a run, and a
run builds a linked image in a session that first rebuilds (from cache) the images it is
linked after (run/chain_build). Which images link is decided on the whole pipeline's graph,
by structure alone: an image with several dependents that could link continues with the
one with the most images downstream of it (then the first in the pipeline file); the
others start sessions of their own and reach it through the image store.

A dependency reached only through `depends_on` is an order, not an input: bake would not
wait for it, so it never links.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING

from buildorch.planning.graph import BuildGraph
from buildorch.planning.requests import LOCAL_NAMESPACE

if TYPE_CHECKING:  # plan.py links its images with session_links
    from buildorch.planning.plan import PlannedImage

IMAGE_CONTEXT = "docker-image://"
ORDER_ONLY = "depends_on"


def session_links(graph: BuildGraph) -> dict[str, str]:
    """Image -> the image it may be linked after, for the whole pipeline."""
    dag = graph.graph
    order = {name: i for i, name in enumerate(dag.nodes)}  # the pipeline file's
    after: dict[str, str] = {}
    for head in dag.nodes:
        candidates = [b for b in dag.successors(head) if _linkable(graph, head, b)]
        if candidates:
            best = max(candidates, key=lambda b: (len(dag.descendants(b)), -order[b]))
            after[best] = head
    return after


def _linkable(graph: BuildGraph, a: str, b: str) -> bool:
    if list(graph.graph.predecessors(b)) != [a]:
        return False
    return any(e.source == a and e.kind != ORDER_ONLY for e in graph.edges_into(b))


def run_tags_of(image: PlannedImage) -> list[str]:
    """The run-scoped local names (with their `{run_id}` placeholder) dependents reach it by."""
    return [t for t in image.request.tags if t.startswith(LOCAL_NAMESPACE + "/")]


def run_tag_of(image: PlannedImage) -> str | None:
    return next(iter(run_tags_of(image)), None)


def linked_contexts(image: PlannedImage, images: Mapping[str, PlannedImage]
                    ) -> dict[str, str]:
    """Named-context key -> the dependency it names by that dependency's run-scoped name."""
    names = {f"{IMAGE_CONTEXT}{tag}": dep for dep in image.depends_on
             if dep in images and (tag := run_tag_of(images[dep])) is not None}
    return {key: names[value] for key, value in image.request.named_contexts
            if value in names}


def session_prefix(name: str, images: Mapping[str, PlannedImage]) -> tuple[str, ...]:
    """The images `name` is linked after, the first of its session first."""
    prefix: list[str] = []
    before = images[name].session_after
    while before is not None:
        prefix.insert(0, before)
        before = images[before].session_after
    return tuple(prefix)


def run_chains(built: Collection[str], images: Mapping[str, PlannedImage]
               ) -> tuple[tuple[str, ...], ...]:
    """The linked images among those a run builds, as chains of one session each: an
    image linked after one the run builds too follows it in its chain; one linked after
    an image the run does not build heads a chain (its session builds again, from cache,
    the images it is linked after)."""
    follower = {images[n].session_after: n for n in built
                if images[n].session_after in built}
    heads = [n for n in built if n not in follower.values()
             and (images[n].session_after is not None or n in follower)]
    chains = []
    for head in sorted(heads):
        chain = [head]
        while chain[-1] in follower:
            chain.append(follower[chain[-1]])
        chains.append(tuple(chain))
    return tuple(chains)


def chain_members(chains: Iterable[tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Each member -> the rest of its chain from it (itself first), for a scheduler that
    starts a chain wherever an earlier attempt left it."""
    return {chain[i]: chain[i:] for chain in chains for i in range(len(chain))}
