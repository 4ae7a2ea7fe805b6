"""An image built per platform joined into one index: the run-scoped push names, reading the
index back, and on the stack, amd64 and 386 built, pushed, joined and checked through the
registry API, and pushes that fail (no registry, another digest than built).

The imagetools argv follows docker/buildx commands/imagetools/create.go (tests/backends/
test_imagetools.py is its contract test)."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from buildorch import proc
from buildorch.backends.request import BuilderTls
from buildorch.oci.reference import ImageRef
from buildorch.oci.registry import RegistryClient, digest_of
from buildorch.run import platform_index as pi
from buildorch.run.platform_index import (
    PlatformBuild,
    PlatformIndexError,
    PushedPlatform,
    index_manifests,
    join,
    platform_manifests,
    push_platform,
    push_ref,
)

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64
D = "sha256:" + "d" * 64
RUN = "20261201T132430.088Z-cfaa35"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def index_bytes(*entries: tuple[str, str]) -> bytes:
    """An index as BuildKit and imagetools write it: each platform's manifest, followed by
    its attestation manifest (platform unknown/unknown, naming the manifest it is about)."""
    manifests: list[dict[str, object]] = []
    for platform, digest in entries:
        os_name, arch, *variant = platform.split("/")
        where = {"architecture": arch, "os": os_name} | (
            {"variant": variant[0]} if variant else {})
        manifests.append({"mediaType": OCI_MANIFEST, "digest": digest, "size": 1,
                          "platform": where})
        manifests.append({"mediaType": OCI_MANIFEST, "digest": "sha256:" + "e" * 64,
                          "size": 1, "platform": {"architecture": "unknown", "os": "unknown"},
                          "annotations": {"vnd.docker.reference.digest": digest,
                                          "vnd.docker.reference.type": "attestation-manifest"}})
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                       "manifests": manifests}, indent=2).encode()


# --- the run-scoped push name ----------------------------------------------------------------

def test_the_push_name_is_run_scoped_in_the_first_tags_repository() -> None:
    tags = ["localhost:5000/shop/api:1.2", "other.io/api:1.2"]
    assert push_ref(tags, RUN, "api", "linux/386") == (
        f"localhost:5000/shop/api:buildorch-{RUN}-api-linux-386")
    assert push_ref(tags, RUN, "api", "linux/arm/v7").endswith("-api-linux-arm-v7")


def test_the_push_name_of_two_images_or_platforms_differs() -> None:
    tags = ["r/app:1"]
    names = {push_ref(tags, RUN, image, platform) for image in ("app", "app-debug")
             for platform in ("linux/amd64", "linux/386")}
    assert len(names) == 4


def test_a_push_name_too_long_for_a_tag_is_a_digest_of_what_it_names() -> None:
    ref = push_ref(["r/app:1"], RUN, "x" * 200, "linux/amd64")
    tag = ImageRef.parse(ref).tag
    assert tag is not None and len(tag) == len("buildorch-") + 32
    assert ref != push_ref(["r/app:1"], RUN, "x" * 200, "linux/386")


def test_an_image_without_a_tag_has_no_repository_to_push_to() -> None:
    with pytest.raises(PlatformIndexError, match="needs a tag"):
        push_ref([], RUN, "app", "linux/amd64")


# --- reading the index back ------------------------------------------------------------------

def test_the_index_holds_each_platforms_manifest_attestations_aside() -> None:
    media_type, found = index_manifests(index_bytes(("linux/amd64", A), ("linux/386", B)))
    assert media_type == OCI_INDEX
    assert found == {"linux/amd64": [A], "linux/386": [B]}


def test_platforms_compare_as_containerd_normalises_them() -> None:
    pushed = [PushedPlatform("linux/x86_64", "one", "r/a:x", C),
              PushedPlatform("linux/i386", None, "r/a:y", D)]
    _, found = index_manifests(index_bytes(("linux/amd64", A), ("linux/386", B)))
    assert platform_manifests(pushed, found) == (
        pi.PlatformManifest("linux/x86_64", "one", A, C),
        pi.PlatformManifest("linux/i386", None, B, D))


@pytest.mark.parametrize(("entries", "message"), [
    ((("linux/amd64", A),), "linux/386 is missing"),
    ((("linux/amd64", A), ("linux/386", B), ("linux/386", C)),
     "linux/386 is there more than once"),
    ((("linux/amd64", A), ("linux/386", B), ("linux/arm64", C)),
     "linux/arm64 was not asked for"),
])
def test_the_index_must_hold_each_platform_built_once_and_no_other(
        entries: tuple[tuple[str, str], ...], message: str) -> None:
    pushed = [PushedPlatform("linux/amd64", None, "r/a:x", C),
              PushedPlatform("linux/386", None, "r/a:y", D)]
    _, found = index_manifests(index_bytes(*entries))
    with pytest.raises(PlatformIndexError, match=message):
        platform_manifests(pushed, found)


def test_not_an_index_is_said_so() -> None:
    with pytest.raises(PlatformIndexError, match="not an image index"):
        index_manifests(b'{"schemaVersion": 2, "config": {}}')


def test_the_digest_is_the_registrys_and_must_be_what_imagetools_pushed() -> None:
    raw = index_bytes(("linux/amd64", A))
    digest = digest_of(raw)
    tags = ["localhost:5000/app:1", "app:2"]
    logged = {"localhost:5000/app:1": digest, "docker.io/library/app:2": digest}
    assert pi.joined_digest(raw, logged, tags) == digest
    assert pi.joined_digest(raw, {}, tags) == digest  # a log without the line: trust the bytes
    with pytest.raises(PlatformIndexError, match=f"holds {digest}, but imagetools pushed"):
        pi.joined_digest(raw, {"docker.io/library/app:2": A}, tags)


# --- refused before anything runs ----------------------------------------------------------

def test_a_tls_server_name_is_refused_before_anything_runs() -> None:
    build = PlatformBuild("linux/amd64", "local/app:r1", "tcp://two:2376",
                          BuilderTls("/c/ca.pem", server_name="buildkitd"))
    with pytest.raises(PlatformIndexError, match="server_name"):  # no daemon there to ask
        push_platform(build, ["r:5000/app:1"], "r1", "app")


def test_join_of_nothing_is_refused() -> None:
    with pytest.raises(PlatformIndexError, match="nothing to join"):
        join(["r:5000/app:1"], [])


# --- on the stack ----------------------------------------------------------------------------

def docker_run(*args: str) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False,
                          timeout=300)
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout


@pytest.mark.engine
@pytest.mark.parametrize("provenance", ["default", "off"])
def test_amd64_and_386_end_up_as_one_index_in_the_registry(
        engine: str, tmp_path: Path, provenance: str) -> None:
    """Acceptance of issue 14's fourth deliverable. The stack's busybox is amd64 only; a
    386 build on it still gets a 386 config (BuildKit takes a lone manifest for any
    platform, and its binary runs on x86-64). With buildx's default provenance the stored
    image is a one-platform index (Docker's containerd store), without it one manifest."""
    marker = uuid.uuid4().hex[:12]
    (tmp_path / "Dockerfile").write_text(
        f"FROM localhost:5000/busybox:latest\nARG TARGETPLATFORM\n"
        f"RUN echo {marker} $TARGETPLATFORM > /platform\n")
    run_id = f"test-{marker}"
    repository = f"bo-test/platform-index-{marker}"
    tags = [f"localhost:5000/{repository}:v1", f"localhost:5000/{repository}:latest"]
    flags = ["--provenance=false"] if provenance == "off" else []
    builds = []
    try:
        for platform in ("linux/amd64", "linux/386"):
            source = f"buildorch.local/pitest/app:{run_id}-{platform.replace('/', '-')}"
            docker_run("buildx", "build", "--platform", platform, *flags, "--load",
                       "--tag", source, str(tmp_path))
            builds.append(PlatformBuild(platform, source, builder="default"))
        stored = [docker_run("image", "inspect", "--format", "{{.Id}}", b.source).strip()
                  for b in builds]
        pushed = [push_platform(b, tags, run_id, "app", expected=digest)
                  for b, digest in zip(builds, stored, strict=True)]
        index = join(tags, pushed)
    finally:
        subprocess.run(["docker", "image", "rm", *(b.source for b in builds)],
                       capture_output=True, check=False)
    client = RegistryClient("localhost:5000")
    for tag in tags:
        held = client.manifest(repository, ImageRef.parse(tag).tag or "")
        assert held is not None and held.digest == index.digest
        assert held.media_type in pi.INDEX_TYPES
    assert held is not None
    _, found = index_manifests(held.body)
    assert found == {"linux/amd64": [index.platforms[0].digest],
                     "linux/386": [index.platforms[1].digest]}
    for entry, arch in zip(index.platforms, ("amd64", "386"), strict=True):
        assert entry.builder == "default"
        manifest = client.manifest(repository, entry.digest)
        assert manifest is not None
        config = client.blob(repository, json.loads(manifest.body)["config"]["digest"])
        assert config is not None
        assert (json.loads(config)["os"], json.loads(config)["architecture"]) == ("linux", arch)
    # the run-scoped names are in the registry, not in the local store
    assert {p.ref.rsplit(":", 1)[1] for p in pushed} <= set(client.tags(repository))
    for p in pushed:
        assert subprocess.run(["docker", "image", "inspect", p.ref], capture_output=True,
                              check=False).returncode != 0


def one_platform_image(tmp_path: Path, name: str) -> str:
    marker = uuid.uuid4().hex[:12]
    (tmp_path / "Dockerfile").write_text(f"FROM localhost:5000/busybox:latest\n"
                                         f"RUN echo {marker} > /m\n")
    source = f"buildorch.local/pitest/{name}:{marker}"
    docker_run("buildx", "build", "--platform", "linux/amd64", "--load", "--tag", source,
               str(tmp_path))
    return source


def stored(ref: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", ref], capture_output=True,
                          check=False).returncode == 0


@pytest.mark.engine
def test_a_failed_push_still_untags_the_registry_name(engine: str, tmp_path: Path) -> None:
    source = one_platform_image(tmp_path, "nowhere")
    tags = ["localhost:1/bo-test/nowhere:1"]  # nothing listens there
    try:
        with pytest.raises(proc.CommandError):
            push_platform(PlatformBuild("linux/amd64", source), tags, "r1", "app")
        assert not stored(push_ref(tags, "r1", "app", "linux/amd64"))
    finally:
        subprocess.run(["docker", "image", "rm", source], capture_output=True, check=False)


@pytest.mark.engine
def test_a_push_of_another_digest_than_built_fails(engine: str, tmp_path: Path) -> None:
    source = one_platform_image(tmp_path, "other")
    marker = uuid.uuid4().hex[:12]
    tags = [f"localhost:5000/bo-test/platform-other-{marker}:1"]
    try:
        with pytest.raises(PlatformIndexError, match=f"was pushed as sha256:[0-9a-f]{{64}}, "
                                                     f"not the {B}"):
            push_platform(PlatformBuild("linux/amd64", source), tags, "r1", "app", expected=B)
        assert not stored(push_ref(tags, "r1", "app", "linux/amd64"))
    finally:
        subprocess.run(["docker", "image", "rm", source], capture_output=True, check=False)
