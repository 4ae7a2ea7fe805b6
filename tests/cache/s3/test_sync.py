"""The S3 sync transport against the local stack's real S3 server (moto's server, no mocks)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from buildorch.cache import keys as cache_keys
from buildorch.cache.s3 import sync as s3_sync
from buildorch.cache.s3.sync import (
    S3CacheError,
    S3Location,
    blob_path,
    client,
    download,
    preflight,
    upload,
)
from tests.conftest import REPO, bucket_keys

pytestmark = pytest.mark.engine

LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
INDEX = "application/vnd.oci.image.index.v1+json"
CACHE_CONFIG = "application/vnd.buildkit.cacheconfig.v0"


def fake_digest() -> str:
    """A digest that names no blob (like a BuildKit cache key or a diff ID)."""
    return f"sha256:{hashlib.sha256(uuid.uuid4().bytes).hexdigest()}"


def write_blob(root: Path, data: bytes, media_type: str) -> dict[str, object]:
    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    path = blob_path(root, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


@dataclass(frozen=True)
class Layout:
    root: Path
    blobs: frozenset[str]  # every blob the index references, transitively
    layers: tuple[str, ...]


def make_layout(root: Path, layers: Sequence[bytes], stale: Sequence[bytes] = ()) -> Layout:
    """An OCI layout shaped as BuildKit's `--cache-to type=local,mode=max` writes it.

    index.json -> cache index -> layers + cache config; the cache config names the
    layers again, and cache keys and diff IDs that are no blobs; stale blobs of earlier
    exports and an `ingest/` folder lie around.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (root / "ingest" / "abc").mkdir(parents=True, exist_ok=True)
    (root / "ingest" / "abc" / "data").write_bytes(b"partial")
    for data in stale:
        write_blob(root, data, LAYER)
    descriptors = [write_blob(root, data, LAYER) for data in layers]
    for descriptor in descriptors:
        descriptor["annotations"] = {"containerd.io/uncompressed": fake_digest()}
    config = {
        "layers": [{"blob": d["digest"], "parent": i - 1} for i, d in enumerate(descriptors)],
        "records": [{"digest": fake_digest(), "layers": [{"layer": i}],
                     "inputs": [[{"selector": fake_digest(), "link": i}]]}
                    for i in range(len(descriptors))],
    }
    config_descriptor = write_blob(root, json.dumps(config).encode(), CACHE_CONFIG)
    cache_index = {"schemaVersion": 2, "mediaType": INDEX,
                   "manifests": [*descriptors, config_descriptor]}
    index_descriptor = write_blob(root, json.dumps(cache_index).encode(), INDEX)
    index_descriptor["annotations"] = {"org.opencontainers.image.ref.name": "latest"}
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2,
                                                 "manifests": [index_descriptor]}))
    digests = [str(d["digest"]) for d in (*descriptors, config_descriptor, index_descriptor)]
    return Layout(root, frozenset(digests), tuple(str(d["digest"]) for d in descriptors))


def layers(count: int, size: int = 50_000) -> list[bytes]:
    return [os.urandom(size + i) for i in range(count)]


def blob_keys(where: S3Location, digests: frozenset[str]) -> set[str]:
    return {cache_keys.sync_blob_key(where.prefix, digest) for digest in digests}


def index_key(where: S3Location, scope: str = "main") -> str:
    return cache_keys.sync_index_key(where.prefix, "shop", "api", scope)


def assert_same_entry(layout: Layout, dest: Path) -> None:
    assert (dest / "index.json").read_bytes() == (layout.root / "index.json").read_bytes()
    for digest in layout.blobs:
        assert blob_path(dest, digest).read_bytes() == blob_path(layout.root, digest).read_bytes()
    on_disk = {f"sha256:{p.name}" for p in (dest / "blobs" / "sha256").iterdir()}
    assert on_disk == layout.blobs


def test_importing_the_module_does_not_import_boto3() -> None:
    code = "import sys, buildorch.s3_sync, buildorch.s3_cache_admin; print('boto3' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=REPO)
    assert result.stdout.strip() == "False"


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


# which blobs the bucket lacks: a HEAD per blob for usual entries, a listing for huge ones
CHECKS = pytest.mark.parametrize("list_above", [s3_sync.LIST_ABOVE, 0], ids=["head", "list"])


