"""The registry client's blob and delete calls, against the stack's real registry."""

from __future__ import annotations

import json
import os
import uuid

import pytest

from buildorch.oci.reference import ImageRef
from buildorch.oci.registry import (
    Manifest,
    RegistryClient,
    RegistryError,
    digest_of,
    tag_digest,
)

pytestmark = pytest.mark.engine

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def fresh_repo() -> tuple[RegistryClient, str]:
    ref = ImageRef.parse(f"{os.environ['BUILDORCH_REGISTRY']}/regtest/{uuid.uuid4().hex[:12]}")
    return RegistryClient(ref.host), ref.repository


def artifact(client: RegistryClient, repository: str, payload: bytes) -> Manifest:
    config = client.upload_blob(repository, b"{}")
    layer = client.upload_blob(repository, payload)
    body = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config,
                   "size": 2},
        "layers": [{"mediaType": "application/octet-stream", "digest": layer,
                    "size": len(payload)}],
    }).encode()
    return Manifest(OCI_MANIFEST, body, digest_of(body))


def test_upload_blob_then_read_and_head_it(engine: str) -> None:
    client, repository = fresh_repo()
    data = f"payload {uuid.uuid4()}".encode()
    digest = client.upload_blob(repository, data)
    assert digest == digest_of(data)
    assert client.blob(repository, digest) == data
    assert client.blob_size(repository, digest) == len(data)
    assert client.upload_blob(repository, data) == digest  # already there: no second upload


def test_missing_blob_is_none(engine: str) -> None:
    client, repository = fresh_repo()
    missing = digest_of(b"never uploaded " + uuid.uuid4().bytes)
    assert client.blob(repository, missing) is None
    assert client.blob_size(repository, missing) is None
    assert client.delete_blob(repository, missing) is False


def test_delete_blob_unlinks_it(engine: str) -> None:
    client, repository = fresh_repo()
    digest = client.upload_blob(repository, uuid.uuid4().bytes)
    assert client.delete_blob(repository, digest) is True
    assert client.blob_size(repository, digest) is None
    assert client.blob(repository, digest) is None


def test_delete_manifest_by_digest_untags_every_tag_on_it(engine: str) -> None:
    client, repository = fresh_repo()
    manifest = artifact(client, repository, uuid.uuid4().bytes)
    other = artifact(client, repository, uuid.uuid4().bytes)
    for tag in ("a", "b"):
        client.put_manifest(repository, tag, manifest)
    client.put_manifest(repository, "c", other)
    assert client.manifest(repository, "a") == manifest
    assert client.delete_manifest(repository, manifest.digest) is True
    assert sorted(client.tags(repository)) == ["c"]
    assert client.manifest(repository, manifest.digest) is None
    assert client.delete_manifest(repository, manifest.digest) is False


def test_delete_manifest_by_tag_is_refused(engine: str) -> None:
    """Distribution 2.8 deletes by digest only (400 DIGEST_INVALID for a tag)."""
    client, repository = fresh_repo()
    client.put_manifest(repository, "a", artifact(client, repository, uuid.uuid4().bytes))
    with pytest.raises(RegistryError, match="HTTP 400"):
        client.delete_manifest(repository, "a")
    assert client.tags(repository) == ["a"]


def test_tag_digest_still_tags_an_uploaded_manifest(engine: str) -> None:
    client, repository = fresh_repo()
    manifest = artifact(client, repository, uuid.uuid4().bytes)
    client.put_manifest(repository, "first", manifest)
    tag_digest(f"{client.host}/{repository}:second", manifest.digest)
    assert sorted(client.tags(repository)) == ["first", "second"]
    assert client.manifest(repository, "second") == manifest
