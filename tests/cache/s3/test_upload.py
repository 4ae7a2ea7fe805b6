"""Uploads of the sync transport, against the local stack's real S3 server (no mocks)."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from buildorch.cache import keys as cache_keys
from buildorch.cache.s3 import upload as s3_upload
from buildorch.cache.s3.client import S3CacheError, S3Location, client
from buildorch.cache.s3.download import download
from buildorch.cache.s3.layout import blob_path
from buildorch.cache.s3.upload import upload
from tests.cache.s3.layouts import assert_same_entry, blob_keys, index_key, layers, make_layout
from tests.conftest import bucket_keys

pytestmark = pytest.mark.engine


# which blobs the bucket lacks: a HEAD per blob for usual entries, a listing for huge ones
CHECKS = pytest.mark.parametrize("list_above", [s3_upload.LIST_ABOVE, 0], ids=["head", "list"])


@CHECKS
def test_second_upload_sends_nothing(location: S3Location, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch, list_above: int) -> None:
    monkeypatch.setattr(s3_upload, "LIST_ABOVE", list_above)
    layout = make_layout(tmp_path / "export", layers(3))
    upload(location, layout.root, "shop", "api", "main")

    again = upload(location, layout.root, "shop", "api", "main")

    assert (again.blobs_referenced, again.blobs_uploaded, again.bytes_uploaded) == (
        len(layout.blobs), 0, 0)


@CHECKS
def test_a_truncated_blob_in_the_bucket_is_replaced(location: S3Location, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    list_above: int) -> None:
    monkeypatch.setattr(s3_upload, "LIST_ABOVE", list_above)
    layout = make_layout(tmp_path / "export", layers(3))
    upload(location, layout.root, "shop", "api", "main")
    broken = layout.layers[1]
    client(location).put_object(Bucket=location.bucket,
                                Key=cache_keys.sync_blob_key(location.prefix, broken),
                                Body=blob_path(layout.root, broken).read_bytes()[:1000])

    again = upload(location, layout.root, "shop", "api", "main")

    assert (again.blobs_uploaded, again.bytes_uploaded) == (
        1, blob_path(layout.root, broken).stat().st_size)
    assert download(location, "shop", "api", "main", tmp_path / "import") is not None
    assert_same_entry(layout, tmp_path / "import")


def test_large_blobs_go_in_parts(location: S3Location, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3_upload, "SINGLE_PUT_MAX", 1024**2)
    monkeypatch.setattr(s3_upload, "PART_SIZE", 5 * 1024**2)  # S3's smallest part
    layout = make_layout(tmp_path / "export", [os.urandom(11 * 1024**2), os.urandom(1000)])

    sent = upload(location, layout.root, "shop", "api", "main")

    assert sent.blobs_uploaded == len(layout.blobs)
    big = cache_keys.sync_blob_key(location.prefix, layout.layers[0])
    head = client(location).head_object(Bucket=location.bucket, Key=big)
    assert head["ETag"].endswith('-3"')  # a multipart upload of three parts
    assert download(location, "shop", "api", "main", tmp_path / "import") is not None
    assert_same_entry(layout, tmp_path / "import")


def test_stale_blobs_and_ingest_are_not_uploaded(location: S3Location, tmp_path: Path) -> None:
    stale = os.urandom(1000)
    layout = make_layout(tmp_path / "export", layers(2), stale=[stale])

    stats = upload(location, layout.root, "shop", "api", "main")

    assert stats.blobs_referenced == len(layout.blobs)
    stale_key = cache_keys.sync_blob_key(location.prefix,
                                         f"sha256:{hashlib.sha256(stale).hexdigest()}")
    keys = bucket_keys(location)
    assert stale_key not in keys
    assert keys == blob_keys(location, layout.blobs) | {index_key(location)}


def test_corrupt_blob_is_refused_and_no_index_is_written(location: S3Location,
                                                         tmp_path: Path) -> None:
    layout = make_layout(tmp_path / "export", layers(4))
    last = max(layout.layers)  # uploads go in digest order: the others are sent first
    path = blob_path(layout.root, last)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))

    with pytest.raises(S3CacheError, match=f"does not match its digest {last}"):
        upload(location, layout.root, "shop", "api", "main", workers=1)

    keys = bucket_keys(location)
    before = frozenset(d for d in layout.blobs if d < last)  # the other layers at least
    assert keys == blob_keys(location, before)  # blobs come before the index
    assert index_key(location) not in keys


def test_incomplete_export_uploads_nothing(location: S3Location, tmp_path: Path) -> None:
    layout = make_layout(tmp_path / "export", layers(2))
    blob_path(layout.root, layout.layers[0]).unlink()

    with pytest.raises(S3CacheError, match="incomplete"):
        upload(location, layout.root, "shop", "api", "main")

    assert bucket_keys(location) == set()


def test_concurrent_exports_leave_one_complete_entry(location: S3Location,
                                                     tmp_path: Path) -> None:
    shared = layers(6)
    first = make_layout(tmp_path / "one", [*shared, os.urandom(70_000)])
    second = make_layout(tmp_path / "two", [*shared, os.urandom(80_000)])

    with ThreadPoolExecutor(2) as pool:
        jobs = [pool.submit(upload, location, layout.root, "shop", "api", "main", 4)
                for layout in (first, second)]
        sent = [job.result() for job in jobs]

    # each job uploaded its whole entry (shared blobs by one, or by both: same bytes)
    assert all(s.blobs_referenced == len(first.blobs) for s in sent)
    index = client(location).get_object(Bucket=location.bucket,
                                        Key=index_key(location))["Body"].read()
    winner = first if index == (first.root / "index.json").read_bytes() else second
    assert index == (winner.root / "index.json").read_bytes()
    assert download(location, "shop", "api", "main", tmp_path / "import") is not None
    assert_same_entry(winner, tmp_path / "import")
