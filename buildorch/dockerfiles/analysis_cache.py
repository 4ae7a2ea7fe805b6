"""Dockerfile analyses kept between runs, so that unchanged Dockerfiles are not analysed
again (most of `plan`'s time on a pipeline of thousands of images).

An analysis (`parse_dockerfile`'s DockerfileInfo) depends only on the Dockerfile's text,
the build args, the platforms and stage it is analysed for, and the code that analyses.
An entry's key is the sha256 of the first four; the code (this package's source, the
platform and reference modules, the `dockerfile` parser library, Python) is the file's
version (digestcache), and a file made by other code is ignored as a whole. An edited
Dockerfile is therefore a miss by construction, whatever its size or mtime. A Dockerfile
with an error is not kept: it is analysed again each time. The file is
`.buildorch/dockerfile-analyses` (workdir.DOCKERFILE_ANALYSES); stage bases hold
build-arg values, so it is owner-only.
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

from buildorch.digestcache import DigestCache, source_digest
from buildorch.dockerfiles.parser import BuildPlatforms, parse_dockerfile
from buildorch.dockerfiles.stages import DockerfileInfo, Reference, Stage
from buildorch.oci import platforms as oci_platforms

# Entries not used by the run that saves are kept up to the number used, at least this
# many: a second pipeline in the same folder keeps its analyses.
_MIN_KEPT_UNUSED = 1024

# (syntax, escape, global ARGs, stages, references): a DockerfileInfo without its path.
Flat = tuple[Any, ...]


class AnalysisCache:
    """The analyses of one file, consulted and added to by one process."""

    def __init__(self, kept: DigestCache) -> None:
        self.kept = kept

    @classmethod
    def open(cls, file: Path | None) -> AnalysisCache:
        """The cache in `file`; empty when it is missing, unreadable or not ours. None: a
        cache of this process only."""
        return cls(DigestCache.open(file, code_version(), _MIN_KEPT_UNUSED))

    def analyse(self, text: str, path: str, build_args: Mapping[str, str] | None,
                platforms: BuildPlatforms) -> DockerfileInfo:
        """parse_dockerfile(text, path, build_args, platforms), from the cache if there."""
        key = entry_key(text, build_args or {}, platforms)
        flat = self.kept.get(key)
        info = None if flat is None else unflatten(flat, path, build_args or {})
        if info is None:
            info = parse_dockerfile(text, path, build_args, platforms)
            self.kept.put(key, flatten(info, build_args or {}))
        return info

    def save(self) -> None:
        """Write the file again if this run analysed anything new; never raises OSError."""
        self.kept.save()


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


def flatten(info: DockerfileInfo, build_args: Mapping[str, str]) -> Flat:
    # A global ARG set by a build arg is kept by name only (its value is the build arg's,
    # which the key covers): a token passed as a build arg is not written to disk.
    return (info.syntax, info.escape,
            tuple((k,) if k in build_args else (k, v) for k, v in info.global_args.items()),
            tuple((s.index, s.name, s.base, s.line, s.platform) for s in info.stages),
            tuple((r.kind, r.ref, r.line, r.stage) for r in info.references))


def unflatten(flat: Any, path: str, build_args: Mapping[str, str]) -> DockerfileInfo | None:
    """The DockerfileInfo named `path` analysed with `build_args`; None where `flat` has
    not the shape flatten gives."""
    try:
        syntax, escape, global_args, stages, references = flat
        return DockerfileInfo(
            path=path, syntax=syntax, escape=escape,
            global_args=MappingProxyType(
                {a[0]: build_args[a[0]] if len(a) == 1 else a[1] for a in global_args}),
            stages=tuple(starmap(Stage, stages)),
            references=tuple(starmap(Reference, references)),
        )
    except (TypeError, ValueError, KeyError, IndexError):
        return None


@lru_cache(maxsize=1)
def code_version() -> bytes:
    """sha256 naming the code an analysis comes from: a change to any of it (even without
    a version bump) makes every cached analysis a miss."""
    here = Path(__file__).parent
    # The Go parser is a compiled library: its file's identity names its version.
    library = Path(dockerfile.__file__ or "dockerfile")
    identity = str(library)
    with contextlib.suppress(OSError):
        stat = library.stat()
        identity += f"\0{stat.st_size}\0{stat.st_mtime_ns}"
    return source_digest(f"{sys.version}\0{marshal.version}\0{identity}".encode(),
                         *sorted(here.glob("*.py")), Path(oci_platforms.__file__),
                         here.parent / "oci" / "reference.py")
