"""Content digests of files remembered by their stat stamp (size, mtime, inode), so that
unchanged files are not read again: one JSON file under `.buildorch/`, loaded once and
replaced atomically.

A file modified within RACY_NS of the moment it was hashed may change again within the
same mtime tick without changing its size: its digest is stored but not trusted next
time (git's "racy clean" problem, racy-git.txt), until it is hashed while older.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from buildorch import workdir
from buildorch.statefile import write_atomically

FORMAT = 1
RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class Stamp:
    size: int
    mtime_ns: int
    inode: int


@dataclass(frozen=True)
class _Known:
    stamp: Stamp
    digest: str
    racy: bool  # hashed too soon after its last change: read it again


class StatCache:
    """Digests by key (a file's absolute path) and stamp. Thread-safe."""

    def __init__(self, path: Path | None, entries: dict[str, _Known] | None = None,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self.path = path  # None: kept in memory only
        self._known = dict(entries or {})
        self._seen: set[str] = set()
        self._changed = False
        self._clock = clock
        self._lock = threading.Lock()

    @classmethod
    def in_workdir(cls, root: Path | None = None) -> StatCache:
        """The cache of the folder buildorch runs in (`.buildorch/stat-cache.json`)."""
        return cls.load((root or Path.cwd()) / workdir.STAT_CACHE)

    @classmethod
    def load(cls, path: Path, clock: Callable[[], int] = time.time_ns) -> StatCache:
        """The cache stored at `path`; empty where it is missing, unreadable or corrupt
        (it only saves work)."""
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return cls(path, clock=clock)
        return cls(path, _entries(data), clock=clock)

    def lookup(self, key: str, stamp: Stamp) -> str | None:
        """The digest stored for `key` with this very stamp, unless it was racy."""
        with self._lock:
            self._seen.add(key)
            known = self._known.get(key)
        if known is None or known.racy or known.stamp != stamp:
            return None
        return known.digest

    def store(self, key: str, stamp: Stamp, digest: str) -> None:
        """Remember `digest`, read after `stamp` was taken."""
        racy = self._clock() - stamp.mtime_ns < RACY_NS  # also a time in the future
        with self._lock:
            self._seen.add(key)
            if self._known.get(key) != _Known(stamp, digest, racy):
                self._known[key] = _Known(stamp, digest, racy)
                self._changed = True

    def __len__(self) -> int:
        return len(self._known)

    def save(self, drop_unseen: bool = False) -> bool:
        """Write the cache (a temporary file, then renamed over the old one) if something
        was learnt; `drop_unseen` forgets the files not looked up since it was loaded.
        False where it could not be written (the next run hashes again)."""
        with self._lock:
            keep = {k: v for k, v in self._known.items()
                    if not drop_unseen or k in self._seen}
            if self.path is None or (not self._changed and len(keep) == len(self._known)):
                return True
            try:
                write_atomically(self.path, json.dumps(_document(keep), separators=(",", ":")))
            except OSError:
                return False
            self._known = keep
            self._changed = False
            return True


def _entries(data: object) -> dict[str, _Known]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    files = data.get("files")
    if not isinstance(files, dict):
        return {}
    found: dict[str, _Known] = {}
    for key, value in files.items():
        known = _known(value)
        if known is not None:
            found[key] = known
    return found


def _known(value: object) -> _Known | None:
    if not (isinstance(value, list) and len(value) == 5):
        return None
    size, mtime_ns, inode, digest, racy = value
    numbers = (size, mtime_ns, inode)
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        return None
    if not (isinstance(digest, str) and len(digest) == 64 and isinstance(racy, bool)):
        return None
    assert isinstance(size, int) and isinstance(mtime_ns, int) and isinstance(inode, int)
    return _Known(Stamp(size, mtime_ns, inode), digest, racy)


def _document(known: dict[str, _Known]) -> dict[str, object]:
    return {"format": FORMAT, "files": {
        key: [k.stamp.size, k.stamp.mtime_ns, k.stamp.inode, k.digest, k.racy]
        for key, k in sorted(known.items())}}
