"""What an S3 cache entry needs: its index and every blob it references, transitively (pure).

JSON documents (OCI indexes and manifests, BuildKit cache configs) are read and every
`sha256:<hex>` in them is a reference, whatever the format (`references`). A descriptor
(an object with `digest` and `size`) names a blob that must exist: an entry missing one
is never uploaded and never imported. Other digests (cache keys, diff IDs, the layers a
cache config names again) may name no blob; the OCI layout reaches every blob it needs
through descriptors, so the transport follows descriptors only, and never spends a
request asking the bucket about a cache key. The cache admin (`cache.admin.s3_bucket`)
also counts any blob a plain digest names (`walk(..., plain=True)`), so a prune keeps
at least what the transport needs. Layers are never read; a blob is walked as a
document when its descriptor's media type says so, or (unknown type) when it starts
like JSON. Where the blobs are (a local folder, the bucket, a bucket listing) is the
caller's `Resolver`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from buildorch.cache.s3.client import S3CacheError

MAX_DOCUMENT = 64 * 1024**2  # a JSON document larger than this is not read
SNIFF_BYTES = 16  # what `looks_like_json` needs of a blob of unknown type

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_LAYER_TYPE = re.compile(r"layer|rootfs\.diff")
_DOCUMENT_TYPE = re.compile(r"json|cacheconfig|manifest|index")


@dataclass(frozen=True)
class Ref:
    """A digest found in a document; a descriptor's also has a size and maybe a media type."""

    digest: str
    size: int | None = None
    media_type: str | None = None

    @property
    def required(self) -> bool:
        """A descriptor names a blob that must exist; a plain digest may name none."""
        return self.size is not None

    def document(self) -> bool | None:
        """True: a document to walk; False: a leaf; None: unknown, look at its first bytes."""
        if not self.required:
            # a cache key, a diff ID, or a layer a cache config names: formats list their
            # documents with descriptors
            return False
        media_type = self.media_type or ""
        if _LAYER_TYPE.search(media_type):
            return False
        return True if _DOCUMENT_TYPE.search(media_type) else None


@dataclass(frozen=True)
class Found:
    """A referenced blob that exists; `document` holds its bytes when it is to be walked."""

    size: int
    document: bytes | None = None


# one level of references in, those that name a blob out (raising for a missing descriptor)
Resolver = Callable[[Sequence[Ref]], dict[str, Found]]


def references(document: bytes) -> list[Ref]:
    """Every sha256 digest in a JSON document; ValueError if it is not JSON."""
    text = document.decode()
    refs = {digest: Ref(digest) for digest in DIGEST.findall(text)}
    for obj in _objects(json.loads(text)):
        ref = _descriptor(obj)
        if ref is not None:
            refs[ref.digest] = ref
    return list(refs.values())


def _objects(value: object) -> Iterator[dict[str, object]]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _descriptor(obj: dict[str, object]) -> Ref | None:
    digest, size, media_type = obj.get("digest"), obj.get("size"), obj.get("mediaType")
    if not (isinstance(digest, str) and DIGEST.fullmatch(digest)):
        return None
    if not isinstance(size, int) or isinstance(size, bool):
        return None
    return Ref(digest, size, media_type if isinstance(media_type, str) else None)


def looks_like_json(head: bytes, size: int) -> bool:
    return size <= MAX_DOCUMENT and head.lstrip()[:1] in (b"{", b"[")


def root_refs(index: bytes, where: str) -> list[Ref]:
    """The references of an entry's index, which must be JSON."""
    try:
        return references(index)
    except ValueError:
        raise S3CacheError(f"{where} is not a JSON OCI index") from None


def walk(roots: Iterable[Ref], resolve: Resolver, *, plain: bool = False) -> dict[str, int]:
    """Every blob the roots reference, transitively: digest -> size.

    `resolve` gets one level of references at a time (so that it can fetch them in
    parallel) and returns those that name a blob; it raises for a missing descriptor.
    `plain`: also resolve digests that are not in descriptors.
    """
    blobs: dict[str, int] = {}
    seen: dict[str, Ref] = {}
    walked: set[str] = set()
    level = _new_refs(roots, seen, plain)
    while level:
        following: list[Ref] = []
        for digest, found in resolve(level).items():
            blobs[digest] = found.size
            if found.document is not None and digest not in walked:
                walked.add(digest)
                following.extend(_document_refs(found.document))
        level = _new_refs(following, seen, plain)
    return blobs


def _new_refs(refs: Iterable[Ref], seen: dict[str, Ref], plain: bool) -> list[Ref]:
    # a digest first met as a plain reference is met again if a descriptor names it
    fresh: dict[str, Ref] = {}
    for ref in refs:
        if not (plain or ref.required):
            continue
        old = fresh.get(ref.digest) or seen.get(ref.digest)
        if old is None or (ref.required and not old.required):
            fresh[ref.digest] = ref
    seen.update(fresh)
    return list(fresh.values())


def _document_refs(data: bytes) -> list[Ref]:
    try:
        return references(data)
    except ValueError:  # not JSON after all: a leaf
        return []
