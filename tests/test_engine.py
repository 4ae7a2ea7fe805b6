"""Engine tests: the plan's exact `docker buildx build` argv, run on the local stack.

Proves that the stack works (busybox base in the loopback registry, BuildKit in dockerd)
and that the argv buildorch plans is accepted by the real engine, including a named
context pinned by digest that wins over a tag someone moved meanwhile.
"""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from pathlib import Path

import pytest

from buildorch import proc
from buildorch.graph import build_graph
from buildorch.loader import LoadOptions, load_pipeline
from buildorch.plan import make_plan
from tests.conftest import MakeProject

pytestmark = pytest.mark.engine

PIPELINE = """\
version: 1
name: enginetest
vars:
  REPO: ${env.BUILDORCH_REGISTRY:-localhost:5000}/enginetest-${RUN}
images:
  base:
    context: base
    args: {BASE_IMAGE: "${env.BUILDORCH_BASE_IMAGE:-localhost:5000/busybox:latest}"}
    tags: ["${REPO}/base:1"]
    push: true
  app:
    context: app
    contexts: {base: {image: base}}
    tags: ["${REPO}/app:1"]
  tool:
    context: tool
    args: {BASE_REF: "${REPO}/base:1"}
"""

FILES = {
    "base/Dockerfile": "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG MARK=first\n"
                       "RUN echo $MARK > /base-marker\n",
    "app/Dockerfile": "FROM base\nRUN test \"$(cat /base-marker)\" = first && echo ok > /app\n",
    "tool/Dockerfile": "ARG BASE_REF\nFROM ${BASE_REF} AS build\n"
                       "RUN test \"$(cat /base-marker)\" = first\n",
}


def run(argv: list[str], cwd: Path) -> str:
    return proc.run(argv, cwd=cwd, timeout=300).output


def fill(argv: tuple[str, ...], digests: dict[str, str], run_id: str) -> list[str]:
    out = []
    for arg in argv:
        for name, digest in digests.items():
            arg = arg.replace(f"{{digest:{name}}}", digest)
        out.append(arg.replace("{run_id}", run_id))
    return out


def registry_has(repo_tag: str) -> bool:
    host, _, rest = repo_tag.partition("/")
    repo, _, tag = rest.rpartition(":")
    request = urllib.request.Request(
        f"http://{host}/v2/{repo}/manifests/{tag}", method="HEAD",
        headers={"Accept": "application/vnd.oci.image.index.v1+json,"
                           "application/vnd.oci.image.manifest.v1+json,"
                           "application/vnd.docker.distribution.manifest.v2+json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_plan_argv_builds_on_the_stack_with_digest_pinning(
        engine: str, make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    run_token = uuid.uuid4().hex[:8]
    path = make_project(PIPELINE, files=FILES)
    folder = path.parent
    monkeypatch.chdir(folder)
    pipeline = load_pipeline(path, LoadOptions(variables={"RUN": run_token}))
    plan = make_plan(pipeline, build_graph(pipeline), [])
    assert plan.order[0] == "base"
    steps = {image.name: image for image in plan.images}
    run_id = "enginetest"
    (folder / ".buildorch" / "runs" / run_id).mkdir(parents=True)

    run(fill(steps["base"].argv, {}, run_id), folder)
    meta = json.loads((folder / f".buildorch/runs/{run_id}/base.metadata.json").read_text())
    digest = meta["containerimage.digest"]
    assert digest.startswith("sha256:")
    base_tag = steps["base"].request.tags[0]
    assert registry_has(base_tag)

    # Move the tag to a different image: dependents must still build on the digest.
    base_image = os.environ.get("BUILDORCH_BASE_IMAGE", "localhost:5000/busybox:latest")
    run(["docker", "buildx", "build", "--build-arg", f"BASE_IMAGE={base_image}",
         "--build-arg", "MARK=second", "--tag", base_tag, "--push", "base"], folder)

    for name in ("app", "tool"):
        run(fill(steps[name].argv, {"base": digest}, run_id), folder)
    app_meta = json.loads((folder / f".buildorch/runs/{run_id}/app.metadata.json").read_text())
    assert app_meta["containerimage.digest"].startswith("sha256:")

    # Control: without the pinned context, `tool` builds on the moved tag and its check fails.
    unpinned = fill(steps["tool"].argv, {"base": digest}, run_id)
    at = unpinned.index("--build-context")
    del unpinned[at:at + 2]
    with pytest.raises(proc.CommandError) as failed:
        run(unpinned, folder)
    assert failed.value.returncode != 0
    assert "cat /base-marker" in failed.value.output
