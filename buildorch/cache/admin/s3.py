"""S3 cache administration: what a bucket holds per image and branch, and pruning it.

Functions return data; the `render_*` functions make the text that `buildorch cache
ls|stats|prune` prints. Both layouts of `cache_keys` are covered: the sync transport's
entries (`oci/index/<pipeline>/<image>/<scope>.json`, blobs at `oci/blobs/sha256/<hex>`)
and BuildKit's native `type=s3` manifests (`manifests/<pipeline>-<image>-<scope>`, blobs
at `blobs/sha256:<hex>`). An entry's blobs are found as the sync transport finds them
(`s3_sync.walk`), and then some: every digest in its documents that names a blob object
of its layout counts, in a descriptor or not (native manifests name layers without
descriptors), so that a prune never deletes what an entry may need.

A native name cannot always be split (pipelines, images and branches may all contain
dashes): it is split only when exactly one known (pipeline, image) pair prefixes it
(pairs the caller passes, and those of the sync entries), else it is kept whole.

Prune deletes the entries older than N days whose scope is not protected, then every
blob that no kept entry references, of both layouts, but only blobs older than a grace
period: a concurrent export uploads its blobs before its index, so a fresh blob that
nothing references yet is probably about to be. Before deleting anything the bucket is
listed again, so that an entry written or rewritten since the first listing keeps its
blobs (and, rewritten, is not deleted). Deletes go 1,000 keys per request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Literal

from buildorch.cache import keys as cache_keys
from buildorch.cache.s3.sync import (
    MAX_DOCUMENT,
    Found,
    Ref,
    Resolver,
    S3CacheError,
    S3Location,
    client,
    get_optional,
    looks_like_json,
    parallel,
    references,
    s3_errors,
    walk,
)
from buildorch.text import human_age, human_size, plural, table

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

WORKERS = 16
DELETE_BATCH = 1000  # the most keys one DeleteObjects request takes
SNIFF_BYTES = 16
_HEX = r"[0-9a-f]{64}"

Transport = Literal["sync", "native"]


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int
    last_modified: datetime
    etag: str


@dataclass(frozen=True)
class Entry:
    transport: Transport
    name: str  # pipeline/image/scope, or the native manifest's name
    pipeline: str | None  # None: a native name that could not be split
    image: str | None
    scope: str | None
    key: str
    size: int  # the blobs it references, each counted once
    blobs: int
    last_modified: datetime
    age_days: float
    complete: bool = True  # every blob a descriptor names is in the bucket
    blob_sizes: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)
    etag: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class BranchStats:
    scope: str  # the native name when it could not be split
    transport: Transport
    size: int
    blobs: int
    age_days: float


@dataclass(frozen=True)
class ImageStats:
    pipeline: str | None
    image: str | None
    entries: int
    total_size: int  # blobs shared by its entries counted once
    branches: tuple[BranchStats, ...]


@dataclass(frozen=True)
class PruneResult:
    deleted_entries: tuple[Entry, ...]
    deleted_blobs: tuple[str, ...]  # object keys
    freed_bytes: int
    kept_entries: tuple[Entry, ...]
    dry_run: bool


# --- the bucket's layouts ----------------------------------------------------------------

@dataclass(frozen=True)
class _Layouts:
    prefix: str

    def blob_key(self, transport: Transport, digest: str) -> str:
        if transport == "sync":
            return cache_keys.sync_blob_key(self.prefix, digest)
        return f"{self.prefix}blobs/{digest}"  # BuildKit's own naming

    def is_blob(self, key: str) -> bool:
        rest = key.removeprefix(self.prefix)
        return bool(re.fullmatch(rf"oci/blobs/sha256/{_HEX}|blobs/sha256:{_HEX}", rest))

    def entry(self, key: str) -> tuple[Transport, str] | None:
        """("sync", "pipeline/image/scope") or ("native", name) for an entry's key."""
        parts = cache_keys.parse_sync_index_key(self.prefix, key)
        if parts is not None:
            return "sync", "/".join(parts)
        name = key.removeprefix(f"{self.prefix}manifests/")
        if name != key and name and "/" not in name:
            return "native", name
        return None


