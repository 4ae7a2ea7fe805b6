"""Registry cache administration: list and prune the `<ref>:<image>-<scope>` entries (effects).

A registry cache entry is a manifest: with `image-manifest=true` an image manifest whose
config and layers are the cache blobs, otherwise an index whose `manifests[]` are the
blobs. Both are read by their JSON keys. Ages come from the ledger (`registry_ledger`).
`prune` DELETEs manifests by digest and then the blobs no remaining manifest references;
the registry only unlinks them from the repository, and its own garbage-collect reclaims
the storage later (so do untagged manifests left behind when a tag is re-exported:
`garbage-collect --delete-untagged`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from buildorch.cache.admin.entries import (
    Entry,
    PruneResult,
    age_days,
    expired,
    scope_keys,
    sort_key,
)
from buildorch.cache.admin.registry_ledger import (
    LEDGER_TAG,
    Record,
    forget,
    open_repository,
    read_ledger,
)
from buildorch.oci.registry import Manifest, RegistryClient

WORKERS = 8


# --- reading ------------------------------------------------------------------------------

def manifest_blobs(manifest: Manifest) -> dict[str, int]:
    """The blobs a cache manifest references (digest -> size): config and layers, or an
    index's manifests."""
    try:
        doc = json.loads(manifest.body)
    except ValueError:
        return {}
    if not isinstance(doc, dict):
        return {}
    config = doc.get("config")
    descriptors = [config] if isinstance(config, dict) else []
    for key in ("layers", "manifests"):
        items = doc.get(key)
        descriptors += items if isinstance(items, list) else []
    return {str(d["digest"]): int(d.get("size", 0))
            for d in descriptors if isinstance(d, dict) and "digest" in d}


def split_tag(tag: str, images: Sequence[str]) -> tuple[str, str] | None:
    """`app-api-main` -> (`app-api`, `main`): the longest known image name that prefixes
    the tag; None when none does."""
    known = [image for image in images if tag.startswith(f"{image}-") and len(tag) > len(image) + 1]
    if not known:
        return None
    image = max(known, key=len)
    return image, tag[len(image) + 1:]


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
    client, repository = open_repository(ref_repo)
    ledger = read_ledger(client, repository)
    tags = sorted(tag for tag in client.tags(repository) if tag != LEDGER_TAG)
    entries = [_entry(tag, manifest, ledger.records.get(tag), now, images)
               for tag, manifest in _fetch(client, repository, tags)]
    return sorted(entries, key=sort_key)


def _entry(tag: str, manifest: Manifest, record: Record | None, now: float,
           images: Sequence[str]) -> Entry:
    image, scope = split_tag(tag, images) or (None, None)
    exported = record.exported if record and record.digest == manifest.digest else None
    return Entry(kind="registry", name=tag, key=tag, pipeline=None, image=image, scope=scope,
                 blobs=manifest_blobs(manifest), exported=exported,
                 age_days=None if exported is None else age_days(now - exported),
                 revision=manifest.digest)


# --- prune --------------------------------------------------------------------------------

def select(entries: Sequence[Entry], older_than_days: float,
           protected_scopes: Iterable[str]) -> tuple[list[Entry], list[Entry]]:
    """(to delete, to keep). Deleted: expired (known age over the limit, scope not
    protected), and no kept entry shares its manifest (a DELETE by digest would untag
    that one too)."""
    keys = scope_keys(protected_scopes)
    old = [e for e in entries if expired(e, older_than_days, keys)]
    old_tags = {e.key for e in old}
    kept_digests = {e.revision for e in entries if e.key not in old_tags}
    doomed = [e for e in old if e.revision not in kept_digests]
    doomed_tags = {e.key for e in doomed}
    return doomed, [e for e in entries if e.key not in doomed_tags]


def _exclusive_blobs(doomed: Sequence[Entry], referenced: set[str]) -> dict[str, int]:
    return {digest: size for e in doomed for digest, size in e.blobs.items()
            if digest not in referenced}


def _referenced_now(client: RegistryClient, repository: str) -> set[str]:
    """Blobs of every manifest tagged now (ledger included), read again just before the
    blob deletes to narrow the window against a concurrent export."""
    tagged = _fetch(client, repository, client.tags(repository))
    return {digest for _, manifest in tagged for digest in manifest_blobs(manifest)}


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
    client, repository = open_repository(ref_repo)
    doomed, kept = select(list_entries(ref_repo, now, images), older_than_days,
                          protected_scopes)
    kept_blobs = {digest for e in kept for digest in e.blobs}
    blobs = _exclusive_blobs(doomed, kept_blobs)
    if dry_run:
        return _result(doomed, kept, blobs, tuple(blobs), dry_run=True)
    for digest in sorted({e.revision for e in doomed}):
        client.delete_manifest(repository, digest)
    forget(client, repository, {e.key: e.revision for e in doomed})
    blobs = _exclusive_blobs(doomed, _referenced_now(client, repository) | kept_blobs)
    deleted = tuple(d for d in blobs if client.delete_blob(repository, d))
    return _result(doomed, kept, blobs, deleted, dry_run=False)


def _result(doomed: Sequence[Entry], kept: Sequence[Entry], sizes: Mapping[str, int],
            deleted: tuple[str, ...], *, dry_run: bool) -> PruneResult:
    return PruneResult(tuple(doomed), deleted, sum(sizes[d] for d in deleted), tuple(kept),
                       dry_run, reclaimed_later=True)
