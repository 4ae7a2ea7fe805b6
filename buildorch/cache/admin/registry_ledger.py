"""When each registry cache entry was exported: the ledger artifact (effects).

The registry API gives no time for a tag or a manifest, so buildorch keeps a ledger per
cache repository: an OCI artifact under the tag `_buildorch-ledger` (a tag no cache entry
can have, since image names start with a letter or digit) whose single layer is the JSON
`{"entries": {"<tag>": {"exported": <epoch seconds>, "digest": "sha256:..."}}}`.
`record_export` updates it right after each cache export. An entry's age is known only
while the ledger's digest for its tag is the tag's current manifest digest; otherwise
(never recorded, recorded update lost, re-exported by something else) it is unknown,
and `prune` keeps every entry of unknown age.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass

from buildorch.oci.reference import ImageRef
from buildorch.oci.registry import Manifest, RegistryClient, RegistryError, digest_of

LEDGER_TAG = "_buildorch-ledger"
LEDGER_MEDIA_TYPE = "application/vnd.buildorch.cache-ledger.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_JSON = b"{}"
LEDGER_READS = 3


@dataclass(frozen=True)
class Ledger:
    """The records by tag, and the revision they were read from (to delete it later)."""

    records: Mapping[str, Record]
    manifest_digest: str | None = None   # the ledger manifest it was read from
    blob_digest: str | None = None


@dataclass(frozen=True)
class Record:
    """A tag's last recorded export: when (epoch seconds), and as which manifest."""

    exported: float
    digest: str


def open_repository(ref_repo: str) -> tuple[RegistryClient, str]:
    """A client for a cache repository (`host/path`, no tag) and the repository's path."""
    ref = ImageRef.parse(ref_repo)
    if ref.tag or ref.digest:
        raise RegistryError(f"{ref_repo}: a cache repository, without tag or digest")
    return RegistryClient(ref.host), ref.repository


# --- reading ------------------------------------------------------------------------------

def read_ledger(client: RegistryClient, repository: str) -> Ledger:
    """The ledger (empty if none). Retried when a concurrent writer replaced it between
    the manifest and the blob read."""
    for _ in range(LEDGER_READS):
        manifest = client.manifest(repository, LEDGER_TAG)
        if manifest is None:
            return Ledger({})
        blob = _ledger_blob(manifest)
        data = client.blob(repository, blob) if blob else None
        if data is not None:
            return Ledger(_parse_records(data), manifest.digest, blob)
    return Ledger({})


def _ledger_blob(manifest: Manifest) -> str | None:
    try:
        doc = json.loads(manifest.body)
    except ValueError:
        return None
    layers = doc.get("layers") if isinstance(doc, dict) else None
    config = doc.get("config") if isinstance(doc, dict) else None
    for descriptor in [*(layers if isinstance(layers, list) else []), config]:
        if isinstance(descriptor, dict) and descriptor.get("mediaType") == LEDGER_MEDIA_TYPE:
            return str(descriptor.get("digest"))
    return None


def _parse_records(data: bytes) -> dict[str, Record]:
    try:
        entries = json.loads(data).get("entries", {})
    except (ValueError, AttributeError):
        return {}
    records: dict[str, Record] = {}
    for tag, value in entries.items() if isinstance(entries, dict) else ():
        try:
            records[str(tag)] = Record(float(value["exported"]), str(value["digest"]))
        except (KeyError, TypeError, ValueError):
            continue
    return records


# --- writing ------------------------------------------------------------------------------

def record_export(ref_repo: str, tag: str, digest: str, now: float | None = None) -> None:
    """Note in the ledger that `tag` was exported as manifest `digest` at `now`.

    Read-modify-write without a lock: a concurrent writer can overwrite this update (or
    this one theirs). A lost update only leaves an entry's age unknown (its ledger digest
    no longer matches its manifest), and `prune` keeps entries of unknown age, so the
    race can cost disk space, never a live entry. The superseded ledger revision is
    deleted where the registry allows deletes.
    """
    client, repository = open_repository(ref_repo)
    ledger = read_ledger(client, repository)
    exported = time.time() if now is None else now
    _write_ledger(client, repository, {**ledger.records, tag: Record(exported, digest)}, ledger)


def forget(client: RegistryClient, repository: str, deleted: Mapping[str, str]) -> None:
    """Drop ledger records of deleted entries (tag -> manifest digest), re-reading first."""
    ledger = read_ledger(client, repository)
    records = {tag: record for tag, record in ledger.records.items()
               if deleted.get(tag) != record.digest}
    if len(records) != len(ledger.records):
        _write_ledger(client, repository, records, ledger)


def ledger_bytes(records: Mapping[str, Record]) -> bytes:
    entries = {tag: {"exported": r.exported, "digest": r.digest}
               for tag, r in sorted(records.items())}
    return json.dumps({"entries": entries}, sort_keys=True).encode()


def _ledger_manifest(client: RegistryClient, repository: str, data: bytes) -> Manifest:
    blob = client.upload_blob(repository, data)
    client.upload_blob(repository, EMPTY_JSON)
    body = json.dumps({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": LEDGER_MEDIA_TYPE,
        "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": digest_of(EMPTY_JSON),
                   "size": len(EMPTY_JSON)},
        "layers": [{"mediaType": LEDGER_MEDIA_TYPE, "digest": blob, "size": len(data)}],
    }, sort_keys=True).encode()
    return Manifest(OCI_MANIFEST, body, digest_of(body))


def _write_ledger(client: RegistryClient, repository: str, records: Mapping[str, Record],
                  previous: Ledger) -> None:
    data = ledger_bytes(records)
    manifest = _ledger_manifest(client, repository, data)
    client.put_manifest(repository, LEDGER_TAG, manifest)
    if previous.manifest_digest in (None, manifest.digest):
        return
    try:
        client.delete_manifest(repository, str(previous.manifest_digest))
        if previous.blob_digest and previous.blob_digest != digest_of(data):
            client.delete_blob(repository, previous.blob_digest)
    except RegistryError:
        pass  # deletes disabled: the old revision stays, untagged
