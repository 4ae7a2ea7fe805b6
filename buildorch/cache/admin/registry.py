"""Registry cache administration: list, size, age and prune `<ref>:<image>-<scope>` entries.

The registry API gives no time for a tag or a manifest, so buildorch keeps a ledger per
cache repository: an OCI artifact under the tag `_buildorch-ledger` (a tag no cache entry
can have, since image names start with a letter or digit) whose single layer is the JSON
`{"entries": {"<tag>": {"exported": <epoch seconds>, "digest": "sha256:..."}}}`.
`record_export` updates it right after each cache export. An entry's age is known only
while the ledger's digest for its tag is the tag's current manifest digest; otherwise
(never recorded, recorded update lost, re-exported by something else) it is unknown,
and `prune` keeps every entry of unknown age.

A registry cache entry is a manifest: with `image-manifest=true` an image manifest whose
config and layers are the cache blobs, otherwise an index whose `manifests[]` are the
blobs. Both are read by their JSON keys. `prune` DELETEs manifests by digest and then
the blobs no remaining manifest references; the registry only unlinks them from the
repository, and its own garbage-collect reclaims the storage later (so do untagged
manifests left behind when a tag is re-exported: `garbage-collect --delete-untagged`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from buildorch.cache.keys import scope_key
from buildorch.oci.registry import ImageRef, Manifest, RegistryClient, RegistryError, digest_of
from buildorch.text import human_age, human_size, table

LEDGER_TAG = "_buildorch-ledger"
LEDGER_MEDIA_TYPE = "application/vnd.buildorch.cache-ledger.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_JSON = b"{}"
DAY = 86400.0
WORKERS = 8
LEDGER_READS = 3


@dataclass(frozen=True)
class Blob:
    digest: str
    size: int


@dataclass(frozen=True)
class Entry:
    image: str          # the tag itself when no known image name prefixes it
    scope: str          # "" when the image is unknown
    tag: str
    digest: str         # the cache manifest's digest
    size: int           # sum of the sizes of the blobs the manifest references
    blobs: tuple[Blob, ...]
    exported: float | None
    age_days: float | None


@dataclass(frozen=True)
class Record:
    exported: float
    digest: str


@dataclass(frozen=True)
class Ledger:
    records: Mapping[str, Record]
    manifest_digest: str | None = None   # the ledger manifest it was read from
    blob_digest: str | None = None


@dataclass(frozen=True)
class ScopeStats:
    scope: str
    entries: int
    size: int


@dataclass(frozen=True)
class ImageStats:
    image: str
    entries: int
    size: int           # blobs shared between the image's entries counted once
    scopes: tuple[ScopeStats, ...]


@dataclass(frozen=True)
class PruneResult:
    deleted_entries: tuple[Entry, ...]
    deleted_blobs: tuple[Blob, ...]
    freed_bytes: int    # unlinked now; reclaimed by the registry's garbage-collect
    kept_entries: tuple[Entry, ...]
    dry_run: bool = False


# --------------------------------------------------------------------------- reading

def _open(ref_repo: str) -> tuple[RegistryClient, str]:
    ref = ImageRef.parse(ref_repo)
    if ref.tag or ref.digest:
        raise RegistryError(f"{ref_repo}: a cache repository, without tag or digest")
    return RegistryClient(ref.host), ref.repository


def manifest_blobs(manifest: Manifest) -> tuple[Blob, ...]:
    """The blobs a cache manifest references: config and layers, or an index's manifests."""
    try:
        doc = json.loads(manifest.body)
    except ValueError:
        return ()
    if not isinstance(doc, dict):
        return ()
    config = doc.get("config")
    descriptors = [config] if isinstance(config, dict) else []
    for key in ("layers", "manifests"):
        items = doc.get(key)
        descriptors += items if isinstance(items, list) else []
    return _unique(Blob(str(d["digest"]), int(d.get("size", 0)))
                   for d in descriptors if isinstance(d, dict) and "digest" in d)


def _unique(blobs: Iterable[Blob]) -> tuple[Blob, ...]:
    return tuple({blob.digest: blob for blob in blobs}.values())


