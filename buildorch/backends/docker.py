"""`docker buildx build` (pure argv translation).

Flags as documented for buildx (docker/buildx docs/reference/buildx_build.md):
`--ssh default|<id>[=<socket>|<key>[,<key>]]`, `--secret id=<id>,src=<path>` or
`id=<id>,env=<VAR>`, `--build-context name=value`, `--cache-from/--cache-to`, `--output`,
`--metadata-file`, `--load`/`--push`.
"""

from __future__ import annotations

import json

from buildorch.backends.base import Argv, Backend
from buildorch.backends.capabilities import (
    ALL_CACHE,
    ALL_OUTPUTS,
    DOCKER_CLASSIC_CACHE,
    DOCKER_CONTAINERD_CACHE,
    Capabilities,
)
from buildorch.backends.flags import flag_pairs, secret_spec, spec_texts, ssh_spec
from buildorch.backends.request import BuildRequest

CONTAINERD_SNAPSHOTTER = "io.containerd.snapshotter.v1"


def _builder_flags(address: str | None) -> tuple[list[str], list[str]]:
    """A docker host URL goes before `buildx` (`--host`); a buildx builder name after it."""
    if address is None:
        return [], []
    if "://" in address:
        return ["--host", address], []
    return [], ["--builder", address]


def docker_argv(req: BuildRequest) -> list[str]:
    host, builder = _builder_flags(req.builder)
    argv = ["docker", *host, "buildx", "build", *builder, "--progress", "plain"]
    argv += ["--file", req.dockerfile]
    if req.target:
        argv += ["--target", req.target]
    argv += flag_pairs("--build-arg", [f"{k}={v}" for k, v in req.args])
    argv += flag_pairs("--build-context", [f"{k}={v}" for k, v in req.named_contexts])
    argv += flag_pairs("--secret", [secret_spec(s) for s in req.secrets])
    argv += flag_pairs("--ssh", [ssh_spec(s) for s in req.ssh])
    if req.platforms:
        argv += ["--platform", ",".join(req.platforms)]
    argv += flag_pairs("--label", [f"{k}={v}" for k, v in req.labels])
    argv += flag_pairs("--tag", req.tags)
    argv += flag_pairs("--cache-from", spec_texts(req.cache_from))
    argv += flag_pairs("--cache-to", spec_texts(req.cache_to))
    argv += flag_pairs("--output", spec_texts(req.outputs))
    if req.push:
        argv.append("--push")
    if req.load:
        argv.append("--load")
    if req.network:
        argv += ["--network", req.network]
    if req.no_cache:
        argv.append("--no-cache")
    if req.metadata_file:
        argv += ["--metadata-file", req.metadata_file]
    argv.append(req.context)
    return argv


def _host(address: str | None) -> list[str]:
    host, _ = _builder_flags(address)
    return host


def docker_push_argv(tag: str, address: str | None) -> list[str]:
    return ["docker", *_host(address), "push", tag]


def docker_capabilities(probe_output: str) -> Capabilities:
    """From `docker info` as JSON: the image store decides which cache exports work."""
    try:
        info = json.loads(probe_output)
    except ValueError:  # a named buildx builder (container or remote driver)
        return Capabilities(ALL_CACHE, ALL_OUTPUTS, ("buildx builder with its own BuildKit",))
    status = dict(tuple(pair) for pair in info.get("DriverStatus") or [] if len(pair) == 2)
    if status.get("driver-type") == CONTAINERD_SNAPSHOTTER:
        return Capabilities(DOCKER_CONTAINERD_CACHE, ALL_OUTPUTS, (
            "docker driver with the containerd image store: registry, local and inline cache; "
            "no native s3 cache (needs a standalone BuildKit)",
            f"digest chaining: {DockerBackend.chaining}",
        ))
    return Capabilities(DOCKER_CLASSIC_CACHE, ALL_OUTPUTS, (
        "docker driver on the classic image store: only inline cache export; enable the "
        "containerd image store (daemon.json features.containerd-snapshotter) for more",
    ))


class DockerBackend(Backend):
    name = "docker"
    binary = "docker"
    local_store = True
    chaining = ("local image store, under a name only this run creates "
                "(buildorch.local/PIPELINE/IMAGE:RUN_ID), checked against the recorded digest "
                "before each dependent starts")

    def build_argv(self, request: BuildRequest) -> Argv:
        return docker_argv(request)

    def version_argv(self, address: str | None) -> Argv:
        return ["docker", *_host(address), "buildx", "version"]

    def probe_argv(self, address: str | None) -> Argv:
        """The daemon, or the named buildx builder."""
        host, builder = _builder_flags(address)
        if builder:
            return ["docker", "buildx", "inspect", "--bootstrap", builder[1]]
        return ["docker", *host, "info", "--format", "{{json .}}"]

    def push_argv(self, tag: str, address: str | None) -> Argv:
        return docker_push_argv(tag, address)

    def inspect_argv(self, ref: str, address: str | None) -> Argv:
        """The stored image's digest (the index digest with the containerd store)."""
        return ["docker", *_host(address), "image", "inspect", "--format", "{{.Id}}", ref]

    def untag_argv(self, ref: str, address: str | None) -> Argv:
        return ["docker", *_host(address), "image", "rm", ref]

    def capabilities(self, probe_output: str) -> Capabilities:
        return docker_capabilities(probe_output)

    def assumed_capabilities(self) -> Capabilities:
        """The docker driver has no `type=s3` cache, whatever its image store."""
        return Capabilities(DOCKER_CONTAINERD_CACHE, ALL_OUTPUTS)


BACKEND = DockerBackend()
