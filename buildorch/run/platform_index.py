"""One index of an image built per platform (issue 14): each platform's image is pushed
from the builder that built it under a run-scoped name, and the pushed digests are joined
into one index under the image's tags with `docker buildx imagetools create`.

The two steps are apart so that a run can push every platform as its build ends and join
only at publish time, once every build of the run succeeded: `push_platform` touches no
tag of the image, `join` sets them all.

The run-scoped name is `<repository of the first tag>:buildorch-<run id>-<image>-<platform>`
(`push_ref`). In that repository because the index goes there anyway, so the registry
must already let the run push to it, `docker push` finds the layers it shares with other
pushes of the run there, and `imagetools create` copies nothing into it (create.go skips
the copy for a source in the target's repository; only other tags' repositories get one).
A tag because `docker push` pushes tags only; `buildorch-` and the run id make it no name
anyone else writes, and the image and platform keep the pushes of one run apart (two images
may share a repository). It stays in the registry: deleting it would mean deleting its
manifest by digest (distribution's registry has no tag DELETE), which the index needs.

With Docker's containerd image store a stored image is an index even for one platform (its
manifest plus buildx's provenance attestation), so what `docker push` reports is that
index's digest, and the joined index holds both manifests of each platform; with the classic
store it is the manifest's. Either way the record's per-platform digest is the platform's
image manifest in the joined index, read back from the registry.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from buildorch import proc
from buildorch.backends.base import pushed_digest
from buildorch.backends.docker import BACKEND as DOCKER
from buildorch.backends.flags import docker_tls_problem
from buildorch.backends.imagetools import (
    imagetools_create_argv,
    imagetools_inspect_raw_argv,
    index_digests,
)
from buildorch.backends.request import BuilderTls
from buildorch.errors import BuildorchError
from buildorch.oci import platforms
from buildorch.oci.reference import InvalidReference, check, normalize_ref, repository_of
from buildorch.oci.registry import digest_of

PUSH_TIMEOUT = 1800
JOIN_TIMEOUT = 600
INSPECT_TIMEOUT = 120
TAG_MAX = 128  # distribution/reference: `[\w][\w.-]{0,127}`
PUSH_PREFIX = "buildorch-"
_NOT_IN_TAG = re.compile(r"[^\w.-]+")
INDEX_TYPES = frozenset({"application/vnd.oci.image.index.v1+json",
                         "application/vnd.docker.distribution.manifest.list.v2+json"})
# How BuildKit marks an attestation manifest in an index (moby/buildkit
# docs/attestations/attestation-storage.md): it names the manifest it is about.
REFERENCE_TYPE = "vnd.docker.reference.type"


class PlatformIndexError(BuildorchError):
    """A platform's push or the join did not give what the run built."""

    exit_code = 1


@dataclass(frozen=True)
class PlatformBuild:
    """One platform's build: where its image is stored and under which local name."""

    platform: str  # as the pipeline writes it: `linux/386`
    source: str  # the run-scoped local name holding it on that builder
    address: str | None = None  # the builder's docker host; None: the local docker
    tls: BuilderTls | None = None
    builder: str | None = None  # the builder's name in the pipeline, for the record


@dataclass(frozen=True)
class PushedPlatform:
    platform: str
    builder: str | None
    ref: str  # the run-scoped registry name it was pushed under
    digest: str  # what `docker push` reported (a one-platform index with the containerd store)

    @property
    def pinned(self) -> str:
        return f"{repository_of(self.ref)}@{self.digest}"


@dataclass(frozen=True)
class PlatformManifest:
    platform: str
    builder: str | None  # where it was built
    digest: str  # the platform's image manifest in the index
    pushed: str  # the digest its push reported


@dataclass(frozen=True)
class PlatformIndex:
    digest: str  # the index every tag points at
    media_type: str
    tags: tuple[str, ...]
    platforms: tuple[PlatformManifest, ...]


# --- pure ---------------------------------------------------------------------------------

def push_ref(tags: Sequence[str], run_id: str, image: str, platform: str) -> str:
    """`<repository of the first tag>:buildorch-<run id>-<image>-<platform>`, every character
    a tag cannot hold as `-`; cut to a digest of what it names where it would be too long."""
    if not tags:
        raise PlatformIndexError(f"{image}: an image pushed per platform needs a tag to name "
                                 "its repository")
    words = (run_id, image, platform)
    tag = PUSH_PREFIX + "-".join(_NOT_IN_TAG.sub("-", w).strip("-") for w in words)
    if len(tag) > TAG_MAX:
        tag = PUSH_PREFIX + hashlib.sha256("\0".join(words).encode()).hexdigest()[:32]
    ref = f"{repository_of(tags[0])}:{tag}"
    try:
        check(ref, digest=False)
    except InvalidReference as exc:
        raise PlatformIndexError(f"{image}: cannot push {platform} as {ref}: {exc}") from None
    return ref


