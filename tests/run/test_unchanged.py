"""`--skip-unchanged` decisions: what `image inspect` prints, the files an output wrote, and
(on the stack's registry) an image pushed by digest, as buildctl leaves it."""

from __future__ import annotations

import os

import pytest

from buildorch.backends.catalog import get_backend
from buildorch.oci.reference import ImageRef
from buildorch.oci.registry import RegistryClient
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.graph import build_graph
from buildorch.planning.input_sources import SourceReader
from buildorch.planning.plan import make_plan
from buildorch.planning.requests import PlanOptions
from buildorch.run.earlier_builds import BuildIndex, EarlierBuild
from buildorch.run.state import RunState
from buildorch.run.unchanged import _parse_inspect, find_unchanged, output_files
from tests.conftest import MakeProject

REGISTRY = os.environ.get("BUILDORCH_REGISTRY", "localhost:5000")


def test_inspect_output_gives_each_found_image_and_its_tags() -> None:
    out = ('{"Id":"sha256:a","RepoTags":["r/a:1","r/a:2"],"Size":3}\n'
           'Error: No such image: sha256:b\n{"Id":"sha256:c","RepoTags":null}\nnot json\n')
    assert _parse_inspect(out) == {"sha256:a": ["r/a:1", "r/a:2"], "sha256:c": []}


def state_for(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch, backend: str,
              image_yaml: str) -> RunState:
    path = make_project(f"version: 1\nname: p\nimages:\n  app:\n{image_yaml}", contexts=("app",))
    monkeypatch.chdir(path.parent)
    pipeline = load_pipeline(path, LoadOptions(env={}))
    sources = SourceReader(pipeline, path.parent).read(pipeline.images)
    plan = make_plan(pipeline, build_graph(pipeline), [],
                     PlanOptions(backend=backend, sources=sources))
    return RunState("run2", path.parent, path.parent / ".buildorch/runs/run2", plan, ())


def index_with(build: EarlierBuild) -> BuildIndex:
    index = BuildIndex()
    index.add("p", [build])
    return index


def test_an_output_file_that_is_gone_means_building_again(
        make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    state = state_for(make_project, monkeypatch, "buildctl",
                      '    context: app\n    outputs: ["type=tar,dest=out/app.tar"]\n')
    image = state.plan.images[0]
    files = output_files(image, "run1")
    assert files == ("out/app.tar",)
    earlier = EarlierBuild("app", "run1", image.input_digest or "", None, None, files)
    reuse = find_unchanged(state, get_backend("buildctl"), index_with(earlier))
    assert reuse.rebuilt == {"app": "built again: out/app.tar, written by run run1, no "
                                    "longer exists"}
    (state.root / "out").mkdir()
    (state.root / "out/app.tar").write_bytes(b"tar")
    reuse = find_unchanged(state, get_backend("buildctl"), index_with(earlier))
    assert reuse.unchanged == {"app": earlier} and reuse.rebuilt == {}


def test_a_changed_input_finds_no_earlier_build(make_project: MakeProject,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    state = state_for(make_project, monkeypatch, "buildctl", "    context: app\n")
    earlier = EarlierBuild("app", "run1", "sha256:other-inputs", None)
    reuse = find_unchanged(state, get_backend("buildctl"), index_with(earlier))
    assert reuse.unchanged == {} and reuse.rebuilt == {}


@pytest.mark.engine
def test_an_image_pushed_by_digest_is_looked_up_in_the_registry(
        engine: str, make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    base = ImageRef.parse(os.environ.get("BUILDORCH_BASE_IMAGE", f"{REGISTRY}/busybox:latest"))
    manifest = RegistryClient(base.host).manifest(base.repository, base.tag or "latest")
    assert manifest is not None and manifest.digest.startswith("sha256:")
    repository = f"{base.host}/{base.repository}"
    state = state_for(make_project, monkeypatch, "buildctl",
                      f"    context: app\n    push: true\n    tags: [{repository}:x]\n")
    image = state.plan.images[0]
    assert image.request.push_by_digest
    there = EarlierBuild("app", "run1", image.input_digest or "", manifest.digest, repository)
    reuse = find_unchanged(state, get_backend("buildctl"), index_with(there))
    assert reuse.unchanged == {"app": there}
    gone = EarlierBuild("app", "run1", image.input_digest or "", "sha256:" + "0" * 64,
                        repository)
    reuse = find_unchanged(state, get_backend("buildctl"), index_with(gone))
    assert reuse.unchanged == {}
    assert "is not in the registry" in reuse.rebuilt["app"]
    never_kept = EarlierBuild("app", "run1", image.input_digest or "", manifest.digest, None)
    reuse = find_unchanged(state, get_backend("buildctl"), index_with(never_kept))
    assert "neither loaded nor pushed" in reuse.rebuilt["app"]
