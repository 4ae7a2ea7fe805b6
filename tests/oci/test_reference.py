"""The one image-reference parser: Docker's normalisation, repositories, registry hosts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from buildorch.oci.reference import ImageRef, normalize_ref, repository_of


def test_normalize_ref() -> None:
    assert normalize_ref("busybox") == "docker.io/library/busybox:latest"
    assert normalize_ref("me/app:1") == "docker.io/me/app:1"
    assert normalize_ref("localhost:5000/x") == "localhost:5000/x:latest"
    assert normalize_ref("localhost/x:2") == "localhost/x:2"
    assert normalize_ref("r.io/x@sha256:ab") == "r.io/x@sha256:ab"


def test_repository_of_keeps_a_registry_port() -> None:
    assert repository_of("localhost:5000/base:dev") == "localhost:5000/base"
    assert repository_of("base") == "base"
    assert repository_of("r/base@sha256:abc") == "r/base"


def test_docker_hub_has_one_spelling_for_its_api_host() -> None:
    for ref in ("busybox", "library/busybox:1", "docker.io/library/busybox:1",
                "docker.io/me/app@sha256:ab"):
        parsed = ImageRef.parse(ref)
        assert (parsed.domain, parsed.host) == ("docker.io", "registry-1.docker.io"), ref
    assert ImageRef.parse("busybox").repository == "library/busybox"
    assert ImageRef.parse("docker.io/me/app").repository == "me/app"
    # an official image spelled with its host is still under library/
    assert ImageRef.parse("docker.io/busybox:1").normalized() == "docker.io/library/busybox:1"
    assert ImageRef.parse("index.docker.io/busybox").tagged_name() == (
        "docker.io/library/busybox:latest")
    local = ImageRef.parse("localhost:5000/shop/base:dev@sha256:ab")
    assert (local.host, local.repository, local.tag, local.digest) == (
        "localhost:5000", "shop/base", "dev", "sha256:ab")


COMPONENT = st.from_regex(r"[a-z0-9]+([._-][a-z0-9]+)?", fullmatch=True)
DOMAIN = st.sampled_from(["", "localhost/", "localhost:5000/", "reg.io/", "reg.io:443/",
                          "docker.io/"])
TAG = st.one_of(st.just(""), st.from_regex(r":[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}",
                                           fullmatch=True))
DIGEST = st.sampled_from(["", "@sha256:" + "ab" * 32])


@given(DOMAIN, st.lists(COMPONENT, min_size=1, max_size=3), TAG, DIGEST)
def test_normalising_is_idempotent_and_keeps_the_reference(
        domain: str, path: list[str], tag: str, digest: str) -> None:
    ref = domain + "/".join(path) + tag + digest
    full = normalize_ref(ref)
    assert normalize_ref(full) == full
    again = ImageRef.parse(full)
    parsed = ImageRef.parse(ref)
    assert (again.host, again.repository, again.digest) == (
        parsed.host, parsed.repository, parsed.digest)
    assert again.tag == (tag[1:] or (None if digest else "latest"))
    assert repository_of(ref) == domain + "/".join(path)


@pytest.mark.parametrize(("ref", "path"), [
    ("localhost:5000/shop/base:1", "shop/base"),
    ("shop/base", "shop/base"),
    ("docker.io/shop/base@sha256:" + "a" * 64, "shop/base"),
    ("busybox", "busybox"),
    ("docker.io/library/busybox:1.36", "busybox"),
    ("library/busybox", "busybox"),
    ("docker.io/library/a/b", "library/a/b"),
    ("localhost:5000/busybox", "busybox"),
])
def test_familiar_path_is_the_path_after_the_registry_as_docker_shows_it(
        ref: str, path: str) -> None:
    assert ImageRef.parse(ref).familiar_path() == path
