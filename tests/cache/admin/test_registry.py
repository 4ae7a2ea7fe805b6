"""Registry cache ls/stats/prune, on real BuildKit cache exports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from buildorch.cache.admin.entries import DAY, Entry, stats
from buildorch.cache.admin.registry import list_entries, prune, select, split_tag
from buildorch.cache.admin.registry_ledger import LEDGER_TAG, read_ledger, record_export
from buildorch.cache.admin.render import render_entries, render_prune, render_stats
from buildorch.oci.registry import tag_digest
from tests.cache.admin.fake_entries import NOW, registry_entry
from tests.cache.admin.registry_repo import (
    IMAGES,
    Repo,
    assert_imports_fully_cached,
    by_tag,
    export,
    present,
)

# ----------------------------------------------------------------- list and stats

@pytest.mark.engine
def test_list_gives_sizes_ages_and_splits_tags(engine: str, repo: Repo, tmp_path: Path) -> None:
    main = export(repo, tmp_path, "app-main", "m")
    feature = export(repo, tmp_path, "app-feature-x", "x")
    export(repo, tmp_path, "lib-main", "l", image_manifest=False)   # OCI index form
    export(repo, tmp_path, "tool-main", "t")                        # image not named
    record_export(repo.ref, "app-main", main, NOW - 10 * DAY)
    record_export(repo.ref, "app-feature-x", feature, NOW - 2 * 3600)

    entries = by_tag(list_entries(repo.ref, now=NOW, images=IMAGES))

    assert sorted(entries) == ["app-feature-x", "app-main", "lib-main", "tool-main"]
    assert [(e.image, e.scope) for e in entries.values()] == [
        ("app", "feature-x"), ("app", "main"), ("lib", "main"), (None, None)]
    for entry in entries.values():
        sizes = present(repo, entry.blobs)
        assert len(sizes) == 4  # cache config, base layer, two RUN layers
        assert entry.size == sum(s for s in sizes.values() if s is not None) > 1_000_000
    assert entries["app-main"].revision == main
    assert entries["app-main"].age_days == pytest.approx(10.0)
    assert entries["app-feature-x"].age_days == pytest.approx(2 / 24)
    assert entries["lib-main"].age_days is None and entries["lib-main"].exported is None

    text = render_entries(list(entries.values()))
    assert re.search(r"^app +main +1\.\d MiB +10\.0d$", text, re.MULTILINE), text
    assert re.search(r"^app +feature-x +1\.\d MiB +2h$", text, re.MULTILINE), text
    assert re.search(r"^tool-main +- +1\.\d MiB +unknown$", text, re.MULTILINE), text


@pytest.mark.engine
def test_stats_count_shared_blobs_once(engine: str, repo: Repo, tmp_path: Path) -> None:
    export(repo, tmp_path, "app-main", "m")
    export(repo, tmp_path, "app-feature-x", "x")
    export(repo, tmp_path, "app-feature-y", "y")
    export(repo, tmp_path, "lib-main", "l")
    entries = list_entries(repo.ref, now=NOW, images=IMAGES)

    app = next(s for s in stats(entries) if s.image == "app")
    app_entries = [e for e in entries if e.image == "app"]
    unique = {d: size for e in app_entries for d, size in e.blobs.items()}
    assert app.entries == 3
    assert app.size == sum(unique.values()) < sum(e.size for e in app_entries)
    assert len(unique) == 2 + 3 * 2   # base + common layer, then config + own layer each
    assert [(s.scope, s.entries) for s in app.scopes] == [
        ("feature-x", 1), ("feature-y", 1), ("main", 1)]
    assert "total" in render_stats(entries)


# ----------------------------------------------------------------- prune

@pytest.mark.engine
def test_prune_deletes_old_unprotected_entries_and_their_own_blobs(
        engine: str, repo: Repo, tmp_path: Path) -> None:
    digests = {tag: export(repo, tmp_path, tag, tag) for tag in
               ("app-main", "app-feature-x", "app-feature-y", "lib-main")}
    digests["lib-feature-x"] = export(repo, tmp_path, "lib-feature-x", "lx",
                                      image_manifest=False)
    # app-feature-z: the very manifest of app-feature-y (an unchanged branch re-export)
    tag_digest(f"{repo.ref}:app-feature-z", digests["app-feature-y"])
    # app-feature-w: recorded, then re-exported by a writer whose ledger update was lost
    stale = export(repo, tmp_path, "app-feature-w", "w1")
    export(repo, tmp_path, "app-feature-w", "w2")
    for tag, age in (("app-main", 30), ("app-feature-x", 30), ("app-feature-y", 1),
                     ("lib-feature-x", 30)):
        record_export(repo.ref, tag, digests[tag], NOW - age * DAY)
    record_export(repo.ref, "app-feature-z", digests["app-feature-y"], NOW - 30 * DAY)
    record_export(repo.ref, "app-feature-w", stale, NOW - 30 * DAY)

    before = by_tag(list_entries(repo.ref, now=NOW, images=IMAGES))
    tags_before = sorted(repo.client.tags(repo.name))
    ledger_before = read_ledger(repo.client, repo.name)
    doomed = {"app-feature-x", "lib-feature-x"}
    kept = set(before) - doomed
    kept_blobs = {d for tag in kept for d in before[tag].blobs}
    own_blobs = {d for tag in doomed for d in before[tag].blobs} - kept_blobs
    sizes = {d: size for e in before.values() for d, size in e.blobs.items()}
    assert len(own_blobs) == 4   # config + own RUN layer of each deleted entry

    dry = prune(repo.ref, 7, ["main"], dry_run=True, now=NOW, images=IMAGES)
    assert {e.name for e in dry.deleted_entries} == doomed
    assert {e.name for e in dry.kept_entries} == kept
    assert set(dry.deleted_blobs) == own_blobs
    assert dry.freed_bytes == sum(sizes[d] for d in dry.deleted_blobs)
    assert sorted(repo.client.tags(repo.name)) == tags_before
    assert None not in present(repo, tuple(b for e in before.values() for b in e.blobs)).values()
    assert read_ledger(repo.client, repo.name).manifest_digest == ledger_before.manifest_digest
    assert "would delete 2 entries and 4 blobs" in render_prune(dry)

    result = prune(repo.ref, 7, ["main"], dry_run=False, now=NOW, images=IMAGES)
    assert {e.name for e in result.deleted_entries} == doomed
    assert set(result.deleted_blobs) == set(dry.deleted_blobs)
    assert result.freed_bytes == dry.freed_bytes
    assert sorted(repo.client.tags(repo.name)) == sorted([*kept, LEDGER_TAG])
    for tag in doomed:
        assert repo.client.manifest(repo.name, digests[tag]) is None
    assert set(present(repo, result.deleted_blobs).values()) == {None}
    for tag in kept:
        assert None not in present(repo, before[tag].blobs).values(), tag
    assert set(read_ledger(repo.client, repo.name).records) == kept - {"lib-main"}

    again = prune(repo.ref, 7, ["main"], now=NOW, images=IMAGES)
    assert again.deleted_entries == () and again.deleted_blobs == ()
    assert_imports_fully_cached(repo, tmp_path, "app-feature-y", "app-feature-y")
    assert_imports_fully_cached(repo, tmp_path, "lib-main", "lib-main")


@pytest.mark.engine
def test_prune_without_image_names_protects_by_tag_suffix(
        engine: str, repo: Repo, tmp_path: Path) -> None:
    for tag in ("app-main", "app-release-1.0", "app-feature-x"):
        record_export(repo.ref, tag, export(repo, tmp_path, tag, tag), NOW - 9 * DAY)
    result = prune(repo.ref, 7, ["main", "release/1.0"], dry_run=True, now=NOW)
    assert [e.name for e in result.deleted_entries] == ["app-feature-x"]


# ----------------------------------------------------------------- pure parts

def entry(tag: str, digest: str, age: float | None) -> Entry:
    image, scope = split_tag(tag, IMAGES) or (None, None)
    return registry_entry(tag, image, scope, {}, age, digest)


def test_split_tag_takes_the_longest_known_image() -> None:
    assert split_tag("app-api-main", ["app", "app-api"]) == ("app-api", "main")
    assert split_tag("app-main", ["app", "app-api"]) == ("app", "main")
    assert split_tag("other-main", ["app"]) is None
    assert split_tag("app-", ["app"]) is None


def test_select_keeps_unknown_protected_recent_and_shared_manifests() -> None:
    entries = [entry("app-main", "d1", 30), entry("app-x", "d2", 30),
               entry("app-y", "d3", None), entry("app-z", "d4", 3),
               entry("lib-x", "d4", 30), entry("lib-y", "d2", 40)]
    doomed, kept = select(entries, 7, ["main"])
    assert [e.name for e in doomed] == ["app-x", "lib-y"]
    assert [e.name for e in kept] == ["app-main", "app-y", "app-z", "lib-x"]