def split_native(name: str, known: Iterable[tuple[str, str]]) -> tuple[str, str, str] | None:
    """(pipeline, image, scope) of a native name, if exactly one known pair prefixes it."""
    matches = {(pipeline, image) for pipeline, image in known
               if name.startswith(f"{pipeline}-{image}-") and
               len(name) > len(pipeline) + len(image) + 2}
    if len(matches) != 1:
        return None
    pipeline, image = matches.pop()
    return pipeline, image, name[len(pipeline) + len(image) + 2:]


@dataclass(frozen=True)
class _Scan:
    objects: dict[str, S3Object]
    entries: list[Entry]

    def unchanged(self, entry: Entry) -> bool:
        obj = self.objects.get(entry.key)
        return (obj is not None and obj.etag == entry.etag
                and obj.last_modified == entry.last_modified)


class _Bucket:
    """Listings of the prefix, and the documents read (blobs by key: they never change)."""

    def __init__(self, location: S3Location, now: datetime,
                 known: Iterable[tuple[str, str]]) -> None:
        self.location = location
        self.s3: S3Client = client(location, connections=WORKERS)
        self.layouts = _Layouts(location.prefix)
        self.now = now
        self.known = set(known)
        self._documents: dict[str, bytes | None] = {}

    def scan(self) -> _Scan:
        objects = self._list()
        heads = [obj for key, obj in objects.items() if self.layouts.entry(key)]
        known = self.known | self._sync_pairs(objects)
        built = parallel(lambda obj: self._entry(obj, objects, known), heads, WORKERS)
        return _Scan(objects, sorted((e for e in built if e is not None), key=_order))

    def _sync_pairs(self, objects: Iterable[str]) -> set[tuple[str, str]]:
        """(pipeline, image) of every sync entry: they help split native names."""
        parsed = (cache_keys.parse_sync_index_key(self.location.prefix, key)
                  for key in objects)
        return {(parts[0], parts[1]) for parts in parsed if parts is not None}

    def _list(self) -> dict[str, S3Object]:
        found: dict[str, S3Object] = {}
        paginator = self.s3.get_paginator("list_objects_v2")
        with s3_errors(self.location, "listing the bucket"):
            for page in paginator.paginate(Bucket=self.location.bucket,
                                           Prefix=self.location.prefix):
                for item in page.get("Contents", []):
                    key = item["Key"]
                    found[key] = S3Object(key, item["Size"], _utc(item["LastModified"]),
                                          item.get("ETag", ""))
        return found

    def _entry(self, obj: S3Object, objects: Mapping[str, S3Object],
               known: Iterable[tuple[str, str]]) -> Entry | None:
        kind = self.layouts.entry(obj.key)
        body = get_optional(self.s3, self.location, obj.key)
        if kind is None or body is None:  # deleted since the listing
            return None
        transport, name = kind
        missing: list[str] = []
        try:
            roots = references(body)
        except ValueError:
            roots, missing = [], [obj.key]
        blobs = walk(roots, self._resolver(transport, objects, missing), plain=True)
        sizes = {self.layouts.blob_key(transport, d): size for d, size in blobs.items()}
        parts = (tuple(name.split("/")) if transport == "sync" else split_native(name, known))
        pipeline, image, scope = parts if parts else (None, None, None)
        return Entry(transport, name, pipeline, image, scope, obj.key, sum(sizes.values()),
                     len(sizes), obj.last_modified, _age_days(obj.last_modified, self.now),
                     not missing, sizes, obj.etag)

    def _resolver(self, transport: Transport, objects: Mapping[str, S3Object],
                  missing: list[str]) -> Resolver:
        def resolve(refs: Sequence[Ref]) -> dict[str, Found]:
            found: dict[str, Found] = {}
            for ref in refs:
                obj = objects.get(self.layouts.blob_key(transport, ref.digest))
                if obj is None:
                    if ref.required:
                        missing.append(ref.digest)
                    continue
                found[ref.digest] = Found(obj.size, self._document(obj, ref))
            return found

        return resolve

    def _document(self, obj: S3Object, ref: Ref) -> bytes | None:
        kind = ref.document()
        if kind is False or obj.size > MAX_DOCUMENT:
            return None
        if obj.key not in self._documents:
            if kind is None and not looks_like_json(self._head(obj.key), obj.size):
                self._documents[obj.key] = None
            else:
                self._documents[obj.key] = self._read(obj.key)
        return self._documents[obj.key]

    def _read(self, key: str) -> bytes:
        body = get_optional(self.s3, self.location, key)
        if body is None:
            # deleted since the listing (another prune?): what it references is unknown,
            # so nothing may be deleted on the strength of this scan
            raise S3CacheError(f"S3 cache {self.location.describe()}: {key} vanished while "
                               "the bucket was read; try again")
        return body

    def _head(self, key: str) -> bytes:
        with s3_errors(self.location, f"reading {key}"):
            response = self.s3.get_object(Bucket=self.location.bucket, Key=key,
                                          Range=f"bytes=0-{SNIFF_BYTES - 1}")
            return response["Body"].read()

    def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start:start + DELETE_BATCH]
            with s3_errors(self.location, f"deleting {len(batch)} objects"):
                response = self.s3.delete_objects(
                    Bucket=self.location.bucket,
                    Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True})
            failed = response.get("Errors", [])
            if failed:
                first = failed[0]
                raise S3CacheError(
                    f"S3 cache {self.location.describe()}: {len(failed)} objects could not be "
                    f"deleted, e.g. {first.get('Key')}: {first.get('Code')} "
                    f"{first.get('Message', '')}".rstrip())