def index_manifests(raw: bytes) -> tuple[str, dict[str, list[str]]]:
    """An index's media type and its image manifests by platform (`linux/386`, normalised
    as containerd does), attestation manifests left out."""
    try:
        index = json.loads(raw)
        media_type = index.get("mediaType", "")
        found: dict[str, list[str]] = {}
        for entry in index["manifests"]:
            if (entry.get("annotations") or {}).get(REFERENCE_TYPE):
                continue
            where = entry.get("platform") or {}
            key = platforms.Platform(where.get("os", ""), where.get("architecture", ""),
                                     where.get("variant", "")).format()
            found.setdefault(_normal(key), []).append(entry["digest"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PlatformIndexError(f"not an image index: {exc}") from None
    return media_type, found


def _normal(platform: str) -> str:
    try:
        return platforms.normalised(platform)
    except platforms.InvalidPlatform:
        return platform


def platform_manifests(pushed: Sequence[PushedPlatform], found: dict[str, list[str]]
                       ) -> tuple[PlatformManifest, ...]:
    """Each pushed platform's manifest in the index; the index must hold those platforms,
    each once, and no other."""
    wanted = {_normal(p.platform): p for p in pushed}
    if len(wanted) != len(pushed):
        raise PlatformIndexError("a platform is given twice: "
                                 + ", ".join(p.platform for p in pushed))
    problems = [f"{name} {'is missing' if not found.get(name) else 'is there more than once'}"
                for name in wanted if len(found.get(name, [])) != 1]
    problems += [f"{name} was not asked for" for name in found if name not in wanted]
    if problems:
        raise PlatformIndexError("the index does not hold one manifest per platform built: "
                                 + "; ".join(problems))
    return tuple(PlatformManifest(p.platform, p.builder, found[key][0], p.digest)
                 for key, p in wanted.items())


def joined_digest(raw: bytes, logged: dict[str, str], tags: Sequence[str]) -> str:
    """The index digest: that of the bytes the registry holds under the first tag, which
    must be what `imagetools create` said it pushed under every tag."""
    digest = digest_of(raw)
    names = {normalize_ref(t) for t in tags}
    moved = {tag: d for tag, d in logged.items() if normalize_ref(tag) in names and d != digest}
    if moved:
        shown = ", ".join(f"{t} as {d}" for t, d in sorted(moved.items()))
        raise PlatformIndexError(f"{tags[0]} holds {digest}, but imagetools pushed {shown}")
    return digest


# --- effects (commands through buildorch.proc) -----------------------------------------------

def push_platform(build: PlatformBuild, tags: Sequence[str], run_id: str, image: str, *,
                  expected: str | None = None, secrets: Iterable[str] = (),
                  timeout: float = PUSH_TIMEOUT) -> PushedPlatform:
    """Push one platform's image from its builder's store under the run-scoped name
    (`push_ref`), which is then untagged locally again; its pushed digest. `expected`: the
    digest the build stored (with the containerd store, what `docker push` reports; with
    the classic store a stored image's id is its config's, so give none)."""
    if build.tls is not None and (problem := docker_tls_problem(build.tls)):
        raise PlatformIndexError(f"{image} ({build.platform}): {problem}")
    ref = push_ref(tags, run_id, image, build.platform)
    secrets = tuple(secrets)
    where = (build.address, build.tls)
    if build.source != ref:
        proc.run(DOCKER.tag_argv(build.source, ref, *where), secrets=secrets, timeout=60)
    try:
        output = proc.run(DOCKER.push_argv(ref, *where), secrets=secrets,
                          timeout=timeout).output
    finally:
        if build.source != ref:  # the registry name served only this push
            proc.run(DOCKER.untag_argv([ref], *where), check=False, timeout=60)
    digest = pushed_digest(output)
    if digest is None:
        raise PlatformIndexError(f"{image} ({build.platform}): docker push of {ref} named "
                                 "no digest")
    if expected is not None and digest != expected:
        raise PlatformIndexError(f"{image} ({build.platform}) was pushed as {digest}, not "
                                 f"the {expected} this run built")
    return PushedPlatform(build.platform, build.builder, ref, digest)


def join(tags: Sequence[str], pushed: Sequence[PushedPlatform], *,
         address: str | None = None, tls: BuilderTls | None = None,
         secrets: Iterable[str] = (), timeout: float = JOIN_TIMEOUT) -> PlatformIndex:
    """Publish one index of the pushed platforms under every tag, then read it back from
    the registry: its digest, and each platform's manifest in it. `address`/`tls`: the
    docker host (or buildx builder) whose client configuration reaches the registry; the
    registry is spoken to from here, not from a builder."""
    if not pushed:
        raise PlatformIndexError("nothing to join: no platform was pushed")
    secrets = tuple(secrets)
    created = proc.run(imagetools_create_argv(tags, [p.pinned for p in pushed], address, tls),
                       secrets=secrets, timeout=timeout).output
    raw = _raw_manifest(tags[0], address, tls)
    digest = joined_digest(raw, index_digests(created), tags)
    media_type, found = index_manifests(raw)
    if media_type and media_type not in INDEX_TYPES:
        raise PlatformIndexError(f"{tags[0]} is a {media_type}, not an index")
    return PlatformIndex(digest, media_type, tuple(tags), platform_manifests(pushed, found))


def _raw_manifest(ref: str, address: str | None, tls: BuilderTls | None) -> bytes:
    """stdout alone: the bytes the digest is of (a warning on stderr must not join them)."""
    argv = imagetools_inspect_raw_argv(ref, address, tls)
    code, out, err = proc.capture(argv, timeout=INSPECT_TIMEOUT)
    if code != 0:
        raise proc.CommandError(argv, code, err)
    return out
