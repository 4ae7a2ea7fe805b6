"""The one warning about reproducible images a builder cannot rewrite the timestamps of:
those it keeps (loads or pushes) in the selection and what it depends on."""

from __future__ import annotations

import pytest

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


def test_docker_driver_names_the_images_it_keeps(make_project: MakeProject) -> None:
    """base is kept under a run-scoped name for app; check and files keep no image (files'
    OCI tarball is rewritten on every builder); plain does not ask."""
    found = warning(make_project, [], "docker")
    assert found is not None and "\n" not in found
    assert found.startswith("reproducible: backend docker cannot rewrite the timestamps of "
                            "2 images (app, base), built with SOURCE_DATE_EPOCH only: the "
                            "docker driver")
    assert "moby/buildkit#4230" in found
    # alone, base has no tag and nobody built on it: nothing kept
    assert warning(make_project, ["base", "plain"], "docker") is None
    # the builder named `default` is the docker driver too
    assert "2 images (app, base)" in (warning(make_project, ["app"], "docker", "default") or "")


@pytest.mark.parametrize(("backend", "builder"), [
    ("docker", "ci-builder"), ("buildctl", None), ("nerdctl", None), ("finch", None)])
def test_builders_that_can_rewrite_give_no_warning(
        make_project: MakeProject, backend: str, builder: str | None) -> None:
    assert warning(make_project, ["app", "check", "plain"], backend, builder) is None


def test_nothing_kept_nothing_to_warn_of(make_project: MakeProject) -> None:
    assert warning(make_project, ["files", "plain"], "docker") is None
