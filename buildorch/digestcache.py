"""A file of values keyed by sha256 digests, for buildorch's caches of work whose result
depends only on what the key covers (a Dockerfile's analysis, a YAML document's parse).

The file names the code its values come from (`version`: a digest the caller makes of
that code); a file of other code, truncated or corrupt (its sha256 is in the header) is
ignored as a whole, so no value is read that this code did not write. A value is plain
data (tuples, lists, dicts, sets, str, bytes, numbers, None) in `marshal` format, the
fastest to load, each marshalled on its own: a value marshal cannot hold is not kept,
and only the values asked for are loaded. The checksum is verified before marshal reads
anything (it trusts its input: a forged length would make it allocate gigabytes).

Read once, written again (atomically, owner-only) only when something was added, keeping
the values used by this run and as many others as were used (at least `keep_unused`),
the most recently written: a second pipeline in the same folder keeps its values while
the file stays within a small multiple of one run's. A folder where nothing can be
written leaves the cache unsaved.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from buildorch.statefile import write_atomically

_MAGIC = b"buildorch digest cache 1\n"
_DIGEST = 32  # bytes of a sha256


class DigestCache:
    """The values of one file, consulted and added to by one process."""

    def __init__(self, file: Path | None, version: bytes, entries: dict[bytes, bytes],
                 keep_unused: int) -> None:
        self.file = file  # None: nothing is saved
        self.version = version
        self.entries = entries  # key -> marshalled value
        self.keep_unused = keep_unused
        self.used: dict[bytes, None] = {}  # keys of this run, in the order of use
        self.added = 0

    @classmethod
    def open(cls, file: Path | None, version: bytes, keep_unused: int) -> DigestCache:
        """The cache in `file`; empty when it is missing, unreadable or not this code's.
        None: a cache of this process only."""
        data = b""
        if file is not None:
            with contextlib.suppress(OSError):
                data = file.read_bytes()
        return cls(file, version, read_entries(data, version), keep_unused)

    def get(self, key: bytes) -> Any:
        """The value kept for `key`, or None."""
        data = self.entries.get(key)
        if data is None:
            return None
        try:
            value = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            return None
        self.used[key] = None
        return value

    def put(self, key: bytes, value: Any) -> None:
        try:
            self.entries[key] = marshal.dumps(value)
        except ValueError:  # not plain data (a date in a YAML document): not kept
            return
        self.used[key] = None
        self.added += 1

    def save(self) -> None:
        """Write the file again if anything was added; never raises OSError."""
        if self.file is None or not self.added:
            return
        data = write_entries(kept_entries(self.entries, self.used, self.keep_unused),
                             self.version)
        with contextlib.suppress(OSError):  # a reader sees the old file or the new one
            write_atomically(self.file, data)


def kept_entries(entries: Mapping[bytes, bytes], used: Mapping[bytes, None],
                 keep_unused: int) -> dict[bytes, bytes]:
    """What a save keeps: the entries used, last (the most recent), after as many unused
    ones as were used (at least keep_unused), the most recently written."""
    unused = [k for k in entries if k not in used]
    room = max(len(used), keep_unused)
    keys = unused[max(0, len(unused) - room):] + [k for k in used if k in entries]
    return {k: entries[k] for k in keys}


def write_entries(entries: Mapping[bytes, bytes], version: bytes) -> bytes:
    payload = marshal.dumps(dict(entries))
    return _MAGIC + version + hashlib.sha256(payload).digest() + payload


def read_entries(data: bytes, version: bytes) -> dict[bytes, bytes]:
    """The entries in `data` as write_entries wrote them for code `version`; none if the
    data is not that (another version, truncated, corrupt)."""
    head = len(_MAGIC)
    payload = data[head + 2 * _DIGEST:]
    if (data[:head] != _MAGIC or data[head:head + _DIGEST] != version
            or data[head + _DIGEST:head + 2 * _DIGEST] != hashlib.sha256(payload).digest()):
        return {}
    try:
        entries = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return {}
    if not isinstance(entries, dict):
        return {}
    return {k: v for k, v in entries.items() if isinstance(k, bytes) and isinstance(v, bytes)}


def source_digest(*parts: bytes | Path) -> bytes:
    """sha256 of `parts`, a file standing for its name and content (a missing one for its
    name): the version of the code a cache's values come from."""
    digest = hashlib.sha256()
    for part in parts:
        content = b""
        if isinstance(part, Path):
            digest.update(part.name.encode())
            with contextlib.suppress(OSError):
                content = part.read_bytes()
        else:
            content = part
        digest.update(hashlib.sha256(content).digest())
    return digest.digest()
