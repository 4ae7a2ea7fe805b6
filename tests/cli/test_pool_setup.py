"""Which images a pool builds per platform (cli/pool_setup.splits; pure, on a plan)."""

from __future__ import annotations

import pytest

from buildorch.backends.catalog import get_backend
from buildorch.cli.pool_setup import pool_setup, splits
from buildorch.errors import BuildorchError
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.graph import build_graph
from buildorch.planning.plan import make_plan, placed_on, platform_part
from buildorch.planning.requests import PlanOptions
from tests.conftest import MakeProject

PIPELINE = """version: 1
name: p
images:
  multi: {context: x, platforms: [linux/amd64, linux/386], tags: [r.example/m:1], push: true}
  local: {context: x, platforms: [linux/amd64, linux/386], tags: [r.example/l:1]}
  one: {context: x, platforms: [linux/amd64], tags: [r.example/o:1], push: true}
  base: {context: x, platforms: [linux/amd64, linux/386], tags: [r.example/b:1], push: true}
  app: {context: x, contexts: {base: {image: base}}}
  files: {context: x, platforms: [linux/amd64, linux/386], tags: [r.example/f:1], push: true,
          outputs: ["type=local,dest=out"]}
"""


def test_published_multi_platform_images_nobody_builds_on_are_split(
        make_project: MakeProject) -> None:
    path = make_project(PIPELINE, contexts=("x",))
    pipeline = load_pipeline(path, LoadOptions(env={}))
    plan = make_plan(pipeline, build_graph(pipeline), [], PlanOptions(backend="docker"))
    # local: not published; one: one platform; base: app builds on it; files: another output
    assert splits(plan, "docker") == frozenset({"multi"})
    assert splits(plan, "buildctl") == frozenset()


def test_a_platform_part_is_one_platform_stored_under_a_run_scoped_name(
        make_project: MakeProject) -> None:
    path = make_project(PIPELINE, contexts=("x",))
    pipeline = load_pipeline(path, LoadOptions(env={}))
    plan = make_plan(pipeline, build_graph(pipeline), ["multi"], PlanOptions(backend="docker"))
    docker = get_backend("docker")
    part = placed_on(platform_part(plan.images[0], "linux/386", "p"), docker,
                     "unix:///b.sock", None)
    request = part.request
    assert request.platforms == ("linux/386",) and request.load and not request.push
    assert request.tags == ("buildorch.local/p/multi:{run_id}-linux-386",)
    assert request.metadata_file == ".buildorch/runs/{run_id}/multi@linux-386.metadata.json"
    assert part.publish == () and request.builder == "unix:///b.sock"
    assert part.argv == tuple(docker.build_argv(request))
    assert part.argv[:3] == ("docker", "--host", "unix:///b.sock")
    assert "linux/386" in part.argv and "r.example/m:1" not in part.argv


@pytest.mark.parametrize("backend", ["nerdctl", "finch"])
def test_a_pool_of_tools_that_load_into_the_local_store_is_refused(
        make_project: MakeProject, backend: str) -> None:
    builders = f"  - {{name: a, backend: {backend}}}\n  - {{name: b, backend: {backend}}}\n"
    path = make_project(f"version: 1\nname: p\nbuilders:\n{builders}images:\n"
                        "  one: {context: x}\n", contexts=("x",))
    pipeline = load_pipeline(path, LoadOptions(env={}))
    plan = make_plan(pipeline, build_graph(pipeline), [], PlanOptions(backend=backend))
    with pytest.raises(BuildorchError, match=f"^a pool of {backend} builders is not supported"):
        pool_setup(pipeline, plan, None, backend, print)  # refused before any probe
    assert pool_setup(pipeline, plan, "a", backend, print) is None  # one builder: no pool
