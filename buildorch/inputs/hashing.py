"""Content digests of a context's files, in parallel and through a stat cache, and one
digest over a whole tree of entries."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from buildorch.errors import ConfigError
from buildorch.inputs.context_files import ContextEntry, EntryKind
from buildorch.inputs.stat_cache import Stamp, StatCache

CHUNK = 1 << 20  # hashlib releases the GIL on buffers this large: threads hash in parallel
INLINE_MAX = 4  # this few files to read: no thread pool
TREE_FORMAT = b"buildorch-tree-v1\0"


def hash_files(root: Path, entries: Iterable[ContextEntry], cache: StatCache,
               workers: int | None = None) -> dict[str, str]:
    """sha256 hex of every file entry's content by its path, reading only the files the
    cache does not know by their stamp (taken when the entries were listed, before any
    read, so that a file changed meanwhile is read again next time)."""
    # a stable key without resolve()'s realpath syscalls per folder level
    base = os.path.abspath(root)  # noqa: PTH100
    digests: dict[str, str] = {}
    missing: list[tuple[ContextEntry, str, Stamp]] = []
    for entry in entries:
        if entry.kind is not EntryKind.FILE:
            continue
        key = f"{base}/{entry.path}"
        stamp = Stamp(entry.size, entry.mtime_ns, entry.inode)
        known = cache.lookup(key, stamp)
        if known is None:
            missing.append((entry, key, stamp))
        else:
            digests[entry.path] = known
    for (entry, key, stamp), digest in zip(missing, _read_all(missing, workers), strict=True):
        cache.store(key, stamp, digest)
        digests[entry.path] = digest
    return digests


def _read_all(missing: list[tuple[ContextEntry, str, Stamp]],
              workers: int | None) -> list[str]:
    paths = [key for _, key, _ in missing]
    if len(paths) <= INLINE_MAX or workers == 1:
        return [file_digest(path) for path in paths]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(file_digest, paths))


def file_digest(path: str) -> str:
    """sha256 hex of the content of `path`; an unreadable file is a ConfigError naming it."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb", buffering=0) as handle:  # noqa: PTH123 (str paths, hot loop)
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise ConfigError(f"cannot read this file of the build context: "
                          f"{exc.strerror or exc}", file=path) from None
    return digest.hexdigest()


def tree_digest(entries: Iterable[ContextEntry], file_digests: dict[str, str]) -> str:
    """sha256 hex over every entry's path, kind, mode and content (a file's digest, a
    symlink's target), in path order: what a build's COPY of the tree depends on. NUL
    separates the fields, as no path or link target can hold one."""
    digest = hashlib.sha256(TREE_FORMAT)
    for entry in sorted(entries, key=lambda e: e.path):
        if entry.kind is EntryKind.FILE:
            if entry.path not in file_digests:
                raise ValueError(f"no content digest for {entry.path!r}")
            content = file_digests[entry.path].encode()
        else:
            content = os.fsencode(entry.target or "")
        digest.update(b"\0".join((os.fsencode(entry.path), entry.kind.value.encode(),
                                  b"%o" % entry.mode, content)) + b"\0\0")
    return digest.hexdigest()
