"""`reproducible: true` on the example pipeline, on the real engine (issue 12's acceptance):
two cold builds (BuildKit's build cache pruned, the images built removed, no cache profile)
give identical digests for every image that exports one, or `doctor` explains why this
engine cannot, and the test shows that explanation.

This stack's engine is Docker's docker driver: it unpacks every image it stores, and BuildKit
cannot rewrite the timestamps of an image it unpacks (moby/buildkit#4230; moby
builder/builder-next/exporter/overrides/wrapper.go forces `unpack=true`). So here the test
checks the explanation, the build's one warning, that SOURCE_DATE_EPOCH (the commit time)
reached every build and the stored images' creation time, and that what this engine can
rewrite, an OCI tarball the pipeline writes (one image added to the example), comes out
identical, digest and bytes. Where `doctor` says yes, every digest must match.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLE
from tests.git_repo import GitRepo
from tests.run.test_executor import latest_record, ssh_agent  # noqa: F401 (a fixture)

pytestmark = pytest.mark.engine

SOURCE = EXAMPLE.parent.parent
Record = dict[str, Any]  # a run's record.json
STORED = ("base", "api", "worker")  # loaded into Docker's store, tagged
OCI_IMAGE = """\
  base-oci:                       # base again, kept only as an OCI tarball
    context: ../Dockerfile.examples/base
    args:
      BASE_IMAGE: ${env.BUILDORCH_BASE_IMAGE:-localhost:5000/busybox:latest}
    outputs: ["type=oci,dest=../out/base.oci.tar"]
"""


def make_repo(tmp_path: Path) -> GitRepo:
    """The example in a repository of its own, reproducible, with one commit."""
    repo = GitRepo(tmp_path / "repo")
    for folder in ("pipelines", "Dockerfile.examples", "cache-config"):
        shutil.copytree(SOURCE / folder, repo.root / folder)
    pipeline = repo.root / "pipelines" / "example.yaml"
    text = pipeline.read_text()
    for old, new in (("name: shop\n", "name: shop\nreproducible: true\n"),
                     ("groups:\n", f"{OCI_IMAGE}groups:\n"),
                     ("ci: [api, api-test, worker, worker-test]",
                      "ci: [api, api-test, worker, worker-test, base-oci]")):
        assert old in text
        text = text.replace(old, new)
    pipeline.write_text(text)
    repo.commit("the example, reproducible")
    return repo


def buildorch(repo: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "buildorch", *args], cwd=repo.root,
                          capture_output=True, text=True, check=False, timeout=600)


def doctor_line(repo: GitRepo) -> str:
    """What `doctor` says of reproducible images on the docker backend."""
    done = buildorch(repo, "doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    section = done.stdout.split("] docker:", 1)[1].split("\n[", 1)[0]
    [line] = [line.strip() for line in section.splitlines() if "reproducible:" in line]
    return line


def stored_refs(tag: str) -> list[str]:
    return [f"localhost:5000/shop/{name}:{tag}" for name in STORED]


def remove_built(tag: str) -> None:
    """The images the run tagged; never the busybox base the stack pushed."""
    subprocess.run(["docker", "image", "rm", "-f", *stored_refs(tag)], capture_output=True,
                   check=False)


def cold_build(repo: GitRepo, tag: str) -> tuple[subprocess.CompletedProcess[str], Record]:
    remove_built(tag)
    subprocess.run(["docker", "buildx", "prune", "-af"], capture_output=True, check=True)
    done = buildorch(repo, "build", "-f", "pipelines/example.yaml", "--backend", "docker",
                     "--cache", "none", "--var", f"TAG={tag}", "ci")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done, latest_record(repo.root)


def digests(record: Record) -> dict[str, str]:
    return {name: image["digest"] for name, image in record["images"].items()
            if image["digest"]}


def test_two_cold_builds_of_the_reproducible_example(
        engine: str, tmp_path: Path, ssh_agent: None) -> None:  # noqa: F811
    repo = make_repo(tmp_path)
    epoch = repo.git("log", "-1", "--format=%ct")
    line = doctor_line(repo)
    tag = uuid.uuid4().hex[:10]
    tarball = repo.root / "out" / "base.oci.tar"
    try:
        first, first_record = cold_build(repo, tag)
        first_bytes = hashlib.sha256(tarball.read_bytes()).hexdigest()
        second, second_record = cold_build(repo, tag)
        created = subprocess.run(["docker", "image", "inspect", "--format", "{{.Created}}",
                                  *stored_refs(tag)], capture_output=True, text=True,
                                 check=True).stdout.split()
    finally:
        remove_built(tag)
    before, after = digests(first_record), digests(second_record)
    assert set(before) == set(after) == {*STORED, "base-oci"}
    for image in second_record["images"].values():  # the commit time, and no provenance
        assert f"SOURCE_DATE_EPOCH={epoch}" in image["argv"]
        assert "type=provenance,disabled=true" in image["argv"]
    # what this engine can rewrite, it rewrites: same digest, same bytes
    assert before["base-oci"] == after["base-oci"]
    assert hashlib.sha256(tarball.read_bytes()).hexdigest() == first_bytes
    if line.startswith("reproducible: yes"):
        assert before == after
        return
    # the docker driver: doctor says why, and each build says which images, once
    assert line.startswith("reproducible: no: the docker driver unpacks every image")
    assert "moby/buildkit#4230" in line
    for run in (first, second):
        warnings = [w for w in run.stderr.splitlines() if "reproducible:" in w]
        assert len(warnings) == 1
        assert "cannot rewrite the timestamps of 3 images (api, base, worker)" in warnings[0]
    # SOURCE_DATE_EPOCH still made it into the stored images: created at the commit time
    when = datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert created == [when] * len(STORED)
    print(f"docker driver, stored images: {before} then {after}; {line}")
