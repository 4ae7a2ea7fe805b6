"""What to write instead of a compose `cache_from` or `cache_to` (pure).

A pipeline image names no cache refs of its own: a cache profile (cache-config/NAME.yaml)
says where every image's cache lives, each under a key of its own, and `cache: NAME`
picks it. So the warning for these fields suggests the profile matching what compose
read. Entries are read as buildx reads them (docker/buildx util/buildflags/cache.go
ParseCacheEntry, which docker/compose pkg/compose/build.go calls): CSV `key=value` fields
with a `type`, or, when no field has a `=`, each field a registry ref.
"""

from __future__ import annotations

import csv

from buildorch.errors import shorten

Entry = tuple[str, dict[str, str]]  # a cache type and its other attributes


def cache_advice(field: str, value: object) -> str:
    """The warning's text for `cache_from` or `cache_to` (`field`)."""
    entries = [e for item in (value if isinstance(value, list) else [value])
               for e in _entries(item)]
    plain = ("no per-image cache refs here: a cache profile (cache-config/NAME.yaml) holds "
             "every image's cache; set `cache: NAME` on the image")
    if not entries:
        return plain
    kind, attrs = entries[0]
    profile = _profile(kind, attrs, "src" if field == "cache_from" else "dest")
    if profile is None:
        return plain
    more = f" ({len(entries) - 1} more entr{'y' if len(entries) == 2 else 'ies'} left " \
           "out)" if len(entries) > 1 else ""
    return (f"no per-image cache refs here: write cache-config/{kind}.yaml with {profile} "
            f"and set `cache: {kind}` on the image{more}")


def _entries(item: object) -> list[Entry]:
    if not isinstance(item, str):
        return []
    fields = [f.strip() for f in next(csv.reader([item]), []) if f.strip()]
    if fields and all("=" not in f for f in fields):
        return [("registry", {"ref": f}) for f in fields]
    attrs: dict[str, str] = {}
    for field in fields:
        key, sep, text = field.partition("=")
        if not sep:
            return []  # buildx refuses it; nothing to suggest
        attrs[key.strip().lower()] = text
    kind = attrs.pop("type", "")
    return [(kind, attrs)] if kind else []


def _profile(kind: str, attrs: dict[str, str], folder_key: str) -> str | None:
    """The profile's fields, as the warning shows them."""
    if kind == "registry" and attrs.get("ref"):
        repository = repository_of(attrs["ref"])
        return (f"`type: registry` and `ref: {shorten(repository)}` (each image then uses "
                f"{shorten(repository)}:<image>-<branch>)")
    if kind == "local" and attrs.get(folder_key):
        return f"`type: local` and `dir: {shorten(attrs[folder_key])}`"
    if kind == "s3" and attrs.get("bucket"):
        region = f" and `region: {shorten(attrs['region'])}`" if attrs.get("region") else ""
        return f"`type: s3`, `bucket: {shorten(attrs['bucket'])}`{region}"
    if kind in ("gha", "inline"):
        return f"`type: {kind}`"
    return None


def repository_of(ref: str) -> str:
    """`localhost:5000/cache/api:buildcache` -> `localhost:5000/cache/api` (no tag, no
    digest; a registry's port is not a tag)."""
    name = ref.partition("@")[0]
    head, sep, tag = name.rpartition(":")
    return head if sep and "/" not in tag else name
