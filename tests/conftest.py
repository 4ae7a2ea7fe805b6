from __future__ import annotations

import os
import subprocess
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from buildorch.cache.s3.client import S3Location, client

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "pipelines" / "example.yaml"

SIMPLE_DOCKERFILE = "FROM localhost:5000/busybox:latest\nRUN true\n"

MakeProject = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """Write a pipeline file and Dockerfiles into a fresh folder; return the pipeline path.

    `files` maps relative paths to contents; a folder named as an image's context gets a
    plain Dockerfile unless `files` gives one.
    """

    def make(pipeline: str, files: dict[str, str] | None = None,
             contexts: tuple[str, ...] = ()) -> Path:
        for context in contexts:
            (tmp_path / context).mkdir(parents=True, exist_ok=True)
            (tmp_path / context / "Dockerfile").write_text(SIMPLE_DOCKERFILE)
        for rel, content in (files or {}).items():
            target = tmp_path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(content))
        path = tmp_path / "pipeline.yaml"
        path.write_text(textwrap.dedent(pipeline))
        return path

    return make


def engine_available() -> tuple[bool, str]:
    if not os.environ.get("DOCKER_HOST"):
        return False, "DOCKER_HOST is not set (run: eval \"$(scripts/stack env)\")"
    probe = subprocess.run(["docker", "buildx", "version"], capture_output=True, text=True,
                           check=False)
    if probe.returncode != 0:
        return False, f"docker buildx does not answer: {probe.stderr.strip()[:200]}"
    info = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                          capture_output=True, text=True, check=False)
    if info.returncode != 0:
        return False, f"the engine does not answer: {info.stderr.strip()[:200]}"
    return True, info.stdout.strip()


@pytest.fixture(scope="session")
def engine() -> str:
    """The local stack's engine; engine tests fail (not skip) where it is required."""
    ok, detail = engine_available()
    if not ok:
        if os.environ.get("BUILDORCH_REQUIRE_ENGINE") == "1":
            pytest.fail(f"engine required but unavailable: {detail}")
        pytest.skip(f"no BuildKit engine: {detail}")
    return detail


@pytest.fixture
def s3_endpoint() -> str:
    """The local stack's S3 endpoint; S3 tests fail (not skip) without it when
    BUILDORCH_REQUIRE_ENGINE=1."""
    endpoint = os.environ.get("BUILDORCH_S3_ENDPOINT")
    if not endpoint:
        if os.environ.get("BUILDORCH_REQUIRE_ENGINE") == "1":
            pytest.fail("S3 required but BUILDORCH_S3_ENDPOINT is not set")
        pytest.skip("BUILDORCH_S3_ENDPOINT is not set (run: eval \"$(scripts/stack env)\")")
    return endpoint


@pytest.fixture
def location(s3_endpoint: str) -> Iterator[S3Location]:
    """A bucket of its own (removed afterwards), under a prefix as profiles have."""
    where = S3Location(f"bo-test-{uuid.uuid4().hex[:16]}", "shop/", "us-east-1", s3_endpoint,
                       True)
    s3 = client(where)
    s3.create_bucket(Bucket=where.bucket)
    yield where
    for key in bucket_keys(where):
        s3.delete_object(Bucket=where.bucket, Key=key)
    s3.delete_bucket(Bucket=where.bucket)


def bucket_keys(where: S3Location) -> set[str]:
    """Every object key in the location's bucket."""
    s3 = client(where)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=where.bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def image_file(ref: str, path: str) -> str:
    """A file's content in a stored image, read through a created (never started)
    container."""
    import io
    import tarfile

    def docker(*args: str) -> str:
        done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False,
                              timeout=120)
        assert done.returncode == 0, (args, done.stderr[-2000:])
        return done.stdout.strip()

    container = docker("create", ref, "/bin/true")
    try:
        archive = subprocess.run(["docker", "cp", f"{container}:{path}", "-"], check=True,
                                 capture_output=True, timeout=60).stdout
    finally:
        docker("rm", container)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = tar.extractfile(tar.getmembers()[0])
        assert member is not None
        return member.read().decode(errors="replace")
