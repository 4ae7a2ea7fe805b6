"""The registry cache's export ledger, on the local registry."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from buildorch.cache.admin.entries import DAY
from buildorch.cache.admin.registry import list_entries, prune
from buildorch.cache.admin.registry_ledger import LEDGER_TAG, read_ledger, record_export
from buildorch.oci.registry import Manifest, digest_of
from tests.cache.admin.fake_entries import NOW
from tests.cache.admin.registry_repo import IMAGES, Repo

pytestmark = pytest.mark.engine


def small_artifact(repo: Repo, tag: str) -> str:
    client, name = repo.client, repo.name
    layer = uuid.uuid4().bytes
    body = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                   "digest": client.upload_blob(name, b"{}"), "size": 2},
        "layers": [{"mediaType": "application/octet-stream",
                    "digest": client.upload_blob(name, layer), "size": len(layer)}],
    }).encode()
    client.put_manifest(name, tag, Manifest("application/vnd.oci.image.manifest.v1+json",
                                            body, digest_of(body)))
    return digest_of(body)


def test_record_export_rewrites_the_ledger_and_deletes_the_old_revision(
        engine: str, repo: Repo) -> None:
    record_export(repo.ref, "app-main", "sha256:" + "a" * 64, 100.0)
    first = read_ledger(repo.client, repo.name)
    record_export(repo.ref, "app-feature-x", "sha256:" + "b" * 64, 200.0)
    second = read_ledger(repo.client, repo.name)

    assert repo.client.tags(repo.name) == [LEDGER_TAG]
    assert first.manifest_digest and second.manifest_digest and second.blob_digest
    assert repo.client.manifest(repo.name, first.manifest_digest) is None
    assert repo.client.blob_size(repo.name, str(first.blob_digest)) is None
    data = repo.client.blob(repo.name, second.blob_digest)
    assert data is not None and json.loads(data) == {"entries": {
        "app-feature-x": {"exported": 200.0, "digest": "sha256:" + "b" * 64},
        "app-main": {"exported": 100.0, "digest": "sha256:" + "a" * 64}}}
    assert list_entries(repo.ref) == []   # the ledger is not an entry


def test_lost_ledger_updates_leave_ages_unknown_and_entries_kept(engine: str,
                                                                 repo: Repo) -> None:
    digests = {f"app-b{i}": small_artifact(repo, f"app-b{i}") for i in range(12)}
    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(lambda tag: record_export(repo.ref, tag, digests[tag], NOW - 30 * DAY),
                      digests))
    recorded = set(read_ledger(repo.client, repo.name).records)
    assert recorded and recorded <= set(digests)
    entries = list_entries(repo.ref, now=NOW, images=IMAGES)
    assert {e.name for e in entries if e.age_days is not None} == recorded

    result = prune(repo.ref, 7, [], now=NOW, images=IMAGES)
    assert {e.name for e in result.deleted_entries} == recorded
    assert sorted(repo.client.tags(repo.name)) == sorted(
        [*(set(digests) - recorded), LEDGER_TAG])
