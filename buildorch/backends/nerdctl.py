"""`nerdctl build` argv for a BuildRequest (pure).

Flags as documented for nerdctl build (containerd/nerdctl docs/command-reference.md, and
cmd/nerdctl/builder/builder_build.go): `--buildkit-host=<BUILDKIT_HOST>` (a flag of `build`,
not a global flag; without it nerdctl reads `BUILDKIT_HOST`), `-t, --tag`, `-f, --file`,
`--target`, `--build-arg`, `--build-context name=value`, `--secret id=mysecret,src=/local/secret`,
`--ssh default|<id>[=<socket>|<key>[,<key>]]`, `--platform` (one comma-separated value),
`--label`, `--cache-from`/`--cache-to` (attribute strings), `--output` (ONE string flag: a
second one replaces the first), `--network=(default|host|none)`, `--no-cache`,
`--iidfile=FILE`, `--progress=(auto|plain|tty)`.

nerdctl runs `buildctl` underneath and passes `--secret`, `--ssh`, `--output` and the cache
attributes through verbatim (pkg/cmd/builder/build.go), so their grammar is buildctl's: `env=`
secrets work (buildctl >= v0.8, moby/buildkit#1534) and a multi-name output is CSV-quoted.

- push: nerdctl build has no `--push`. A pushing request becomes
  `--output type=image,"name=<tags>",push=true` WITHOUT `-t` (nerdctl would append
  `,name=<first tag>` to the output and tag the rest in containerd afterwards, which fails
  when the image is not in nerdctl's containerd store). `nerdctl_push_argv` pushes a tag that
  is already in containerd's store after a run.
- push_by_digest: possible, through the same output: `push-by-digest=true` with the tags'
  repositories as names (BuildKit refuses a tagged name there).
- load: nerdctl loads into containerd by default when no `--output` is given (no flag).
- --iidfile: nerdctl asks buildctl for `--metadata-file` and writes its
  `containerimage.digest` to the file (pkg/cmd/builder/build.go, getDigestFromMetaFile): the
  root manifest digest (index for several platforms), as plain text, not JSON and not the
  image config digest that Docker's `--iidfile` writes. So `name@<that digest>` is pinnable.
- --build-context: added by containerd/nerdctl#2861 (March 2024, nerdctl v2.0; not in the
  v1.7.x line); `oci-layout://` values are handled by later nerdctl v2 releases.
- --attest type=sbom[,generator=IMAGE] / type=provenance,mode=max: containerd/nerdctl#2786
  (February 2024, in nerdctl v2.0). nerdctl cuts it at the first comma into buildctl's
  `--opt attest:TYPE=REST`, so a `disabled=true` spec would ask FOR the attestation
  (containerd/nerdctl#4328): it is left out, BuildKit attaching none unasked.
- --pull: `--opt image-resolve-mode=pull` (containerd/nerdctl#3074, nerdctl v2.0).
- `--output type=local|tar|oci` (or docker with a dest): Unsupported. With an --output of
  its own nerdctl does not load the image (no tags, nothing for dependents) and `--iidfile`
  fails: there is no `containerimage.digest` to read.
- --add-host host:ip: only from nerdctl v2.0.3 (containerd/nerdctl#3786, December 2024;
  Finch 1.7 bundles it); `version_problem` says so before the run.
- No --shm-size, --ulimit, --no-cache-filter or --annotation flag: those fields are
  Unsupported. Annotations and the pipeline's image exporter attributes ride on an `--output`
  buildorch writes (a push), never on the output nerdctl picks to load into containerd.
- reproducible (`rewrite_timestamp`): a pushed image's output carries `rewrite-timestamp=true`;
  one loaded into containerd gets an `--output type=docker` (or `oci`) of buildorch's with it,
  which nerdctl imports, as its own `type=image,unpack=true` cannot rewrite timestamps.
- The context must be a local folder: nerdctl refuses one with `://` ("unsupported build
  context", cmd/nerdctl/builder/builder_build.go); a remote context is Unsupported.
- No TLS: `nerdctl build` has `--buildkit-host` and no TLS flag (builder_build.go), and runs
  `buildctl --addr=HOST build ...` and `buildctl --addr=HOST debug workers` (its ping) with
  no TLS flag either (pkg/buildkitutil/buildkitutil.go BuildctlBaseArgs, pkg/cmd/builder/
  build.go generateBuildctlArgs); buildctl takes TLS only as global flags, from no
  environment variable (moby/buildkit cmd/buildctl/main.go). A builder with `tls` is
  Unsupported rather than reached without it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from buildorch.backends.base import Argv, Backend, ToolVersion, version_number
from buildorch.backends.capabilities import Capabilities
from buildorch.backends.flags import (
    CACHE_ONLY,
    OCI_LAYOUT,
    annotated,
    archive_type,
    enabled_attests,
    flag_pairs,
    image_output_spec,
    is_local_context,
    is_remote_context,
    network_mode,
    pushes,
    secret_spec,
    spec_text,
    spec_texts,
    ssh_spec,
    timestamp_attrs,
)
from buildorch.backends.request import AttrSpec, BuilderTls, BuildRequest, Unsupported
from buildorch.errors import shorten


def _image_flags(req: BuildRequest) -> list[str]:
    """Tags and the one `--output` nerdctl takes.

    `type=cacheonly` is docker buildx's own (build/opt.go): BuildKit has no such exporter,
    and nerdctl without --output loads the image (pkg/cmd/builder/build.go). So a build-only
    image is left out of the outputs and loaded untagged: more than asked, never less, and
    the same pipeline builds on every backend."""
    req = dataclasses.replace(req, outputs=tuple(s for s in req.outputs if s.type != CACHE_ONLY))
    files = [s.type for s in req.outputs
             if s.type in FILE_EXPORTS or (s.type == "docker" and s.get("dest"))]
    if files:
        raise Unsupported(("outputs",), f"nerdctl build cannot write type={files[0]}: with an "
                          "--output of its own it neither loads the image into containerd (for "
                          "tags and dependents) nor finds its digest (pkg/cmd/builder/build.go, "
                          "getDigestFromMetaFile)")
    if len(req.outputs) > 1:
        raise Unsupported(("outputs",), f"nerdctl build takes a single --output "
                                        f"({len(req.outputs)} requested)")
    if pushes(req):
        return _push_output(req)
    if req.rewrite_timestamp and not req.outputs:
        req = dataclasses.replace(req, outputs=(_loading_output(req),))
    _check_own_output(req)
    outputs = [annotated(spec, req.annotations) for spec in req.outputs]
    return flag_pairs("--tag", req.tags) + flag_pairs("--output", spec_texts(outputs))


def _loading_output(req: BuildRequest) -> AttrSpec:
    """The output nerdctl loads into containerd, written by buildorch to rewrite timestamps:
    nerdctl's own `type=image,unpack=true` cannot (BuildKit: "rewrite-timestamp" conflicts
    with "unpack"), and a `type=docker` (several platforms or attestations: `type=oci`)
    tarball on stdout is what nerdctl imports otherwise (pkg/cmd/builder/build.go,
    `needsLoading`); it appends the first tag as `name`. The docker backend loads the same
    tarball itself (`load_archive_argv`): nerdctl pipes it to its own load."""
    return AttrSpec(archive_type(req), timestamp_attrs(req))


def _push_output(req: BuildRequest) -> list[str]:
    if req.outputs:
        raise Unsupported(("outputs",), "nerdctl build cannot push and write "
                          f"{spec_text(req.outputs[0])!r}: it takes a single --output")
    # With no -t, nerdctl appends `dangling-name-prefix=<none>` to the output, and
    # BuildKit >= 0.21 then also names (and pushes) `<none>@sha256:...` unless
    # `danging-name-empty-only` (sic: exptypes.OptKeyDanglingEmptyOnly, moby/buildkit#5858;
    # moby sets it through that constant; older BuildKit keeps an unknown
    # attribute as metadata).
    spec = image_output_spec(req)
    spec = AttrSpec(spec.type, (*spec.attrs, ("danging-name-empty-only", "true")))
    return ["--output", spec_text(spec)]


def _check_own_output(req: BuildRequest) -> None:
    """Loading into containerd, nerdctl writes the image output itself (`type=image,unpack=true`,
    or `type=docker`/`type=oci` it then imports: pkg/cmd/builder/build.go) and has no flag for
    its attributes, nor an `--annotation` flag (cmd/nerdctl/builder/builder_build.go)."""
    if req.image_attrs:
        raise Unsupported(("outputs",), "nerdctl build takes image output attributes "
                          f"({', '.join(k for k, _ in req.image_attrs)}) only where buildorch "
                          "writes its --output, to push: loading into containerd nerdctl picks "
                          "the output itself")
    if req.annotations and not req.outputs:
        raise Unsupported(("annotations",), "nerdctl build has no --annotation flag and picks "
                          "its own output to load into containerd; annotations can only ride "
                          "on an --output buildorch writes (a push, or the pipeline's own)")


def _run_flags(req: BuildRequest) -> list[str]:
    """`--add-host host:ip` (nerdctl >= 2.0.3), `--pull`, `--attest type=...` (nerdctl turns
    `type=T,REST` into buildctl's `--opt attest:T=REST`: pkg/cmd/builder/build.go); no flag for
    the rest (cmd/nerdctl/builder/builder_build.go)."""
    lacking = _lacking(req)
    if lacking:
        field, flag = lacking[0]
        raise Unsupported((field,), f"nerdctl build has no {flag} flag "
                          "(cmd/nerdctl/builder/builder_build.go)")
    flags = flag_pairs("--add-host", [f"{host}:{ip}" for host, ip in req.extra_hosts])
    flags += ["--pull"] if req.pull else []
    # A disabled spec is left out: nerdctl would pass `attest:provenance=disabled=true`, which
    # asks BuildKit FOR provenance (containerd/nerdctl#4328); BuildKit adds none by default.
    return flags + flag_pairs("--attest", spec_texts(enabled_attests(req.attest)))


def _lacking(req: BuildRequest) -> list[tuple[str, str]]:
    """The request's fields nerdctl build has no flag for, with the flag buildx has."""
    lacking = [("shm_size", "--shm-size")] if req.shm_size is not None else []
    lacking += [("ulimits", "--ulimit")] if req.ulimits else []
    return lacking + ([("no_cache_filter", "--no-cache-filter")] if req.no_cache_filter else [])


def _check_context(context: str) -> None:
    """cmd/nerdctl/builder/builder_build.go refuses a context with `://` ("unsupported build
    context") and would take `git@host:repo` for a folder."""
    if "://" in context or is_remote_context(context):
        raise Unsupported(("context",), "nerdctl build takes a local folder as its context, "
                          f"not {shorten(context)!r}: use the docker or buildctl backend")


def _context_flags(req: BuildRequest) -> list[str]:
    """`--build-context NAME=VALUE`, as nerdctl hands it to buildctl (see the module)."""
    for name, source in req.named_contexts:
        problem = _context_problem(name, source)
        if problem:
            raise Unsupported(("contexts", name), problem)
    layouts = [name for name, source in req.named_contexts if source.startswith(OCI_LAYOUT)]
    if len(layouts) > 1:
        # nerdctl gives every oci-layout context the one store id `parent-image-key`
        # (pkg/cmd/builder/build.go parseBuildContextFromOCILayout): the last one wins
        raise Unsupported(("contexts", layouts[1]), "nerdctl takes one oci-layout:// named "
                          f"context per build ({len(layouts)} given: it names every layout "
                          "store the same)")
    return flag_pairs("--build-context", [f"{k}={v}" for k, v in req.named_contexts])


def _context_problem(name: str, source: str) -> str | None:
    """What nerdctl would get wrong: it passes `docker-image://`, `target:` and http(s)
    URLs to BuildKit and takes anything else as a local folder, named NAME
    (`--local=NAME=DIR`), so a `git://` URL becomes a path and a folder called `context`
    or `dockerfile` replaces its own; `oci-layout://` is a folder whose index nerdctl
    reads itself (containerd/nerdctl#3327), so it takes no `@digest`."""
    if name in ("context", "dockerfile") and is_local_context(source):
        return (f"nerdctl cannot take a local named context called {name!r} (it clashes "
                f"with its own --local {name}=...)")
    if source.startswith(("git://", "git@", "ssh://")):
        return "nerdctl takes a git URL here for a local folder; use an https:// git URL"
    if source.startswith(OCI_LAYOUT) and "@" in source:
        return ("nerdctl takes an oci-layout://DIR folder without a digest (it picks the "
                "image from the layout's index)")
    return None


def _network_flags(network: str | None) -> list[str]:
    mode = network_mode(network)  # validates default|host|none; nerdctl ignores the rest
    return ["--network", mode] if mode else []


def tls_problem(binary: str) -> str:
    return (f"{binary} build cannot use TLS: it runs `buildctl --addr=HOST` without TLS "
            "flags (containerd/nerdctl pkg/buildkitutil/buildkitutil.go), and buildctl reads "
            "them from no environment variable; use backend buildctl (or docker)")


def nerdctl_argv(req: BuildRequest, binary: str = "nerdctl") -> list[str]:
    if req.builder_tls is not None:
        raise Unsupported(("builder",), tls_problem(binary))
    _check_context(req.context)
    argv = [binary, "build", *(["--buildkit-host", req.builder] if req.builder else [])]
    argv += ["--progress", "plain", "--file", req.dockerfile]
    if req.target:
        argv += ["--target", req.target]
    argv += flag_pairs("--build-arg", [f"{k}={v}" for k, v in req.args])
    argv += _context_flags(req)
    argv += flag_pairs("--secret", [secret_spec(s) for s in req.secrets])
    argv += flag_pairs("--ssh", [ssh_spec(s) for s in req.ssh])
    if req.platforms:
        argv += ["--platform", ",".join(req.platforms)]
    argv += flag_pairs("--label", [f"{k}={v}" for k, v in req.labels])
    argv += _image_flags(req)
    argv += flag_pairs("--cache-from", spec_texts(req.cache_from))
    argv += flag_pairs("--cache-to", spec_texts(req.cache_to))
    argv += _network_flags(req.network)
    argv += _run_flags(req)
    if req.no_cache:
        argv.append("--no-cache")
    if req.metadata_file:
        argv += ["--iidfile", req.metadata_file]
    argv.append(req.context)
    return argv


def nerdctl_push_argv(
    tag: str, containerd_address: str | None = None, binary: str = "nerdctl"
) -> list[str]:
    """`nerdctl [--address ADDR] push --all-platforms TAG` for a tag in containerd's store.

    `nerdctl push` talks to containerd (global `--address`), not to BuildKit, so a BuildKit
    host is no use here. `--all-platforms` is needed to push the exact manifest/index that was
    built: without it nerdctl converts to a reduced single-platform image first and pushes
    that, a different digest (pkg/cmd/image/push.go, `-tmp-reduced-platform`).
    """
    address = ["--address", containerd_address] if containerd_address else []
    return [binary, *address, "push", "--all-platforms", tag]


NAMED_CONTEXTS_SINCE = (2, 0, 0)  # --build-context: containerd/nerdctl#2861, nerdctl v2.0
# --add-host: containerd/nerdctl#3786, "targeted for v2.0.3" (runfinch/finch#1223: Finch 1.7)
EXTRA_HOSTS_SINCE = (2, 0, 3)
ATTEST_SINCE = (2, 0, 0)  # --attest: containerd/nerdctl#2786 (February 2024), not in v1.7.x
PULL_SINCE = (2, 0, 0)  # --pull: containerd/nerdctl#3074 (June 2024), not in v1.7.x
# Outputs that replace nerdctl's own: it loads with none, or with a type=docker (or oci)
# whose tarball it pipes into containerd itself, so not with a dest= of the user's.
FILE_EXPORTS = ("local", "tar", "oci")


def nerdctl_version(output: str) -> ToolVersion:
    """`nerdctl version --format '{{json .}}'`: {"Client": {"Version": "v2.0.3", ...,
    "Components": [{"Name": "buildctl", "Version": "v0.18.1"}]}, "Server": ...}."""
    try:
        client = json.loads(output).get("Client") or {}
    except (ValueError, AttributeError):
        return ToolVersion(output.strip().splitlines()[0] if output.strip() else "")
    version = str(client.get("Version", ""))
    parts = [f"nerdctl {version}"] + [
        f"{c.get('Name')} {c.get('Version')}" for c in client.get("Components") or []
        if isinstance(c, dict)]
    return ToolVersion(", ".join(parts), version_number(version))


def _needs(request: BuildRequest) -> list[tuple[tuple[int, int, int], str]]:
    """The nerdctl versions that first have what `request` uses, with what it is."""
    needs = [(NAMED_CONTEXTS_SINCE, "named build contexts (--build-context)")]
    needs = needs if request.named_contexts else []
    if enabled_attests(request.attest):
        needs.append((ATTEST_SINCE, "attestations (--attest)"))
    if request.pull:
        needs.append((PULL_SINCE, "--pull"))
    if request.extra_hosts:
        needs.append((EXTRA_HOSTS_SINCE, "extra hosts (--add-host)"))
    return needs


def _version_text(number: tuple[int, int, int]) -> str:
    return ".".join(str(n) for n in (number if number[2] else number[:2]))


def nerdctl_version_problem(request: BuildRequest, version: ToolVersion, tool: str) -> str | None:
    if version.number is None:
        return None
    for since, what in _needs(request):
        if version.number < since:
            return (f"it needs {what}, which {tool} gets from nerdctl {_version_text(since)} "
                    f"on; found {version.text}")
    return None


class NerdctlBackend(Backend):
    name = "nerdctl"
    binary = "nerdctl"
    local_store = True
    # nerdctl adds none, and --attest needs nerdctl 2.0: a pipeline that does not ask keeps
    # building with nerdctl 1.7 (Finch bundles it)
    provenance_default = "none"
    chaining = ("local image store, under a name only this run creates "
                "(buildorch.local/PIPELINE/IMAGE:RUN_ID); needs BuildKit's containerd worker, "
                "which shares nerdctl's image store")

    def build_argv(self, request: BuildRequest) -> Argv:
        return nerdctl_argv(request, binary=self.binary)

    def version_argv(self, address: str | None, tls: BuilderTls | None = None) -> Argv:
        return [self.binary, "version", "--format", "{{json .}}"]

    def probe_argv(self, address: str | None, tls: BuilderTls | None = None) -> Argv:
        # nerdctl runs buildctl for builds; `info` shows that containerd answers.
        return [self.binary, "info"]

    def tls_problem(self, tls: BuilderTls) -> str | None:
        return tls_problem(self.binary)

    def push_argv(self, tag: str, address: str | None,
                  tls: BuilderTls | None = None) -> Argv:
        # `push` talks to containerd, not to BuildKit: the builder address does not apply.
        return nerdctl_push_argv(tag, None, binary=self.binary)

    def untag_argv(self, refs: Sequence[str], address: str | None,
                   tls: BuilderTls | None = None) -> Argv:
        """`nerdctl rmi IMAGE [IMAGE, ...]` (cmd/nerdctl/image/image_remove.go)."""
        return [self.binary, "rmi", *refs]

    def stored_argv(self, refs: Sequence[str], address: str | None,
                    tls: BuilderTls | None = None) -> Argv:
        """`nerdctl image inspect` prints docker-compatible objects (`Id`, `RepoTags`:
        pkg/inspecttypes/dockercompat/dockercompat.go) for the references it finds
        (cmd/nerdctl/image/image_inspect.go); the store is containerd's, not BuildKit's."""
        return [self.binary, "image", "inspect", "--mode", "dockercompat", "--format",
                "{{json .}}", *refs]

    def tag_argv(self, source: str, tag: str, address: str | None,
                 tls: BuilderTls | None = None) -> Argv:
        return [self.binary, "tag", source, tag]

    def tool_version(self, output: str) -> ToolVersion:
        return nerdctl_version(output)

    def version_problem(self, request: BuildRequest, version: ToolVersion) -> str | None:
        return nerdctl_version_problem(request, version, self.binary)

    def capabilities(self, probe_output: str) -> Capabilities:
        caps = self.assumed_capabilities()
        return dataclasses.replace(caps, notes=(*caps.notes, NETWORK_HOST_NOTE))


# pkg/cmd/builder/build.go: `--network host` adds `--allow=network.host
# --allow=security.insecure` to the buildctl call.
NETWORK_HOST_NOTE = ("network: host asks BuildKit for the network.host and security.insecure "
                     "entitlements: buildkitd must allow both (--allow-insecure-entitlement "
                     "network.host --allow-insecure-entitlement security.insecure)")


BACKEND = NerdctlBackend()
