"""S3 cache through a sync transport: a BuildKit local cache folder <-> an S3 bucket.

Docker's default builder (the docker driver) has no `type=s3` cache, but it can export
cache to a folder (`--cache-to type=local,dest=DIR,mode=max`: an OCI layout, `index.json`
plus `blobs/sha256/<hex>`) and import from one (`--cache-from type=local,src=DIR`). This
module moves such a folder to and from the bucket, in the layout of `cache_keys`:

    <prefix>oci/index/<pipeline>/<image>/<scope>.json   an entry: the folder's index.json
    <prefix>oci/blobs/sha256/<hex>                      blobs, named by content, shared

What an entry needs is its index and every blob the index references, transitively.
JSON documents (OCI indexes and manifests, BuildKit cache configs) are read and every
`sha256:<hex>` in them is a reference, whatever the format (`references`). A descriptor
(an object with `digest` and `size`) names a blob that must exist: an entry missing one
is never uploaded and never imported. Other digests (cache keys, diff IDs, the layers a
cache config names again) may name no blob; the OCI layout reaches every blob it needs
through descriptors, so the transport follows descriptors only, and never spends a
request asking the bucket about a cache key. `s3_cache_admin` also counts any blob a
plain digest names, so a prune keeps at least what the transport needs. Layers are never
read; a blob is walked as a document when its descriptor's media type says so, or
(unknown type) when it starts like JSON. A folder reused for several exports keeps stale
blobs and an `ingest/` folder: neither is uploaded.

Upload: which blobs does the bucket lack? An entry has tens of blobs (one per step, plus
two documents) and a bucket holds those of every image and branch sharing the prefix,
so a HEAD per blob (in parallel, each followed by its upload when needed) costs far less
than listing the bucket. Above LIST_ABOVE blobs a listing is cheaper (1,000 keys per
request, 16 listings in parallel) unless the bucket holds a thousand times more blobs
than the entry, and it is used instead. Each blob is verified against its digest just
before it is sent, and sent with that digest as its SHA-256 checksum, so a corrupt file is
never stored under a content address. The index goes last, once every blob is in.

Download: the index, then one level of references at a time (documents are fetched and
walked), in parallel; blobs already in the folder (or in a shared store) are not fetched.
Each blob is written to a temporary file, verified, then renamed into place, and
index.json is written last: an interrupted download leaves no bad blob and no index.

Two CI jobs exporting at once cannot corrupt each other: blobs are immutable and named
by their content (two writers of one blob write the same bytes), and the index is one
PUT, which S3 makes atomic: a reader sees one writer's complete index or the other's
(the last writer wins), each written only after all its blobs. `s3_cache_admin.prune`
deletes only blobs that no kept entry references and that are older than a grace
period, so a concurrent export's fresh blobs survive it. An export that reuses an old
blob exactly while prune deletes it can leave an index with a missing blob: a download
then reports the entry incomplete (an uncached build and a warning, never a wrong one)
and the next export uploads the blob again.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeVar

from buildorch.cache import keys as cache_keys
from buildorch.cache.profiles import CacheProfile
from buildorch.errors import BuildorchError
from buildorch.proc import redact

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 60
ATTEMPTS = 3
SINGLE_PUT_MAX = 5 * 1024**3  # S3's limit for one PUT; larger blobs go in parts
PART_SIZE = 64 * 1024**2
MAX_DOCUMENT = 64 * 1024**2  # a JSON document larger than this is not read
CHUNK = 1024**2
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
CACHE_CONFIG_MEDIA_TYPE = "application/vnd.buildkit.cacheconfig.v0"
OCI_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'
LIST_ABOVE = 500  # blobs in an entry above which one listing beats a HEAD per blob
PARTIAL = ".buildorch-partial"  # temporary files, beside blobs/ so that a rename is atomic

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_LAYER_TYPE = re.compile(r"layer|rootfs\.diff")
_DOCUMENT_TYPE = re.compile(r"json|cacheconfig|manifest|index")
_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
_URL_USERINFO = re.compile(r"//[^/@\s]+@")
_CREDENTIAL_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}

T = TypeVar("T")
R = TypeVar("R")


class Readable(Protocol):
    def read(self, amt: int | None = ..., /) -> bytes: ...


class S3CacheError(BuildorchError):
    """The S3 cache could not be read or written: one line, no credentials in it."""


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str = ""
    region: str | None = None
    endpoint_url: str | None = None
    use_path_style: bool = False

    @classmethod
    def from_profile(cls, profile: CacheProfile) -> S3Location:
        if profile.type != "s3" or not profile.bucket:
            raise ValueError(f"not an s3 cache profile: type {profile.type}")
        return cls(profile.bucket, profile.prefix, profile.region, profile.endpoint_url,
                   profile.use_path_style)

    def describe(self) -> str:
        where = self.endpoint_url or f"AWS S3 ({self.region or 'default region'})"
        return f"s3://{self.bucket}/{self.prefix} at {where}"


@dataclass(frozen=True)
class UploadStats:
    blobs_referenced: int
    blobs_uploaded: int
    bytes_uploaded: int
    # the bucket's entry already answers every cache key of this export: nothing sent
    already_covered: bool = False


@dataclass(frozen=True)
class DownloadStats:
    blobs_referenced: int
    blobs_downloaded: int
    bytes_downloaded: int


# --- S3 client and errors -------------------------------------------------------------

def client(location: S3Location, *, connections: int = 16) -> S3Client:
    """A client with boto3's standard credential chain (environment, profile, SSO, role).

    One per location for the whole process: making one costs 0.1-0.3 s, and a run makes
    a download and an upload per image. boto3 clients are thread-safe, and refreshable
    credentials (roles, SSO) refresh themselves.
    """
    return _client(location, connections)


@functools.lru_cache(maxsize=32)
def _client(location: S3Location, connections: int) -> S3Client:
    import boto3  # here, not at the top: `buildorch --help` must not import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": ATTEMPTS},
        max_pool_connections=max(connections, 10),
        s3={"addressing_style": "path" if location.use_path_style else "auto"},
        # botocore otherwise adds CRC32 trailers that many S3-compatible stores reject;
        # blobs carry their own SHA-256 (their name) instead.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    with s3_errors(location, "creating the S3 client"):
        session = boto3.session.Session(region_name=location.region)
        return session.client("s3", endpoint_url=location.endpoint_url, config=config)


@contextlib.contextmanager
def s3_errors(location: S3Location, what: str) -> Iterator[None]:
    """Turn boto3's and botocore's errors into one S3CacheError line: where, what, why."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError, Boto3Error) as exc:
        raise S3CacheError(scrub(f"S3 cache {location.describe()}: {what} failed: "
                                 f"{_reason(exc)}")) from exc


