"""The cache profile suggested for a compose cache_from/cache_to, read as buildx reads the
entries (docker/buildx util/buildflags/cache.go ParseCacheEntry)."""

from __future__ import annotations

import pytest

from buildorch.pipeline.compose_cache import cache_advice, repository_of

PLAIN = ("no per-image cache refs here: a cache profile (cache-config/NAME.yaml) holds every "
         "image's cache; set `cache: NAME` on the image")


@pytest.mark.parametrize(("field", "value", "suggested"), [
    ("cache_from", ["localhost:5000/cache/api:buildcache"],
     "cache-config/registry.yaml with `type: registry` and `ref: localhost:5000/cache/api` "
     "(each image then uses localhost:5000/cache/api:<image>-<branch>) and set "
     "`cache: registry`"),
    ("cache_to", ["type=registry,ref=r/c:t,mode=max"], "`ref: r/c` "),
    ("cache_from", ["alpine:latest", "corp/web_app:3.14"], "`ref: alpine` "),
    ("cache_from", ["type=local,src=/tmp/c"], "cache-config/local.yaml with `type: local` and "
                                               "`dir: /tmp/c`"),
    ("cache_to", ["type=local,dest=out/c"], "`dir: out/c`"),
    ("cache_from", ["type=gha"], "cache-config/gha.yaml with `type: gha` and set `cache: gha`"),
    ("cache_to", ["TYPE=s3,bucket=b,region=eu-west-1"], "`type: s3`, `bucket: b` and "
                                                         "`region: eu-west-1`"),
    ("cache_from", "type=inline", "`type: inline`"),
])
def test_the_profile_matching_what_compose_read(field: str, value: object,
                                                suggested: str) -> None:
    assert suggested in cache_advice(field, value)


def test_further_entries_are_counted() -> None:
    assert cache_advice("cache_from", ["a", "b", "c"]).endswith("(2 more entries left out)")
    assert cache_advice("cache_from", ["a,b"]).endswith("(1 more entry left out)")


@pytest.mark.parametrize("value", [[], [1], ["ref=x"], ["type=local"], ["type=s3"],
                                   ["type=weird,x=1"], ["type=registry,x"], {"a": 1}])
def test_nothing_to_suggest_still_says_what_to_do(value: object) -> None:
    assert cache_advice("cache_from", value) == PLAIN


@pytest.mark.parametrize(("ref", "repository"), [
    ("r/c:t", "r/c"), ("localhost:5000/c", "localhost:5000/c"),
    ("localhost:5000/c:t", "localhost:5000/c"), ("r/c@sha256:" + "a" * 64, "r/c"),
    ("r/c:t@sha256:" + "a" * 64, "r/c"), ("c", "c"),
])
def test_repository_of(ref: str, repository: str) -> None:
    assert repository_of(ref) == repository
