"""The one entry model: statistics, the protected-scope rule and expiry (pure)."""

from __future__ import annotations

from buildorch.cache.admin.entries import (
    age_days,
    expired,
    is_protected,
    protected_scopes,
    scope_keys,
    shared_size,
    stats,
)
from buildorch.cache.profiles import CacheProfile
from tests.cache.admin.fake_entries import registry_entry, s3_entry


def test_protected_scopes_are_the_default_and_export_branches_as_keys() -> None:
    profile = CacheProfile(type="registry", ref="localhost:5000/cache", default_branch="trunk",
                           export_branches=["release/1.0"])
    assert protected_scopes(profile) == {"trunk", "release-1.0"}
    assert scope_keys(["main", "feature/x", "main"]) == {"main", "feature-x"}


def test_a_split_entry_is_protected_by_its_scope_an_unsplit_one_by_its_name() -> None:
    keys = frozenset({"main", "release-1.0"})
    assert is_protected(registry_entry("app-main", "app", "main", {}), keys)
    assert not is_protected(registry_entry("app-x-main", "app", "x-main", {}), keys)
    assert is_protected(registry_entry("tool-main", None, None, {}), keys)
    assert is_protected(s3_entry("x-y-release-1.0", {}, 9, "native"), keys)
    assert not is_protected(s3_entry("x-y-feature", {}, 9, "native"), keys)


def test_expired_needs_a_known_age_over_the_limit_and_no_protection() -> None:
    keys = frozenset({"main"})
    assert expired(registry_entry("app-x", "app", "x", {}, age=8), 7, keys)
    assert not expired(registry_entry("app-x", "app", "x", {}, age=7), 7, keys)
    assert not expired(registry_entry("app-x", "app", "x", {}), 7, keys)  # unknown age
    assert not expired(registry_entry("app-main", "app", "main", {}, age=30), 7, keys)
    assert expired(s3_entry("shop/api/x", {}, 8), 7, keys)


def test_an_export_in_the_future_is_age_zero() -> None:
    assert age_days(-60) == 0.0
    assert age_days(86400 * 1.5) == 1.5


def test_stats_per_image_then_scope_with_shared_blobs_once() -> None:
    entries = [
        s3_entry("shop/api/main", {"a": 100, "b": 10}, 2),
        s3_entry("shop-api-main", {"n": 5}, 1, "native", split=("shop", "api", "main")),
        s3_entry("shop/api/feature-x", {"a": 100, "c": 20}, 0.5),
        s3_entry("a-b-c-d", {"z": 7}, 3, "native"),
        s3_entry("shop/web/main", {"a": 100}, 4),
    ]
    api, web, unsplit = stats(entries)
    assert (api.pipeline, api.image, api.entries, api.size) == ("shop", "api", 3, 135)
    assert [(s.scope, s.entries, s.size, s.blobs, s.age_days, s.kinds) for s in api.scopes] == [
        ("feature-x", 1, 120, 2, 0.5, ("sync",)),
        ("main", 2, 115, 3, 1, ("native", "sync"))]
    assert (web.image, web.size) == ("web", 100)
    assert (unsplit.pipeline, unsplit.image, [s.scope for s in unsplit.scopes]) == (
        None, None, ["a-b-c-d"])
    assert shared_size(entries) == 142
    assert sum(e.size for e in entries) == 342


def test_a_scope_of_entries_of_unknown_age_has_no_age() -> None:
    (image,) = stats([registry_entry("app-main", "app", "main", {"a": 1})])
    assert image.scopes[0].age_days is None
