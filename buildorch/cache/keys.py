"""Cache keys: where each image's cache lives, per branch (pure).

One naming scheme for every cache type, so that CI runs and laptops find each other's
cache: an entry is (pipeline, image, scope), the scope being the branch (made safe for
tags and object keys) or `global`.

S3 bucket layout (under the profile's `prefix`):
    manifests/<pipeline>-<image>-<scope>       native BuildKit `type=s3` cache manifests
    blobs/sha256:<hex>                         native BuildKit `type=s3` cache blobs
    oci/index/<pipeline>/<image>/<scope>.json  sync transport: an entry's OCI index
    oci/blobs/sha256/<hex>                     sync transport: content-addressed blobs
Registry: <ref>:<image>-<scope>. Local folder: <dir>/<pipeline>/<image>/<scope>.
"""

from __future__ import annotations

import re

GLOBAL_SCOPE = "global"
MAX_TAG = 128
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def scope_key(branch: str | None) -> str:
    """`feature/x` -> `feature-x`: valid in an image tag and an object key."""
    if not branch:
        return GLOBAL_SCOPE
    key = _UNSAFE.sub("-", branch).strip("-.") or GLOBAL_SCOPE
    return key[:80]


def registry_ref(ref: str, image: str, scope: str) -> str:
    return f"{ref}:{f'{image}-{scope}'[:MAX_TAG]}"


def local_dir(base: str, pipeline: str, image: str, scope: str) -> str:
    return f"{base.rstrip('/')}/{pipeline}/{image}/{scope}"


def native_s3_name(pipeline: str, image: str, scope: str) -> str:
    return f"{pipeline}-{image}-{scope}"


def sync_index_key(prefix: str, pipeline: str, image: str, scope: str) -> str:
    return f"{prefix}oci/index/{pipeline}/{image}/{scope}.json"


def sync_index_prefix(prefix: str) -> str:
    return f"{prefix}oci/index/"


def sync_blob_key(prefix: str, digest: str) -> str:
    algorithm, _, hexdigest = digest.partition(":")
    return f"{prefix}oci/blobs/{algorithm}/{hexdigest}"


def parse_sync_index_key(prefix: str, key: str) -> tuple[str, str, str] | None:
    """(pipeline, image, scope) of a sync index object key, or None."""
    rest = key.removeprefix(sync_index_prefix(prefix))
    parts = rest.split("/")
    if rest == key or len(parts) != 3 or not parts[2].endswith(".json"):
        return None
    return parts[0], parts[1], parts[2].removesuffix(".json")
