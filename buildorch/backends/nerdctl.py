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
"""

from __future__ import annotations

from buildorch.backends.base import Argv, Backend
from buildorch.backends.flags import (
    flag_pairs,
    image_output,
    is_local_context,
    network_mode,
    pushes,
    secret_spec,
    spec_text,
    spec_texts,
    ssh_spec,
)
from buildorch.backends.request import BuildRequest


def _image_flags(req: BuildRequest) -> list[str]:
    """Tags and the one `--output` nerdctl takes."""
    if len(req.outputs) > 1:
        raise ValueError(f"{req.name}: nerdctl build takes a single --output "
                         f"({len(req.outputs)} requested)")
    if pushes(req):
        if req.outputs:
            raise ValueError(f"{req.name}: nerdctl build cannot push and write "
                             f"{spec_text(req.outputs[0])!r}: it takes a single --output")
        return ["--output", image_output(req)]
    return flag_pairs("--tag", req.tags) + flag_pairs("--output", spec_texts(req.outputs))


def _context_flags(req: BuildRequest) -> list[str]:
    """`--build-context NAME=VALUE`. nerdctl gives a local directory the session name NAME
    (`--local=NAME=DIR`), so `context` and `dockerfile` would replace its own two."""
    for name, source in req.named_contexts:
        if name in ("context", "dockerfile") and is_local_context(source):
            raise ValueError(f"{req.name}: nerdctl cannot take a local named context called "
                             f"{name!r} (it clashes with its own --local {name}=...)")
    return flag_pairs("--build-context", [f"{k}={v}" for k, v in req.named_contexts])


def _network_flags(network: str | None) -> list[str]:
    mode = network_mode(network)  # validates default|host|none; nerdctl ignores the rest
    return ["--network", mode] if mode else []


def nerdctl_argv(req: BuildRequest, binary: str = "nerdctl") -> list[str]:
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


class NerdctlBackend(Backend):
    name = "nerdctl"
    binary = "nerdctl"
    local_store = True
    chaining = ("local image store, under a name only this run creates "
                "(buildorch.local/PIPELINE/IMAGE:RUN_ID); needs BuildKit's containerd worker, "
                "which shares nerdctl's image store")

    def build_argv(self, request: BuildRequest) -> Argv:
        return nerdctl_argv(request, binary=self.binary)

    def version_argv(self, address: str | None) -> Argv:
        return [self.binary, "version", "--format", "{{json .}}"]

    def probe_argv(self, address: str | None) -> Argv:
        # nerdctl runs buildctl for builds; `info` shows that containerd answers.
        return [self.binary, "info"]

    def push_argv(self, tag: str, address: str | None) -> Argv:
        # `push` talks to containerd, not to BuildKit: the builder address does not apply.
        return nerdctl_push_argv(tag, None, binary=self.binary)

    def untag_argv(self, ref: str, address: str | None) -> Argv:
        return [self.binary, "rmi", ref]


BACKEND = NerdctlBackend()
