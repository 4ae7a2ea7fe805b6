"""Whether the bucket's entry already answers every cache key of a new export (effects).

BuildKit writes a different cache config for the same content depending on whether
steps hit the engine's own cache or an imported one (records gain or lose links), so
an unchanged build would otherwise upload a new config and index every time. An entry
that already has every fact of the new config imports at least as well, if all its
blobs are there. Anything unreadable: not covered, upload as usual.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from buildorch.cache import keys as cache_keys
from buildorch.cache.s3.client import S3CacheError, S3Location, get_optional, remote_size, s3_errors
from buildorch.cache.s3.layout import blob_path
from buildorch.cache.s3.references import Found, Ref, Resolver, root_refs, walk

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

CACHE_CONFIG_MEDIA_TYPE = "application/vnd.buildkit.cacheconfig.v0"

# JSON as parsed, read defensively: anything malformed raises and means "not covered"
_Config = Mapping[str, Any]
_Fact = tuple[object, ...]


def already_covered(s3: S3Client, location: S3Location, key: str, index: bytes,
                    layout_dir: Path) -> bool:
    """Whether the bucket's entry at `key` answers every cache key of the export in
    `layout_dir` (whose index is `index`), and has every blob it names."""
    try:
        with s3_errors(location, f"reading {key}"):
            old_index = s3.get_object(Bucket=location.bucket, Key=key)["Body"].read()

            def remote(digest: str) -> bytes:
                blob_key = cache_keys.sync_blob_key(location.prefix, digest)
                return s3.get_object(Bucket=location.bucket, Key=blob_key)["Body"].read()

            old = _cache_config(old_index, remote)
            new = _cache_config(index, lambda d: blob_path(layout_dir, d).read_bytes())
            if not (old and new) or not _facts(new) <= _facts(old):
                return False
            # and the entry is whole: every blob it names is there, at its size
            walk(root_refs(old_index, key), _remote_resolver(s3, location))
            return True
    except (S3CacheError, OSError, ValueError, KeyError, TypeError, IndexError):
        return False


def _facts(config: _Config) -> frozenset[_Fact]:
    """What a BuildKit cache config can answer, free of positions and times.

    Facts: (cache key, "layers", the layer chain it has) and (cache key, "input", input
    number, selector, cache key of the linked record).
    """
    layers = config.get("layers") or []
    records = config.get("records") or []

    def chain(index: int) -> tuple[str, ...]:
        blobs: list[str] = []
        while 0 <= index < len(layers) and len(blobs) <= len(layers):
            blobs.append(str(layers[index]["blob"]))
            index = int(layers[index].get("parent", -1))
        return tuple(blobs)

    facts: set[_Fact] = set()
    for record in records:
        key = str(record["digest"])
        facts.add((key, "record"))
        facts.update((key, "layers", chain(int(layer["layer"])))
                     for layer in record.get("layers") or [])
        for number, group in enumerate(record.get("inputs") or []):
            facts.update((key, "input", number, str(link.get("selector", "")),
                          str(records[int(link["link"])]["digest"])) for link in group)
    return frozenset(facts)


def _cache_config(index: bytes, read: Callable[[str], bytes]) -> _Config | None:
    """The cache config an entry's index leads to (index.json -> cache index -> config)."""
    for root in json.loads(index).get("manifests") or []:
        for descriptor in json.loads(read(str(root["digest"]))).get("manifests") or []:
            if descriptor.get("mediaType") == CACHE_CONFIG_MEDIA_TYPE:
                config = json.loads(read(str(descriptor["digest"])))
                return config if isinstance(config, dict) else None
    return None


def _remote_resolver(s3: S3Client, location: S3Location) -> Resolver:
    """Blobs in the bucket, at the size their descriptor says (documents fetched to walk)."""
    def resolve(refs: Sequence[Ref]) -> dict[str, Found]:
        found: dict[str, Found] = {}
        for ref in refs:
            key = cache_keys.sync_blob_key(location.prefix, ref.digest)
            if ref.document() is False:
                size = remote_size(s3, location, key)
                if size is None or (ref.size is not None and size != ref.size):
                    raise S3CacheError(f"{key} is missing or truncated")
                found[ref.digest] = Found(size)
                continue
            data = get_optional(s3, location, key)
            if data is None or (ref.size is not None and len(data) != ref.size):
                raise S3CacheError(f"{key} is missing or truncated")
            found[ref.digest] = Found(len(data), data)
        return found

    return resolve
