"""`buildctl build` argv for a BuildRequest (pure).

Flags as documented for buildctl (moby/buildkit docs/reference/buildctl.md and README.md):
`buildctl [--addr ADDR] build --frontend dockerfile.v0 --local context=DIR
--local dockerfile=DIR --opt filename=NAME --opt target=STAGE --opt build-arg:K=V
--opt label:K=V --opt platform=A,B --opt context:NAME=docker-image://REF|local:NAME|
oci-layout://STORE@sha256:DIGEST --oci-layout STORE=DIR --secret id=ID,src=PATH|env=VAR
--ssh default|<id>[=<socket>|<key>[,<key>]] --import-cache ATTRS --export-cache ATTRS
--output type=image,"name=A,B",push=true --metadata-file FILE --progress plain`.

The fields bake adds are frontend options of the Dockerfile frontend (moby/buildkit
frontend/dockerui/config.go): `--opt attest:sbom=[generator=IMAGE]`,
`--opt attest:provenance=mode=max` (docs/attestations/), `--opt add-hosts=h1=ip1,h2=ip2`,
`--opt shm-size=BYTES`, `--opt ulimit=nofile=1024:2048,...`, `--opt no-cache=STAGE,STAGE`,
`--opt image-resolve-mode=pull`; annotations are `annotation.KEY=VALUE` attributes of each
output that writes a manifest (docs/annotations.md), and the pipeline's image exporter
attributes (`compression=zstd`, ...) go on the image output. A remote context is
`--opt context=URL` (README.md), with no `--local context=`.

`--output`, `--secret` and the cache specs are CSV (see buildorch.backends.flags).
`--metadata-file` gets JSON whose `containerimage.digest` is "the digest of the root manifest
for the image" (manifest, or index for several platforms; comment in moby/buildkit
exporter/containerimage/export.go): what dependents pin as `name@digest`. push_by_digest goes
through the image exporter (`flags.image_output`).

`load` has no buildctl meaning (there is no client image store): the result stays in
BuildKit, and in containerd's store with a containerd worker.
Several `--output` flags need BuildKit >= v0.13 (docker/buildx docs/reference/buildx_build.md,
docker/buildx#2290); older buildctl says "currently only single Exports can be specified".

TLS to a `tcp://` buildkitd: buildctl's global flags `--tlscacert`, `--tlscert`, `--tlskey` and
`--tlsservername` (moby/buildkit cmd/buildctl/main.go; no environment variable stands for
them), before the subcommand like `--addr`. cmd/buildctl/common/common.go ResolveClient turns
on TLS only with a CA (`WithServerConfig(serverName, caCert)`; a client key pair alone meets
an empty root pool) and checks the certificate against the address's host unless
`--tlsservername` names another; `--tlsdir` (ca.pem, cert.pem, key.pem in one folder) is not
used, as the pipeline names each file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePath

from buildorch.backends.base import Argv, Backend, ToolVersion
from buildorch.backends.flags import (
    CACHE_ONLY,
    HOST_GATEWAY,
    OCI_LAYOUT,
    annotated,
    attest_value,
    check_main_context,
    csv_join,
    enabled_attests,
    flag_pairs,
    image_output,
    is_git_ssh,
    is_local_context,
    is_remote_context,
    network_mode,
    pushes,
    secret_spec,
    spec_texts,
    ssh_spec,
)
from buildorch.backends.request import AttrSpec, BuilderTls, BuildRequest, Unsupported


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
    opts += _run_opts(req)
    opts += [f"attest:{spec.type}={attest_value(spec)}" for spec in enabled_attests(req.attest)]
    return flag_pairs("--opt", opts)


def _run_opts(req: BuildRequest) -> list[str]:
    """The Dockerfile frontend's own keys (moby/buildkit frontend/dockerui/config.go and
    attr.go, set the same way by docker/buildx build/opt.go): `add-hosts` is CSV of
    `host=ip`, `shm-size` bytes, `ulimit` CSV of `name=soft:hard`, `no-cache` the stages
    (empty: all, which `--no-cache` already asks), `image-resolve-mode=pull`."""
    opts = [f"add-hosts={_add_hosts(req.extra_hosts)}"] if req.extra_hosts else []
    if req.shm_size is not None:
        opts.append(f"shm-size={req.shm_size}")
    if req.ulimits:
        opts.append(f"ulimit={csv_join(u.text() for u in req.ulimits)}")
    if req.no_cache_filter and not req.no_cache:
        opts.append(f"no-cache={','.join(req.no_cache_filter)}")
    return opts + (["image-resolve-mode=pull"] if req.pull else [])


def _add_hosts(hosts: tuple[tuple[str, str], ...]) -> str:
    """dockerui parseExtraHosts takes an IP only (net.ParseIP): `host-gateway` is a name docker
    and nerdctl resolve before they call BuildKit."""
    if any(ip == HOST_GATEWAY for _, ip in hosts):
        raise Unsupported(("extra_hosts",), f"buildctl cannot map a host to {HOST_GATEWAY!r}: "
                          "BuildKit takes an IP address (docker and nerdctl resolve that name)")
    return csv_join(f"{host}={ip}" for host, ip in hosts)


def _user_outputs(req: BuildRequest) -> list[AttrSpec]:
    """The pipeline's outputs as buildctl takes them: `cacheonly` is buildx's way of asking for
    none (buildctl with no `--output` keeps the result in BuildKit's cache), and `type=docker`
    needs a `dest`: buildctl has no image store to load into and would write the tarball to
    stdout (cmd/buildctl/build/output.go)."""
    outputs = [spec for spec in req.outputs if spec.type != CACHE_ONLY]
    if any(spec.type == "docker" and spec.get("dest") is None for spec in outputs):
        raise Unsupported(("outputs",), "buildctl cannot load type=docker into an image store; "
                          "give it a dest=FILE, or use the nerdctl or docker backend")
    return [annotated(spec, req.annotations) for spec in outputs]


def _output_flags(req: BuildRequest) -> list[str]:
    specs = spec_texts(_user_outputs(req))
    if req.tags or pushes(req) or req.image_attrs or not (specs or req.outputs):
        specs.insert(0, image_output(req))  # an image export is what yields the digest
    return flag_pairs("--output", specs)


def _context_flags(req: BuildRequest) -> list[str]:
    """A folder goes as `--local context=`; a remote context as the frontend's `context` option,
    from which it also reads the Dockerfile, `filename` being relative to it (moby/buildkit
    frontend/dockerui/context.go initContext, DetectGitContext/DetectHTTPContext; README.md
    `--opt context=https://github.com/moby/moby.git`). An inline Dockerfile stays local:
    `dockerfilekey` makes the frontend read it from `--local dockerfile=` (context.go
    keyNameDockerfile, moby/buildkit#947; what docker/buildx build/opt.go sends)."""
    check_main_context(req.context)
    if not is_remote_context(req.context):
        return ["--local", f"context={req.context}", *_dockerfile_flags(req.dockerfile)]
    remote = ["--opt", f"context={req.context}"]
    if req.dockerfile_inline is not None:
        return [*remote, *_dockerfile_flags(req.dockerfile), "--opt", "dockerfilekey=dockerfile"]
    return [*remote, "--opt", f"filename={req.dockerfile}"]


def _ssh_flags(req: BuildRequest) -> list[str]:
    """A git context over SSH is fetched with the agent forwarded as `default` (llb.Git,
    moby/buildkit client/llb/source.go); buildx forwards it unasked (IsGitSSH), so does this."""
    specs = [ssh_spec(s) for s in req.ssh]
    if is_git_ssh(req.context) and not any(s.id == "default" for s in req.ssh):
        specs.append("default")
    return flag_pairs("--ssh", specs)


def global_flags(address: str | None, tls: BuilderTls | None) -> list[str]:
    """`--addr ADDR` and the TLS flags, which buildctl takes before its subcommand."""
    flags = ["--addr", address] if address else []
    if tls is None:
        return flags
    flags += ["--tlscacert", tls.ca]
    flags += ["--tlscert", tls.cert] if tls.cert else []
    flags += ["--tlskey", tls.key] if tls.key else []
    return flags + (["--tlsservername", tls.server_name] if tls.server_name else [])


def buildctl_argv(req: BuildRequest) -> list[str]:
    argv = ["buildctl", *global_flags(req.builder, req.builder_tls), "build",
            "--progress", "plain", "--frontend", "dockerfile.v0", *_context_flags(req)]
    argv += _frontend_opts(req)
    argv += _named_context_flags(req.named_contexts)
    argv += flag_pairs("--secret", (secret_spec(s) for s in req.secrets))
    argv += _ssh_flags(req)
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

    def version_argv(self, address: str | None, tls: BuilderTls | None = None) -> Argv:
        return ["buildctl", "--version"]  # the client's own: asks no daemon

    def probe_argv(self, address: str | None, tls: BuilderTls | None = None) -> Argv:
        return ["buildctl", *global_flags(address, tls), "debug", "workers"]

    def engine_platforms(self, output: str) -> tuple[str, ...] | None:
        return workers_platforms(output)

    def version_problem(self, request: BuildRequest, version: ToolVersion) -> str | None:
        outputs = _output_flags(request).count("--output")
        if outputs > 1 and version.number is not None and version.number < MULTIPLE_OUTPUTS:
            return (f"it needs {outputs} outputs at once, which BuildKit takes from v0.13 on "
                    f"(\"currently only single Exports can be specified\"); found {version.text}")
        return None


MULTIPLE_OUTPUTS = (0, 13, 0)  # docker/buildx#2290


def workers_platforms(output: str) -> tuple[str, ...] | None:
    """The platforms of every worker `buildctl debug workers` lists: a header `ID PLATFORMS`,
    then a row per worker, its id and its platforms joined with "," (moby/buildkit
    cmd/buildctl/debug/workers.go printWorkersTable; normalised, so without spaces)."""
    rows = [line.split() for line in output.splitlines()]
    found = [p for row in rows if len(row) == 2 and row != ["ID", "PLATFORMS"]
             for p in row[1].split(",") if p]
    return tuple(dict.fromkeys(found)) or None


BACKEND = BuildctlBackend()
