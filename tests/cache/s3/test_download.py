"""Downloads of the sync transport, against the local stack's real S3 server (no mocks)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from buildorch.cache import keys as cache_keys
from buildorch.cache.s3.client import S3CacheError, S3Location, client
from buildorch.cache.s3.download import download
from buildorch.cache.s3.layout import blob_path
from buildorch.cache.s3.upload import upload
from tests.cache.s3.layouts import assert_same_entry, blob_keys, index_key, layers, make_layout
from tests.conftest import bucket_keys

pytestmark = pytest.mark.engine


def test_round_trip_is_byte_identical(location: S3Location, tmp_path: Path) -> None:
    layout = make_layout(tmp_path / "export", layers(3))
    sizes = sum(blob_path(layout.root, d).stat().st_size for d in layout.blobs)

    sent = upload(location, layout.root, "shop", "api", "main")
    got = download(location, "shop", "api", "main", tmp_path / "import")

    assert (sent.blobs_referenced, sent.blobs_uploaded, sent.bytes_uploaded) == (
        len(layout.blobs), len(layout.blobs), sizes)
    assert got is not None
    assert (got.blobs_referenced, got.blobs_downloaded, got.bytes_downloaded) == (
        len(layout.blobs), len(layout.blobs), sizes)
    assert_same_entry(layout, tmp_path / "import")
    assert bucket_keys(location) == blob_keys(location, layout.blobs) | {index_key(location)}


def test_download_fetches_only_missing_blobs(location: S3Location, tmp_path: Path) -> None:
    layout = make_layout(tmp_path / "export", layers(4))
    upload(location, layout.root, "shop", "api", "main")
    dest = tmp_path / "import"
    present = layout.layers[:2]
    for digest in present:
        blob_path(dest, digest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(blob_path(layout.root, digest), blob_path(dest, digest))

    got = download(location, "shop", "api", "main", dest)

    missing = layout.blobs - set(present)
    assert got is not None
    assert got.blobs_downloaded == len(missing)
    assert got.bytes_downloaded == sum(blob_path(layout.root, d).stat().st_size for d in missing)
    assert_same_entry(layout, dest)
    again = download(location, "shop", "api", "main", dest)
    assert again is not None and again.blobs_downloaded == 0


def test_entries_share_a_blob_store(location: S3Location, tmp_path: Path) -> None:
    shared = layers(2)
    main = make_layout(tmp_path / "main", [*shared, os.urandom(3000)])
    feature = make_layout(tmp_path / "feature", [*shared, os.urandom(4000)])
    upload(location, main.root, "shop", "api", "main")
    upload(location, feature.root, "shop", "api", "feature-x")
    store = tmp_path / "store"

    download(location, "shop", "api", "main", tmp_path / "in-main", store=store)
    got = download(location, "shop", "api", "feature-x", tmp_path / "in-feature", store=store)

    assert got is not None
    assert got.blobs_downloaded == len(feature.blobs - main.blobs)
    assert_same_entry(main, tmp_path / "in-main")
    assert_same_entry(feature, tmp_path / "in-feature")
    for digest in main.blobs & feature.blobs:  # one copy on disk
        assert (blob_path(tmp_path / "in-main", digest).stat().st_ino
                == blob_path(tmp_path / "in-feature", digest).stat().st_ino
                == blob_path(store, digest).stat().st_ino)


def test_missing_entry_is_none(location: S3Location, tmp_path: Path) -> None:
    assert download(location, "shop", "api", "nothing-here", tmp_path / "import") is None
    assert not (tmp_path / "import" / "index.json").exists()


def test_download_refuses_an_incomplete_entry(location: S3Location, tmp_path: Path) -> None:
    layout = make_layout(tmp_path / "export", layers(2))
    upload(location, layout.root, "shop", "api", "main")
    gone = cache_keys.sync_blob_key(location.prefix, layout.layers[1])
    client(location).delete_object(Bucket=location.bucket, Key=gone)

    with pytest.raises(S3CacheError, match=f"incomplete, {layout.layers[1]} is missing"):
        download(location, "shop", "api", "main", tmp_path / "import")

    assert not (tmp_path / "import" / "index.json").exists()


def test_download_refuses_a_corrupt_blob(location: S3Location, tmp_path: Path) -> None:
    layout = make_layout(tmp_path / "export", layers(2))
    upload(location, layout.root, "shop", "api", "main")
    bad = layout.layers[0]
    client(location).put_object(Bucket=location.bucket,
                                Key=cache_keys.sync_blob_key(location.prefix, bad),
                                Body=os.urandom(blob_path(layout.root, bad).stat().st_size))
    dest = tmp_path / "import"

    with pytest.raises(S3CacheError, match="does not match its digest"):
        download(location, "shop", "api", "main", dest, workers=1)

    assert not blob_path(dest, bad).exists()
    assert not (dest / "index.json").exists()
    assert list((dest / ".buildorch-partial").iterdir()) == []


def test_real_buildkit_export_round_trips_and_imports(engine: str, location: S3Location,
                                                      tmp_path: Path) -> None:
    """A layout the engine wrote: uploaded, downloaded identical, and BuildKit imports it."""
    base = os.environ.get("BUILDORCH_BASE_IMAGE", "localhost:5000/busybox:latest")
    token = uuid.uuid4().hex[:12]
    context, export = tmp_path / "context", tmp_path / "export"
    context.mkdir()

    def build(step: str, *cache: str) -> str:
        (context / "Dockerfile").write_text(
            f"FROM {base}\nRUN echo {token} > /one\nRUN head -c 200000 /dev/urandom > /r\n"
            f"RUN echo {step} > /step\n")
        result = subprocess.run(["docker", "buildx", "build", "--progress", "plain", *cache,
                                 str(context)], capture_output=True, text=True, timeout=300,
                                check=True)
        return result.stdout + result.stderr

    build("first", "--cache-to", f"type=local,dest={export},mode=max")
    first = upload(location, export, "shop", "api", "main")
    build("second", "--cache-to", f"type=local,dest={export},mode=max")  # stale blobs stay
    second = upload(location, export, "shop", "api", "main")
    got = download(location, "shop", "api", "main", tmp_path / "import")

    assert first.blobs_uploaded == first.blobs_referenced >= 5
    assert 0 < second.blobs_uploaded < second.blobs_referenced  # only what changed
    assert got is not None and got.blobs_referenced == second.blobs_referenced
    referenced = {f"sha256:{p.name}" for p in (tmp_path / "import/blobs/sha256").iterdir()}
    assert (tmp_path / "import/index.json").read_bytes() == (export / "index.json").read_bytes()
    for digest in referenced:
        assert (blob_path(tmp_path / "import", digest).read_bytes()
                == blob_path(export, digest).read_bytes())
    stale = {f"sha256:{p.name}" for p in (export / "blobs/sha256").iterdir()} - referenced
    assert stale  # the first export's step layer, no longer referenced, was not fetched
    output = build("second", "--cache-from", f"type=local,src={tmp_path / 'import'}")
    assert "importing cache manifest from local" in output
    assert "ERROR" not in output, output
