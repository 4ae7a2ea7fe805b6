"""argv contract for `finch build`: nerdctl's flags, run through `finch`."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest

from buildorch.backends.base import ToolVersion
from buildorch.backends.catalog import get_backend
from buildorch.backends.finch import (
    FinchBackend,
    finch_argv,
    finch_push_argv,
    vm_unshared_paths,
)
from buildorch.backends.request import (
    AttrSpec,
    BuilderTls,
    BuildRequest,
    SecretRef,
    SshRef,
    Ulimit,
    Unsupported,
)
from tests.backends.sample_requests import FULL as BASE_FULL
from tests.backends.sample_requests import MINIMAL, pairs, without_nerdctl_lacks

FULL = dataclasses.replace(
    without_nerdctl_lacks(BASE_FULL),
    args=(("A", "1"),),
    secrets=(SecretRef("tok", env="TOKEN"), SecretRef("aws", env="AWS_ACCESS_KEY_ID"),
             SecretRef("netrc", src="/home/u/.netrc")),
    ssh=(SshRef("default"), SshRef("github", ("/k1",))),
    platforms=("linux/arm64",),
    outputs=(AttrSpec.parse("type=docker"),),
    push=False, load=True, network="none", builder="unix:///run/buildkit/buildkitd.sock",
    image_attrs=(),
)
FULL_PUSH = dataclasses.replace(FULL, outputs=(), push=True, push_by_digest=True, load=False,
                                image_attrs=(("compression", "zstd"),))


def test_every_field_is_mapped() -> None:
    argv = finch_argv(FULL)
    assert argv[:4] == ["finch", "build", "--buildkit-host",
                        "unix:///run/buildkit/buildkitd.sock"]
    assert argv[-1] == "svc/api"
    assert pairs(argv, "--progress") == ["plain"]
    assert pairs(argv, "--file") == ["svc/api/Dockerfile"]
    assert pairs(argv, "--target") == ["runtime"]
    assert pairs(argv, "--build-arg") == ["A=1"]
    assert pairs(argv, "--build-context") == ["base=docker-image://r/base@sha256:abc",
                                              "src=../src"]
    assert pairs(argv, "--secret") == ["id=tok,env=TOKEN", "id=aws,env=AWS_ACCESS_KEY_ID",
                                       "id=netrc,src=/home/u/.netrc"]
    assert pairs(argv, "--ssh") == ["default", "github=/k1"]
    assert pairs(argv, "--platform") == ["linux/arm64"]
    assert pairs(argv, "--label") == ["team=core"]
    assert pairs(argv, "--tag") == ["r/api:1", "r/api:latest"]
    assert pairs(argv, "--output") == ["type=docker,annotation.org.opencontainers.image.title=API"]
    assert pairs(argv, "--cache-from") == ["type=registry,ref=r/cache:api"]
    assert pairs(argv, "--cache-to") == ["type=registry,ref=r/cache:api,mode=max"]
    assert pairs(argv, "--network") == ["none"]
    assert pairs(argv, "--add-host") == ["db.internal:10.0.0.5"]
    assert pairs(argv, "--attest") == ["type=sbom,generator=r/scanner:1",
                                       "type=provenance,mode=max"]
    assert pairs(argv, "--iidfile") == ["meta.json"]
    assert "--no-cache" in argv and "--pull" in argv
    assert "--load" not in argv and "--push" not in argv


def test_push_by_digest_output() -> None:
    argv = finch_argv(FULL_PUSH)
    assert pairs(argv, "--output") == [
        "type=image,name=r/api,push=true,push-by-digest=true,name-canonical=true,"
        "compression=zstd,annotation.org.opencontainers.image.title=API,"
        "danging-name-empty-only=true"]
    assert "--tag" not in argv


def test_minimal_request() -> None:
    assert finch_argv(BuildRequest(name="a", context=".", dockerfile="Dockerfile")) == [
        "finch", "build", "--progress", "plain", "--file", "Dockerfile", "."]


def test_env_secrets_the_vm_would_not_see() -> None:
    # cmd/finch/nerdctl_remote.go `passedEnvs`: only these reach nerdctl in the VM
    barrier = FinchBackend().env_barrier("Darwin")
    assert barrier is not None and barrier.where == "Finch's VM"
    assert barrier.unseen_env_secrets(FULL) == ["tok"]
    assert barrier.reaching({"AWS_PROFILE": "p", "ACTIONS_RUNTIME_TOKEN": "t"}) == {
        "AWS_PROFILE": "p"}
    assert FinchBackend().env_barrier("Windows") == barrier
    assert FinchBackend().env_barrier("Linux") is None  # nerdctl runs on the host there


def test_push_helper() -> None:
    assert finch_push_argv("r/api:1") == ["finch", "push", "--all-platforms", "r/api:1"]


# runfinch/finch docs/cmd/finch_build.md; --build-context is passed through to nerdctl (>= v2.0)
# without being in Finch's generated docs.
DOCUMENTED_BUILD = {
    "--build-arg", "--buildkit-host", "--cache-from", "--cache-to", "--file", "--help",
    "--iidfile", "--label", "--network", "--no-cache", "--output", "--platform", "--progress",
    "--quiet", "--rm", "--secret", "--ssh", "--tag", "--target",
}


def flags(argv: list[str]) -> set[str]:
    return {a for a in argv if a.startswith("--")}


# Passed through to nerdctl, which defines them (containerd/nerdctl
# cmd/nerdctl/builder/builder_build.go), without being in Finch's generated docs.
NERDCTL_ONLY = {"--build-context", "--attest", "--pull", "--add-host"}


def test_every_emitted_flag_is_documented_or_nerdctls() -> None:
    emitted = flags(finch_argv(FULL)) | flags(finch_argv(FULL_PUSH))
    assert emitted - DOCUMENTED_BUILD == NERDCTL_ONLY


def test_tls_is_refused_as_nerdctl_does() -> None:
    """runfinch/finch docs/cmd/finch_build.md (at f965e9e8) lists `--buildkit-host` and no TLS
    flag, and Finch hands `build` to nerdctl (see test_nerdctl: nerdctl runs buildctl with
    `--addr` alone)."""
    assert not {"--tlscacert", "--tlscert", "--tlskey", "--tlsservername"} & (
        DOCUMENTED_BUILD | NERDCTL_ONLY)
    tls = BuilderTls("ca.pem", "cert.pem", "key.pem", "buildkit")
    req = dataclasses.replace(MINIMAL, builder="tcp://h:1234", builder_tls=tls)
    with pytest.raises(Unsupported, match="finch build cannot use TLS") as err:
        finch_argv(req)
    assert err.value.field == ("builder",)
    assert "finch build cannot use TLS" in str(FinchBackend().tls_problem(tls))


def test_every_emitted_flag_is_in_finch_help() -> None:
    if shutil.which("finch") is None:
        pytest.skip("finch not installed")
    done = subprocess.run(["finch", "build", "--help"], capture_output=True, text=True,
                          timeout=120, check=False)
    build_help = done.stdout + done.stderr
    # nerdctl's flags are left out: Finch passes them on, but its own help lists them only
    # where it bundles a nerdctl that has them.
    for req in (FULL, FULL_PUSH):
        for flag in flags(finch_argv(req)) - NERDCTL_ONLY:
            assert flag in build_help, flag
    push = subprocess.run(["finch", "push", "--help"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert "--all-platforms" in push.stdout + push.stderr


# `finch version` as runfinch/finch cmd/finch/version.go prints it (no --format flag)
FINCH_VERSION = """\
Client:
 Version:\tv1.4.1
 OS/Arch:\tlinux/arm64
 GitCommit:\t1234567
 nerdctl:
  Version:\tv1.7.7
  GitCommit:\tabc
 buildctl:
  Version:\tv0.13.2
  GitCommit:\tdef

