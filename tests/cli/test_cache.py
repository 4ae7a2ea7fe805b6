"""`buildorch cache ls|stats|prune` end to end: three runs, prune, and the kept entry still hits."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest

from buildorch.oci.reference import ImageRef
from buildorch.oci.registry import RegistryClient

pytestmark = pytest.mark.engine

BASE = os.environ.get("BUILDORCH_BASE_IMAGE", "localhost:5000/busybox:latest")
REGISTRY = os.environ.get("BUILDORCH_REGISTRY", "localhost:5000")
S3_ENDPOINT = os.environ.get("BUILDORCH_S3_ENDPOINT", "http://127.0.0.1:9000")

PIPELINE = """\
version: 1
name: pruned
images:
  a: {context: a, cache: test}
  b: {context: b, cache: test, contexts: {a: {image: a}}}
"""
FILES = {
    "a/Dockerfile": f"FROM {BASE}\nARG V\nRUN echo $V > /v && head -c 200000 /dev/urandom > /r\n",
    "b/Dockerfile": "FROM a\nRUN cat /v > /w\n",
}


def write_project(tmp: Path, profile: str) -> Path:
    for rel, text in {**FILES, "pipeline.yaml": PIPELINE,
                      "cache-config/test.yaml": profile}.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text)
    (tmp / ".git").mkdir()  # the cache-config search stops here
    return tmp / "pipeline.yaml"


def bo(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "buildorch", *args, "-f", "pipeline.yaml"],
                          cwd=tmp, capture_output=True, text=True, check=False, timeout=600,
                          env={**os.environ, "CI": "true"})


def build(tmp: Path, branch: str, content: str) -> None:
    result = bo(tmp, "build", "--backend", "docker", "--var", f"GIT_BRANCH={branch}",
                "--set", f"a.args.V={content}")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr


def all_run_steps_cached(tmp: Path) -> bool:
    run = sorted((tmp / ".buildorch" / "runs").iterdir())[-1]
    for log in run.glob("*.log"):
        lines = log.read_text().splitlines()
        steps = {m.group(1) for line in lines if (m := re.match(r"^#(\d+) \[.*\] RUN ", line))}
        cached = {line.split()[0][1:] for line in lines if line.endswith(" CACHED")}
        if not steps or not steps <= cached:
            return False
    return True


def s3_state(bucket: str) -> dict[str, str]:
    s3 = boto3.client("s3", endpoint_url=S3_ENDPOINT)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"]: o["ETag"] for p in pages for o in p.get("Contents", [])}


def registry_state(repo: str) -> dict[str, str]:
    ref = ImageRef.parse(f"{repo}:x")
    client = RegistryClient(ref.host)
    state = {}
    for tag in client.tags(ref.repository):
        manifest = client.manifest(ref.repository, tag)
        state[tag] = manifest.digest if manifest else ""
    return state


@pytest.mark.parametrize("kind", ["s3", "registry"])
def test_three_runs_prune_and_the_kept_entry_still_hits(tmp_path: Path, engine: str,
                                                        kind: str) -> None:
    if kind == "s3":
        bucket = f"prunetest-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=S3_ENDPOINT).create_bucket(Bucket=bucket)
        profile = (f"type: s3\nbucket: {bucket}\nregion: us-east-1\nendpoint_url: {S3_ENDPOINT}\n"
                   "use_path_style: true\ntransport: sync\n")
        state = lambda: s3_state(bucket)  # noqa: E731
    else:
        repo = f"{REGISTRY}/prunetest-{uuid.uuid4().hex[:8]}/cache"
        profile = f"type: registry\nref: {repo}\n"
        state = lambda: registry_state(repo)  # noqa: E731
    write_project(tmp_path, profile)
    subprocess.run(["docker", "buildx", "prune", "-af"], check=True, capture_output=True)
    build(tmp_path, "main", "one")
    build(tmp_path, "feature/a", "two")
    build(tmp_path, "feature/b", "three")

    listed = bo(tmp_path, "cache", "ls")
    assert listed.returncode == 0, listed.stderr
    for image in ("a", "b"):
        for scope in ("main", "feature-a", "feature-b"):
            row = rf"(^|\s){image}\s+{scope}\s"
            assert re.search(row, listed.stdout, re.MULTILINE), listed.stdout
    assert bo(tmp_path, "cache", "stats").returncode == 0

    before = state()
    # --grace-hours 0: these blobs are seconds old, and no export is running
    dry = bo(tmp_path, "cache", "prune", "--older-than", "0", "--grace-hours", "0", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would delete" in dry.stdout
    assert state() == before  # --dry-run deleted nothing

    pruned = bo(tmp_path, "cache", "prune", "--older-than", "0", "--grace-hours", "0")
    assert pruned.returncode == 0, pruned.stderr
    after = state()
    assert len(after) < len(before)
    remaining = bo(tmp_path, "cache", "ls").stdout
    assert "feature-a" not in remaining and "feature-b" not in remaining
    assert re.search(r"(^|\s)a\s+main\s", remaining, re.MULTILINE)

    # the kept entry (main, protected) still imports in full into a wiped engine
    subprocess.run(["docker", "buildx", "prune", "-af"], check=True, capture_output=True)
    result = bo(tmp_path, "build", "--backend", "docker", "--var", "GIT_BRANCH=main",
                "--set", "a.args.V=one", "--cache-readonly")
    assert result.returncode == 0, result.stdout[-2000:]
    assert all_run_steps_cached(tmp_path)
