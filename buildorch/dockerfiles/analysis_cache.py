"""Dockerfile analyses kept between runs, so that unchanged Dockerfiles are not analysed
again (most of `plan`'s time on a pipeline of thousands of images).

An analysis (`parse_dockerfile`'s DockerfileInfo) depends only on the Dockerfile's text,
the build args, the platforms and stage it is analysed for, and the code that analyses.
An entry's key is the sha256 of the first four; the code (this package's source, the
platform and reference modules, the `dockerfile` parser library, Python) is named by the
file's header, and a file made by other code is ignored as a whole. An edited Dockerfile
is therefore a miss by construction, whatever its size or mtime. The message of a
Dockerfile's error is not kept: a Dockerfile with an error is analysed again each time.

All entries are one file under `.buildorch/` (workdir.DOCKERFILE_ANALYSES), read once and
written again (atomically, owner-only: stage bases hold build-arg values) only when a run
analysed something new. A file that cannot be read, is truncated or corrupt (its sha256
is in the header), or holds entries of the wrong shape, is ignored; a folder that cannot
be written leaves the cache unsaved. Entries are plain tuples in `marshal` format, the
fastest to load; the checksum is verified before `marshal` reads anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import sys
from collections.abc import Mapping
from functools import lru_cache
from itertools import starmap
from pathlib import Path
from types import MappingProxyType
from typing import Any

import dockerfile

from buildorch.dockerfiles.parser import BuildPlatforms, parse_dockerfile
from buildorch.dockerfiles.stages import DockerfileInfo, Reference, Stage
from buildorch.oci import platforms as oci_platforms
from buildorch.statefile import write_atomically

_MAGIC = b"buildorch dockerfile analyses 1\n"
_DIGEST = 32  # bytes of a sha256
# Entries not used by the run that saves are kept up to the number used (at least this
# many), the most recently written first: a second pipeline in the same folder keeps its
# analyses, while the file stays within a small multiple of one pipeline's.
_MIN_KEPT_UNUSED = 1024

# (syntax, escape, global ARGs, stages, references): a DockerfileInfo without its path.
Flat = tuple[Any, ...]


class AnalysisCache:
    """The analyses of one file, consulted and added to by one process."""

    def __init__(self, file: Path | None, entries: dict[bytes, Flat] | None = None) -> None:
        self.file = file  # None: nothing is saved
        self.entries: dict[bytes, Flat] = entries or {}
        self.used: dict[bytes, None] = {}  # keys of this run, in the order of use
        self.added = 0

    @classmethod
    def open(cls, file: Path | None) -> AnalysisCache:
        """The cache in `file`; empty when it is missing, unreadable or not ours. None: a
        cache of this process only."""
        if file is None:
            return cls(None)
        try:
            data = file.read_bytes()
        except OSError:
            data = b""
        return cls(file, read_entries(data, code_version()))

    def analyse(self, text: str, path: str, build_args: Mapping[str, str] | None,
                platforms: BuildPlatforms) -> DockerfileInfo:
        """parse_dockerfile(text, path, build_args, platforms), from the cache if there."""
        key = entry_key(text, build_args or {}, platforms)
        flat = self.entries.get(key)
        info = None if flat is None else unflatten(flat, path)
        if info is None:
            info = parse_dockerfile(text, path, build_args, platforms)
            self.entries[key] = flatten(info)
            self.added += 1
        self.used[key] = None
        return info

    def save(self) -> None:
        """Write the file again if this run analysed anything new; never raises OSError."""
        if self.file is None or not self.added:
            return
        data = write_entries(kept_entries(self.entries, self.used), code_version())
        with contextlib.suppress(OSError):  # a reader sees the old file or the new one
            write_atomically(self.file, data)


def entry_key(text: str, build_args: Mapping[str, str], platforms: BuildPlatforms) -> bytes:
    """sha256 of the Dockerfile's text and of what else its analysis depends on."""
    native = None
    if platforms.target is None or platforms.build is None:
        native = oci_platforms.native().format()  # what parse_dockerfile uses for None
    params = (platforms.target or native, platforms.build or native, platforms.stage,
              sorted(build_args.items()))
    digest = hashlib.sha256(repr(params).encode())  # str and None: repr is unambiguous
    digest.update(b"\0")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.digest()


def flatten(info: DockerfileInfo) -> Flat:
    return (info.syntax, info.escape, tuple(info.global_args.items()),
            tuple((s.index, s.name, s.base, s.line, s.platform) for s in info.stages),
            tuple((r.kind, r.ref, r.line, r.stage) for r in info.references))


def unflatten(flat: Flat, path: str) -> DockerfileInfo | None:
    """The DockerfileInfo named `path`; None where `flat` has not the shape flatten gives."""
    try:
        syntax, escape, global_args, stages, references = flat
        return DockerfileInfo(
            path=path, syntax=syntax, escape=escape,
            global_args=MappingProxyType(dict(global_args)),
            stages=tuple(starmap(Stage, stages)),
            references=tuple(starmap(Reference, references)),
        )
    except (TypeError, ValueError):
        return None


def kept_entries(entries: Mapping[bytes, Flat], used: Mapping[bytes, None]
                 ) -> dict[bytes, Flat]:
    """What a save keeps: the entries used, last (the most recent), after as many unused
    ones as were used (at least _MIN_KEPT_UNUSED), the most recently written."""
    unused = [k for k in entries if k not in used]
    room = max(len(used), _MIN_KEPT_UNUSED)
    keys = unused[max(0, len(unused) - room):] + [k for k in used if k in entries]
    return {k: entries[k] for k in keys}


def write_entries(entries: Mapping[bytes, Flat], version: bytes) -> bytes:
    payload = marshal.dumps(dict(entries))
    return _MAGIC + version + hashlib.sha256(payload).digest() + payload


def read_entries(data: bytes, version: bytes) -> dict[bytes, Flat]:
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
    return {k: v for k, v in entries.items() if isinstance(k, bytes) and isinstance(v, tuple)}


@lru_cache(maxsize=1)
def code_version() -> bytes:
    """sha256 naming the code an analysis comes from: a change to any of it (even without
    a version bump) makes every cached analysis a miss."""
    here = Path(__file__).parent
    digest = hashlib.sha256(f"{sys.version}\0{marshal.version}\0".encode())
    sources = [*sorted(here.glob("*.py")), Path(oci_platforms.__file__),
               here.parent / "oci" / "reference.py"]
    for source in sources:
        with contextlib.suppress(OSError):
            digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    # The Go parser is a compiled library: its file's identity names its version.
    library = Path(dockerfile.__file__ or "dockerfile")
    with contextlib.suppress(OSError):
        stat = library.stat()
        digest.update(f"{library}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return digest.digest()
