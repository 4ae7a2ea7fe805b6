"""Reading an S3 cache bucket: its entries, of both layouts, and their blobs (effects).

Both layouts of `cache.keys` are covered: the sync transport's entries
(`oci/index/<pipeline>/<image>/<scope>.json`, blobs at `oci/blobs/sha256/<hex>`) and
BuildKit's native `type=s3` manifests (`manifests/<pipeline>-<image>-<scope>`, blobs at
`blobs/sha256:<hex>`). An entry's blobs are found as the sync transport finds them
(`cache.s3.references.walk`), and then some: every digest in its documents that names a
blob object of its layout counts, in a descriptor or not (native manifests name layers
without descriptors), so that a prune never deletes what an entry may need.

A native name cannot always be split (pipelines, images and branches may all contain
dashes): it is split only when exactly one known (pipeline, image) pair prefixes it
(pairs the caller passes, and those of the sync entries), else it is kept whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from buildorch.cache import keys as cache_keys
from buildorch.cache.admin.entries import Entry, Transport, age_days, sort_key
from buildorch.cache.s3.client import (
    S3CacheError,
    S3Location,
    client,
    get_optional,
    parallel,
    s3_errors,
)
from buildorch.cache.s3.references import (
    MAX_DOCUMENT,
    SNIFF_BYTES,
    Found,
    Ref,
    Resolver,
    looks_like_json,
    references,
    walk,
)
from buildorch.text import plural

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

WORKERS = 16
DELETE_BATCH = 1000  # the most keys one DeleteObjects request takes
_HEX = r"[0-9a-f]{64}"



@dataclass(frozen=True)
class S3Object:
    key: str
    size: int
    last_modified: datetime
    etag: str

    @property
    def revision(self) -> str:
        # the ETag alone stays when the same bytes are written again: the time changes
        return f"{self.etag}@{self.last_modified.isoformat()}"


@dataclass(frozen=True)
class Layouts:
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
class Scan:
    objects: dict[str, S3Object]
    entries: list[Entry]

    def unchanged(self, entry: Entry) -> bool:
        obj = self.objects.get(entry.key)
        return obj is not None and obj.revision == entry.revision


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


class Bucket:
    """Listings of the prefix, and the documents read (blobs by key: they never change)."""

    def __init__(self, location: S3Location, now: datetime,
                 known: Iterable[tuple[str, str]]) -> None:
        self.location = location
        self.s3: S3Client = client(location, connections=WORKERS)
        self.layouts = Layouts(location.prefix)
        self.now = now
        self.known = set(known)
        self._documents: dict[str, bytes | None] = {}

    def scan(self) -> Scan:
        objects = self._list()
        heads = [obj for key, obj in objects.items() if self.layouts.entry(key)]
        known = self.known | self._sync_pairs(objects)
        built = parallel(lambda obj: self._entry(obj, objects, known), heads, WORKERS)
        return Scan(objects, sorted((e for e in built if e is not None), key=sort_key))

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
                    found[key] = S3Object(key, item["Size"], utc(item["LastModified"]),
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
        return Entry(kind=transport, name=name, key=obj.key, pipeline=pipeline, image=image,
                     scope=scope, blobs=sizes, exported=obj.last_modified.timestamp(),
                     age_days=age_days((self.now - obj.last_modified).total_seconds()),
                     revision=obj.revision, complete=not missing)

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
            with s3_errors(self.location, f"deleting {plural(len(batch), 'object')}"):
                response = self.s3.delete_objects(
                    Bucket=self.location.bucket,
                    Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True})
            failed = response.get("Errors", [])
            if failed:
                first = failed[0]
                raise S3CacheError(
                    f"S3 cache {self.location.describe()}: {plural(len(failed), 'object')} "
                    f"could not be deleted, e.g. {first.get('Key')}: {first.get('Code')} "
                    f"{first.get('Message', '')}".rstrip())
