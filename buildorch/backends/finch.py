"""`finch build` argv for a BuildRequest (pure).

Finch hands `finch build ARGS` to `nerdctl image build ARGS` unchanged (runfinch/finch
cmd/finch/nerdctl.go: alias `build` -> `image build`; only `--load` is rewritten, in
docker-compat mode), so the argv is nerdctl's (see buildorch.backends.nerdctl). Its documented
flags (runfinch/finch docs/cmd/finch_build.md) include `--buildkit-host string  BuildKit address
[$BUILDKIT_HOST] (default "unix:///run/buildkit/buildkitd.sock")`, `--secret`, `--ssh`,
`--iidfile`, `--output`, `--network`, `--cache-from/--cache-to`, `--platform`, `--label`.

Differences from nerdctl:
- `--build-context` is missing from Finch's generated docs; it is passed through and works
  only where Finch bundles nerdctl >= v2.0 (runfinch/finch-core#473; Finch shipped nerdctl
  v1.7.7 until then, runfinch/finch#1097).
- Likewise `--attest`, `--pull` and `--add-host` are nerdctl's flags, missing from Finch's
  generated docs; `--add-host` needs the nerdctl v2.0.3 that Finch bundles from 1.7 on
  (runfinch/finch#1223). What nerdctl refuses (shm size, ulimits, no-cache filter, remote
  contexts, see buildorch.backends.nerdctl) Finch refuses too.
- On macOS and Windows nerdctl runs inside Finch's VM: the `--buildkit-host` address is one
  inside the VM, and only a fixed list of environment variables reaches it
  (cmd/finch/nerdctl_remote.go, `passedEnvs`). So `BUILDKIT_HOST` must be given as the flag,
  and an `env=NAME` secret sees NAME only if it is in that list (`env_barrier`). On Linux
  Finch runs nerdctl on the host and both work.
- Push: `finch push --all-platforms TAG` (docs/cmd/finch_push.md); no containerd address.
- No TLS, as nerdctl (docs/cmd/finch_build.md lists `--buildkit-host` and no TLS flag): a
  builder with `tls` is Unsupported.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from buildorch.backends.base import Argv, EnvBarrier, ToolVersion, version_number
from buildorch.backends.nerdctl import NerdctlBackend, nerdctl_argv
from buildorch.backends.request import BuilderTls, BuildRequest

# Environment variables Finch forwards into its VM (runfinch/finch cmd/finch/nerdctl_remote.go,
# `passedEnvs`): an `env=NAME` secret or a gha cache's ACTIONS_* variables see nothing else.
VM_BARRIER = EnvBarrier("Finch's VM", frozenset({
    "COSIGN_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "COMPOSE_FILE", "SOURCE_DATE_EPOCH", "AWS_ECR_DISABLE_CACHE", "AWS_ECR_CACHE_DIR",
    "AWS_ECR_IGNORE_CREDS_STORAGE", "AWS_PROFILE",
}))


def finch_argv(req: BuildRequest, binary: str = "finch") -> list[str]:
    return nerdctl_argv(req, binary=binary)


def finch_push_argv(tag: str, binary: str = "finch") -> list[str]:
    """`--all-platforms` pushes the manifest/index as built (see nerdctl_push_argv)."""
    return [binary, "push", "--all-platforms", tag]


def vm_unshared_paths(paths: Iterable[Path], home: Path) -> list[Path]:
    """Paths Finch's VM on macOS cannot see: it mounts only the user's home folder
    (runfinch/finch finch.yaml.d `mounts: [{location: "~"}]`), so a build context, secret
    file or key elsewhere is missing inside it."""
    home = home.resolve()
    return [path for path in dict.fromkeys(p.resolve() for p in paths)
            if not path.is_relative_to(home)]


def runs_in_vm(system: str) -> bool:
    """Finch runs nerdctl in a VM on macOS and Windows (`platform.system()` names)."""
    return system in ("Darwin", "Windows")


def finch_version(output: str) -> ToolVersion:
    """`finch version` (it takes no --format: runfinch/finch cmd/finch/version.go) prints
    `Client:` / ` Version: vX` / ... / ` nerdctl:` / `  Version: vY`; the nerdctl version
    decides what a build can do."""
    finch = nerdctl = ""
    section = ""
    for line in output.splitlines():
        key, _, value = line.strip().partition(":")
        if not value.strip():
            section = key.strip().lower()
        elif key.strip().lower() == "version":
            finch = finch or (value.strip() if section == "client" else "")
            nerdctl = value.strip() if section == "nerdctl" else nerdctl
        elif key.strip().lower() == "finch version":
            finch = value.strip()
    text = f"finch {finch or '?'}" + (f", nerdctl {nerdctl}" if nerdctl else "")
    return ToolVersion(text, version_number(nerdctl) if nerdctl else None)


class FinchBackend(NerdctlBackend):
    name = "finch"
    binary = "finch"

    def version_argv(self, address: str | None, tls: BuilderTls | None = None) -> Argv:
        return [self.binary, "version"]

    def tool_version(self, output: str) -> ToolVersion:
        return finch_version(output)

    def push_argv(self, tag: str, address: str | None,
                  tls: BuilderTls | None = None) -> Argv:
        return finch_push_argv(tag, binary=self.binary)

    def env_barrier(self, system: str) -> EnvBarrier | None:
        return VM_BARRIER if runs_in_vm(system) else None


BACKEND = FinchBackend()
