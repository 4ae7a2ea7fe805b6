"""The local stack (scripts/stack) that every engine test, benchmark and the demo use."""

from __future__ import annotations

import ipaddress
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


# The second engine (`scripts/stack up --second`), for tests of a two-builder pool.

def second_engine_host() -> str:
    """The second engine's DOCKER_HOST; skips (or fails where it is required) without it."""
    host = os.environ.get("BUILDORCH_SECOND_DOCKER_HOST", "")
    reason = ""
    if not host:
        reason = ("BUILDORCH_SECOND_DOCKER_HOST is not set (run: scripts/stack up --second; "
                  "eval \"$(scripts/stack env)\")")
    else:
        info = subprocess.run(["docker", "--host", host, "info", "--format",
                               "{{.ServerVersion}}"], capture_output=True, text=True,
                              check=False)
        if info.returncode != 0:
            reason = f"the second engine at {host} does not answer: {info.stderr.strip()[:200]}"
    if reason:
        if os.environ.get("BUILDORCH_REQUIRE_SECOND_ENGINE") == "1":
            pytest.fail(f"second engine required but unavailable: {reason}")
        pytest.skip(f"no second engine: {reason}")
    return host


def run_step_address(host: str, context: Path, out: Path) -> str:
    """Build `context` on the engine at `host`; the RUN step's eth0 address (a.b.c.d/nn)."""
    subprocess.run(["docker", "--host", host, "buildx", "build", "--no-cache", "--progress",
                    "plain", "--output", f"type=local,dest={out}", str(context)],
                   check=True, capture_output=True, text=True, timeout=300)
    return (out / "addr").read_text().split()[3]


def test_second_engine_builds_beside_the_first_on_a_bridge_of_its_own(
        engine: str, tmp_path: Path) -> None:
    second = second_engine_host()
    first = os.environ["DOCKER_HOST"]
    # FROM the shared registry, and a RUN step that needs a network namespace on the
    # engine's bridge (a second daemon sharing or deleting the first one's bridge
    # breaks the first one's RUN steps: ../shared/ENGINE.md)
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text(
        f"FROM {os.environ['BUILDORCH_BASE_IMAGE']}\n"
        "RUN ip -4 -o addr show eth0 > /addr\n"
        "FROM scratch\nCOPY --from=0 /addr /addr\n")
    ids = {host: subprocess.run(["docker", "--host", host, "info", "--format", "{{.ID}}"],
                                check=True, capture_output=True, text=True).stdout.strip()
           for host in (first, second)}
    assert ids[first] != ids[second], "both hosts reach the same daemon"
    addresses = [run_step_address(host, tmp_path / "ctx", tmp_path / f"out{n}")
                 for n, host in enumerate((second, first))]
    networks = {str(ipaddress.ip_interface(address).network) for address in addresses}
    assert len(networks) == 2, f"both engines' RUN steps on one subnet: {addresses}"


def test_second_engine_pid_and_status(engine: str) -> None:
    second = second_engine_host()
    stack = str(REPO / "scripts" / "stack")
    pid = subprocess.run([stack, "pid", "dockerd2"], check=True, capture_output=True,
                         text=True).stdout.strip()
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    assert "dockerd" in cmdline and second.removeprefix("unix://") in cmdline
    status = subprocess.run([stack, "status"], capture_output=True, text=True, check=False)
    assert ["dockerd2", "running", "pid", pid] in [line.split()[:4]
                                                   for line in status.stdout.splitlines()]