def split_tag(tag: str, images: Sequence[str]) -> tuple[str, str]:
    """`app-api-main` -> (`app-api`, `main`): the longest known image name that prefixes
    the tag; (tag, "") when none does."""
    known = [image for image in images if tag.startswith(f"{image}-") and len(tag) > len(image) + 1]
    if not known:
        return tag, ""
    image = max(known, key=len)
    return image, tag[len(image) + 1:]


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


def _fetch(client: RegistryClient, repository: str,
           tags: Sequence[str]) -> list[tuple[str, Manifest]]:
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        manifests = list(pool.map(lambda tag: client.manifest(repository, tag), tags))
    return [(tag, m) for tag, m in zip(tags, manifests, strict=True) if m is not None]


def list_entries(ref_repo: str, now: float | None = None,
                 images: Sequence[str] = ()) -> list[Entry]:
    """Every cache entry (tag) of the repository, with size and, when the ledger knows
    it for the tag's current manifest, export time and age in days."""
    now = time.time() if now is None else now
    client, repository = _open(ref_repo)
    ledger = read_ledger(client, repository)
    tags = sorted(tag for tag in client.tags(repository) if tag != LEDGER_TAG)
    return [_entry(tag, manifest, ledger.records.get(tag), now, images)
            for tag, manifest in _fetch(client, repository, tags)]


def _entry(tag: str, manifest: Manifest, record: Record | None, now: float,
           images: Sequence[str]) -> Entry:
    image, scope = split_tag(tag, images)
    blobs = manifest_blobs(manifest)
    exported = record.exported if record and record.digest == manifest.digest else None
    age = None if exported is None else max(0.0, (now - exported) / DAY)
    return Entry(image, scope, tag, manifest.digest, sum(b.size for b in blobs), blobs,
                 exported, age)


# --------------------------------------------------------------------------- ledger

def record_export(ref_repo: str, tag: str, digest: str, now: float | None = None) -> None:
    """Note in the ledger that `tag` was exported as manifest `digest` at `now`.

    Read-modify-write without a lock: a concurrent writer can overwrite this update (or
    this one theirs). A lost update only leaves an entry's age unknown (its ledger digest
    no longer matches its manifest), and `prune` keeps entries of unknown age, so the
    race can cost disk space, never a live entry. The superseded ledger revision is
    deleted where the registry allows deletes.
    """
    client, repository = _open(ref_repo)
    ledger = read_ledger(client, repository)
    exported = time.time() if now is None else now
    _write_ledger(client, repository, {**ledger.records, tag: Record(exported, digest)}, ledger)


def _forget(client: RegistryClient, repository: str, deleted: Mapping[str, str]) -> None:
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


# --------------------------------------------------------------------------- stats

def _size(entries: Iterable[Entry]) -> int:
    return sum(b.size for b in _unique(b for e in entries for b in e.blobs))


def stats(entries: Sequence[Entry]) -> list[ImageStats]:
    """Per image (then per scope): entries and size, shared blobs counted once."""
    result = []
    for image in sorted({e.image for e in entries}):
        own = [e for e in entries if e.image == image]
        scopes = tuple(ScopeStats(scope, len(group), _size(group))
                       for scope in sorted({e.scope for e in own})
                       for group in [[e for e in own if e.scope == scope]])
        result.append(ImageStats(image, len(own), _size(own), scopes))
    return result


def total_size(entries: Sequence[Entry]) -> int:
    """Size of every entry together, blobs shared across images counted once."""
    return _size(entries)


# --------------------------------------------------------------------------- prune

def _protected(entry: Entry, keys: frozenset[str]) -> bool:
    if entry.scope:
        return entry.scope in keys
    return any(entry.tag.endswith(f"-{key}") for key in keys)  # image unknown: by suffix


def select(entries: Sequence[Entry], older_than_days: float,
           protected_scopes: Iterable[str]) -> tuple[list[Entry], list[Entry]]:
    """(to delete, to keep). Deleted: known age over the limit, scope not protected, and
    no kept entry shares its manifest (a DELETE by digest would untag that one too)."""
    keys = frozenset(scope_key(s) for s in protected_scopes)
    old = [e for e in entries if e.age_days is not None and e.age_days > older_than_days
           and not _protected(e, keys)]
    old_tags = {e.tag for e in old}
    kept_digests = {e.digest for e in entries if e.tag not in old_tags}
    doomed = [e for e in old if e.digest not in kept_digests]
    doomed_tags = {e.tag for e in doomed}
    return doomed, [e for e in entries if e.tag not in doomed_tags]