def _reason(exc: Exception) -> str:
    from botocore.exceptions import ClientError, NoCredentialsError

    if isinstance(exc, NoCredentialsError):
        return ("no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
                "AWS_PROFILE, or run `aws sso login`)")
    if isinstance(exc, ClientError):
        code = error_code(exc)
        message = str(exc.response.get("Error", {}).get("Message") or "")
        if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                    "ExpiredToken", "InvalidToken"):
            return (f"access denied ({code}{': ' + message if message else ''}): check the "
                    "credentials and that they may read and write the bucket")
        if code == "NoSuchBucket":
            return "the bucket does not exist (create it, or fix 'bucket' in the cache profile)"
        return f"{code}: {message}" if message else code
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def scrub(text: str) -> str:
    """`text` without credential values (from the environment) or access key ids."""
    secrets = [os.environ.get(name, "") for name in _CREDENTIAL_VARS]
    text = redact(text, [s for s in secrets if len(s) >= 4])
    return _URL_USERINFO.sub("//***@", _ACCESS_KEY_ID.sub("***", text))


@contextlib.contextmanager
def local_errors(location: S3Location, folder: Path) -> Iterator[None]:
    """A full disk or a permission problem is a cache error like any other."""
    try:
        yield
    except OSError as exc:
        raise S3CacheError(f"S3 cache {location.describe()}: local folder {folder}: "
                           f"{exc.strerror or exc}") from exc


