"""`buildctl build` argv for a BuildRequest (pure).

Flags as documented for buildctl (moby/buildkit docs/reference/buildctl.md and README.md):
`buildctl [--addr ADDR] build --frontend dockerfile.v0 --local context=DIR
--local dockerfile=DIR --opt filename=NAME --opt target=STAGE --opt build-arg:K=V
--opt label:K=V --opt platform=A,B --opt context:NAME=docker-image://REF|local:NAME|
oci-layout://STORE@sha256:DIGEST --oci-layout STORE=DIR --secret id=ID,src=PATH|env=VAR
--ssh default|<id>[=<socket>|<key>[,<key>]] --import-cache ATTRS --export-cache ATTRS
--output type=image,"name=A,B",push=true --metadata-file FILE --progress plain`.

`--output`, `--secret` and the cache specs are CSV (see buildorch.backends.flags).
`--metadata-file` gets JSON whose `containerimage.digest` is "the digest of the root manifest
for the image" (manifest, or index for several platforms; comment in moby/buildkit
exporter/containerimage/export.go): what dependents pin as `name@digest`. push_by_digest goes
through the image exporter (`flags.image_output`).

`load` has no buildctl meaning (there is no client image store): the result stays in
BuildKit, and in containerd's store with a containerd worker.
Several `--output` flags need BuildKit >= v0.13 (docker/buildx docs/reference/buildx_build.md,
docker/buildx#2290); older buildctl says "currently only single Exports can be specified".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePath

from buildorch.backends.base import Argv, Backend, ToolVersion
from buildorch.backends.flags import (
    OCI_LAYOUT,
    flag_pairs,
    image_output,
    is_local_context,
    network_mode,
    pushes,
    secret_spec,
    spec_texts,
    ssh_spec,
)
from buildorch.backends.request import BuildRequest, Unsupported


def _dockerfile_flags(dockerfile: str) -> list[str]:
    """The Dockerfile's folder goes to `--local dockerfile=`, its name to `--opt filename=`."""
    path = PurePath(dockerfile)
    return ["--local", f"dockerfile={path.parent}", "--opt", f"filename={path.name}"]


def _store_id(name: str, used: set[str]) -> str:
    """An OCI store id the frontend can parse as a reference name: it looks the store up by the
    reference's name (frontend/dockerui/namedcontext.go, `llb.OCIStore(..., named.Name())`)."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "layout"
    store, n = base, 1
    while store in used:
        n += 1
        store = f"{base}-{n}"
    used.add(store)
    return store


def _oci_layout_flags(name: str, source: str, used: set[str]) -> list[str]:
    """`oci-layout://DIR[:TAG]@sha256:...` -> `--oci-layout STORE=DIR` and
    `--opt context:NAME=oci-layout://STORE[:TAG]@sha256:...` (docs/reference/buildctl.md)."""
    path, at, digest = source[len(OCI_LAYOUT):].partition("@")
    path, colon, tag = path.partition(":")  # as docker/buildx build/opt.go splits it
    if not at:
        raise Unsupported(("contexts", name), "buildctl needs the digest of an oci-layout "
                          "(oci-layout://DIR@sha256:...); it does not read the layout's index")
    store = _store_id(name, used)
    ref = f"{store}{colon}{tag}@{digest}"
    return ["--oci-layout", f"{store}={path}", "--opt", f"context:{name}={OCI_LAYOUT}{ref}"]


def _local_context_flags(name: str, source: str) -> list[str]:
    # `context` and `dockerfile` are the frontend's own local names: prefix `_` as buildx does.
    local = f"_{name}" if name in ("context", "dockerfile") else name
    return ["--local", f"{local}={source}", "--opt", f"context:{name}=local:{local}"]


def _named_context_flags(contexts: Iterable[tuple[str, str]]) -> list[str]:
    flags: list[str] = []
    used: set[str] = set()
    for name, source in contexts:
        if is_local_context(source):
            flags += _local_context_flags(name, source)
        elif source.startswith(OCI_LAYOUT):
            flags += _oci_layout_flags(name, source, used)
        else:
            flags += ["--opt", f"context:{name}={source}"]
    return flags


def _frontend_opts(req: BuildRequest) -> list[str]:
    opts = [f"target={req.target}"] if req.target else []
    opts += [f"build-arg:{key}={value}" for key, value in req.args]
    if req.platforms:
        opts.append(f"platform={','.join(req.platforms)}")
    opts += [f"label:{key}={value}" for key, value in req.labels]
    mode = network_mode(req.network)
    if mode:
        # Frontend attribute as containerd/nerdctl pkg/cmd/builder/build.go and
        # docker/buildx build/build.go pass it to BuildKit.
        opts.append(f"force-network-mode={mode}")
    return flag_pairs("--opt", opts)


def _output_flags(req: BuildRequest) -> list[str]:
    specs = spec_texts(req.outputs)
    if req.tags or pushes(req) or not specs:
        specs.insert(0, image_output(req))  # an image export is what yields the digest
    return flag_pairs("--output", specs)


def buildctl_argv(req: BuildRequest) -> list[str]:
    argv = ["buildctl", *(["--addr", req.builder] if req.builder else []), "build",
            "--progress", "plain", "--frontend", "dockerfile.v0",
            "--local", f"context={req.context}", *_dockerfile_flags(req.dockerfile)]
    argv += _frontend_opts(req)
    argv += _named_context_flags(req.named_contexts)
    argv += flag_pairs("--secret", (secret_spec(s) for s in req.secrets))
    argv += flag_pairs("--ssh", (ssh_spec(s) for s in req.ssh))
    if network_mode(req.network) == "host":
        argv += ["--allow", "network.host"]  # entitlement; buildkitd must also allow it
    argv += flag_pairs("--import-cache", spec_texts(req.cache_from))
    argv += flag_pairs("--export-cache", spec_texts(req.cache_to))
    argv += _output_flags(req)
    if req.no_cache:
        argv.append("--no-cache")
    if req.metadata_file:
        argv += ["--metadata-file", req.metadata_file]
    return argv


class BuildctlBackend(Backend):
    name = "buildctl"
    binary = "buildctl"
    local_store = False
    chaining = ("registry by digest when pushed (push-by-digest), else an OCI layout in the "
                "run folder: oci-layout://DIR@DIGEST")

    def build_argv(self, request: BuildRequest) -> Argv:
        return buildctl_argv(request)

    def version_argv(self, address: str | None) -> Argv:
        return ["buildctl", "--version"]

    def probe_argv(self, address: str | None) -> Argv:
        return ["buildctl", *(["--addr", address] if address else []), "debug", "workers"]

    def version_problem(self, request: BuildRequest, version: ToolVersion) -> str | None:
        outputs = _output_flags(request).count("--output")
        if outputs > 1 and version.number is not None and version.number < MULTIPLE_OUTPUTS:
            return (f"it needs {outputs} outputs at once, which BuildKit takes from v0.13 on "
                    f"(\"currently only single Exports can be specified\"); found {version.text}")
        return None


MULTIPLE_OUTPUTS = (0, 13, 0)  # docker/buildx#2290


BACKEND = BuildctlBackend()
