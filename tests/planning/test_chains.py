"""Which images get their dependency's result in one builder session: by the pipeline's
structure alone, the same whatever the selection or the images a run rebuilds, so that
BuildKit's cache keys of a linked image never change from run to run."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.chains import (
    chain_members,
    linked_contexts,
    run_chains,
    session_prefix,
)
from buildorch.planning.graph import build_graph
from buildorch.planning.plan import Plan, make_plan
from buildorch.planning.requests import PlanOptions
from tests.conftest import MakeProject

FROM_DEP = "FROM dep\nRUN true\n"

PIPELINE = """\
version: 1
name: p
builders:
  - {name: local, backend: docker}  # the first: where images that name none go
  - {name: elsewhere, backend: docker, address: "tcp://elsewhere:2376"}
images:
  a: {context: a}
  b: {context: b, tags: [reg/p/b:1], contexts: {dep: {image: a}}}
  c: {context: c, contexts: {dep: {image: b}}}
  side: {context: c, contexts: {dep: {image: a}}}
  after: {context: a, depends_on: [c]}
  two: {context: two, contexts: {dep: {image: c}, other: {image: side}}}
  tagged: {context: tagged, args: {REF: "reg/p/b:1"}}
  remote: {context: c, contexts: {dep: {image: side}}, builder: elsewhere}
  d: {context: c, contexts: {dep: {image: c}}}
"""


@pytest.fixture
def pipeline_file(make_project: MakeProject) -> Path:
    files = {f"{d}/Dockerfile": FROM_DEP for d in ("b", "c", "two")}
    files["a/Dockerfile"] = "FROM busybox\nRUN true\n"
    files["tagged/Dockerfile"] = "ARG REF\nFROM ${REF}\n"
    return make_project(PIPELINE, files)


def plan(path: Path, names: list[str] | None = None, **options: object) -> Plan:
    pipeline = load_pipeline(path, LoadOptions(env={}))
    return make_plan(pipeline, build_graph(pipeline), names or [],
                     PlanOptions(**{"backend": "docker", **options}))  # type: ignore[arg-type]


def links(p: Plan) -> dict[str, str]:
    return {i.name: i.session_after for i in p.images if i.session_after is not None}


def test_an_only_dependency_through_a_named_context_links(pipeline_file: Path) -> None:
    p = plan(pipeline_file)
    # a continues with b (most images downstream), b with c (FROM b's tag in `tagged` is a
    # link too, with fewer images after it), c with d (`after` only waits for c; `two` has
    # two dependencies); `remote` would link after side but another builder builds it
    assert links(p) == {"b": "a", "c": "b", "d": "c"}
    images = {i.name: i for i in p.images}
    assert linked_contexts(images["b"], images) == {"dep": "a"}
    assert linked_contexts(images["tagged"], images) == {"reg/p/b:1": "b"}
    assert linked_contexts(images["after"], images) == {}
    assert session_prefix("d", images) == ("a", "b", "c")


def test_links_are_the_same_whatever_the_selection(pipeline_file: Path) -> None:
    assert links(plan(pipeline_file, ["c"])) == {"b": "a", "c": "b"}
    assert links(plan(pipeline_file, ["tagged"])) == {"b": "a"}  # c is not in it: no link


def test_no_links_without_a_backend_that_bakes_or_when_asked(pipeline_file: Path) -> None:
    assert links(plan(pipeline_file, backend="nerdctl")) == {}
    assert links(plan(pipeline_file, chains=False)) == {}


def test_a_run_chains_what_it_builds_and_heads_a_chain_after_what_it_does_not(
        pipeline_file: Path) -> None:
    images = {i.name: i for i in plan(pipeline_file).images}
    assert run_chains(list(images), images) == (("a", "b", "c", "d"),)
    # a served by an earlier build: b heads the chain (its session builds a again)
    assert run_chains([n for n in images if n != "a"], images) == (("b", "c", "d"),)
    # c alone: still built in a session, after a and b
    assert run_chains(["c", "side"], images) == (("c",),)
    assert chain_members(run_chains(list(images), images))["c"] == ("c", "d")
