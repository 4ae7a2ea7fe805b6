"""cache ls|stats|prune on S3, against the local stack's real S3 server (no mocks)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from buildorch.cache import keys as cache_keys
from buildorch.cache.admin import s3_bucket
from buildorch.cache.admin.entries import Entry, shared_size, stats
from buildorch.cache.admin.render import render_entries, render_prune, render_stats
from buildorch.cache.admin.s3 import list_entries, prune
from buildorch.cache.admin.s3_bucket import DELETE_BATCH
from buildorch.cache.s3.client import S3Location, client
from buildorch.cache.s3.download import download
from buildorch.cache.s3.layout import blob_path
from buildorch.cache.s3.upload import upload
from tests.cache.s3.layouts import (
    LAYER,
    Layout,
    assert_same_entry,
    fake_digest,
    layers,
    make_layout,
)
from tests.conftest import bucket_keys

pytestmark = pytest.mark.engine


def export(where: S3Location, root: Path, image: str, scope: str, data: list[bytes]) -> Layout:
    layout = make_layout(root / f"{image}-{scope}", data)
    upload(where, layout.root, "shop", image, scope)
    return layout


def sync_keys(where: S3Location, layout: Layout) -> set[str]:
    return {cache_keys.sync_blob_key(where.prefix, digest) for digest in layout.blobs}


def size_of(layout: Layout, digests: frozenset[str] | None = None) -> int:
    return sum(blob_path(layout.root, d).stat().st_size for d in (digests or layout.blobs))


def put_native(where: S3Location, name: str, blobs: list[bytes]) -> set[str]:
    """A BuildKit `type=s3` entry: a cache config at manifests/<name>, blobs/sha256:<hex>."""
    s3, keys, entries = client(where), set(), []
    for data in blobs:
        digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
        keys.add(f"{where.prefix}blobs/{digest}")
        s3.put_object(Bucket=where.bucket, Key=f"{where.prefix}blobs/{digest}", Body=data)
        entries.append({"blob": digest, "parent": -1, "annotations": {
            "diffID": fake_digest(), "size": len(data), "mediaType": LAYER}})
    config = {"layers": entries, "records": [{"digest": fake_digest(), "layers": [{"layer": i}]}
                                             for i in range(len(entries))]}
    s3.put_object(Bucket=where.bucket, Key=f"{where.prefix}manifests/{name}",
                  Body=json.dumps(config).encode())
    return keys


def last_modified(where: S3Location, key: str) -> datetime:
    return client(where).head_object(Bucket=where.bucket, Key=key)["LastModified"]


def by_name(entries: list[Entry]) -> dict[str, Entry]:
    return {entry.name: entry for entry in entries}


def test_entries_and_stats(location: S3Location, tmp_path: Path) -> None:
    shared = layers(2)
    main = export(location, tmp_path, "api", "main", [*shared, os.urandom(7000)])
    feature = export(location, tmp_path, "api", "feature-x", [*shared, os.urandom(9000)])
    web = export(location, tmp_path, "web", "main", layers(1))

    entries = list_entries(location)

    found = by_name(entries)
    assert set(found) == {"shop/api/main", "shop/api/feature-x", "shop/web/main"}
    api_main = found["shop/api/main"]
    assert (api_main.kind, api_main.pipeline, api_main.image, api_main.scope) == (
        "sync", "shop", "api", "main")
    assert api_main.key == cache_keys.sync_index_key(location.prefix, "shop", "api", "main")
    for entry, layout in ((api_main, main), (found["shop/api/feature-x"], feature),
                          (found["shop/web/main"], web)):
        assert (entry.size, len(entry.blobs), entry.complete) == (size_of(layout),
                                                             len(layout.blobs), True)
        assert abs(entry.age_days) < 0.01
    per_image = {(s.pipeline, s.image): s for s in stats(entries)}
    api = per_image[("shop", "api")]
    assert api.entries == 2
    assert api.size == size_of(main) + size_of(feature, feature.blobs - main.blobs)
    assert {b.scope for b in api.scopes} == {"main", "feature-x"}
    assert shared_size(entries) < sum(e.size for e in entries)
    assert "feature-x" in render_entries(entries)
    assert "shop/api: 2 entries" in render_stats(entries)


def test_native_entries_are_listed_and_split_when_unambiguous(location: S3Location) -> None:
    blobs = [os.urandom(3000), os.urandom(5000)]
    put_native(location, "shop-api-feature-x", blobs)
    put_native(location, "a-b-c-d", [os.urandom(100)])

    found = by_name(list_entries(location, known=[("shop", "api"), ("a", "b"), ("a-b", "c")]))

    api = found["shop-api-feature-x"]
    assert (api.kind, api.pipeline, api.image, api.scope) == (
        "native", "shop", "api", "feature-x")
    assert (api.size, len(api.blobs)) == (8000, 2)
    ambiguous = found["a-b-c-d"]  # a/b/c-d or a-b/c/d
    assert (ambiguous.pipeline, ambiguous.image, ambiguous.scope) == (None, None, None)
    assert len(ambiguous.blobs) == 1
    unknown = by_name(list_entries(location))["shop-api-feature-x"]
    assert unknown.pipeline is None


def test_prune_deletes_expired_entries_and_only_their_blobs(location: S3Location,
                                                            tmp_path: Path) -> None:
    shared = layers(2)
    old = export(location, tmp_path, "api", "feature-old", [*shared, os.urandom(6000)])
    main = export(location, tmp_path, "api", "main", [*shared, os.urandom(7000)])
    stray = f"{location.prefix}oci/blobs/sha256/{hashlib.sha256(b'stray').hexdigest()}"
    client(location).put_object(Bucket=location.bucket, Key=stray, Body=b"stray")
    time.sleep(2.1)  # S3 times have whole seconds: old and main are >= 2 s older
    new = export(location, tmp_path, "api", "feature-new", [*shared, os.urandom(8000)])
    # moto cannot backdate: look from a week later instead, when `new` is 1 s short of 7 days
    new_key = cache_keys.sync_index_key(location.prefix, "shop", "api", "feature-new")
    now = last_modified(location, new_key) + timedelta(days=7, seconds=-1)
    before = bucket_keys(location)
    only_old = sync_keys(location, old) - sync_keys(location, main) - sync_keys(location, new)
    old_key = cache_keys.sync_index_key(location.prefix, "shop", "api", "feature-old")

    dry = prune(location, 7, {"main"}, dry_run=True, now=now)

    assert bucket_keys(location) == before
    assert [e.name for e in dry.deleted_entries] == ["shop/api/feature-old"]
    assert set(dry.deleted_blobs) == only_old | {stray}
    assert {e.name for e in dry.kept_entries} == {"shop/api/main", "shop/api/feature-new"}
    assert "would delete 1 entry:" in render_prune(dry)

    done = prune(location, 7, {"main"}, dry_run=False, now=now)

    assert (done.deleted_entries, done.deleted_blobs) == (dry.deleted_entries,
                                                          dry.deleted_blobs)
    assert bucket_keys(location) == before - only_old - {stray, old_key}
    assert done.freed_bytes == (size_of(old, old.blobs - main.blobs - new.blobs) + len(b"stray")
                                + len((old.root / "index.json").read_bytes()))
    for layout, scope in ((main, "main"), (new, "feature-new")):
        dest = tmp_path / f"import-{scope}"
        got = download(location, "shop", "api", scope, dest)
        assert got is not None and got.blobs_referenced == len(layout.blobs)
        assert_same_entry(layout, dest)


def test_grace_period_keeps_fresh_unreferenced_blobs(location: S3Location,
                                                     tmp_path: Path) -> None:
    feature = export(location, tmp_path, "api", "feature-x", layers(2))
    orphan = f"{location.prefix}oci/blobs/sha256/{hashlib.sha256(b'orphan').hexdigest()}"
    client(location).put_object(Bucket=location.bucket, Key=orphan, Body=b"orphan")
    soon = datetime.now(timezone.utc) + timedelta(minutes=5)  # entries expired, blobs fresh

    fresh = prune(location, 0, set(), dry_run=False, grace_hours=1.0, now=soon)

    assert [e.name for e in fresh.deleted_entries] == ["shop/api/feature-x"]
    assert fresh.deleted_blobs == ()
    assert bucket_keys(location) == sync_keys(location, feature) | {orphan}

    stale = prune(location, 0, set(), dry_run=False, grace_hours=0.0, now=soon)

    assert set(stale.deleted_blobs) == sync_keys(location, feature) | {orphan}
    assert bucket_keys(location) == set()


def test_prune_native_entries(location: S3Location) -> None:
    shared = os.urandom(2000)
    old = put_native(location, "shop-api-feature-y", [shared, os.urandom(3000)])
    kept = put_native(location, "shop-api-main", [shared, os.urandom(4000)])
    unsplit = put_native(location, "x-y-main", [os.urandom(500)])  # no known pair: suffix
    later = datetime.now(timezone.utc) + timedelta(days=30)

    result = prune(location, 7, {"main"}, dry_run=False, now=later, known=[("shop", "api")])

    assert [e.name for e in result.deleted_entries] == ["shop-api-feature-y"]
    assert set(result.deleted_blobs) == old - kept
    assert bucket_keys(location) == (kept | unsplit | {f"{location.prefix}manifests/shop-api-main",
                                                       f"{location.prefix}manifests/x-y-main"})


def test_prune_deletes_more_than_one_batch(location: S3Location) -> None:
    s3 = client(location)
    keys = [f"{location.prefix}oci/blobs/sha256/{os.urandom(32).hex()}"
            for _ in range(DELETE_BATCH + 1)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=location.bucket, Key=key, Body=b"x"),
                      keys))
    unrelated = f"{location.prefix}notes.txt"  # not a blob of either layout: never touched
    s3.put_object(Bucket=location.bucket, Key=unrelated, Body=b"keep")

    result = prune(location, 7, set(), dry_run=False,
                   now=datetime.now(timezone.utc) + timedelta(days=1))

    assert len(result.deleted_blobs) == DELETE_BATCH + 1
    assert bucket_keys(location) == {unrelated}


def test_prune_keeps_what_an_export_wrote_meanwhile(location: S3Location, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    data = layers(2)
    old = export(location, tmp_path, "api", "feature-old", data)
    later = datetime.now(timezone.utc) + timedelta(days=30)
    scan = s3_bucket.Bucket.scan
    calls: list[int] = []

    def scan_then_export(self: s3_bucket.Bucket) -> s3_bucket.Scan:
        result = scan(self)
        if not calls:  # between prune's listing and its deletes, a job exports the same layers
            export(location, tmp_path / "late", "api", "feature-late", data)
        calls.append(1)
        return result

    monkeypatch.setattr(s3_bucket.Bucket, "scan", scan_then_export)

    result = prune(location, 7, set(), dry_run=False, now=later)

    assert [e.name for e in result.deleted_entries] == ["shop/api/feature-old"]
    assert not set(result.deleted_blobs) & {cache_keys.sync_blob_key(location.prefix, d)
                                            for d in old.layers}
    got = download(location, "shop", "api", "feature-late", tmp_path / "import")
    assert got is not None and got.blobs_referenced == len(old.layers) + 2
