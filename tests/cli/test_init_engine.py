"""`buildorch init` on a generated repository of 20 Dockerfiles (multi-stage files, images
built on other images of the repository in every spelling, chains, a Containerfile, a
parameterised FROM, a Dockerfile that does not parse and folders to pass over): the
pipeline it writes validates, has exactly the dependencies the repository's Dockerfiles
mean, and builds on the stack (docker backend).

The builds check themselves: each image built on another tests, in a RUN step, that it
sees the marker that image wrote in this run (a uid no earlier run has), so a build on a
stale or pulled image fails. Every name the run tags in the engine's store carries the uid
and is removed at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from buildorch.pipeline.loader import load_pipeline
from buildorch.planning.graph import build_graph
from tests.run.test_executor import latest_record

pytestmark = pytest.mark.engine

BASE = os.environ.get("BUILDORCH_BASE_IMAGE", "localhost:5000/busybox:latest")


@dataclass(frozen=True)
class Repository:
    files: dict[str, str]
    edges: set[tuple[str, str]]  # (dependency, image) as the Dockerfiles mean them
    images: set[str]


def built_on(marker: str, ref: str, stage: str = "") -> str:
    """A FROM on `ref` (a stage named `stage`) whose build fails unless it holds `marker`
    (this run's build)."""
    named = f" AS {stage}" if stage else ""
    return f"FROM {ref}{named}\nRUN grep -qx {marker} /markers\n"


def mark(marker: str) -> str:
    return f"RUN echo {marker} >> /markers\n"


def repository(uid: str) -> Repository:
    ns = f"bo-init-{uid}"  # a repository namespace no other run uses
    short = f"b{uid}"  # an image named by its folder alone: `FROM b<uid>`
    files = {
        f"{short}/Dockerfile": f"FROM {BASE}\n{mark(f'b-{uid}')}",
        "libs/core/Dockerfile": built_on(f"b-{uid}", short) + mark(f"core-{uid}"),
        "libs/util/Dockerfile": (
            built_on(f"core-{uid}", f"localhost:5000/{ns}/core", "build") + mark(f"util-{uid}")
            + built_on(f"util-{uid}", "build", "test")
            + f"FROM {BASE} AS runtime\nCOPY --from=build /markers /markers\n"),
        "chain/c1/Dockerfile": built_on(f"core-{uid}", f"{ns}/core:1") + mark(f"c1-{uid}"),
        **{f"chain/c{i}/Dockerfile": built_on(f"c{i - 1}-{uid}", f"{ns}/c{i - 1}")
           + mark(f"c{i}-{uid}") for i in range(2, 6)},
        "services/api/Dockerfile": built_on(f"util-{uid}", f"{ns}/util:2") + mark(f"api-{uid}"),
        "tools/api/Dockerfile": f"FROM {BASE}\n{mark(f'tools-api-{uid}')}",
        "services/worker/Dockerfile.queue": (
            f"FROM {BASE}\nCOPY --from=docker.io/{ns}/c1:latest /markers /c1\n"
            f"RUN --mount=from={ns}/core:1,target=/core grep -qx core-{uid} /core/markers\n"
            f"RUN grep -qx c1-{uid} /c1\n"),
        "services/web/site.Dockerfile": built_on(f"b-{uid}", f"{short}:latest"),
        # the value of BASE is the user's to give: no dependency is guessed
        "services/param/Dockerfile": f"ARG BASE={BASE}\nFROM ${{BASE}}\nRUN true\n",
        "apps/shop/Dockerfile": (
            built_on(f"c5-{uid}", f"{ns}/c5", "build") + mark(f"shop-{uid}")
            + "FROM build AS dev\nRUN true\n"
            + f"FROM {BASE} AS prod\nCOPY --from=build /markers /markers\n"),
        "apps/admin/Containerfile": built_on(f"shop-{uid}", f"{ns}/shop"),
        "Dockerfile": f"FROM {BASE}\nRUN true\n",
        "docker/Dockerfile.cli": built_on(f"api-{uid}", f"{ns}/services-api"),
        "jobs/j1/Dockerfile": built_on(f"b-{uid}", short),
        "jobs/j2/Dockerfile": built_on(f"c3-{uid}", f"{ns}/c3"),
        "jobs/j3/Dockerfile": built_on(f"tools-api-{uid}", f"{ns}/tools-api"),
        # not images of the repository
        "broken/Dockerfile": "FROM\n",
        "node_modules/pkg/Dockerfile": "FROM nothing-to-pull-here\n",
        ".github/Dockerfile": "junk\n",
        "docs/Dockerfile.md": "# how to build\n",
    }
    edges = {(short, "core"), ("core", "util"), ("core", "util-test"), ("core", "c1"),
             *((f"c{i - 1}", f"c{i}") for i in range(2, 6)), ("util", "services-api"),
             ("c1", "worker-queue"), ("core", "worker-queue"), (short, "web-site"), ("c5", "shop"),
             ("c5", "shop-dev"), ("shop", "admin"), ("services-api", "cli"), (short, "j1"),
             ("c3", "j2"), ("tools-api", "j3")}
    images = {short, "core", "util", "util-test", *(f"c{i}" for i in range(1, 6)),
              "services-api", "tools-api", "worker-queue", "web-site", "param", "shop", "shop-dev",
              "admin", ns, "cli", "j1", "j2", "j3"}
    return Repository(files, edges, images)


@dataclass(frozen=True)
class Initialised:
    root: Path
    repo: Repository
    init: subprocess.CompletedProcess[str]
    build: subprocess.CompletedProcess[str]


def buildorch(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "buildorch", *args], cwd=root,
                          capture_output=True, text=True, check=False, timeout=600)


