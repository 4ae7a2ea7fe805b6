"""What `buildorch cache ls|stats|prune` knows of a cache entry, in registries and S3 (pure).

One model for both stores: an `Entry` (a registry tag `<image>-<scope>`, or an S3 sync
index or native BuildKit manifest), the statistics per image and scope (`stats`), the
result of a prune, and the rules both prunes follow: which scopes are protected and
which entries have expired. A name the admin cannot split into image and scope
(pipelines, images and branches may all contain dashes) leaves `image` and `scope` None;
such an entry is protected when its name ends with `-<protected scope key>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from buildorch.cache.keys import scope_key
from buildorch.cache.profiles import CacheProfile

DAY = 86400.0

Transport = Literal["sync", "native"]  # the two layouts of an S3 cache
Kind = Literal["registry", Transport]  # a registry tag, or an S3 transport's entry


@dataclass(frozen=True)
class Entry:
    kind: Kind
    name: str  # registry: the tag; S3: pipeline/image/scope, or the native manifest's name
    key: str  # what addresses it: the registry tag, or the S3 object key
    pipeline: str | None  # None: not in the name (registry tags), or the name not split
    image: str | None  # None (and scope None): the name could not be split
    scope: str | None
    # blob key -> size, each blob once: a digest in a registry, an object key in S3
    blobs: Mapping[str, int] = field(hash=False)
    exported: float | None  # epoch seconds; None: unknown (a registry tag the ledger lacks)
    age_days: float | None
    revision: str  # changes on every re-export: the manifest digest, or S3 ETag@time
    complete: bool = True  # every blob a descriptor names is there

    @property
    def size(self) -> int:
        return sum(self.blobs.values())


@dataclass(frozen=True)
class ScopeStats:
    scope: str  # the entry's name when it could not be split
    entries: int
    size: int  # blobs shared by its entries counted once
    blobs: int
    age_days: float | None  # the youngest entry's, None when no age is known
    kinds: tuple[Kind, ...]


@dataclass(frozen=True)
class ImageStats:
    pipeline: str | None
    image: str | None  # None: the entries whose names could not be split
    entries: int
    size: int  # blobs shared by its entries counted once
    scopes: tuple[ScopeStats, ...]


@dataclass(frozen=True)
class PruneResult:
    deleted_entries: tuple[Entry, ...]
    deleted_blobs: tuple[str, ...]  # blob keys: digests in a registry, object keys in S3
    freed_bytes: int
    kept_entries: tuple[Entry, ...]
    dry_run: bool
    # a registry only unlinks what it deletes: its garbage-collect reclaims the space
    reclaimed_later: bool = False


def age_days(seconds: float) -> float:
    """`seconds` since an export, in days; an export after now (clock skew) is age 0."""
    return max(0.0, seconds / DAY)


def sort_key(entry: Entry) -> tuple[str, str, str, str]:
    """Pipeline, image, scope; entries of unsplit names last, by name."""
    return (entry.pipeline or "~", entry.image or "~", entry.scope or entry.name, entry.key)


def shared_size(entries: Iterable[Entry]) -> int:
    """The bytes the entries' blobs take, a blob shared by several counted once."""
    sizes: dict[str, int] = {}
    for entry in entries:
        sizes.update(entry.blobs)
    return sum(sizes.values())


def stats(entries: Sequence[Entry]) -> list[ImageStats]:
    """Per (pipeline, image), then per scope: entries and size, shared blobs counted once."""
    groups: dict[tuple[str | None, str | None], list[Entry]] = {}
    for entry in sorted(entries, key=sort_key):
        groups.setdefault((entry.pipeline, entry.image), []).append(entry)
    return [ImageStats(pipeline, image, len(group), shared_size(group), _scopes(group))
            for (pipeline, image), group in groups.items()]


def _scopes(entries: Sequence[Entry]) -> tuple[ScopeStats, ...]:
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(entry.scope or entry.name, []).append(entry)
    return tuple(_scope(scope, group) for scope, group in sorted(groups.items()))


def _scope(scope: str, entries: Sequence[Entry]) -> ScopeStats:
    ages = [e.age_days for e in entries if e.age_days is not None]
    blobs = {key for entry in entries for key in entry.blobs}
    return ScopeStats(scope, len(entries), shared_size(entries), len(blobs),
                      min(ages) if ages else None, tuple(dict.fromkeys(e.kind for e in entries)))


# --- prune rules ------------------------------------------------------------------------

def protected_scopes(profile: CacheProfile) -> frozenset[str]:
    """The scopes a prune of this profile's cache never deletes: the default branch and
    `export_branches`, as scope keys."""
    return scope_keys([profile.default_branch, *profile.export_branches])


def scope_keys(branches: Iterable[str]) -> frozenset[str]:
    """Branch names or scope keys, as scope keys (`release/1.0` -> `release-1.0`)."""
    return frozenset(scope_key(branch) for branch in branches)


def is_protected(entry: Entry, keys: frozenset[str]) -> bool:
    if entry.scope is not None:
        return entry.scope in keys
    # a name that could not be split ends with its scope: a suffix match keeps at least those
    return any(entry.name.endswith(f"-{key}") for key in keys)


def expired(entry: Entry, older_than_days: float, keys: frozenset[str]) -> bool:
    """Known to be older than the limit, and not protected; an entry of unknown age never."""
    return (entry.age_days is not None and entry.age_days > older_than_days
            and not is_protected(entry, keys))
