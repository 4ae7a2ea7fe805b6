"""What an image is made of, from the local store's `image inspect` or a registry."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar

import pytest

from buildorch.backends.docker import DockerBackend
from buildorch.oci.registry import Manifest, RegistryError, digest_of
from buildorch.run.repro import image_facts
from buildorch.run.repro.image_facts import (
    ImageFacts,
    current_digest,
    facts_of,
    registry_facts,
    stored_facts,
)

LAYER = "sha256:" + "a" * 64
ID = "sha256:" + "1" * 64
# As `docker image inspect --format '{{json .}}'` printed it on the stack (containerd store).
INSPECT = {"Id": ID, "RepoTags": ["r/api:1"], "Created": "2026-12-01T05:53:56.345924418Z",
           "Config": {"Env": ["PATH=/bin"], "Cmd": ["sh"], "Labels": None},
           "Architecture": "amd64", "Os": "linux", "RootFS": {"Type": "layers",
                                                              "Layers": [LAYER]}}
CONFIG = {"created": "2026-12-01T05:53:56.345924418Z", "architecture": "amd64", "os": "linux",
          "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"], "WorkingDir": ""},
          "rootfs": {"type": "layers", "diff_ids": [LAYER]}, "history": []}


def test_inspect_output_and_an_oci_config_give_the_same_facts() -> None:
    stored = facts_of(INSPECT, "here")
    pushed = facts_of(CONFIG, "there")
    assert stored is not None and pushed is not None
    assert stored.layers == (LAYER,) and stored.platform == "linux/amd64"
    assert stored.config == (("Cmd", '["sh"]'), ("Env", '["PATH=/bin"]'))  # empty ones left out
    assert (stored.layers, stored.created, stored.config, stored.platform) == (
        pushed.layers, pushed.created, pushed.config, pushed.platform)
    assert facts_of({"Id": ID}, "here") is None


class PrintingBackend(DockerBackend):
    """Its `image inspect` prints what a test gives, as docker would (found ones, errors)."""

    def __init__(self, output: str) -> None:
        self.output = output
        self.asked: list[str] = []

    def stored_argv(self, refs: Sequence[str], address: str | None) -> list[str]:
        self.asked = list(refs)
        return ["sh", "-c", 'printf "%s" "$0"; exit 1', self.output]


def test_the_local_store_is_asked_once_for_every_digest() -> None:
    backend = PrintingBackend(json.dumps(INSPECT) + "\nError: No such image: sha256:2\nnoise\n")
    found = stored_facts(backend, [ID, "sha256:2", ID], None)
    assert backend.asked == [ID, "sha256:2"]
    assert list(found) == [ID] and found[ID].where == "the local image store"
    assert stored_facts(backend, [], None) == {}


class FakeRegistry:
    """A registry holding an index (an image and its attestation) and their blobs."""

    blobs: ClassVar[dict[str, bytes]] = {}
    manifests: ClassVar[dict[str, Manifest]] = {}

    def __init__(self, host: str) -> None:
        self.host = host

    def manifest(self, repository: str, reference: str) -> Manifest | None:
        if repository == "broken/api":
            raise RegistryError("registry unreachable")
        return self.manifests.get(f"{repository}@{reference}")

    def blob(self, repository: str, digest: str) -> bytes | None:
        return self.blobs.get(digest)


def registry_with_index(monkeypatch: pytest.MonkeyPatch) -> str:
    config = json.dumps(CONFIG).encode()
    image = json.dumps({"config": {"digest": digest_of(config)}, "layers": []}).encode()
    attestation = json.dumps({"config": {"digest": "sha256:none"}}).encode()
    index = json.dumps({"manifests": [
        {"digest": digest_of(attestation), "platform": {"os": "unknown",
                                                         "architecture": "unknown"}},
        {"digest": digest_of(image), "platform": {"os": "linux", "architecture": "amd64"}},
    ]}).encode()
    oci = "application/vnd.oci.image."
    FakeRegistry.blobs = {digest_of(config): config}
    FakeRegistry.manifests = {
        f"shop/api@{digest_of(index)}": Manifest(f"{oci}index.v1+json", index, digest_of(index)),
        f"shop/api@{digest_of(image)}": Manifest(f"{oci}manifest.v1+json", image,
                                                 digest_of(image)),
    }
    monkeypatch.setattr(image_facts, "RegistryClient", FakeRegistry)
    return digest_of(index)


def test_a_pushed_index_is_read_through_its_platform_s_manifest(
        monkeypatch: pytest.MonkeyPatch) -> None:
    index = registry_with_index(monkeypatch)
    found = registry_facts(["r.example/broken/api:1", "not a ref!", "r.example/shop/api:1",
                            "r.example/shop/api:2"], index, "linux/amd64")
    assert isinstance(found, ImageFacts)
    assert found.layers == (LAYER,) and found.where == "r.example/shop/api"
    assert registry_facts(["r.example/shop/api:1"], "sha256:" + "9" * 64) is None


def test_what_a_tag_names_now_is_asked_of_its_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    index = registry_with_index(monkeypatch)
    FakeRegistry.manifests["shop/api@1"] = FakeRegistry.manifests[f"shop/api@{index}"]
    FakeRegistry.manifests["shop/api@latest"] = Manifest("x", b"{}", "")
    assert current_digest("r.example/shop/api:1") == index
    assert current_digest("r.example/shop/api") == digest_of(b"{}")  # no header: its bytes
    assert current_digest("r.example/shop/api:2") is None
    assert current_digest("r.example/broken/api:1") is None  # the registry does not answer
