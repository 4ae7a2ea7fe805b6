"""bake_file's definitions run by the local stack's `docker buildx bake` (buildx 0.13.1, Docker
26.1's BuildKit, containerd image store): what buildorch/backends/bake_file.py asserts from the
docker/buildx sources it cites (bake/bake.go, bake/hcl.go, controller/build/build.go,
controller/pb/path.go), checked against the tool."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from buildorch.backends.bake_file import bake_argv, bake_definition, bake_problem, bake_target
from buildorch.backends.docker import docker_argv
from buildorch.backends.request import AttrSpec, BuildRequest, SecretRef, Ulimit
from tests.conftest import image_file

pytestmark = pytest.mark.engine

BASE = os.environ.get("BUILDORCH_BASE_IMAGE", "localhost:5000/busybox:latest")
REGISTRY = os.environ.get("BUILDORCH_REGISTRY", "localhost:5000")
DISABLED = AttrSpec.parse("type=provenance,disabled=true")
SECRET_ENV = "BO_BAKE_TEST_SECRET"


def run(argv: list[str], cwd: Path | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def docker(*args: str) -> str:
    done = run(["docker", *args])
    assert done.returncode == 0, (args, done.stderr[-2000:])
    return done.stdout.strip()


def filesystem(ref: str) -> bytes:
    """The image's whole file system, uncompressed (`docker export` of a created container)."""
    container = docker("create", ref, "/bin/true")
    try:
        return subprocess.run(["docker", "export", container], check=True,
                              capture_output=True, timeout=120).stdout
    finally:
        docker("rm", container)


@pytest.fixture
def tags(engine: str) -> Iterator[list[str]]:
    """Tags the test creates, removed afterwards."""
    created: list[str] = []
    yield created
    for tag in created:
        run(["docker", "image", "rm", "-f", tag])


def write(folder: Path, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(text)


def test_chain_of_three_links_in_one_bake(tmp_path: Path, tags: list[str]) -> None:
    """a -> b -> c through `target:` contexts, each loaded under its tag; bake run from a
    folder whose docker-bake.hcl and compose file would rename everything if bake read them."""
    uid = uuid.uuid4().hex[:12]
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    greeting = f"hello ${{HOME}} %{{ x }} {uid}"  # bake's templates, as plain text
    write(tmp_path / "a", f"FROM {BASE}\nARG GREETING\n"
          'RUN echo "$GREETING" > /a.txt\n'
          "RUN --mount=type=secret,id=tok,required=true "
          "sha256sum /run/secrets/tok | cut -d' ' -f1 > /tok.sha256\n")
    write(tmp_path / "b", "FROM dep\nRUN cp /a.txt /b.txt\n")
    write(tmp_path / "c", "FROM dep\nRUN cat /b.txt && echo c > /c.txt\n")
    names = {link: f"bo-bake-{uid}-{link}:1" for link in "abc"}
    tags.extend(names.values())
    pinned = "docker-image://buildorch.local/never/pulled:1"  # replaced by the link
    requests = {
        "a": BuildRequest(name="a", context="a", dockerfile="a/Dockerfile", load=True,
                          tags=(names["a"],), args=(("GREETING", greeting),),
                          secrets=(SecretRef("tok", env=SECRET_ENV),),
                          labels=(("org.example.chain", f"a ${{x}} {uid}"),),
                          attest=(DISABLED,)),
        "b": BuildRequest(name="b", context="b", dockerfile="b/Dockerfile", load=True,
                          tags=(names["b"],), named_contexts=(("dep", pinned),),
                          attest=(DISABLED,)),
        # c with buildx's default provenance: the stored image is an index
        "c": BuildRequest(name="c", context="c", dockerfile="c/Dockerfile", load=True,
                          tags=(names["c"],), named_contexts=(("dep", pinned),)),
    }
    links = {"a": {}, "b": {"dep": "a"}, "c": {"dep": "b"}}
    targets = {name: bake_target(req, tmp_path, links[name]) for name, req in requests.items()}
    file = tmp_path / "run" / "chain.json"
    file.parent.mkdir()
    file.write_text(json.dumps(bake_definition(targets)))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "docker-bake.hcl").write_text(
        'target "b" {\n  tags = ["bo-bake-decoy:1"]\n  args = { GREETING = "decoy" }\n}\n')
    (elsewhere / "compose.yaml").write_text("services:\n  a:\n    image: bo-bake-decoy:2\n")
    metadata = tmp_path / "run" / "metadata.json"
    argv = bake_argv(str(file), ["a", "b", "c"], str(metadata), None)
    done = run(argv, cwd=elsewhere, env={**os.environ, SECRET_ENV: secret})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert secret not in output and "bo-bake-decoy" not in output
    # each link in the store under its tag, and the metadata's digest is the stored one
    results = json.loads(metadata.read_text())
    assert set(results) == {"a", "b", "c"}
    for name, tag in names.items():
        assert results[name]["containerimage.digest"] == docker(
            "image", "inspect", "--format", "{{.Id}}", tag)
    assert secret not in metadata.read_text()
    # b and c were built on their link's result of this very bake
    line = f"{greeting}\n"
    assert image_file(names["a"], "/a.txt") == line
    assert image_file(names["b"], "/b.txt") == line and image_file(names["c"], "/b.txt") == line
    assert image_file(names["c"], "/c.txt") == "c\n"
    # the secret reached the RUN step, and stayed out of the image
    digest = hashlib.sha256(secret.encode()).hexdigest()
    assert image_file(names["a"], "/tok.sha256") == f"{digest}\n"
    assert secret.encode() not in filesystem(names["a"])
    inspected = docker("image", "inspect", names["a"])
    assert secret not in inspected
    labels = json.loads(docker("image", "inspect", "--format", "{{json .Config.Labels}}",
                               names["a"]))
    assert labels["org.example.chain"] == f"a ${{x}} {uid}"


