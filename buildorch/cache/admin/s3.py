"""S3 cache administration: list and prune what a bucket holds per image and branch (effects).

The entries of both layouts are read by `s3_bucket`. Prune deletes the entries older
than N days whose scope is not protected, then every blob that no kept entry
references, of both layouts, but only blobs older than a grace period: a concurrent
export uploads its blobs before its index, so a fresh blob that nothing references yet
is probably about to be. Before deleting anything the bucket is listed again, so that
an entry written or rewritten since the first listing keeps its blobs (and, rewritten,
is not deleted). Deletes go 1,000 keys per request, indexes first: no entry ever lacks
a blob.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from buildorch.cache.admin.entries import Entry, PruneResult, expired, scope_keys
from buildorch.cache.admin.s3_bucket import Bucket, Layouts, S3Object, Scan, utc
from buildorch.cache.s3.client import S3Location


def _now(now: datetime | None) -> datetime:
    return utc(now) if now is not None else datetime.now(timezone.utc)


def list_entries(location: S3Location, now: datetime | None = None,
                 known: Iterable[tuple[str, str]] = ()) -> list[Entry]:
    """Every entry under the prefix, both layouts; `known`: (pipeline, image) pairs."""
    return Bucket(location, _now(now), known).scan().entries


def prune(location: S3Location, older_than_days: float, protected_scopes: Iterable[str],
          dry_run: bool, grace_hours: float = 1.0, now: datetime | None = None,
          known: Iterable[tuple[str, str]] = ()) -> PruneResult:
    """Delete expired entries, then the blobs only they (or nothing) referenced.

    `protected_scopes`: branch names or scope keys never deleted (the default branch,
    `export_branches`). With `dry_run` nothing is deleted; the result says what would be.
    """
    bucket = Bucket(location, _now(now), known)
    keys = scope_keys(protected_scopes)
    scan = bucket.scan()
    doomed = [e for e in scan.entries if expired(e, older_than_days, keys)]
    if not dry_run:
        # an export may have written an index since: its blobs stay, and so does it
        scan = bucket.scan()
        doomed = [e for e in doomed if scan.unchanged(e)]
    doomed_keys = {entry.key for entry in doomed}
    kept = tuple(e for e in scan.entries if e.key not in doomed_keys)
    blobs = _unreferenced(scan, kept, bucket.layouts, bucket.now - timedelta(hours=grace_hours))
    if not dry_run:
        bucket.delete(sorted(doomed_keys))
        bucket.delete([obj.key for obj in blobs])
    freed = sum(obj.size for obj in blobs) + sum(scan.objects[k].size for k in doomed_keys)
    return PruneResult(tuple(doomed), tuple(obj.key for obj in blobs), freed, kept, dry_run)


def _unreferenced(scan: Scan, kept: Iterable[Entry], layouts: Layouts,
                  cutoff: datetime) -> list[S3Object]:
    referenced: set[str] = set()
    for entry in kept:
        referenced.update(entry.blobs)
    return [obj for key, obj in sorted(scan.objects.items())
            if layouts.is_blob(key) and key not in referenced and obj.last_modified <= cutoff]