def _order(entry: Entry) -> tuple[str, str, str, str]:
    return (entry.pipeline or "~", entry.image or "~", entry.scope or entry.name, entry.key)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _age_days(moment: datetime, now: datetime) -> float:
    return (now - moment).total_seconds() / 86400


def _now(now: datetime | None) -> datetime:
    return _utc(now) if now is not None else datetime.now(timezone.utc)


# --- ls, stats, prune --------------------------------------------------------------------

def list_entries(location: S3Location, now: datetime | None = None,
                 known: Iterable[tuple[str, str]] = ()) -> list[Entry]:
    """Every entry under the prefix, both layouts; `known`: (pipeline, image) pairs."""
    return _Bucket(location, _now(now), known).scan().entries


def stats(entries: Sequence[Entry]) -> list[ImageStats]:
    """Per (pipeline, image): entries, total size (shared blobs once), and each branch."""
    groups: dict[tuple[str | None, str | None], list[Entry]] = {}
    for entry in entries:
        groups.setdefault((entry.pipeline, entry.image), []).append(entry)
    return [ImageStats(pipeline, image, len(group), shared_size(group),
                       tuple(BranchStats(e.scope or e.name, e.transport, e.size, e.blobs,
                                         e.age_days) for e in group))
            for (pipeline, image), group in groups.items()]


def shared_size(entries: Iterable[Entry]) -> int:
    """The bytes the entries' blobs take, a blob shared by several counted once."""
    sizes: dict[str, int] = {}
    for entry in entries:
        sizes.update(entry.blob_sizes)
    return sum(sizes.values())