def test_run_limits_image_attributes_annotations_and_no_provenance(
        tmp_path: Path, engine: str) -> None:
    """The fields bake carries besides the chain's, pushed to the local registry: as
    tests/backends/test_docker_engine.py checks them for docker_argv."""
    write(tmp_path / "ctx", f"FROM {BASE} AS deps\nRUN echo deps-ran\nFROM deps\n"
          "RUN df -k /dev/shm | tail -1 && ulimit -n && ulimit -Hn\n")
    tag = f"{REGISTRY}/bo-test/bake-{uuid.uuid4().hex[:12]}:1"
    request = BuildRequest(
        name="one", context="ctx", dockerfile="ctx/Dockerfile", tags=(tag,), push=True,
        no_cache_filter=("deps",), pull=True, shm_size=96 << 20,
        ulimits=(Ulimit("nofile", 1024, 2048),),
        image_attrs=(("compression", "zstd"), ("oci-mediatypes", "true")),
        annotations=(("org.example.built-by", "buildorch ${bake}"),), attest=(DISABLED,))
    file = tmp_path / "one.json"
    file.write_text(json.dumps(bake_definition({"one": bake_target(request, tmp_path, {})})))
    done = run(bake_argv(str(file), ["one"], str(tmp_path / "m.json"), None), cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "deps-ran" in output  # the no-cache-filter stage ran again
    assert "98304" in output  # /dev/shm in KiB
    assert " 1024\n" in output and " 2048\n" in output
    repository, _, reference = tag.removeprefix(f"{REGISTRY}/").rpartition(":")
    url = f"http://{REGISTRY}/v2/{repository}/manifests/{reference}"
    accept = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": accept})) as r:
        pushed = json.load(r)
    assert pushed["mediaType"] == "application/vnd.oci.image.manifest.v1+json"  # no index
    assert pushed["annotations"] == {"org.example.built-by": "buildorch ${bake}"}
    assert [layer["mediaType"] for layer in pushed["layers"]][-2:] == [
        "application/vnd.oci.image.layer.v1.tar+zstd"] * 2


def test_network_and_extra_hosts_keys_are_ignored_by_bake_0_13(tmp_path: Path,
                                                               engine: str) -> None:
    """Why bake_problem refuses them: a JSON target's `network` and `extra-hosts` are dropped
    without an error (a RUN still sees a network interface and no extra host)."""
    write(tmp_path, f"FROM {BASE}\nRUN echo IFACES $(grep -c : /proc/net/dev) "
          "&& echo HOSTS $(grep -c db.internal /etc/hosts || true)\n")
    target = {"context": str(tmp_path), "network": "none", "no-cache": True,
              "extra-hosts": {"db.internal": "10.9.8.7"}, "output": ["type=cacheonly"]}
    file = tmp_path / "net.json"
    file.write_text(json.dumps(bake_definition({"net": target})))
    done = run(bake_argv(str(file), ["net"], str(tmp_path / "m.json"), None), cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "IFACES 2" in output and "HOSTS 0" in output  # lo and eth0; no db.internal


# text with HCL's template markers and their escapes among any other characters
PRINTABLE = st.lists(st.one_of(
    st.sampled_from(["${", "%{", "$${", "%%{", "$", "%", "}", "${x}", '"', "\\", "\n"]),
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=4),
), max_size=6).map("".join)


@settings(max_examples=25, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(args=st.dictionaries(PRINTABLE, PRINTABLE, max_size=4),
       labels=st.dictionaries(PRINTABLE, PRINTABLE, max_size=3),
       annotation=PRINTABLE, target=PRINTABLE)
def test_bake_reads_back_every_string_as_written(tmp_path: Path, engine: str,
                                                 args: dict[str, str], labels: dict[str, str],
                                                 annotation: str, target: str) -> None:
    """`docker buildx bake --print` shows the values bake parsed from the file: bake_target's,
    whatever `${`, `%{`, `$$` or quotes they hold."""
    request = BuildRequest(name="p", context="ctx", dockerfile="ctx/Dockerfile",
                           target=target or None, args=tuple(args.items()),
                           labels=tuple(labels.items()),
                           annotations=(("org.example.a", annotation),))
    assume(bake_problem(request) is None)  # what bake cannot read back is never baked
    written = bake_target(request, tmp_path, {})
    file = tmp_path / "print.json"
    file.write_text(json.dumps(bake_definition({"p": written})))
    done = run(["docker", "buildx", "bake", "-f", str(file), "--print", "p"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = json.loads(done.stdout)["target"]["p"]
    for key in ("args", "labels", "annotations", "target", "context", "dockerfile"):
        assert printed.get(key) == written.get(key), key


def test_same_request_through_build_and_bake_gives_the_same_image(tmp_path: Path,
                                                                  tags: list[str]) -> None:
    """docker_argv and bake_target of one request, both loaded: one image config (labels,
    args' effect, the Dockerfile target), as far as a second build can say it."""
    write(tmp_path / "ctx", f"FROM {BASE} AS one\nARG V\nRUN echo \"$V\" > /v\n"
          "FROM one AS two\nLABEL stage=two\n")
    uid = uuid.uuid4().hex[:12]
    built, baked = f"bo-bake-{uid}-build:1", f"bo-bake-{uid}-bake:1"
    tags.extend((built, baked))
    request = BuildRequest(name="same", context="ctx", dockerfile="ctx/Dockerfile",
                           target="one", args=(("V", "x ${y} 1"),), labels=(("l", "1"),),
                           load=True, attest=(DISABLED,))
    done = run(docker_argv(dataclasses.replace(request, tags=(built,))), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    file = tmp_path / "same.json"
    target = bake_target(dataclasses.replace(request, tags=(baked,)), tmp_path, {})
    file.write_text(json.dumps(bake_definition({"same": target})))
    done = run(bake_argv(str(file), ["same"], str(tmp_path / "m.json"), None), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert image_file(built, "/v") == image_file(baked, "/v") == "x ${y} 1\n"
    configs = [json.loads(docker("image", "inspect", "--format", "{{json .Config}}", ref))
               for ref in (built, baked)]
    assert configs[0] == configs[1] and configs[0]["Labels"] == {"l": "1"}
