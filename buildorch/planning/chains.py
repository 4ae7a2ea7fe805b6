"""Chains of builds that one builder session can run back to back (pure).

A link b joins a's chain when b's only dependency in the run is a, and b reaches a through
a named context: b cannot start before a is done anyway, so running it in a's session (a
`docker buildx bake` file whose context `target:a` hands a's result over) loses nothing
and saves a builder process, a dependency check and a store round trip per link (issue 13).
An image with several such dependents continues its chain with the one on the longest
remaining path; the others head chains of their own. A dependency reached only through
`depends_on` is an order, not an input: bake would not wait for it, so it never links.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

import networkx as nx

from buildorch.planning.plan import PlannedImage
from buildorch.planning.requests import LOCAL_NAMESPACE

IMAGE_CONTEXT = "docker-image://"


def run_tag_of(image: PlannedImage) -> str | None:
    """The run-scoped local name (with its `{run_id}` placeholder) dependents reach it by."""
    return next((t for t in image.request.tags if t.startswith(LOCAL_NAMESPACE + "/")), None)


def linked_contexts(image: PlannedImage, images: Mapping[str, PlannedImage]
                    ) -> dict[str, str]:
    """Named-context key -> the dependency it names by that dependency's run-scoped name."""
    names = {f"{IMAGE_CONTEXT}{tag}": dep for dep in image.depends_on
             if dep in images and (tag := run_tag_of(images[dep])) is not None}
    return {key: names[value] for key, value in image.request.named_contexts
            if value in names}


def find_chains(graph: nx.DiGraph, images: Mapping[str, PlannedImage],
                chainable: Collection[str], priority: Mapping[str, float]
                ) -> tuple[tuple[str, ...], ...]:
    """The chains of two or more images of `graph` (the builds of this run), heads first.
    `chainable`: the images a bake file can carry; `priority`: the longest remaining path."""
    successor: dict[str, str] = {}
    for head in sorted(graph, key=lambda n: (-priority.get(n, 0.0), n)):
        links = [b for b in graph.successors(head) if _links(graph, images, chainable, head, b)]
        if links:
            successor[head] = max(links, key=lambda n: (priority.get(n, 0.0), n))
    followed = set(successor.values())
    return tuple(_walk(head, successor) for head in sorted(successor) if head not in followed)


def _links(graph: nx.DiGraph, images: Mapping[str, PlannedImage], chainable: Collection[str],
           a: str, b: str) -> bool:
    if a not in chainable or b not in chainable or list(graph.predecessors(b)) != [a]:
        return False
    if images[a].request.builder != images[b].request.builder:
        return False
    return a in linked_contexts(images[b], images).values()


def _walk(head: str, successor: Mapping[str, str]) -> tuple[str, ...]:
    chain = [head]
    while chain[-1] in successor:
        chain.append(successor[chain[-1]])
    return tuple(chain)


def chain_members(chains: Iterable[tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Each member -> the rest of its chain from it (itself first), for a scheduler that
    starts a chain wherever an earlier attempt left it."""
    return {chain[i]: chain[i:] for chain in chains for i in range(len(chain))}
