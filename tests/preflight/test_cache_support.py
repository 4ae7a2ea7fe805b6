from __future__ import annotations

from buildorch.preflight.cache_support import cache_type_needed

DOCKER_CONTAINERD = frozenset({"registry", "local", "inline", "gha"})


def test_s3_through_sync_needs_only_local_export() -> None:
    assert cache_type_needed("s3", "sync", DOCKER_CONTAINERD) == "local"
    assert cache_type_needed("s3", "auto", DOCKER_CONTAINERD) == "local"
    assert cache_type_needed("s3", "native", DOCKER_CONTAINERD) == "s3"


def test_native_s3_where_supported() -> None:
    assert cache_type_needed("s3", "auto", frozenset({"s3", "local"})) == "s3"


def test_other_types_need_themselves() -> None:
    assert cache_type_needed("registry", "auto", frozenset({"inline"})) == "registry"
