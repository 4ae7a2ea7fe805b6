"""Upload an export folder's entry to the bucket: the blobs it lacks, then the index (effects).

Which blobs does the bucket lack? An entry has tens of blobs (one per step, plus two
documents) and a bucket holds those of every image and branch sharing the prefix, so a
HEAD per blob (in parallel, each followed by its upload when needed) costs far less
than listing the bucket. Above LIST_ABOVE blobs a listing is cheaper (1,000 keys per
request, 16 listings in parallel) unless the bucket holds a thousand times more blobs
than the entry, and it is used instead. Each blob is verified against its digest just
before it is sent, and sent with that digest as its SHA-256 checksum, so a corrupt file
is never stored under a content address. The index goes last, once every blob is in;
an export the bucket's entry already covers sends nothing (`covered`).

Two CI jobs exporting at once cannot corrupt each other: blobs are immutable and named
by their content (two writers of one blob write the same bytes), and the index is one
PUT, which S3 makes atomic: a reader sees one writer's complete index or the other's
(the last writer wins), each written only after all its blobs. The cache admin's prune
(`cache.admin.s3`) deletes only blobs that no kept entry references and that are older
than a grace period, so a concurrent export's fresh blobs survive it. An export that
reuses an old blob exactly while prune deletes it can leave an index with a missing
blob: a download then reports the entry incomplete (an uncached build and a warning,
never a wrong one) and the next export uploads the blob again.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from buildorch.cache import keys as cache_keys
from buildorch.cache.s3.client import (
    S3CacheError,
    S3Location,
    client,
    parallel,
    remote_size,
    s3_errors,
)
from buildorch.cache.s3.covered import already_covered
from buildorch.cache.s3.layout import (
    blob_path,
    corrupt_local,
    file_digest,
    local_errors,
    local_resolver,
)
from buildorch.cache.s3.references import root_refs, walk

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

SINGLE_PUT_MAX = 5 * 1024**3  # S3's limit for one PUT; larger blobs go in parts
PART_SIZE = 64 * 1024**2
LIST_ABOVE = 500  # blobs in an entry above which one listing beats a HEAD per blob
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"


@dataclass(frozen=True)
class UploadStats:
    blobs_referenced: int
    blobs_uploaded: int
    bytes_uploaded: int
    # the bucket's entry already answers every cache key of this export: nothing sent
    already_covered: bool = False


def upload(location: S3Location, layout_dir: Path, pipeline: str, image: str, scope: str,
           workers: int = 8) -> UploadStats:
    """Upload the entry in `layout_dir`: the blobs the bucket lacks, then the index."""
    index_path = layout_dir / "index.json"
    try:
        index = index_path.read_bytes()
    except OSError as exc:
        raise S3CacheError(f"no cache export to upload: {index_path}: {exc.strerror}") from None
    s3 = client(location, connections=workers)
    key = cache_keys.sync_index_key(location.prefix, pipeline, image, scope)
    with local_errors(location, layout_dir):
        blobs = walk(root_refs(index, str(index_path)), local_resolver(layout_dir))
        if already_covered(s3, location, key, index, layout_dir):
            return UploadStats(len(blobs), 0, 0, already_covered=True)
        listed = listed_blobs(s3, location, workers) if len(blobs) > LIST_ABOVE else None
        sent = parallel(lambda item: _sync_blob(s3, location, layout_dir, *item, listed),
                        sorted(blobs.items()), workers)
    with s3_errors(location, f"writing {key}"):
        s3.put_object(Bucket=location.bucket, Key=key, Body=index,
                      ContentType=INDEX_MEDIA_TYPE)
    uploaded = [size for size in sent if size is not None]
    return UploadStats(len(blobs), len(uploaded), sum(uploaded))


def _sync_blob(s3: S3Client, location: S3Location, layout: Path, digest: str, size: int,
               listed: Mapping[str, int] | None) -> int | None:
    """Upload one blob unless the bucket has it: the bytes sent, or None."""
    key = cache_keys.sync_blob_key(location.prefix, digest)
    there = remote_size(s3, location, key) if listed is None else listed.get(key)
    if there == size:
        return None  # a blob of another size under this name is a broken upload: replace it
    path = blob_path(layout, digest)
    if file_digest(path) != digest:
        raise corrupt_local(path, digest)
    with s3_errors(location, f"uploading {key}"), path.open("rb") as body:
        if size <= SINGLE_PUT_MAX:
            # S3 checks the bytes it receives against the digest, too
            s3.put_object(Bucket=location.bucket, Key=key, Body=body, ContentLength=size,
                          ChecksumSHA256=_base64(digest))
        else:
            _upload_parts(s3, location, key, body)
    return size


def _upload_parts(s3: S3Client, location: S3Location, key: str, body: IO[bytes]) -> None:
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE,
                            max_concurrency=4)
    s3.upload_fileobj(body, location.bucket, key, ExtraArgs={"ChecksumAlgorithm": "SHA256"},
                      Config=config)


def _base64(digest: str) -> str:
    return base64.b64encode(bytes.fromhex(digest.removeprefix("sha256:"))).decode()


def listed_blobs(s3: S3Client, location: S3Location, workers: int) -> dict[str, int]:
    """Every sync blob in the bucket and its size: 16 listings (by first hex digit) at once."""
    start = cache_keys.sync_blob_key(location.prefix, "sha256:")

    def shard(digit: str) -> dict[str, int]:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=location.bucket,
                                                             Prefix=start + digit)
        with s3_errors(location, f"listing {start}{digit}"):
            return {item["Key"]: item["Size"] for page in pages
                    for item in page.get("Contents", [])}

    found: dict[str, int] = {}
    for part in parallel(shard, "0123456789abcdef", max(workers, 16)):
        found.update(part)
    return found