def preflight(location: S3Location) -> None:
    """Bucket reachable and credentials valid, or an S3CacheError that says what to do."""
    from botocore.exceptions import ClientError

    s3 = client(location)
    try:
        with s3_errors(location, "checking the bucket"):
            s3.head_bucket(Bucket=location.bucket)
    except S3CacheError as exc:
        if isinstance(exc.__cause__, ClientError) and error_code(exc.__cause__) in _NOT_FOUND:
            raise S3CacheError(
                f"S3 cache {location.describe()}: the bucket does not exist (create it, or fix "
                "'bucket' or 'endpoint_url' in the cache profile)") from exc
        raise


# --- references: what an entry needs ---------------------------------------------------

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


def root_refs(index: bytes, where: str) -> list[Ref]:
    try:
        return references(index)
    except ValueError:
        raise S3CacheError(f"{where} is not a JSON OCI index") from None


# --- local files ------------------------------------------------------------------------

def blob_path(root: Path, digest: str) -> Path:
    return root / "blobs" / "sha256" / digest.removeprefix("sha256:")


def file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
    return f"sha256:{sha.hexdigest()}"


def _local_resolver(layout: Path) -> Resolver:
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
        raise _corrupt_local(path, ref.digest)
    return Found(size, _local_document(path, ref, size))


def _local_document(path: Path, ref: Ref, size: int) -> bytes | None:
    kind = ref.document()
    if kind is False:
        return None
    if kind is None:
        with path.open("rb") as handle:
            if not looks_like_json(handle.read(16), size):
                return None
    data = path.read_bytes()
    if f"sha256:{hashlib.sha256(data).hexdigest()}" != ref.digest:
        raise _corrupt_local(path, ref.digest)
    return data


def _corrupt_local(path: Path, digest: str) -> S3CacheError:
    return S3CacheError(f"{path} does not match its digest {digest}: the local cache is "
                        "corrupt; not uploading it (delete the folder and export again)")


# --- upload -----------------------------------------------------------------------------

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
        blobs = walk(root_refs(index, str(index_path)), _local_resolver(layout_dir))
        if _already_covered(s3, location, key, index, layout_dir):
            return UploadStats(len(blobs), 0, 0, already_covered=True)
        listed = listed_blobs(s3, location, workers) if len(blobs) > LIST_ABOVE else None
        sent = parallel(lambda item: _sync_blob(s3, location, layout_dir, *item, listed),
                        sorted(blobs.items()), workers)
    with s3_errors(location, f"writing {key}"):
        s3.put_object(Bucket=location.bucket, Key=key, Body=index,
                      ContentType=INDEX_MEDIA_TYPE)
    uploaded = [size for size in sent if size is not None]
    return UploadStats(len(blobs), len(uploaded), sum(uploaded))


def cache_facts(config: Mapping[str, Any]) -> frozenset[tuple[Any, ...]]:
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

    facts: set[tuple[Any, ...]] = set()
    for record in records:
        key = str(record["digest"])
        facts.add((key, "record"))
        facts.update((key, "layers", chain(int(layer["layer"])))
                     for layer in record.get("layers") or [])
        for number, group in enumerate(record.get("inputs") or []):
            facts.update((key, "input", number, str(link.get("selector", "")),
                          str(records[int(link["link"])]["digest"])) for link in group)
    return frozenset(facts)


def _cache_config(index: bytes, read: Callable[[str], bytes]) -> Mapping[str, Any] | None:
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


