"""Which builds one builder session runs back to back: links through a named context to
an image's only dependency, on the longest remaining path."""

from __future__ import annotations

import networkx as nx

from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.chains import chain_members, find_chains, linked_contexts
from buildorch.planning.graph import build_graph
from buildorch.planning.plan import Plan, make_plan
from buildorch.planning.requests import PlanOptions
from tests.conftest import MakeProject

FROM_DEP = "FROM dep\nRUN true\n"

PIPELINE = """\
version: 1
name: p
builders:
  - {name: elsewhere, backend: docker, address: "tcp://elsewhere:2376"}
images:
  a: {context: a}
  b: {context: b, contexts: {dep: {image: a}}}
  c: {context: c, contexts: {dep: {image: b}}, estimated_seconds: 50}
  side: {context: c, contexts: {dep: {image: a}}}
  after: {context: a, depends_on: [c]}
  two: {context: two, contexts: {dep: {image: c}, other: {image: side}}}
  tagged: {context: tagged, args: {REF: "reg/p/b:1"}}
  other-builder: {context: c, contexts: {dep: {image: a}}, builder: elsewhere}
"""


def plan(make_project: MakeProject) -> Plan:
    files = {f"{d}/Dockerfile": FROM_DEP for d in ("b", "c", "two")}
    files["a/Dockerfile"] = "FROM busybox\nRUN true\n"
    files["tagged/Dockerfile"] = "ARG REF\nFROM ${REF}\n"
    text = PIPELINE.replace("  b: {context: b,", "  b: {context: b, tags: [reg/p/b:1],")
    path = make_project(text, files)
    pipeline = load_pipeline(path, LoadOptions(env={}))
    return make_plan(pipeline, build_graph(pipeline), [], PlanOptions(backend="docker"))


def graph_of(p: Plan) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(p.order)
    g.add_edges_from((d, i.name) for i in p.images for d in i.depends_on)
    return g


def test_links_follow_named_contexts_to_an_only_dependency(make_project: MakeProject) -> None:
    p = plan(make_project)
    images = {i.name: i for i in p.images}
    assert linked_contexts(images["b"], images) == {"dep": "a"}
    assert linked_contexts(images["tagged"], images) == {"reg/p/b:1": "b"}  # FROM b's tag
    assert linked_contexts(images["after"], images) == {}  # depends_on: an order only
    chains = find_chains(graph_of(p), images, set(images),
                         {i.name: i.remaining for i in p.images})
    # a's longest remaining path goes through b and c; side, the tagged image and the
    # image on another builder head no chain of their own; `two` has two dependencies
    # and `after` only an order
    assert chains == (("a", "b", "c"),)
    assert chain_members(chains) == {"a": ("a", "b", "c"), "b": ("b", "c"), "c": ("c",)}


def test_only_chainable_images_link(make_project: MakeProject) -> None:
    p = plan(make_project)
    images = {i.name: i for i in p.images}
    priority = {i.name: i.remaining for i in p.images}
    assert find_chains(graph_of(p), images, set(images) - {"b"}, priority) == (
        ("a", "side"),)
    assert find_chains(graph_of(p), images, set(images) - {"c"}, priority) == (
        ("a", "b", "tagged"),)
    assert find_chains(graph_of(p), images, set(), priority) == ()


def test_a_dependency_outside_the_run_breaks_no_link(make_project: MakeProject) -> None:
    p = plan(make_project)
    images = {i.name: i for i in p.images}
    g = graph_of(p)
    g.remove_node("a")  # served by an earlier build: b's only dependency in the run is none
    chains = find_chains(g, images, set(images), {i.name: i.remaining for i in p.images})
    assert chains == (("b", "c"),)