@pytest.fixture(scope="module")
def initialised(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Initialised]:
    uid = uuid.uuid4().hex[:8]
    root = tmp_path_factory.mktemp("repo") / f"bo-init-{uid}"
    repo = repository(uid)
    for rel, text in repo.files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    init = buildorch(root, "init")
    build = buildorch(root, "build", "--backend", "docker", "-j", "4") if init.returncode == 0 \
        else init
    yield Initialised(root, repo, init, build)
    if (root / "buildorch.yaml").is_file():
        tags = [t for image in yaml.safe_load((root / "buildorch.yaml").read_text())[
            "images"].values() for t in image["tags"]]
        subprocess.run(["docker", "image", "rm", "--force", *tags], capture_output=True,
                       check=False, timeout=300)


def test_init_writes_one_image_per_final_stage(initialised: Initialised) -> None:
    assert initialised.init.returncode == 0, initialised.init.stderr
    assert initialised.init.stdout.splitlines()[-1] == (
        f"wrote buildorch.yaml: {len(initialised.repo.images)} images, "
        f"{len(initialised.repo.edges)} dependencies")
    data = yaml.safe_load((initialised.root / "buildorch.yaml").read_text())
    assert set(data["images"]) == initialised.repo.images
    assert data["images"]["admin"]["dockerfile"] == "Containerfile"
    assert data["images"]["shop-dev"]["target"] == "dev"
    assert initialised.init.stderr == (
        "buildorch: warning: broken/Dockerfile:1: FROM requires either one or three arguments "
        "(left out)\n")


def test_the_pipeline_has_exactly_the_dependencies_the_dockerfiles_mean(
        initialised: Initialised) -> None:
    pipeline = load_pipeline(initialised.root / "buildorch.yaml")
    graph = build_graph(pipeline)
    assert {(e.source, e.target) for e in graph.edges} == initialised.repo.edges


def test_the_pipeline_builds_every_image_on_this_runs_dependencies(
        initialised: Initialised) -> None:
    build = initialised.build
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-3000:]
    record = latest_record(initialised.root)
    assert {name: image["state"] for name, image in record["images"].items()} == dict.fromkeys(
        initialised.repo.images, "succeeded")
    # the summary shows a fresh build as done (`cached` only when every step came from cache)
    summary = [line.split() for line in build.stdout.splitlines()]
    states = {row[0]: row[1] for row in summary if len(row) >= 2 and row[0] in
              initialised.repo.images}
    assert states == dict.fromkeys(initialised.repo.images, "done")
