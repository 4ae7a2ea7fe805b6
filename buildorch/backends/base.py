"""The interface every backend implements, once per tool.

A backend is pure: it turns a BuildRequest into argv, and says how its builder is
probed, how an image built in a run reaches the images built on it (digest chaining),
and how tags are published once every build of the run succeeded (all or nothing).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from buildorch.backends.capabilities import ALL_CACHE, ALL_OUTPUTS, Capabilities
from buildorch.backends.request import BuilderTls, BuildRequest

Argv = list[str]
_VERSION = re.compile(r"\bv?(\d+)\.(\d+)(?:\.(\d+))?")
# a push's report of what it pushed, `TAG: digest: sha256:... size: N` (docker push)
_PUSHED = re.compile(r"digest: (sha256:[0-9a-f]{64})")
# `rewrite-timestamp`: moby/buildkit#4057, in BuildKit v0.13.0 (docker/docs#21055)
REWRITE_TIMESTAMP_SINCE = (0, 13, 0)


@dataclass(frozen=True)
class ToolVersion:
    text: str  # as doctor shows it
    number: tuple[int, int, int] | None = None  # the version that decides what works


def version_number(text: str) -> tuple[int, int, int] | None:
    """The first `[v]X.Y[.Z]` in `text`."""
    match = _VERSION.search(text)
    if match is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def pushed_digest(output: str) -> str | None:
    """The digest the output of `Backend.push_argv` reports for the tag it pushed (the last
    one it names); None where it names none."""
    found = _PUSHED.findall(output)
    return found[-1] if found else None


@dataclass(frozen=True)
class EnvBarrier:
    """Where only some of this machine's environment variables reach the build tool (a VM
    that forwards a fixed list)."""

    where: str  # as messages name it: "Finch's VM"
    passes: frozenset[str]

    def reaching(self, env: Mapping[str, str]) -> dict[str, str]:
        return {name: value for name, value in env.items() if name in self.passes}

    def unseen_env_secrets(self, request: BuildRequest) -> list[str]:
        """Secret ids whose `env=` variable would not get through."""
        return [s.id for s in request.secrets if s.env is not None and s.env not in self.passes]


class Backend(ABC):
    name: ClassVar[str]  # one of catalog.BACKEND_NAMES: the module that defines it
    binary: ClassVar[str]
    local_store: ClassVar[bool]  # built images stay in the tool's own image store
    chaining: ClassVar[str]  # how a dependent build reaches its dependency's digest
    # Provenance on a published image the pipeline asks no attestation for, as buildx
    # attaches by default: "tool" the tool adds it itself (and must be told not to on other
    # images), "request" buildorch asks for it, "none" left out (the tool may lack --attest).
    provenance_default: ClassVar[Literal["tool", "request", "none"]] = "request"
    # A reproducible image it loads is written as a tarball (`BuildRequest.load_archive`)
    # that the run loads with `load_archive_argv`: the tool's own loading cannot rewrite
    # timestamps.
    loads_archives: ClassVar[bool] = False
    bakes_chains: ClassVar[bool] = False  # `chain_argv` builds a chain in one session

    @abstractmethod
    def build_argv(self, request: BuildRequest) -> Argv: ...

    @abstractmethod
    def version_argv(self, address: str | None, tls: BuilderTls | None = None) -> Argv: ...

    @abstractmethod
    def probe_argv(self, address: str | None, tls: BuilderTls | None = None) -> Argv:
        """Succeeds when the builder answers."""

    def tls_problem(self, tls: BuilderTls) -> str | None:
        """Why the tool cannot reach a builder with these TLS settings (None: it can, and
        every argv below that names the builder's address carries them). The loader and
        the build argv both ask: a build never goes out without the TLS it was given."""
        return None

    def rewrite_timestamp_problem(self, address: str | None) -> str | None:
        """Why the builder at `address` cannot rewrite the timestamps of the image a build
        keeps (loads or pushes), as far as the address tells; None: it can (BuildKit 0.13)."""
        return None

    def load_archive_argv(self, path: str, address: str | None,
                          tls: BuilderTls | None = None) -> Argv | None:
        """Loads the tarball (docker or OCI) a build wrote at `path` into the local image
        store, under the names it holds (None: the tool loads what it builds itself)."""
        return None

    def save_argv(self, refs: Sequence[str], path: str, address: str | None,
                  tls: BuilderTls | None = None) -> Argv | None:
        """Writes the stored images `refs` (names) into one tarball at `path` that
        `load_archive_argv` loads into another builder's store, names and ids kept (None:
        no local store, so nothing to copy: run/pool)."""
        return None

    def chain_argv(self, file: str, targets: Sequence[str], metadata_file: str,
                   address: str | None) -> Argv | None:
        """Build `targets` of a bake `file` (backends/bake_file) in one builder session,
        each handed to the next in-session; None where the tool cannot (run/chain_build)."""
        return None

    def build_env(self, requests: Sequence[BuildRequest]) -> dict[str, str]:
        """Environment variables the builder process of `requests` (one build, or one
        session's) runs with, besides buildorch's own."""
        return {}

    def push_argv(self, tag: str, address: str | None,
                  tls: BuilderTls | None = None) -> Argv | None:
        """Publishes a locally stored tag; None where there is no local store: the build
        pushed the manifest by digest, and the registry API tags it."""
        return None

    def inspect_argv(self, refs: Sequence[str], address: str | None,
                     tls: BuilderTls | None = None) -> Argv | None:
        """Prints each run-scoped local name's digest, a line each, in order, and fails if
        one is missing (None: no such names)."""
        return None

    def untag_argv(self, refs: Sequence[str], address: str | None,
                   tls: BuilderTls | None = None) -> Argv | None:
        """Removes run-scoped local names, in one call (None: no such names)."""
        return None

    def stored_argv(self, refs: Sequence[str], address: str | None,
                    tls: BuilderTls | None = None) -> Argv | None:
        """Prints one JSON object (`Id`, `RepoTags`) per line for each of `refs` (ids or
        names) the local image store holds, and fails for the others (None: no store)."""
        return None

    def tag_argv(self, source: str, tag: str, address: str | None,
                 tls: BuilderTls | None = None) -> Argv | None:
        """Gives the stored image `source` (an id or a name) the local name `tag`."""
        return None

    def capabilities(self, probe_output: str) -> Capabilities:
        """What the builder that answered `probe_argv` can do."""
        return self.assumed_capabilities()

    def engine_platforms(self, output: str) -> tuple[str, ...] | None:
        """The platforms the builder's BuildKit workers report, as BuildKit formats them, in
        the answer of `probe_argv` (or of `platforms_argv`); None: that answer names none."""
        return None

    def platforms_argv(self, address: str | None,
                       tls: BuilderTls | None = None) -> Argv | None:
        """A cheap call whose answer `engine_platforms` reads, where the probe's does not
        name the platforms (`doctor` asks it); None: the probe's does, or no call is cheap."""
        return None

    def tool_version(self, output: str) -> ToolVersion:
        """The version `version_argv` printed."""
        line = next((line.strip() for line in output.splitlines() if line.strip()), "")
        return ToolVersion(line, version_number(line))

    def version_problem(self, request: BuildRequest, version: ToolVersion) -> str | None:
        """What this version of the tool cannot do of `request`, if anything."""
        return None

    def env_barrier(self, system: str) -> EnvBarrier | None:
        """What stands between this machine's environment and the tool on OS `system`
        (`platform.system()`); None: the tool sees all of it."""
        return None

    def assumed_capabilities(self) -> Capabilities:
        """What its builder is taken to do where none was asked (plan, --dry-run)."""
        return Capabilities(ALL_CACHE, ALL_OUTPUTS, (f"digest chaining: {self.chaining}",))