def _already_covered(s3: S3Client, location: S3Location, key: str, index: bytes,
                     layout_dir: Path) -> bool:
    """Whether the bucket's entry answers every cache key this export has.

    BuildKit writes a different cache config for the same content depending on whether
    steps hit the engine's own cache or an imported one (records gain or lose links), so
    an unchanged build would otherwise upload a new config and index every time. An
    entry that already has every fact of the new config imports at least as well, if
    all its blobs are there. Anything unreadable: not covered, upload as usual.
    """
    try:
        with s3_errors(location, f"reading {key}"):
            old_index = s3.get_object(Bucket=location.bucket, Key=key)["Body"].read()

            def remote(digest: str) -> bytes:
                blob_key = cache_keys.sync_blob_key(location.prefix, digest)
                return s3.get_object(Bucket=location.bucket, Key=blob_key)["Body"].read()

            old = _cache_config(old_index, remote)
            new = _cache_config(index, lambda d: blob_path(layout_dir, d).read_bytes())
            if not (old and new) or not cache_facts(new) <= cache_facts(old):
                return False
            # and the entry is whole: every blob it names is there, at its size
            walk(root_refs(old_index, key), _remote_resolver(s3, location))
            return True
    except (S3CacheError, OSError, ValueError, KeyError, TypeError, IndexError):
        return False


def _sync_blob(s3: S3Client, location: S3Location, layout: Path, digest: str, size: int,
               listed: Mapping[str, int] | None) -> int | None:
    """Upload one blob unless the bucket has it: the bytes sent, or None."""
    key = cache_keys.sync_blob_key(location.prefix, digest)
    there = remote_size(s3, location, key) if listed is None else listed.get(key)
    if there == size:
        return None  # a blob of another size under this name is a broken upload: replace it
    path = blob_path(layout, digest)
    if file_digest(path) != digest:
        raise _corrupt_local(path, digest)
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


def remote_size(s3: S3Client, location: S3Location, key: str) -> int | None:
    """The size of an object, or None if there is none."""
    from botocore.exceptions import ClientError

    with s3_errors(location, f"checking {key}"):
        try:
            return s3.head_object(Bucket=location.bucket, Key=key)["ContentLength"]
        except ClientError as exc:
            if error_code(exc) in _NOT_FOUND:
                return None
            raise


def parallel(fn: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """`fn` over `items` on up to `workers` threads, in order; the first error stops the rest."""
    if len(items) <= 1 or workers <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        futures = [pool.submit(fn, item) for item in items]
        try:
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:  # the first failure in order, not in time: deterministic
                if future in done and (error := future.exception()) is not None:
                    raise error
            return [future.result() for future in futures]
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


# --- download ---------------------------------------------------------------------------

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


def get_optional(s3: S3Client, location: S3Location, key: str) -> bytes | None:
    """An object's bytes, or None if there is no such object."""
    from botocore.exceptions import ClientError

    with s3_errors(location, f"reading {key}"):
        try:
            return s3.get_object(Bucket=location.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if error_code(exc) in _NOT_FOUND:
                return None
            raise


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
            with _partial(self.store) as (temp, handle):
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
            if error_code(exc) in _NOT_FOUND:
                return None
            raise
        return body

    def _link(self, digest: str) -> Path:
        """The store's blob, hard-linked into the destination (copied across filesystems)."""
        source, target = blob_path(self.store, digest), blob_path(self.dest, digest)
        if source == target:
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        with _partial(self.dest) as (temp, _):
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
            if kind is None and not looks_like_json(handle.read(16), size):
                return None
            handle.seek(0)
            return handle.read()


@contextlib.contextmanager
def _partial(root: Path) -> Iterator[tuple[Path, IO[bytes]]]:
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


def _copy_hashing(source: Readable, target: IO[bytes]) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK):
        sha.update(chunk)
        target.write(chunk)
        size += len(chunk)
    target.flush()
    return f"sha256:{sha.hexdigest()}", size


def write_layout(dest: Path, index: bytes) -> None:
    """`oci-layout`, then index.json (renamed into place: readers never see half of it)."""
    dest.mkdir(parents=True, exist_ok=True)
    if not (dest / "oci-layout").exists():
        (dest / "oci-layout").write_bytes(OCI_LAYOUT)
    with _partial(dest) as (temp, handle):
        handle.write(index)
        handle.close()
        temp.chmod(0o644)  # mkstemp's 0600 would hide it from other users of the folder
        temp.replace(dest / "index.json")
