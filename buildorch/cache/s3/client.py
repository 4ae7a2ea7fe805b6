"""The S3 side of the cache: where (a bucket and prefix), the client, and its errors (effects).

Every S3 call goes through `client` (boto3's standard credential chain, short timeouts,
a few retries) and inside `s3_errors`, so that whatever goes wrong reaches the user as
one `S3CacheError` line that says where, what and why, without a credential in it.
boto3 and botocore are imported inside the functions: `buildorch --help` must not pay
for them.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from buildorch.cache.profiles import CacheProfile
from buildorch.errors import BuildorchError
from buildorch.proc import redact

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 60
ATTEMPTS = 3

_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
_URL_USERINFO = re.compile(r"//[^/@\s]+@")
_CREDENTIAL_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_DENIED = ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
           "ExpiredToken", "InvalidToken")
NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})

T = TypeVar("T")
R = TypeVar("R")


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


# --- errors -------------------------------------------------------------------------------

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
        if code in _DENIED:
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


# --- requests -----------------------------------------------------------------------------

def check_bucket(location: S3Location) -> None:
    """Before a run: the bucket is reachable and the credentials valid, or an S3CacheError
    that says what to do (its cause a ClientError when the bucket or the credentials are
    wrong, rather than the endpoint unreachable)."""
    from botocore.exceptions import ClientError

    s3 = client(location)
    try:
        with s3_errors(location, "checking the bucket"):
            s3.head_bucket(Bucket=location.bucket)
    except S3CacheError as exc:
        if isinstance(exc.__cause__, ClientError) and error_code(exc.__cause__) in NOT_FOUND:
            raise S3CacheError(
                f"S3 cache {location.describe()}: the bucket does not exist (create it, or fix "
                "'bucket' or 'endpoint_url' in the cache profile)") from exc
        raise


def get_optional(s3: S3Client, location: S3Location, key: str) -> bytes | None:
    """An object's bytes, or None if there is no such object."""
    from botocore.exceptions import ClientError

    with s3_errors(location, f"reading {key}"):
        try:
            return s3.get_object(Bucket=location.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if error_code(exc) in NOT_FOUND:
                return None
            raise


def remote_size(s3: S3Client, location: S3Location, key: str) -> int | None:
    """The size of an object, or None if there is none."""
    from botocore.exceptions import ClientError

    with s3_errors(location, f"checking {key}"):
        try:
            return s3.head_object(Bucket=location.bucket, Key=key)["ContentLength"]
        except ClientError as exc:
            if error_code(exc) in NOT_FOUND:
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