def prune(location: S3Location, older_than_days: float, protected_scopes: set[str],
          dry_run: bool, grace_hours: float = 1.0, now: datetime | None = None,
          known: Iterable[tuple[str, str]] = ()) -> PruneResult:
    """Delete expired entries, then the blobs only they (or nothing) referenced.

    `protected_scopes`: branch names or scope keys never deleted (the default branch,
    `export_branches`). With `dry_run` nothing is deleted; the result says what would be.
    """
    bucket = _Bucket(location, _now(now), known)
    protected = {cache_keys.scope_key(scope) for scope in protected_scopes if scope}
    scan = bucket.scan()
    expired = [e for e in scan.entries if _expired(e, older_than_days, protected)]
    if not dry_run:
        # an export may have written an index since: its blobs stay, and so does it
        scan = bucket.scan()
        expired = [e for e in expired if scan.unchanged(e)]
    doomed = {entry.key for entry in expired}
    kept = tuple(e for e in scan.entries if e.key not in doomed)
    blobs = _unreferenced(scan, kept, bucket.layouts, bucket.now - timedelta(hours=grace_hours))
    if not dry_run:
        bucket.delete(sorted(doomed))  # indexes first: no entry ever lacks a blob
        bucket.delete([obj.key for obj in blobs])
    freed = sum(obj.size for obj in blobs) + sum(scan.objects[k].size for k in doomed)
    return PruneResult(tuple(expired), tuple(obj.key for obj in blobs), freed, kept, dry_run)


def _expired(entry: Entry, older_than_days: float, protected: set[str]) -> bool:
    if entry.age_days <= older_than_days:
        return False
    if entry.scope is not None:
        return entry.scope not in protected
    # an unsplit native name ends with its scope: a suffix match keeps at least those
    return not any(entry.name.endswith(f"-{scope}") for scope in protected)


def _unreferenced(scan: _Scan, kept: Iterable[Entry], layouts: _Layouts,
                  cutoff: datetime) -> list[S3Object]:
    referenced: set[str] = set()
    for entry in kept:
        referenced.update(entry.blob_sizes)
    return [obj for key, obj in sorted(scan.objects.items())
            if layouts.is_blob(key) and key not in referenced and obj.last_modified <= cutoff]


# --- text ----------------------------------------------------------------------------------

def render_entries(entries: Sequence[Entry]) -> str:
    if not entries:
        return "no cache entries"
    rows = [("PIPELINE", "IMAGE", "BRANCH", "TRANSPORT", "SIZE", "BLOBS", "AGE", "")]
    rows += [(e.pipeline or "?", e.image or "?", e.scope or e.name, e.transport,
              human_size(e.size), str(e.blobs), human_age(e.age_days),
              "" if e.complete else "incomplete") for e in entries]
    return table(rows)


def render_stats(image_stats: Sequence[ImageStats], entries: Sequence[Entry] = ()) -> str:
    lines: list[str] = []
    for item in image_stats:
        title = (f"{item.pipeline}/{item.image}" if item.image is not None
                 else "native entries (names not split)")
        lines.append(f"{title}: {plural(item.entries, 'entry', 'entries')}, "
                     f"{human_size(item.total_size)}")
        rows = [(f"  {b.scope}", b.transport, human_size(b.size), f"{b.blobs} blobs",
                 human_age(b.age_days)) for b in item.branches]
        lines.append(table(rows))
    if entries:
        lines.append(f"total: {plural(len(entries), 'entry', 'entries')}, "
                     f"{human_size(shared_size(entries))} "
                     "(blobs shared between entries counted once)")
    return "\n".join(lines) if lines else "no cache entries"


def render_prune(result: PruneResult) -> str:
    verb = "would delete" if result.dry_run else "deleted"
    lines = [f"{verb} {plural(len(result.deleted_entries), 'entry', 'entries')}:"]
    lines += [f"  {e.name} ({e.transport}, {human_size(e.size)}, {human_age(e.age_days)})"
              for e in result.deleted_entries]
    lines.append(f"{verb} {plural(len(result.deleted_blobs), 'blob', 'blobs')}; "
                 f"{'would free' if result.dry_run else 'freed'} "
                 f"{human_size(result.freed_bytes)}; "
                 f"kept {plural(len(result.kept_entries), 'entry', 'entries')}")
    return "\n".join(lines)
