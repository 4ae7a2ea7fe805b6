"""The one warning about reproducible images a builder cannot rewrite the timestamps of:
those it keeps (loads or pushes) in the selection and what it depends on."""

from __future__ import annotations

import pytest

from buildorch.backends.docker import DockerBackend
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.graph import build_graph
from buildorch.planning.requests import PlanOptions
from buildorch.planning.timestamps import timestamp_warning
from tests.conftest import MakeProject

PIPELINE = """\
version: 1
name: p
reproducible: true
images:
  base: {context: a}
  app: {context: a, depends_on: [base], tags: [r/app:1]}
  check: {context: a, depends_on: [app], outputs: [type=cacheonly]}
  files: {context: a, outputs: ["type=oci,dest=out.tar"]}
  plain: {context: a, tags: [r/plain:1], reproducible: false}
"""


def warning(make_project: MakeProject, names: list[str], backend: str,
            builder: str | None = None) -> str | None:
    pipeline = load_pipeline(make_project(PIPELINE, contexts=("a",)),
                             LoadOptions(env={}, state_root=None))
    return timestamp_warning(pipeline, build_graph(pipeline), names,
                             PlanOptions(backend=backend, builder=builder))


def test_names_the_images_kept_where_a_builder_cannot(
        make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """base is kept under a run-scoped name for app; check and files keep no image (files'
    OCI tarball is rewritten on every builder); plain does not ask. No backend's address tells
    of such a builder today (the docker backend loads a tarball: test_docker.py), so one is
    made up: an address the docker backend would call old."""
    def problem(_self: DockerBackend, address: str | None) -> str | None:
        return "BuildKit 0.12 has no rewrite-timestamp" if address == "old" else None

    monkeypatch.setattr(DockerBackend, "rewrite_timestamp_problem", problem)
    found = warning(make_project, [], "docker", "old")
    assert found is not None and "\n" not in found
    assert found == ("reproducible: backend docker cannot rewrite the timestamps of 2 images "
                     "(app, base), built with SOURCE_DATE_EPOCH only: BuildKit 0.12 has no "
                     "rewrite-timestamp")
    # alone, base has no tag and nobody built on it: nothing kept
    assert warning(make_project, ["base", "plain"], "docker", "old") is None
    assert warning(make_project, [], "docker", "new") is None


@pytest.mark.parametrize(("backend", "builder"), [
    ("docker", None), ("docker", "default"), ("docker", "unix:///run/docker.sock"),
    ("docker", "ci-builder"), ("buildctl", None), ("nerdctl", None), ("finch", None)])
def test_builders_that_can_rewrite_give_no_warning(
        make_project: MakeProject, backend: str, builder: str | None) -> None:
    assert warning(make_project, ["app", "check", "plain"], backend, builder) is None


def test_nothing_kept_nothing_to_warn_of(make_project: MakeProject) -> None:
    assert warning(make_project, ["files", "plain"], "docker") is None
