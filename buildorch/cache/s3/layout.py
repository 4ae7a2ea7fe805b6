"""The local side of the sync transport: a BuildKit cache export folder (effects).

Docker's default builder (the docker driver) has no `type=s3` cache, but it can export
cache to a folder (`--cache-to type=local,dest=DIR,mode=max`: an OCI layout, `index.json`
plus `blobs/sha256/<hex>`) and import from one (`--cache-from type=local,src=DIR`). A
folder reused for several exports keeps stale blobs and an `ingest/` folder: only what
the index references is read (`local_resolver`). Files are written to a temporary file
beside `blobs/` and renamed into place, so a reader never sees half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from buildorch.cache.s3.client import S3CacheError, S3Location
from buildorch.cache.s3.references import SNIFF_BYTES, Found, Ref, Resolver, looks_like_json

CHUNK = 1024**2
OCI_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'
PARTIAL = ".buildorch-partial"  # temporary files, beside blobs/ so that a rename is atomic


def blob_path(root: Path, digest: str) -> Path:
    return root / "blobs" / "sha256" / digest.removeprefix("sha256:")


def file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
    return f"sha256:{sha.hexdigest()}"


@contextlib.contextmanager
def local_errors(location: S3Location, folder: Path) -> Iterator[None]:
    """A full disk or a permission problem is a cache error like any other."""
    try:
        yield
    except OSError as exc:
        raise S3CacheError(f"S3 cache {location.describe()}: local folder {folder}: "
                           f"{exc.strerror or exc}") from exc


def corrupt_local(path: Path, digest: str) -> S3CacheError:
    return S3CacheError(f"{path} does not match its digest {digest}: the local cache is "
                        "corrupt; not uploading it (delete the folder and export again)")


# --- reading an export ------------------------------------------------------------------

def local_resolver(layout: Path) -> Resolver:
    """The blobs of an export folder, each at the size its descriptor says; documents
    verified against their digest before they are walked."""
    def resolve(refs: Sequence[Ref]) -> dict[str, Found]:
        found = {ref.digest: _local_blob(layout, ref) for ref in refs}
        return {digest: item for digest, item in found.items() if item is not None}

    return resolve


def _local_blob(layout: Path, ref: Ref) -> Found | None:
    path = blob_path(layout, ref.digest)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        if ref.required:
            raise S3CacheError(f"cache export {layout} is incomplete: {ref.digest} is "
                               "referenced but missing; nothing uploaded") from None
        return None
    if ref.size is not None and size != ref.size:
        raise corrupt_local(path, ref.digest)
    return Found(size, _local_document(path, ref, size))


def _local_document(path: Path, ref: Ref, size: int) -> bytes | None:
    kind = ref.document()
    if kind is False:
        return None
    if kind is None:
        with path.open("rb") as handle:
            if not looks_like_json(handle.read(SNIFF_BYTES), size):
                return None
    data = path.read_bytes()
    if f"sha256:{hashlib.sha256(data).hexdigest()}" != ref.digest:
        raise corrupt_local(path, ref.digest)
    return data


# --- writing into a folder ------------------------------------------------------------

@contextlib.contextmanager
def partial_file(root: Path) -> Iterator[tuple[Path, IO[bytes]]]:
    """A temporary file beside `root/blobs`, removed unless the caller renamed it away."""
    folder = root / PARTIAL
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield temp, handle
    finally:
        temp.unlink(missing_ok=True)


def write_layout(dest: Path, index: bytes) -> None:
    """`oci-layout`, then index.json (renamed into place: readers never see half of it)."""
    dest.mkdir(parents=True, exist_ok=True)
    if not (dest / "oci-layout").exists():
        (dest / "oci-layout").write_bytes(OCI_LAYOUT)
    with partial_file(dest) as (temp, handle):
        handle.write(index)
        handle.close()
        temp.chmod(0o644)  # mkstemp's 0600 would hide it from other users of the folder
        temp.replace(dest / "index.json")
