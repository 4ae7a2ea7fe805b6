"""What a backend's builder can do: the cache types it exports and the outputs it writes.

`doctor` shows these; the preflight check compares a pipeline's cache profiles with them
before any build starts. The cache type names are those of cache profiles (`type:`) and
of BuildKit's `--cache-to type=...`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

CacheType = Literal["registry", "s3", "local", "inline", "gha"]
REGISTRY: CacheType = "registry"
S3: CacheType = "s3"
LOCAL: CacheType = "local"
INLINE: CacheType = "inline"
GHA: CacheType = "gha"

ALL_CACHE: frozenset[CacheType] = frozenset(get_args(CacheType))
# Docker's docker driver with the containerd image store: no `type=s3` (needs a
# standalone BuildKit); on the classic image store only inline.
DOCKER_CONTAINERD_CACHE: frozenset[CacheType] = ALL_CACHE - {S3}
DOCKER_CLASSIC_CACHE: frozenset[CacheType] = frozenset({INLINE})
ALL_OUTPUTS = frozenset({"image", "registry", "local", "tar", "oci", "docker"})


@dataclass(frozen=True)
class Capabilities:
    cache_exporters: frozenset[CacheType] = frozenset()
    outputs: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()
    # Why the builder cannot rewrite the timestamps of the images it keeps
    # (`reproducible`), or None: it can, from BuildKit 0.13 on.
    rewrite_timestamp: str | None = None
    # How the images it keeps get rewritten timestamps where loading them itself cannot
    # (`Backend.loads_archives`), for doctor; None: the builder's own loading does.
    rewrite_timestamp_via: str | None = None