@CHECKS
def test_second_upload_sends_nothing(location: S3Location, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch, list_above: int) -> None:
    monkeypatch.setattr(s3_sync, "LIST_ABOVE", list_above)
    layout = make_layout(tmp_path / "export", layers(3))
    upload(location, layout.root, "shop", "api", "main")

    again = upload(location, layout.root, "shop", "api", "main")

    assert (again.blobs_referenced, again.blobs_uploaded, again.bytes_uploaded) == (
        len(layout.blobs), 0, 0)


@CHECKS
def test_a_truncated_blob_in_the_bucket_is_replaced(location: S3Location, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    list_above: int) -> None:
    monkeypatch.setattr(s3_sync, "LIST_ABOVE", list_above)
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
    monkeypatch.setattr(s3_sync, "SINGLE_PUT_MAX", 1024**2)
    monkeypatch.setattr(s3_sync, "PART_SIZE", 5 * 1024**2)  # S3's smallest part
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_endpoint_fails_fast_and_clearly(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"SeCrEt{uuid.uuid4().hex}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAABCDEFGHIJKLMNOP")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    endpoint = f"http://127.0.0.1:{free_port()}"
    where = S3Location("nobody-home", "shop/", "us-east-1", endpoint, True)
    layout = make_layout(tmp_path / "export", layers(8, 1000))

    for action in (lambda: download(where, "shop", "api", "main", tmp_path / "import"),
                   lambda: upload(where, layout.root, "shop", "api", "main"),
                   lambda: preflight(where)):
        started = time.monotonic()
        with pytest.raises(S3CacheError) as caught:
            action()
        message = str(caught.value)
        assert time.monotonic() - started < 15
        assert endpoint in message and "nobody-home" in message
        assert "Could not connect" in message
        assert "\n" not in message
        assert secret not in message and "AKIAABCDEFGHIJKLMNOP" not in message


def test_preflight(location: S3Location) -> None:
    preflight(location)
    missing = S3Location(f"{location.bucket}-missing", "", "us-east-1", location.endpoint_url,
                         True)
    with pytest.raises(S3CacheError, match="the bucket does not exist"):
        preflight(missing)


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


def _rewrite_config(layout: Layout, edit: Callable[[dict[str, Any]], None]) -> None:
    """Change the layout's cache config (and the index that names it) in place."""
    index = json.loads((layout.root / "index.json").read_text())
    cache_index_path = blob_path(layout.root, index["manifests"][0]["digest"])
    cache_index = json.loads(cache_index_path.read_text())
    descriptor = next(d for d in cache_index["manifests"] if d["mediaType"] == CACHE_CONFIG)
    config = json.loads(blob_path(layout.root, descriptor["digest"]).read_text())
    edit(config)
    cache_index["manifests"] = [d for d in cache_index["manifests"] if d is not descriptor]
    cache_index["manifests"].append(write_blob(layout.root, json.dumps(config).encode(),
                                               CACHE_CONFIG))
    new_index = write_blob(layout.root, json.dumps(cache_index).encode(), INDEX)
    (layout.root / "index.json").write_text(json.dumps({"schemaVersion": 2,
                                                        "manifests": [new_index]}))


def test_an_export_the_entry_already_covers_uploads_nothing(location: S3Location,
                                                            tmp_path: Path) -> None:
    layout = make_layout(tmp_path / "a", layers(3, 1000))
    upload(location, layout.root, "shop", "api", "main")
    # the same content, recorded with one link fewer (as BuildKit does after an import)
    _rewrite_config(layout, lambda config: config["records"][1].update(inputs=[]))
    stats = upload(location, layout.root, "shop", "api", "main")
    assert (stats.blobs_uploaded, stats.bytes_uploaded, stats.already_covered) == (0, 0, True)


def test_an_export_with_a_new_cache_key_is_uploaded(location: S3Location,
                                                    tmp_path: Path) -> None:
    layout = make_layout(tmp_path / "a", layers(3, 1000))
    upload(location, layout.root, "shop", "api", "main")

    def add_record(config: dict[str, Any]) -> None:
        config["records"].append({"digest": fake_digest(), "layers": [{"layer": 0}]})

    _rewrite_config(layout, add_record)
    stats = upload(location, layout.root, "shop", "api", "main")
    assert not stats.already_covered
    assert stats.blobs_uploaded == 2  # the new cache config and the index naming it
    found = download(location, "shop", "api", "main", tmp_path / "copy")
    assert found is not None
    assert (tmp_path / "copy" / "index.json").read_bytes() == (
        layout.root / "index.json").read_bytes()