def _exclusive_blobs(doomed: Sequence[Entry], referenced: set[str]) -> tuple[Blob, ...]:
    return tuple(b for b in _unique(b for e in doomed for b in e.blobs)
                 if b.digest not in referenced)


def _referenced_now(client: RegistryClient, repository: str) -> set[str]:
    """Blobs of every manifest tagged now (ledger included), read again just before the
    blob deletes to narrow the window against a concurrent export."""
    tagged = _fetch(client, repository, client.tags(repository))
    return {b.digest for _, manifest in tagged for b in manifest_blobs(manifest)}


def prune(ref_repo: str, older_than_days: float, protected_scopes: Iterable[str] = (),
          dry_run: bool = False, now: float | None = None,
          images: Sequence[str] = ()) -> PruneResult:
    """Delete entries older than `older_than_days` outside `protected_scopes` (branch
    names or scope keys), never one of unknown age; drop them from the ledger; then
    delete the blobs only deleted entries referenced. `dry_run` deletes nothing and
    returns what would go. Space comes back after the registry's garbage-collect.

    An export running concurrently that reuses a blob being deleted can leave its entry
    incomplete (BuildKit skips uploading blobs the repository already has); the
    re-listing before blob deletes narrows, not closes, that window: prune when no
    export runs against the repository.
    """
    if older_than_days < 0:
        raise ValueError("older_than_days must be >= 0")
    client, repository = _open(ref_repo)
    doomed, kept = select(list_entries(ref_repo, now, images), older_than_days,
                          protected_scopes)
    blobs = _exclusive_blobs(doomed, {b.digest for e in kept for b in e.blobs})
    if dry_run:
        return PruneResult(tuple(doomed), blobs, sum(b.size for b in blobs), tuple(kept), True)
    for digest in sorted({e.digest for e in doomed}):
        client.delete_manifest(repository, digest)
    _forget(client, repository, {e.tag: e.digest for e in doomed})
    blobs = _exclusive_blobs(doomed, _referenced_now(client, repository)
                             | {b.digest for e in kept for b in e.blobs})
    deleted = tuple(b for b in blobs if client.delete_blob(repository, b.digest))
    return PruneResult(tuple(doomed), deleted, sum(b.size for b in deleted), tuple(kept))


# --------------------------------------------------------------------------- text

def _rows(entries: Sequence[Entry]) -> list[list[str]]:
    return [[e.image, e.scope or "-", human_size(e.size), human_age(e.age_days)]
            for e in sorted(entries, key=lambda e: (e.image, e.scope, e.tag))]


ENTRY_HEADER = ("IMAGE", "BRANCH/SCOPE", "SIZE", "AGE")


def render_entries(entries: Sequence[Entry]) -> str:
    """`cache ls`: one line per entry."""
    if not entries:
        return "no cache entries"
    return table([ENTRY_HEADER, *_rows(entries)])


def render_stats(entries: Sequence[Entry]) -> str:
    """`cache stats`: per image and scope, entries and size (shared blobs once)."""
    rows = []
    for image in stats(entries):
        rows.append([image.image, "*", str(image.entries), human_size(image.size)])
        rows += [["", s.scope or "-", str(s.entries), human_size(s.size)]
                 for s in image.scopes]
    rows.append(["total", "", str(len(entries)), human_size(total_size(entries))])
    return table([("IMAGE", "BRANCH/SCOPE", "ENTRIES", "SIZE"), *rows])


def render_prune(result: PruneResult) -> str:
    """`cache prune`: what was (or would be) deleted and kept, and a summary."""
    verb = "would delete" if result.dry_run else "deleted"
    lines = [f"{verb}:", table([ENTRY_HEADER, *_rows(result.deleted_entries)])] \
        if result.deleted_entries else [f"{verb}: no entry"]
    if result.kept_entries:
        lines += ["kept:", table([ENTRY_HEADER, *_rows(result.kept_entries)])]
    lines.append(f"{verb} {len(result.deleted_entries)} entries and "
                 f"{len(result.deleted_blobs)} blobs ({human_size(result.freed_bytes)}); "
                 f"kept {len(result.kept_entries)} entries"
                 + ("" if result.dry_run else
                    "; the registry's garbage-collect reclaims the space"))
    return "\n".join(lines)
