"""Download a bucket's entry into an export folder BuildKit can import (effects).

The index, then one level of references at a time (documents are fetched and walked),
in parallel; blobs already in the folder (or in a shared store) are not fetched. Each
blob is written to a temporary file, verified, then renamed into place, and index.json
is written last: an interrupted download leaves no bad blob and no index.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from buildorch.cache import keys as cache_keys
from buildorch.cache.s3.client import (
    NOT_FOUND,
    S3CacheError,
    S3Location,
    client,
    error_code,
    get_optional,
    parallel,
    s3_errors,
)
from buildorch.cache.s3.layout import (
    CHUNK,
    blob_path,
    local_errors,
    partial_file,
    write_layout,
)
from buildorch.cache.s3.references import (
    SNIFF_BYTES,
    Found,
    Ref,
    looks_like_json,
    root_refs,
    walk,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


class Readable(Protocol):
    def read(self, amt: int | None = ..., /) -> bytes: ...


@dataclass(frozen=True)
class DownloadStats:
    blobs_referenced: int
    blobs_downloaded: int
    bytes_downloaded: int


def download(location: S3Location, pipeline: str, image: str, scope: str, dest_dir: Path,
             *, store: Path | None = None, workers: int = 8) -> DownloadStats | None:
    """Fetch an entry into `dest_dir` (an OCI layout); None if the bucket has no such entry.

    Blobs already in `dest_dir` are kept. With `store` (a folder shared by every entry,
    say `.buildorch/s3-blobs`), blobs are fetched into it once and hard-linked into
    each `dest_dir`: entries of several branches share most of their layers.
    """
    s3 = client(location, connections=workers)
    key = cache_keys.sync_index_key(location.prefix, pipeline, image, scope)
    index = get_optional(s3, location, key)
    if index is None:
        return None
    fetch = _Fetch(s3, location, dest_dir, store or dest_dir)
    fetched: list[int] = []

    def resolve(refs: Sequence[Ref]) -> dict[str, Found]:
        results = parallel(fetch.blob, refs, workers)
        fetched.extend(size for _, size in results if size is not None)
        pairs = zip(refs, results, strict=True)
        return {ref.digest: found for ref, (found, _) in pairs if found is not None}

    with local_errors(location, dest_dir):
        blobs = walk(root_refs(index, key), resolve)
        write_layout(dest_dir, index)
    return DownloadStats(len(blobs), len(fetched), sum(fetched))


@dataclass(frozen=True)
class _Fetch:
    s3: S3Client
    location: S3Location
    dest: Path
    store: Path

    def blob(self, ref: Ref) -> tuple[Found | None, int | None]:
        """Make sure the blob is in the destination: (what it is, bytes fetched or None)."""
        path, fetched = self._local(ref), None
        if path is None:
            fetched = self._get(ref)
            if fetched is None:
                if ref.required:
                    raise S3CacheError(
                        f"S3 cache {self.location.describe()}: entry is incomplete, "
                        f"{ref.digest} is missing from the bucket; export it again")
                return None, None
            path = self._link(ref.digest)
        size = path.stat().st_size
        return Found(size, self._document(path, ref, size)), fetched

    def _local(self, ref: Ref) -> Path | None:
        # only verified files are ever renamed into place (by this module or by BuildKit),
        # so a blob present with the expected size is trusted without hashing it again
        for root in dict.fromkeys((self.dest, self.store)):
            path = blob_path(root, ref.digest)
            if path.is_file() and ref.size in (None, path.stat().st_size):
                return path if root == self.dest else self._link(ref.digest)
        return None

    def _get(self, ref: Ref) -> int | None:
        key = cache_keys.sync_blob_key(self.location.prefix, ref.digest)
        target = blob_path(self.store, ref.digest)
        with s3_errors(self.location, f"downloading {key}"):
            body = self._stream(key)
            if body is None:
                return None
            with partial_file(self.store) as (temp, handle):
                digest, size = _copy_hashing(body, handle)
                if digest != ref.digest:
                    raise S3CacheError(
                        f"S3 cache {self.location.describe()}: {key} does not match its digest; "
                        "the bucket holds a corrupt blob (delete it and export again)")
                temp.chmod(0o444)
                target.parent.mkdir(parents=True, exist_ok=True)
                temp.replace(target)
        return size

    def _stream(self, key: str) -> Readable | None:
        from botocore.exceptions import ClientError

        try:
            body: Readable = self.s3.get_object(Bucket=self.location.bucket, Key=key)["Body"]
        except ClientError as exc:
            if error_code(exc) in NOT_FOUND:
                return None
            raise
        return body

    def _link(self, digest: str) -> Path:
        """The store's blob, hard-linked into the destination (copied across filesystems)."""
        source, target = blob_path(self.store, digest), blob_path(self.dest, digest)
        if source == target:
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        with partial_file(self.dest) as (temp, _):
            temp.unlink()
            try:
                os.link(source, temp)
            except OSError:
                shutil.copyfile(source, temp)
            temp.replace(target)
        return target

    def _document(self, path: Path, ref: Ref, size: int) -> bytes | None:
        kind = ref.document()
        if kind is False:
            return None
        with path.open("rb") as handle:
            if kind is None and not looks_like_json(handle.read(SNIFF_BYTES), size):
                return None
            handle.seek(0)
            return handle.read()


def _copy_hashing(source: Readable, target: IO[bytes]) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK):
        sha.update(chunk)
        target.write(chunk)
        size += len(chunk)
    target.flush()
    return f"sha256:{sha.hexdigest()}", size
