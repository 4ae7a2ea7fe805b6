"""`reproducible: true` on the example pipeline, on the real engine (issue 12's acceptance):
two cold builds (BuildKit's build cache pruned, the images built removed, no cache profile)
give identical digests for every image that exports one.

This stack's engine is Docker's docker driver, which unpacks every image it loads, and BuildKit
cannot rewrite the timestamps of an image it unpacks (moby/buildkit#4230; moby
builder/builder-next/exporter/overrides/wrapper.go forces `unpack=true`). So each reproducible
image is written as a tarball with rewritten timestamps and `docker load`ed by the run; the
store then holds it under its tags at the digest the build reported, which dependents are
checked against, `--skip-unchanged` finds, and `--push` publishes. An OCI tarball the pipeline
writes itself (one image added to the example) comes out identical too, digest and bytes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from buildorch.oci.reference import ImageRef
from buildorch.oci.registry import RegistryClient
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


def buildorch(repo: GitRepo, *args: str,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "buildorch", *args], cwd=repo.root,
                          capture_output=True, text=True, check=False, timeout=600, env=env)


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


def build_args(tag: str, *more: str) -> tuple[str, ...]:
    return ("build", "-f", "pipelines/example.yaml", "--backend", "docker", "--cache", "none",
            "--var", f"TAG={tag}", *more)


def cold_build(repo: GitRepo, tag: str) -> tuple[subprocess.CompletedProcess[str], Record]:
    remove_built(tag)
    subprocess.run(["docker", "buildx", "prune", "-af"], capture_output=True, check=True)
    done = buildorch(repo, *build_args(tag, "ci"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done, latest_record(repo.root)


def digests(record: Record) -> dict[str, str]:
    return {name: image["digest"] for name, image in record["images"].items()
            if image["digest"]}


def store_ids(refs: list[str]) -> list[str]:
    return subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", *refs],
                          capture_output=True, text=True, check=True).stdout.split()


def run_folder(repo: GitRepo) -> Path:
    return sorted((repo.root / ".buildorch" / "runs").iterdir())[-1]


def test_two_cold_builds_of_the_reproducible_example(
        engine: str, tmp_path: Path, ssh_agent: None) -> None:  # noqa: F811
    repo = make_repo(tmp_path)
    epoch = repo.git("log", "-1", "--format=%ct")
    tag = uuid.uuid4().hex[:10]
    tarball = repo.root / "out" / "base.oci.tar"
    try:
        first, first_record = cold_build(repo, tag)
        first_bytes = hashlib.sha256(tarball.read_bytes()).hexdigest()
        first_ids = store_ids(stored_refs(tag))
        second, second_record = cold_build(repo, tag)
        second_ids = store_ids(stored_refs(tag))
        left = sorted(p.name for p in run_folder(repo).glob("*.tar"))
        created = subprocess.run(["docker", "image", "inspect", "--format", "{{.Created}}",
                                  *stored_refs(tag)], capture_output=True, text=True,
                                 check=True).stdout.split()
        unchanged = buildorch(repo, *build_args(tag, "--skip-unchanged", "ci"))
    finally:
        remove_built(tag)
    before, after = digests(first_record), digests(second_record)
    assert set(before) == set(after) == {*STORED, "base-oci"}
    # the acceptance: the same digests from two cold builds, stored images included
    assert before == after
    print(f"two cold builds, identical digests: {after}")
    # the store holds each under its tags at the digest the build reported
    assert first_ids == [before[name] for name in STORED]
    assert second_ids == [after[name] for name in STORED]
    # what the pipeline writes itself: the same bytes
    assert hashlib.sha256(tarball.read_bytes()).hexdigest() == first_bytes
    for name, image in second_record["images"].items():  # the commit time, and no provenance
        assert f"SOURCE_DATE_EPOCH={epoch}" in image["argv"]
        assert "type=provenance,disabled=true" in image["argv"]
        archive = f".buildorch/runs/{second_record['id']}/{name}.image.tar"
        written = f"type=docker,dest={archive},rewrite-timestamp=true"
        assert (written in image["argv"]) == (name in STORED), image["argv"]
        assert "--load" not in image["argv"]
    assert left == []  # each tarball removed once loaded
    # doctor says yes, and no build warns any more
    assert doctor_line(repo) == "reproducible: yes (tarball + docker load: rewrite-timestamp)"
    for run in (first, second):
        assert "reproducible:" not in run.stderr
    # SOURCE_DATE_EPOCH made it into the stored images: created at the commit time
    when = datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert created == [when] * len(STORED)
    # --skip-unchanged finds the loaded images by their digests: none of them builds
    assert unchanged.returncode == 0, unchanged.stdout[-3000:] + unchanged.stderr[-3000:]
    states = {n: i["state"] for n, i in latest_record(repo.root)["images"].items()}
    assert {n: states[n] for n in STORED} == dict.fromkeys(STORED, "unchanged"), states


def test_push_publishes_the_loaded_images_at_the_built_digests(
        engine: str, tmp_path: Path, ssh_agent: None) -> None:  # noqa: F811
    """run/publish.py pushes each tag from the local store, and checks that the registry got
    the digest the build reported: the loaded image keeps it."""
    repo = make_repo(tmp_path)
    tag = uuid.uuid4().hex[:10]
    try:
        done = buildorch(repo, *build_args(tag, "--push", "api"))
    finally:
        remove_built(tag)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    record = latest_record(repo.root)
    assert sorted(record["published"]) == sorted(stored_refs(tag)[:2])
    for name in ("base", "api"):
        ref = ImageRef.parse(f"localhost:5000/shop/{name}:{tag}")
        manifest = RegistryClient(ref.host).manifest(ref.repository, tag)
        assert manifest is not None and manifest.digest == record["images"][name]["digest"]


FAILING_LOAD = """\
#!/bin/sh
# docker, except that `docker load` fails as a full disk would
for arg in "$@"; do
  if [ "$arg" = load ]; then
    echo "Error processing tar file(exit status 1): write /x: no space left on device" >&2
    exit 1
  fi
done
exec {docker} "$@"
"""


def test_a_failed_load_fails_the_build_and_skips_its_dependents(
        engine: str, tmp_path: Path, ssh_agent: None) -> None:  # noqa: F811
    repo = make_repo(tmp_path)
    tools = tmp_path / "tools"
    tools.mkdir()
    wrapper = tools / "docker"
    wrapper.write_text(FAILING_LOAD.format(docker=shutil.which("docker")))
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}"}
    tag = uuid.uuid4().hex[:10]
    try:
        done = buildorch(repo, *build_args(tag, "--keep-going", "api"), env=env)
    finally:
        remove_built(tag)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    images = latest_record(repo.root)["images"]
    assert images["base"]["state"] == "failed"
    assert images["base"]["reason"].startswith(
        "loading the built image into the image store failed (exit code 1): docker load")
    assert images["api"]["state"] == "skipped"
    assert "no space left on device" in done.stdout + done.stderr  # the load's output tail
    log = (run_folder(repo) / "base.log").read_text()
    assert "$ docker load --input .buildorch/runs/" in log
    assert list(run_folder(repo).glob("*.tar")) == []
