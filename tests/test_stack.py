"""The local stack (scripts/stack) that every engine test, benchmark and the demo use."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import boto3
import pytest

from buildorch.oci.reference import ImageRef
from buildorch.oci.registry import RegistryClient
from tests.conftest import REPO

pytestmark = pytest.mark.engine


def test_status_reports_every_service(engine: str) -> None:
    result = subprocess.run([str(REPO / "scripts" / "stack"), "status"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    for service in ("dockerd", "registry", "s3"):
        assert any(line.split()[:2] == [service, "running"] for line in result.stdout.splitlines())


def test_builds_from_the_busybox_base_and_pushes_to_the_registry(engine: str,
                                                               tmp_path: Path) -> None:
    base = os.environ["BUILDORCH_BASE_IMAGE"]
    token = uuid.uuid4().hex[:12]
    (tmp_path / "Dockerfile").write_text(f"FROM {base}\nRUN echo {token} > /token && "
                                         "busybox | head -1\n")
    tag = f"{os.environ['BUILDORCH_REGISTRY']}/stacktest/{token}:1"
    subprocess.run(["docker", "buildx", "build", "--progress", "plain", "--tag", tag, "--push",
                    str(tmp_path)], check=True, capture_output=True, text=True, timeout=300)
    ref = ImageRef.parse(tag)
    assert RegistryClient(ref.host).tags(ref.repository) == ["1"]


def test_s3_server_answers(engine: str) -> None:
    s3 = boto3.client("s3", endpoint_url=os.environ["BUILDORCH_S3_ENDPOINT"])
    bucket = f"stacktest-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
