"""The hints about a pipeline that loads and plans: near misses and unkept results."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.graph import BuildGraph, build_graph
from buildorch.planning.hints import near_miss_hints, unkept_hints, unkept_results
from tests.conftest import MakeProject

TAG = "localhost:5000/jupyter/base-notebook:2024"


def loaded(path: Path) -> tuple[LoadedPipeline, BuildGraph]:
    pipeline = load_pipeline(path, LoadOptions(env={}))
    return pipeline, build_graph(pipeline)


def test_a_near_miss_names_the_reference_and_the_image_at_both_places(
        make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_project(
        f"version: 1\nname: p\nimages:\n  base: {{context: base, tags: ['{TAG}']}}\n"
        "  minimal: {context: minimal, tags: ['localhost:5000/jupyter/minimal:2024']}\n",
        files={"minimal/Dockerfile": "ARG OWNER=jupyter\nFROM localhost:5000/busybox:latest\n"
                                     "FROM $OWNER/base-notebook:latest\n"},
        contexts=("base",))
    monkeypatch.chdir(path.parent)  # Dockerfiles are shown relative to here
    [hint] = near_miss_hints(*loaded(path), ["base", "minimal"])
    assert hint.render() == (
        f"{path}:5: images.minimal: minimal/Dockerfile:3: FROM jupyter/base-notebook:latest "
        f"nearly names pipeline image 'base' (tagged {TAG}): no dependency; use its tag, or "
        "depends_on plus a named context")
    assert near_miss_hints(*loaded(path), ["base"]) == []  # minimal is not selected


def test_one_hint_per_image_lists_each_reference_and_every_image_nearly_named(
        make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_project(
        f"version: 1\nname: p\nimages:\n  base: {{context: base, tags: ['{TAG}']}}\n"
        "  tools: {context: base, tags: ['localhost:5000/p/tools:1']}\n"
        "  tools2: {context: base, tags: ['localhost:5000/p/tools:2']}\n"
        "  app: {context: app, tags: ['localhost:5000/p/app:1']}\n",
        files={"app/Dockerfile": f"FROM {TAG.replace(':2024', ':2023')}\n"
                                 "RUN --mount=type=bind,from=p/tools,target=/t true\n"},
        contexts=("base",))
    monkeypatch.chdir(path.parent)
    pipeline, graph = loaded(path)
    [hint] = near_miss_hints(pipeline, graph, pipeline.images)
    assert hint.message == (
        f"app/Dockerfile:1: FROM localhost:5000/jupyter/base-notebook:2023 nearly names "
        f"pipeline image 'base' (tagged {TAG}); line 2: RUN --mount=...,from=p/tools nearly "
        "names pipeline image 'tools' (tagged localhost:5000/p/tools:1) or 'tools2' (tagged "
        "localhost:5000/p/tools:2): no dependency; use its tag, or depends_on plus a named "
        "context")
    assert (hint.line, hint.field) == (7, "images.app")


UNKEPT = """\
version: 1
name: p
images:
  base: {context: base}
  app: {context: base, depends_on: [base]}
  test: {context: base}
  tagged: {context: base, tags: [localhost:5000/p/tagged:1]}
  files: {context: base, outputs: ["type=local,dest=out/"]}
  check: {context: base, outputs: [type=cacheonly]}
"""


@pytest.mark.parametrize(("names", "unkept"), [
    (["base", "app", "test", "tagged", "files", "check"], ["app", "test"]),
    (["base", "test"], ["base", "test"]),  # app, built on base, is not in the selection
])
def test_a_result_with_no_tag_no_output_and_no_dependent_is_not_kept(
        make_project: MakeProject, names: list[str], unkept: list[str]) -> None:
    path = make_project(UNKEPT, contexts=("base",))
    assert unkept_results(*loaded(path), names) == unkept


def test_an_unkept_result_says_how_to_keep_it_or_that_only_the_build_matters(
        make_project: MakeProject) -> None:
    path = make_project(UNKEPT, contexts=("base",))
    [hint] = unkept_hints(*loaded(path), ["test"])
    assert hint.render() == (
        f"{path}:6: images.test: its result is not kept: it has no tags and no outputs, and no "
        "image of the selection is built on it; add tags, an output, or `outputs: "
        "[type=cacheonly]` if only the build matters")
