"""Backends: pure argv translation of a BuildRequest, one module per tool.

Each backend also says how an image built in a run reaches the images built on it
(digest chaining), and how tags are published at the end of a run (all or nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from buildorch.backends.request import BuildRequest

Argv = list[str]


@dataclass(frozen=True)
class Backend:
    name: str
    binary: str
    build_argv: Callable[[BuildRequest], Argv]
    version_argv: Callable[[str | None], Argv]
    probe_argv: Callable[[str | None], Argv]
    # Tags are published after every build succeeded: by pushing the locally stored
    # image (push_argv), or, without a local store, by tagging the manifest that the
    # build pushed by digest (registry API).
    push_argv: Callable[[str, str | None], Argv] | None
    local_store: bool
    chaining: str  # how a dependent build reaches its dependency's digest
    # For run-scoped local names: print a stored image's digest, and remove the name.
    inspect_argv: Callable[[str, str | None], Argv] | None = None
    untag_argv: Callable[[str, str | None], Argv] | None = None


def _docker() -> Backend:
    from buildorch.backends import docker

    return Backend(
        name="docker", binary="docker", build_argv=docker.docker_argv,
        version_argv=docker.docker_version_argv, probe_argv=docker.docker_probe_argv,
        push_argv=docker.docker_push_argv, local_store=True,
        inspect_argv=docker.docker_inspect_argv, untag_argv=docker.docker_untag_argv,
        chaining="local image store, under a name only this run creates "
                 "(buildorch.local/PIPELINE/IMAGE:RUN_ID), checked against the recorded digest "
                 "before each dependent starts",
    )


def _nerdctl(binary: str) -> Backend:
    from buildorch.backends import finch, nerdctl

    build = finch.finch_argv if binary == "finch" else nerdctl.nerdctl_argv
    # `push` talks to containerd, not to BuildKit: the builder address does not apply.
    push = (finch.finch_push_argv if binary == "finch"
            else lambda tag: nerdctl.nerdctl_push_argv(tag, None))
    return Backend(
        name=binary, binary=binary,
        build_argv=build,
        version_argv=lambda _address: [binary, "version", "--format", "{{json .}}"],
        # nerdctl runs buildctl for builds; `info` shows that containerd answers.
        probe_argv=lambda _address: [binary, "info"],
        push_argv=lambda tag, _address: push(tag),
        local_store=True,
        untag_argv=lambda ref, _address: [binary, "rmi", ref],
        chaining="local image store, under a name only this run creates "
                 "(buildorch.local/PIPELINE/IMAGE:RUN_ID); needs BuildKit's containerd worker, "
                 "which shares nerdctl's image store",
    )


def _buildctl() -> Backend:
    from buildorch.backends import buildctl

    return Backend(
        name="buildctl", binary="buildctl", build_argv=buildctl.buildctl_argv,
        version_argv=lambda _address: ["buildctl", "--version"],
        probe_argv=lambda address: ["buildctl", *(["--addr", address] if address else []),
                                    "debug", "workers"],
        push_argv=None, local_store=False,
        chaining="registry by digest when pushed (push-by-digest), else an OCI layout in the "
                 "run folder: oci-layout://DIR@DIGEST",
    )


BACKEND_NAMES = ("nerdctl", "finch", "docker", "buildctl")  # the order `auto` tries


def get_backend(name: str) -> Backend:
    if name == "docker":
        return _docker()
    if name in ("nerdctl", "finch"):
        return _nerdctl(name)
    if name == "buildctl":
        return _buildctl()
    raise ValueError(f"unknown backend {name!r}")
