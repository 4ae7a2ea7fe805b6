"""`docker buildx build` (pure argv translation).

Flags as documented for buildx (docker/buildx docs/reference/buildx_build.md):
`--ssh default|<id>[=<socket>|<key>[,<key>]]`, `--secret id=<id>,src=<path>` or
`id=<id>,env=<VAR>`, `--build-context name=value`, `--cache-from/--cache-to`, `--output`,
`--metadata-file`, `--load`/`--push`, `--attest type=...`, `--annotation KEY=VALUE`,
`--add-host host:ip`, `--shm-size BYTES`, `--ulimit name=soft:hard`, `--no-cache-filter
STAGE`, `--pull`, and PATH | URL as the context. Checked against buildx 0.13.1 (Docker 26's
BuildKit v0.13): `--annotation` came in buildx 0.12 (docker/buildx#2020) and reaches the
`--push`/`--load` outputs since docker/buildx#2098 (0.12 too); several `--output`s need
BuildKit >= 0.13.

A `tcp://` docker host with TLS gets the docker CLI's global flags before `buildx` (and before
every other subcommand that talks to that daemon): `docker --host tcp://H:2376 --tlsverify
--tlscacert CA --tlscert CERT --tlskey KEY ...` (docker/cli cli/flags/options.go); a
`server_name` is refused, docker having no flag for it (flags.docker_tls_problem).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from buildorch.backends.bake_file import bake_argv
from buildorch.backends.base import REWRITE_TIMESTAMP_SINCE, Argv, Backend, version_number
from buildorch.backends.capabilities import (
    ALL_CACHE,
    ALL_OUTPUTS,
    DOCKER_CLASSIC_CACHE,
    DOCKER_CONTAINERD_CACHE,
    Capabilities,
)
from buildorch.backends.flags import (
    PROVENANCE,
    annotation_attrs,
    annotation_levels,
    archive_type,
    attest_disabled,
    check_main_context,
    docker_builder_flags,
    docker_tls_problem,
    flag_pairs,
    image_attrs,
    is_remote_context,
    secret_spec,
    spec_texts,
    ssh_spec,
    timestamp_attrs,
)
from buildorch.backends.request import AttrSpec, BuilderTls, BuildRequest, Unsupported

CONTAINERD_SNAPSHOTTER = "io.containerd.snapshotter.v1"
# Docker's engine forces `unpack=true` on every image it exports into its store (moby
# builder/builder-next/exporter/overrides/wrapper.go), and BuildKit's image exporter refuses
# `rewrite-timestamp` with `unpack` ("exporter option "rewrite-timestamp" conflicts with
# "unpack"", exporter/containerimage/export.go; moby/buildkit#4230, open), also to push. So
# a reproducible image is written as a tarball, whose exporter rewrites (docker/docs#23418),
# and `docker load`ed by the run, as buildx itself loads for drivers without an image store
# (build/build.go: a `type=docker` output piped to `docker load`); seen on Docker 26.1 with
# the containerd store: the loaded image's id is the digest the build reported.
ARCHIVE_LOAD = "tarball + docker load"
_BUILDKIT_VERSION = re.compile(r"^\s*BuildKit version:\s*(\S+)", re.MULTILINE)
_DRIVER = re.compile(r"^\s*Driver:\s*(\S+)", re.MULTILINE)
_PLATFORMS = re.compile(r"^\s*Platforms:\s*(.+)$", re.MULTILINE)


def docker_argv(req: BuildRequest) -> list[str]:
    if req.builder_tls is not None and (problem := docker_tls_problem(req.builder_tls)):
        raise Unsupported(("builder",), problem)
    host, builder = docker_builder_flags(req.builder, req.builder_tls)
    argv = ["docker", *host, "buildx", "build", *builder, "--progress", "plain"]
    argv += ["--file", _dockerfile(req)]
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
    argv += _attest_flags(req) + _output_flags(req)
    if req.network:
        argv += ["--network", req.network]
    argv += _run_flags(req)
    if req.no_cache:
        argv.append("--no-cache")
    if req.metadata_file:
        argv += ["--metadata-file", req.metadata_file]
    argv.append(req.context)
    return argv


def _dockerfile(req: BuildRequest) -> str:
    """`--file`. With a remote context a relative path names a file inside it, and an absolute
    one a local file (docker/buildx build/opt.go loadInputs, IsRemoteURL case, which sets
    `dockerfilekey`): an inline Dockerfile, written locally by the run, goes absolute."""
    check_main_context(req.context)
    if is_remote_context(req.context) and req.dockerfile_inline is not None:
        return str(Path(req.dockerfile).absolute())
    return req.dockerfile


def _attest_flags(req: BuildRequest) -> list[str]:
    """`--attest type=...` as written, `disabled=true` included: buildx adds
    `type=provenance,mode=min,inline-only=true` unless the request names a provenance spec
    (docker/buildx build/opt.go; util/buildflags/attests.go reads `disabled`)."""
    attests = flag_pairs("--attest", spec_texts(req.attest))
    return attests + flag_pairs("--annotation", [_annotation(k, v) for k, v in req.annotations])


def _annotation(key: str, value: str) -> str:
    """`--annotation KEY=VALUE` is the manifest's `annotation.KEY` (buildx
    util/buildflags/export.go ParseAnnotations). A key written with buildx's level prefix
    (`index:KEY`, `manifest-descriptor:KEY`, ...) goes as written; any other key holding `:`
    gets the explicit `manifest:` type so that buildx does not read its first part as one."""
    annotation_attrs([(key, value)])  # the key checks BuildKit makes
    levels, _ = annotation_levels(key)
    return f"manifest:{key}={value}" if ":" in key and not levels else f"{key}={value}"


def _output_flags(req: BuildRequest) -> list[str]:
    """The pipeline's outputs, then the image: `--push`/`--load`, or, to carry exporter
    attributes, the outputs they stand for (`--push` is `type=registry`, i.e. `type=image,
    push=true`; `--load` is `type=docker`: buildx_build.md), named from `--tag` by buildx
    (build/opt.go "fill in image exporter names from tags")."""
    flags = flag_pairs("--output", spec_texts(req.outputs))
    attrs = image_attrs(req)
    if req.push or req.load:  # the image kept; never an image output of its own for this
        attrs = (*attrs, *timestamp_attrs(req))
    archive = req.load_archive if req.load else None
    if not attrs and archive is None:
        return flags + (["--push"] if req.push else []) + (["--load"] if req.load else [])
    specs = [AttrSpec("image", (("push", "true"), *attrs))] if req.push else []
    if archive is not None:  # loaded by the run (`load_archive_argv`); names from --tag
        specs.append(AttrSpec(archive_type(req), (("dest", archive), *attrs)))
    elif req.load:
        specs.append(AttrSpec("docker", attrs))
    return flags + flag_pairs("--output", spec_texts(specs or [AttrSpec("image", attrs)]))


def _run_flags(req: BuildRequest) -> list[str]:
    """What RUN steps run with, and how base images resolve (buildx_build.md: `--add-host
    host:ip`, `--shm-size` in bytes, `--ulimit name=soft:hard`, `--no-cache-filter STAGE`,
    `--pull`; buildx 0.13's build/utils.go toBuildkitExtraHosts cuts `host:ip` at the first
    colon, so an IPv6 address goes as is)."""
    flags = flag_pairs("--add-host", [f"{host}:{ip}" for host, ip in req.extra_hosts])
    if req.shm_size is not None:
        flags += ["--shm-size", str(req.shm_size)]
    flags += flag_pairs("--ulimit", [u.text() for u in req.ulimits])
    flags += flag_pairs("--no-cache-filter", req.no_cache_filter)
    return flags + (["--pull"] if req.pull else [])


def _host(address: str | None, tls: BuilderTls | None = None) -> list[str]:
    host, _ = docker_builder_flags(address, tls)
    return host


def docker_push_argv(tag: str, address: str | None, tls: BuilderTls | None = None) -> list[str]:
    return ["docker", *_host(address, tls), "push", tag]


def docker_capabilities(probe_output: str) -> Capabilities:
    """From `docker info` as JSON: the image store decides which cache exports work."""
    try:
        info = json.loads(probe_output)
    except ValueError:  # a named buildx builder (`docker buildx inspect`)
        return _builder_capabilities(probe_output)
    status = dict(tuple(pair) for pair in info.get("DriverStatus") or [] if len(pair) == 2)
    if status.get("driver-type") == CONTAINERD_SNAPSHOTTER:
        return Capabilities(DOCKER_CONTAINERD_CACHE, ALL_OUTPUTS, (
            "docker driver with the containerd image store: registry, local and inline cache; "
            "no native s3 cache (needs a standalone BuildKit)",
            f"digest chaining: {DockerBackend.chaining}",
        ), rewrite_timestamp_via=ARCHIVE_LOAD)
    return Capabilities(DOCKER_CLASSIC_CACHE, ALL_OUTPUTS, (
        "docker driver on the classic image store: only inline cache export; enable the "
        "containerd image store (daemon.json features.containerd-snapshotter) for more",
    ), rewrite_timestamp_via=ARCHIVE_LOAD)


def inspect_platforms(inspect_output: str) -> tuple[str, ...] | None:
    """The platforms `docker buildx inspect` lists, every node's (a text answer; `docker
    info`'s JSON names none). buildx prints a node's `Platforms:` as its configured ones,
    each marked `*`, then those its BuildKit reports, joined with ", " (docker/buildx
    commands/inspect.go, util/platformutil FormatInGroups); a node that does not answer
    prints an `Error:` line instead."""
    found = [p.strip().rstrip("*") for line in _PLATFORMS.findall(inspect_output)
             for p in line.split(",")]
    return tuple(dict.fromkeys(p for p in found if p)) or None


def _builder_capabilities(inspect_output: str) -> Capabilities:
    """A named buildx builder: its own BuildKit, or the docker driver of a docker context
    (whose BuildKit version buildx shows as v0.0.0+unknown, as on Docker 26.1)."""
    driver = _DRIVER.search(inspect_output)
    version = _BUILDKIT_VERSION.search(inspect_output)
    text = version.group(1) if version else ""
    number = version_number(text)
    own = driver is None or driver.group(1) != "docker"
    timestamps = None
    if own and number is not None and number < REWRITE_TIMESTAMP_SINCE:
        timestamps = f"BuildKit {text} has no rewrite-timestamp (0.13 or later has)"
    return Capabilities(ALL_CACHE, ALL_OUTPUTS, ("buildx builder with its own BuildKit",),
                        timestamps, ARCHIVE_LOAD)


class DockerBackend(Backend):
    name = "docker"
    binary = "docker"
    local_store = True
    chaining = ("local image store, under a name only this run creates "
                "(buildorch.local/PIPELINE/IMAGE:RUN_ID), checked against the recorded digest "
                "before each dependent starts")
    provenance_default = "tool"  # docker/buildx build/build.go: provenance mode=min by default
    loads_archives = True  # reproducible images, whatever the builder (ARCHIVE_LOAD)
    bakes_chains = True  # `docker buildx bake` hands `target:` contexts over in-session

    def build_env(self, requests: Sequence[BuildRequest]) -> dict[str, str]:
        """No git commands in buildx where no provenance is made: buildx runs four (`git
        rev-parse` of the work tree, its root, HEAD, the remote's URL) per build to put the
        commit and source in provenance only (docker/buildx build/git.go
        getGitAttributes; `BUILDX_GIT_INFO=false` skips them all, labels being off)."""
        if all(any(s.type == PROVENANCE and attest_disabled(s) for s in r.attest)
               for r in requests):
            return {"BUILDX_GIT_INFO": "false"}
        return {}

    def chain_argv(self, file: str, targets: Sequence[str], metadata_file: str,
                   address: str | None) -> Argv:
        return bake_argv(file, targets, metadata_file, address)

    def build_argv(self, request: BuildRequest) -> Argv:
        return docker_argv(request)

    def version_argv(self, address: str | None, tls: BuilderTls | None = None) -> Argv:
        return ["docker", *_host(address, tls), "buildx", "version"]

    def probe_argv(self, address: str | None, tls: BuilderTls | None = None) -> Argv:
        """The daemon, or the named buildx builder."""
        host, builder = docker_builder_flags(address, tls)
        if builder:
            return ["docker", "buildx", "inspect", "--bootstrap", builder[1]]
        return ["docker", *host, "info", "--format", "{{json .}}"]

    def tls_problem(self, tls: BuilderTls) -> str | None:
        return docker_tls_problem(tls)

    def push_argv(self, tag: str, address: str | None,
                  tls: BuilderTls | None = None) -> Argv:
        return docker_push_argv(tag, address, tls)

    def load_archive_argv(self, path: str, address: str | None,
                          tls: BuilderTls | None = None) -> Argv:
        """Into the store of the daemon the builder's images go to (a builder name: the
        current context's, where buildx's own --load goes)."""
        return ["docker", *_host(address, tls), "load", "--input", path]

    def save_argv(self, refs: Sequence[str], path: str, address: str | None,
                  tls: BuilderTls | None = None) -> Argv:
        """`docker image save --output PATH IMAGE [IMAGE...]` (docker/cli
        cli/command/image/save.go): the images with their names, which `docker load` gives
        back under the same names and ids (the config digest is the id)."""
        return ["docker", *_host(address, tls), "image", "save", "--output", path, *refs]

    def inspect_argv(self, refs: Sequence[str], address: str | None,
                     tls: BuilderTls | None = None) -> Argv:
        """The stored images' digests (the index digest with the containerd store), a line
        each: `docker image inspect` takes several references (docker/cli
        cli/command/image/inspect.go) and exits 1 if one is missing."""
        return ["docker", *_host(address, tls), "image", "inspect", "--format", "{{.Id}}",
                *refs]

    def untag_argv(self, refs: Sequence[str], address: str | None,
                   tls: BuilderTls | None = None) -> Argv:
        """`docker image rm IMAGE [IMAGE...]` (docker/cli cli/command/image/remove.go)."""
        return ["docker", *_host(address, tls), "image", "rm", *refs]

    def stored_argv(self, refs: Sequence[str], address: str | None,
                    tls: BuilderTls | None = None) -> Argv:
        """`docker image inspect` takes several references and prints the ones it finds
        (docker/cli cli/command/image/inspect.go); an image id is one of them."""
        return ["docker", *_host(address, tls), "image", "inspect", "--format", "{{json .}}",
                *refs]

    def tag_argv(self, source: str, tag: str, address: str | None,
                 tls: BuilderTls | None = None) -> Argv:
        return ["docker", *_host(address, tls), "tag", source, tag]

    def capabilities(self, probe_output: str) -> Capabilities:
        return docker_capabilities(probe_output)

    def engine_platforms(self, output: str) -> tuple[str, ...] | None:
        return inspect_platforms(output)

    def platforms_argv(self, address: str | None,
                       tls: BuilderTls | None = None) -> Argv | None:
        """`docker buildx inspect` of the builder a build without `--builder` uses, on the
        daemon the probe's `docker info` asked (a CLI plugin takes the global `--host` and TLS
        flags: flags.docker_tls_flags); a buildx builder's probe already inspected it."""
        host, builder = docker_builder_flags(address, tls)
        return None if builder else ["docker", *host, "buildx", "inspect"]

    def assumed_capabilities(self) -> Capabilities:
        """The docker driver has no `type=s3` cache, whatever its image store."""
        return Capabilities(DOCKER_CONTAINERD_CACHE, ALL_OUTPUTS)


BACKEND = DockerBackend()
