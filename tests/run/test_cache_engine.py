"""Cache on the real stack: registry and S3 (sync transport) round trips, branches, faults."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest

from tests.conftest import EXAMPLE

pytestmark = pytest.mark.engine

REGISTRY = os.environ.get("BUILDORCH_REGISTRY", "localhost:5000")
S3_ENDPOINT = os.environ.get("BUILDORCH_S3_ENDPOINT", "http://127.0.0.1:9000")
_STEP = re.compile(r"^#(\d+) \[[^\]]*\d+/\d+\] RUN ")


def build(tmp: Path, profiles: Path, *args: str, branch: str = "main",
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "buildorch", "build", "-f", str(EXAMPLE), "--backend", "docker",
         "--cache-config", str(profiles), "--var", f"GIT_BRANCH={branch}",
         "--var", f"TAG={tmp.name[-12:]}", "ci", *args],
        cwd=tmp, capture_output=True, text=True, check=False, timeout=900,
        env={**os.environ, "CI": "true", "SSH_AUTH_SOCK": _agent(tmp), **(env or {})})


def _agent(tmp: Path) -> str:
    """The example forwards an SSH agent; a listening socket is enough for it."""
    sock = tmp / "agent.sock"
    if not sock.exists():
        import socket

        server = socket.socket(socket.AF_UNIX)
        server.bind(str(sock))
        server.listen(1)
        _agent.keep = server  # type: ignore[attr-defined]
    return str(sock)


def prune_engine_cache() -> None:
    subprocess.run(["docker", "buildx", "prune", "-af"], check=True, capture_output=True)


def latest_run(tmp: Path) -> Path:
    return sorted((tmp / ".buildorch" / "runs").iterdir())[-1]


def run_steps(run: Path) -> dict[str, list[bool]]:
    """For each image's log: for each RUN step, whether BuildKit reported it CACHED."""
    result = {}
    for log in run.glob("*.log"):
        lines = log.read_text().splitlines()
        steps = {m.group(1) for line in lines if (m := _STEP.match(line))}
        cached = {line.split()[0][1:] for line in lines if line.endswith(" CACHED")}
        result[log.stem] = [n in cached for n in sorted(steps)]
    return result


def profile_dir(tmp: Path, text: str) -> Path:
    folder = tmp / "profiles"
    folder.mkdir(exist_ok=True)
    (folder / "test.yaml").write_text(text)
    return folder


def round_trip(tmp: Path, profiles: Path) -> tuple[Path, Path]:
    prune_engine_cache()
    first = build(tmp, profiles, "--cache", "test")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr
    cold = latest_run(tmp)
    prune_engine_cache()
    second = build(tmp, profiles, "--cache", "test")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr
    return cold, latest_run(tmp)


def assert_every_image_ran_a_step(run: Path) -> None:
    """A cold build: each image ran at least one RUN step (images of one run that share a
    stage, api and api-test, may see the other's steps as CACHED)."""
    steps = run_steps(run)
    assert steps and all(not all(s) for s in steps.values()), steps


def assert_all_run_steps_cached(run: Path) -> None:
    steps = run_steps(run)
    assert set(steps) == {"base", "api", "api-test", "worker", "worker-test"}
    assert all(steps.values()) and all(all(s) for s in steps.values()), steps


def test_registry_cache_survives_a_wiped_engine(tmp_path: Path, engine: str) -> None:
    ref = f"{REGISTRY}/cachetest-{uuid.uuid4().hex[:8]}/cache"
    profiles = profile_dir(tmp_path, f"type: registry\nref: {ref}\n")
    cold, warm = round_trip(tmp_path, profiles)
    assert_every_image_ran_a_step(cold)  # the first run really built
    assert_all_run_steps_cached(warm)
    assert f"importing cache manifest from {ref}:api-main" in (warm / "api.log").read_text()
    # control: without the cache, a wiped engine builds every step again
    prune_engine_cache()
    uncached = build(tmp_path, profiles, "--cache", "none")
    assert uncached.returncode == 0
    assert_every_image_ran_a_step(latest_run(tmp_path))


def s3_profile(tmp: Path, bucket: str, endpoint: str = S3_ENDPOINT) -> Path:
    return profile_dir(tmp, f"type: s3\nbucket: {bucket}\nregion: us-east-1\nprefix: t/\n"
                            f"endpoint_url: {endpoint}\nuse_path_style: true\n")


def new_bucket() -> tuple[str, object]:
    s3 = boto3.client("s3", endpoint_url=S3_ENDPOINT)
    bucket = f"cachetest-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    return bucket, s3


def objects(s3: object, bucket: str) -> dict[str, bytes]:
    client = s3  # boto3 client
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):  # type: ignore[attr-defined]
        for item in page.get("Contents", []):
            out[item["Key"]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()  # type: ignore[attr-defined]
    return out


def test_s3_sync_cache_survives_a_wiped_engine(tmp_path: Path, engine: str) -> None:
    bucket, s3 = new_bucket()
    cold, warm = round_trip(tmp_path, s3_profile(tmp_path, bucket))
    assert_every_image_ran_a_step(cold)  # the first run really built
    first = json.loads((cold / "record.json").read_text())["images"]["api"]["cache"]
    assert first["upload"]["blobs_uploaded"] > 0 and first["downloads"][0]["found"] is False
    assert_all_run_steps_cached(warm)
    record = json.loads((warm / "record.json").read_text())
    downloads = record["images"]["api"]["cache"]["downloads"]
    assert downloads[0]["scope"] == "main" and downloads[0]["found"] is True
    # nothing changed since the first export: the second one uploads no blob
    assert record["images"]["api"]["cache"]["upload"]["blobs_uploaded"] == 0
    keys = objects(s3, bucket)
    assert "t/oci/index/shop/api/main.json" in keys


def test_feature_branch_reads_main_and_writes_only_its_own(tmp_path: Path, engine: str) -> None:
    bucket, s3 = new_bucket()
    profiles = s3_profile(tmp_path, bucket)
    prune_engine_cache()
    assert build(tmp_path, profiles, "--cache", "test").returncode == 0
    before = objects(s3, bucket)
    prune_engine_cache()
    feature = build(tmp_path, profiles, "--cache", "test", branch="feature/x")
    assert feature.returncode == 0, feature.stdout[-3000:]
    assert_all_run_steps_cached(latest_run(tmp_path))  # imported from main's entries
    after = objects(s3, bucket)
    assert {k: after[k] for k in before} == before  # main's objects byte-for-byte unchanged
    new = set(after) - set(before)
    assert new and all(k.endswith("/feature-x.json") or "/oci/blobs/" in k for k in new)
    assert {k.rsplit("/", 2)[-2] for k in new if k.endswith(".json")} == {
        "base", "api", "api-test", "worker", "worker-test"}


def test_unreachable_caches_warn_and_the_build_succeeds(tmp_path: Path, engine: str) -> None:
    # Nothing listens on these ports: a registry and an S3 endpoint that are down.
    registry_down = profile_dir(tmp_path, "type: registry\nref: localhost:5999/cache\n")
    result = build(tmp_path, registry_down, "--cache", "test")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "warning: cache export failed" in result.stdout
    assert "warning: cache import failed" in result.stdout
    strict = build(tmp_path, registry_down, "--cache", "test", "--cache-strict")
    assert strict.returncode == 1

    s3_down = s3_profile(tmp_path, "nobucket", endpoint="http://127.0.0.1:9998")
    result = build(tmp_path, s3_down, "--cache", "test")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "warning: cache import from S3 failed" in result.stdout
    assert "warning: cache export to S3 failed" in result.stdout
