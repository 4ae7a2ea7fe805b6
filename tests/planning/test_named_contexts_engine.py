"""Named contexts on the real engine: a Dockerfile that names another pipeline image, in any
of five spellings and at any of the three sites (FROM, COPY --from, RUN --mount=from), is
built on this run's build of that image, never on an older image already present under
the same reference.

Before each run an OLD image is put under the very reference the Dockerfile spells: pushed
to the loopback registry where the reference is on it, and in the engine's own image store
(where the docker driver looks first).

What this can and cannot catch on the docker backend: `docker buildx` normalises
`--build-context` keys itself, and buildorch loads each build into the engine's store under
its tags, so the four tag spellings find this run's image even without a named context.
The digest spelling names the old image's manifest exactly: without the named context
BuildKit builds on the old image, and that case fails (seen by dropping the Dockerfile
edges' contexts from planning/requests.py: 1 failed, 4 passed). The exact keys the
buildctl, nerdctl and finch argv carry, where a wrong key does fall back to the old image,
are fixed by tests/planning/test_requests.py against moby/buildkit
frontend/dockerui/config.go.
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

from tests.conftest import image_file

pytestmark = pytest.mark.engine

BASE = os.environ.get("BUILDORCH_BASE_IMAGE", "localhost:5000/busybox:latest")
REGISTRY = os.environ.get("BUILDORCH_REGISTRY", "localhost:5000")
UID = uuid.uuid4().hex[:10]
SITES = {
    "from": "FROM {ref}\nRUN cp /marker /seen\n",
    "copy": f"FROM {BASE}\nCOPY --from={{ref}} /marker /seen\n",
    "mount": f"FROM {BASE}\nRUN --mount=from={{ref}},target=/dep cp /dep/marker /seen\n",
}


@dataclass(frozen=True)
class Spelling:
    tag: str  # the pipeline image's tag
    local: str  # the engine's own name for the old image
    pushed: bool  # the old image is on the loopback registry under `tag`
    by_digest: bool = False  # the Dockerfile pins the old image's digest


SPELLINGS = {
    "name": Spelling(f"bo-nc-{UID}-a", f"bo-nc-{UID}-a:latest", pushed=False),
    "name:latest": Spelling(f"bo-nc-{UID}-b:latest", f"bo-nc-{UID}-b:latest", pushed=False),
    "docker.io/org/name:latest": Spelling(f"docker.io/bo-org-{UID}/nc:latest",
                                          f"bo-org-{UID}/nc:latest", pushed=False),
    "registry/org/name:tag": Spelling(f"{REGISTRY}/org/bo-nc-{UID}:v1",
                                      f"{REGISTRY}/org/bo-nc-{UID}:v1", pushed=True),
    "registry/org/name:tag@digest": Spelling(f"{REGISTRY}/org/bo-nc-{UID}-d:v1",
                                             f"{REGISTRY}/org/bo-nc-{UID}-d:v1", pushed=True,
                                             by_digest=True),
}


def docker(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(["docker", *args], cwd=cwd, capture_output=True, text=True,
                            check=False, timeout=300)
    assert result.returncode == 0, (args, result.stderr[-2000:])
    return result.stdout.strip()


@pytest.fixture(scope="module")
def old_images(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The OLD image under every spelling's reference; returns each spelling's reference
    as the Dockerfiles write it."""
    folder = tmp_path_factory.mktemp("old")
    (folder / "Dockerfile").write_text(f"FROM {BASE}\nRUN echo old-{UID} > /marker\n")
    old = f"bo-nc-old-{UID}:1"
    docker("buildx", "build", "--load", "-t", old, str(folder))
    refs: dict[str, str] = {}
    for label, spelling in SPELLINGS.items():
        docker("tag", old, spelling.local)
        ref = spelling.tag
        if spelling.pushed:
            pushed = docker("push", spelling.local)
            digest = pushed.rsplit("digest: ", 1)[1].split()[0]
            assert image_file(f"{spelling.local}", "/marker") == f"old-{UID}\n"
            if spelling.by_digest:
                ref = f"{spelling.tag}@{digest}"
        refs[label] = ref
    yield refs
    for spelling in SPELLINGS.values():
        subprocess.run(["docker", "rmi", "-f", spelling.local], capture_output=True, check=False)
    subprocess.run(["docker", "rmi", "-f", old], capture_output=True, check=False)


def pipeline(name: str, tag: str, ref: str) -> tuple[str, dict[str, str]]:
    images = [f"  base:\n    context: base\n    tags: ['{tag}']\n"]
    files = {"base/Dockerfile": f"FROM {BASE}\nRUN echo new-{UID} > /marker\n"}
    for site, template in SITES.items():
        images.append(f"  {site}:\n    context: {site}\n"
                      f"    tags: ['bo-nc-{UID}-{name}-{site}:1']\n")
        files[f"{site}/Dockerfile"] = template.format(ref=ref)
    return f"version: 1\nname: nc-{name}\nimages:\n" + "".join(images), files


@pytest.mark.parametrize("label", list(SPELLINGS))
def test_dependents_are_built_on_this_runs_image(
        label: str, old_images: dict[str, str], tmp_path: Path) -> None:
    name = str(list(SPELLINGS).index(label))
    text, files = pipeline(name, SPELLINGS[label].tag, old_images[label])
    (tmp_path / "pipeline.yaml").write_text(text)
    for rel, content in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content)

    result = subprocess.run([sys.executable, "-m", "buildorch", "build", "-f", "pipeline.yaml",
                             "--backend", "docker"], cwd=tmp_path, capture_output=True,
                            text=True, check=False, timeout=900)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    try:
        seen = {site: image_file(f"bo-nc-{UID}-{name}-{site}:1", "/seen") for site in SITES}
        assert seen == {site: f"new-{UID}\n" for site in SITES}, (label, old_images[label])
    finally:
        for site in SITES:
            subprocess.run(["docker", "rmi", "-f", f"bo-nc-{UID}-{name}-{site}:1"],
                           capture_output=True, check=False)