Server:
 containerd:
  Version:\tv1.7.20
  GitCommit:\t8fc6bcf
"""


def test_version_is_finchs_and_the_nerdctl_it_bundles() -> None:
    backend = get_backend("finch")
    assert backend.version_argv(None) == ["finch", "version"]
    version = backend.tool_version(FINCH_VERSION)
    assert version == ToolVersion("finch v1.4.1, nerdctl v1.7.7", (1, 7, 7))
    needs = dataclasses.replace(FULL, named_contexts=(("b", "docker-image://r/b"),))
    assert "which finch gets from nerdctl 2.0 on" in str(backend.version_problem(needs, version))
    # --add-host: nerdctl v2.0.3, which Finch bundles from 1.7 on (runfinch/finch#1223)
    hosts = dataclasses.replace(MINIMAL, extra_hosts=(("db", "10.0.0.5"),))
    assert "extra hosts (--add-host), which finch gets from nerdctl 2.0.3 on" in str(
        backend.version_problem(hosts, version))
    # with the VM stopped finch prints its own version only
    assert backend.tool_version("Finch version:\tv1.4.1\n") == ToolVersion("finch v1.4.1")


def test_paths_outside_home_are_what_the_macos_vm_cannot_see(tmp_path: Path) -> None:
    home = tmp_path / "home" / "me"
    (home / "repo").mkdir(parents=True)
    inside, outside = home / "repo", tmp_path / "srv" / "secret.txt"
    assert vm_unshared_paths([inside, outside, outside, home], home) == [outside.resolve()]


@pytest.mark.parametrize(("field", "request_"), [
    ("shm_size", dataclasses.replace(MINIMAL, shm_size=1 << 26)),
    ("ulimits", dataclasses.replace(MINIMAL, ulimits=(Ulimit("nofile", 1, 2),))),
    ("no_cache_filter", dataclasses.replace(MINIMAL, no_cache_filter=("deps",))),
    ("context", dataclasses.replace(MINIMAL, context="https://github.com/org/repo.git")),
])
def test_what_nerdctl_refuses_finch_refuses(field: str, request_: BuildRequest) -> None:
    """finch build is nerdctl build (runfinch/finch cmd/finch/nerdctl.go), so the fields
    nerdctl has no flag for, and remote contexts, are Unsupported here too."""
    with pytest.raises(Unsupported) as err:
        finch_argv(request_)
    assert err.value.field == (field,)


def test_reproducible_images_rewrite_timestamps_as_with_nerdctl() -> None:
    load = dataclasses.replace(MINIMAL, tags=("r/a:1",), load=True, rewrite_timestamp=True)
    assert pairs(finch_argv(load), "--output") == ["type=docker,rewrite-timestamp=true"]
    push = dataclasses.replace(load, load=False, push=True)
    assert "rewrite-timestamp=true" in pairs(finch_argv(push), "--output")[0]
    assert "--output" not in finch_argv(dataclasses.replace(load, rewrite_timestamp=False))
