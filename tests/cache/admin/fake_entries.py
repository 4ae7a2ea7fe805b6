"""Cache entries made by hand, as the registry and S3 admins make them, for the pure tests."""

from __future__ import annotations

from collections.abc import Mapping

from buildorch.cache.admin.entries import DAY, Entry, Kind

NOW = 1_800_000_000.0


def registry_entry(tag: str, image: str | None, scope: str | None, blobs: Mapping[str, int],
                   age: float | None = None, digest: str = "sha256:m") -> Entry:
    return Entry("registry", tag, tag, None, image, scope, dict(blobs),
                 None if age is None else NOW - age * DAY, age, digest)


def s3_entry(name: str, blobs: Mapping[str, int], age: float, kind: Kind = "sync",
             split: tuple[str, str, str] | None = None, complete: bool = True) -> Entry:
    if split is None and kind == "sync":
        pipeline, image, scope = name.split("/")
        split = (pipeline, image, scope)
    pipeline_, image_, scope_ = split if split else (None, None, None)
    return Entry(kind, name, f"shop/{name}", pipeline_, image_, scope_, dict(blobs),
                 NOW - age * DAY, age, "etag", complete)
