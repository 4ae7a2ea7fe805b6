"""The docker backend's argv for bake's fields, run by the local stack's `docker buildx build`
(buildx 0.13, Docker 26's BuildKit v0.13): what the argv contract tests assert from the
sources, checked against the tool."""

from __future__ import annotations

import dataclasses
import functools
import http.server
import json
import os
import subprocess
import tarfile
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from buildorch.backends.docker import docker_argv
from buildorch.backends.request import AttrSpec, BuildRequest, Ulimit

pytestmark = pytest.mark.engine

BASE = os.environ.get("BUILDORCH_BASE_IMAGE", "localhost:5000/busybox:latest")
REGISTRY = os.environ.get("BUILDORCH_REGISTRY", "localhost:5000")
MANIFEST_TYPES = ", ".join((
    "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json"))


def run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def manifest(tag: str) -> dict[str, object]:
    repository, _, reference = tag.removeprefix(f"{REGISTRY}/").rpartition(":")
    url = f"http://{REGISTRY}/v2/{repository}/manifests/{reference}"
    with urllib.request.urlopen(urllib.request.Request(url, headers={
            "Accept": MANIFEST_TYPES})) as response:
        result: dict[str, object] = json.load(response)
    return result


def test_run_limits_image_attributes_annotations_and_no_provenance(
        tmp_path: Path, engine: str) -> None:
    (tmp_path / "Dockerfile").write_text(
        f"FROM {BASE} AS deps\nRUN echo deps-ran\nFROM deps\n"
        "RUN grep db.internal /etc/hosts && df -k /dev/shm | tail -1 && ulimit -n && ulimit -Hn\n")
    tag = f"{REGISTRY}/bo-test/backends-{uuid.uuid4().hex[:12]}:1"
    request = BuildRequest(
        name="a", context=str(tmp_path), dockerfile=str(tmp_path / "Dockerfile"), tags=(tag,),
        push=True, no_cache_filter=("deps",), pull=True, shm_size=64 << 20,
        extra_hosts=(("db.internal", "10.9.8.7"),), ulimits=(Ulimit("nofile", 1024, 2048),),
        # no force-compression: it would leave a zstd variant of the shared base layer in
        # the engine, which later cache exports of the suite would carry
        image_attrs=(("compression", "zstd"), ("oci-mediatypes", "true")),
        annotations=(("org.example.built-by", "buildorch"),),
        attest=(AttrSpec.parse("type=provenance,disabled=true"),))
    output = run(docker_argv(request))
    assert "10.9.8.7\tdb.internal" in output and "deps-ran" in output
    assert "65536" in output  # /dev/shm in KiB
    assert " 1024\n" in output and " 2048\n" in output
    pushed = manifest(tag)
    # no index: buildx's default provenance was turned off, and no other attestation asked
    assert pushed["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert pushed["annotations"] == {"org.example.built-by": "buildorch"}
    layers = pushed["layers"]
    assert isinstance(layers, list) and layers
    # this build's layers zstd; the base's as the registry has it
    assert [layer["mediaType"] for layer in layers][-2:] == [
        "application/vnd.oci.image.layer.v1.tar+zstd"] * 2


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """A tarball context over HTTP on the loopback (dockerd shares this machine's network)."""
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {BASE}\nRUN echo from-the-remote-context\n")
    # ustar: BuildKit tells a tarball from a Dockerfile by its first 1024 bytes
    # (frontend/dockerui/context.go isArchive), which a pax header can fill.
    with tarfile.open(tmp_path / "ctx.tar", "w", format=tarfile.USTAR_FORMAT) as tar:
        tar.add(context / "Dockerfile", arcname="Dockerfile")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ctx.tar"
    server.shutdown()
    thread.join()


def test_remote_context_and_a_local_inline_dockerfile(served: str, tmp_path: Path,
                                                      engine: str) -> None:
    remote = BuildRequest(name="a", context=served, dockerfile="Dockerfile", no_cache=True)
    assert "from-the-remote-context" in run(docker_argv(remote))
    inline = tmp_path / "inline" / "a.Dockerfile"
    inline.parent.mkdir()
    inline.write_text(f"FROM {BASE}\nRUN echo from-the-inline-dockerfile\n")
    relative = os.path.relpath(inline)
    local = dataclasses.replace(remote, dockerfile=relative, dockerfile_inline=inline.read_text())
    output = run(docker_argv(local))
    assert "from-the-inline-dockerfile" in output and "from-the-remote-context" not in output
