"""Sync transport exports made by hand, shaped as BuildKit writes them, and checks on them.

Shared by the transport's tests (`tests/cache/s3/`) and the S3 admin's
(`tests/cache/admin/test_s3.py`).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildorch.cache import keys as cache_keys
from buildorch.cache.s3.client import S3Location
from buildorch.cache.s3.layout import blob_path

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


def rewrite_config(layout: Layout, edit: Callable[[dict[str, Any]], None]) -> None:
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
