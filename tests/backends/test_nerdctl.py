"""argv contract for `nerdctl build`: every field of the request is mapped.

Against containerd/nerdctl pkg/cmd/builder/build.go (`generateBuildctlArgs`: flags turned
into a buildctl invocation; `parseContextNames`: --build-context keys passed on as
written), cmd/nerdctl/builder/builder_build.go, and moby/buildkit#5858 (image exporter
`danging-name-empty-only`, spelled as BuildKit spells it)."""

from __future__ import annotations

import csv
import dataclasses
import shutil

import pytest

from buildorch.backends.base import ToolVersion
from buildorch.backends.catalog import get_backend
from buildorch.backends.nerdctl import nerdctl_argv, nerdctl_push_argv
from buildorch.backends.request import (
    AttrSpec,
    BuilderTls,
    BuildRequest,
    SecretRef,
    Ulimit,
    Unsupported,
)
from tests.backends.sample_requests import FULL as BASE_FULL
from tests.backends.sample_requests import MINIMAL, pairs, tool_help, without_nerdctl_lacks

# Every field nerdctl has a flag for. It takes one --output, so the pushing variant drops
# `outputs`; image exporter attributes go only on the output it pushes.
FULL = dataclasses.replace(
    without_nerdctl_lacks(BASE_FULL),
    named_contexts=(*BASE_FULL.named_contexts, ("lay", "oci-layout:///var/oci")),
    push=False, load=True, builder="unix:///run/buildkit/buildkitd.sock", image_attrs=(),
    outputs=(AttrSpec.parse("type=docker"),),  # loaded: files would replace nerdctl's load
)
FULL_PUSH = dataclasses.replace(FULL, outputs=(), push=True, load=False,
                                image_attrs=BASE_FULL.image_attrs)


def test_every_field_is_mapped() -> None:
    argv = nerdctl_argv(FULL)
    assert argv[:4] == ["nerdctl", "build", "--buildkit-host",
                        "unix:///run/buildkit/buildkitd.sock"]
    assert argv[-1] == "svc/api"
    assert pairs(argv, "--progress") == ["plain"]
    assert pairs(argv, "--file") == ["svc/api/Dockerfile"]
    assert pairs(argv, "--target") == ["runtime"]
    assert pairs(argv, "--build-arg") == ["A=1", "B=x y"]
    assert pairs(argv, "--build-context") == ["base=docker-image://r/base@sha256:abc",
                                              "src=../src",
                                              "lay=oci-layout:///var/oci"]
    assert pairs(argv, "--secret") == ["id=tok,env=TOKEN", "id=netrc,src=/home/u/.netrc"]
    assert pairs(argv, "--ssh") == ["default", "github=/k1,/k2"]
    assert pairs(argv, "--platform") == ["linux/amd64,linux/arm64"]
    assert pairs(argv, "--label") == ["team=core"]
    assert pairs(argv, "--tag") == ["r/api:1", "r/api:latest"]
    # the pipeline's oci output writes a manifest: the annotations go on it
    assert pairs(argv, "--output") == [
        "type=docker,annotation.org.opencontainers.image.title=API"]
    assert pairs(argv, "--cache-from") == ["type=registry,ref=r/cache:api"]
    assert pairs(argv, "--cache-to") == ["type=registry,ref=r/cache:api,mode=max"]
    assert pairs(argv, "--network") == ["host"]
    assert pairs(argv, "--add-host") == ["db.internal:10.0.0.5"]
    assert pairs(argv, "--attest") == ["type=sbom,generator=r/scanner:1",
                                       "type=provenance,mode=max"]
    assert pairs(argv, "--iidfile") == ["meta.json"]
    assert "--no-cache" in argv and "--pull" in argv
    # nerdctl has neither flag: it loads into containerd by itself, pushes through --output.
    assert "--load" not in argv and "--push" not in argv


def test_push_is_one_image_output_carrying_every_tag() -> None:
    argv = nerdctl_argv(FULL_PUSH)
    assert pairs(argv, "--output") == [
        'type=image,"name=r/api:1,r/api:latest",push=true,compression=zstd,oci-mediatypes=true,'
        "annotation.org.opencontainers.image.title=API,danging-name-empty-only=true"]
    # No -t: nerdctl would append name=<first tag> and re-tag the rest in containerd.
    assert "--tag" not in argv
    assert pairs(argv, "--iidfile") == ["meta.json"]


def test_push_by_digest_pushes_repositories_untagged() -> None:
    argv = nerdctl_argv(dataclasses.replace(FULL_PUSH, push=False, push_by_digest=True,
                                            image_attrs=(), annotations=()))
    [output] = pairs(argv, "--output")
    assert next(csv.reader([output])) == [
        "type=image", "name=r/api", "push=true", "push-by-digest=true", "name-canonical=true",
        "danging-name-empty-only=true"]
    assert "--tag" not in argv


def test_minimal_request_has_no_optional_flags() -> None:
    assert nerdctl_argv(MINIMAL) == ["nerdctl", "build", "--progress", "plain",
                                     "--file", "Dockerfile", "."]


def test_binary_and_absent_address() -> None:
    argv = nerdctl_argv(dataclasses.replace(FULL, builder=None), binary="/opt/bin/nerdctl")
    assert argv[:2] == ["/opt/bin/nerdctl", "build"] and "--buildkit-host" not in argv


def test_one_output_only() -> None:
    two = dataclasses.replace(MINIMAL, outputs=(AttrSpec.parse("type=docker"),
                                                AttrSpec.parse("type=docker,name=x")))
    with pytest.raises(ValueError, match="single --output"):
        nerdctl_argv(two)
    with pytest.raises(ValueError, match="single --output"):
        nerdctl_argv(dataclasses.replace(FULL, push=True))  # push + a tarball output


def test_pushing_without_a_tag_is_an_error() -> None:
    with pytest.raises(ValueError, match="needs at least one tag"):
        nerdctl_argv(dataclasses.replace(MINIMAL, push_by_digest=True))


def test_network_values_are_checked() -> None:
    assert pairs(nerdctl_argv(dataclasses.replace(MINIMAL, network="none")),
                 "--network") == ["none"]
    assert "--network" not in nerdctl_argv(dataclasses.replace(MINIMAL, network="default"))
    with pytest.raises(ValueError, match="not supported"):
        nerdctl_argv(dataclasses.replace(MINIMAL, network="bridge"))


def test_secrets_by_reference_only() -> None:
    req = dataclasses.replace(MINIMAL, secrets=(SecretRef("a", env="A_TOKEN"),
                                                SecretRef("b", src="/run/b,1")))
    assert pairs(nerdctl_argv(req), "--secret") == ["id=a,env=A_TOKEN", 'id=b,"src=/run/b,1"']


def test_local_named_context_cannot_shadow_nerdctls_own_names() -> None:
    req = dataclasses.replace(MINIMAL, named_contexts=(("dockerfile", "../df"),))
    with pytest.raises(ValueError, match="clashes"):
        nerdctl_argv(req)
    image = dataclasses.replace(MINIMAL, named_contexts=(("context", "docker-image://r/c"),))
    assert pairs(nerdctl_argv(image), "--build-context") == ["context=docker-image://r/c"]


def test_push_helper_pushes_every_platform_through_containerd() -> None:
    assert nerdctl_push_argv("r/api:1") == ["nerdctl", "push", "--all-platforms", "r/api:1"]
    assert nerdctl_push_argv("r/api:1", "/run/containerd/containerd.sock", "nerdctl2") == [
        "nerdctl2", "--address", "/run/containerd/containerd.sock", "push",
        "--all-platforms", "r/api:1"]


# The flags `nerdctl build` defines (containerd/nerdctl cmd/nerdctl/builder/builder_build.go).
DOCUMENTED_BUILD = {
    "--buildkit-host", "--add-host", "--tag", "--file", "--target", "--build-arg", "--no-cache",
    "--output", "--progress", "--provenance", "--pull", "--secret", "--allow", "--attest",
    "--ssh", "--quiet", "--sbom", "--cache-from", "--cache-to", "--rm", "--network",
    "--platform", "--build-context", "--iidfile", "--label",
}


def flags(argv: list[str]) -> set[str]:
    return {a for a in argv if a.startswith("--")}


def test_every_emitted_flag_is_documented() -> None:
    assert flags(nerdctl_argv(FULL)) | flags(nerdctl_argv(FULL_PUSH)) <= DOCUMENTED_BUILD


def test_tls_is_refused_not_dropped() -> None:
    """`nerdctl build` defines `--buildkit-host` and no TLS flag (DOCUMENTED_BUILD, from
    cmd/nerdctl/builder/builder_build.go at 38d67f09), and runs buildctl with
    `BuildctlBaseArgs(host)`, `--addr=HOST` alone (pkg/buildkitutil/buildkitutil.go at
    47e26a74; pkg/cmd/builder/build.go generateBuildctlArgs at b7630b4a), for its ping
    (`debug workers`) and the build; buildctl takes TLS only as its own global flags
    (moby/buildkit cmd/buildctl/main.go), from no environment variable. So a TLS builder
    cannot be reached through nerdctl: refused, never built without TLS."""
    assert not {"--tlscacert", "--tlscert", "--tlskey", "--tlsservername",
                "--tlsdir"} & DOCUMENTED_BUILD
    tls = BuilderTls("ca.pem", "cert.pem", "key.pem")
    req = dataclasses.replace(MINIMAL, builder="tcp://buildkit.internal:1234", builder_tls=tls)
    with pytest.raises(Unsupported, match="nerdctl build cannot use TLS") as err:
        nerdctl_argv(req)
    assert err.value.field == ("builder",)
    assert "backend buildctl" in str(get_backend("nerdctl").tls_problem(tls))
    # without TLS a tcp:// BuildKit host is just --buildkit-host
    plain = dataclasses.replace(req, builder_tls=None)
    assert nerdctl_argv(plain)[:4] == ["nerdctl", "build", "--buildkit-host",
                                       "tcp://buildkit.internal:1234"]


def test_every_emitted_flag_is_in_nerdctl_help() -> None:
    if shutil.which("nerdctl") is None:
        pytest.skip("nerdctl not installed")
    build_help = tool_help("nerdctl", "build")
    for req in (FULL, FULL_PUSH):
        for flag in flags(nerdctl_argv(req)):
            assert flag in build_help, flag
    assert "--all-platforms" in tool_help("nerdctl", "push")
    assert "--address" in tool_help("nerdctl")


def test_named_contexts_nerdctl_would_misread_are_refused() -> None:
    # nerdctl passes docker-image://, target: and http(s) URLs on and takes anything else
    # as a local folder; an oci-layout is a folder whose index it reads (no digest)
    for source, problem in (("git://github.com/org/repo", "git URL"),
                            ("git@github.com:org/repo.git", "git URL"),
                            ("oci-layout:///var/oci@sha256:def", "without a digest")):
        request = dataclasses.replace(MINIMAL, named_contexts=(("lib", source),))
        with pytest.raises(Unsupported, match=problem) as err:
            nerdctl_argv(request)
        assert err.value.field == ("contexts", "lib")
    fine = (("a", "https://github.com/org/repo.git#main"), ("b", "oci-layout:///var/oci"),
            ("c", "docker-image://r/x@sha256:abc"), ("d", "../lib"))
    assert pairs(nerdctl_argv(dataclasses.replace(MINIMAL, named_contexts=fine)),
                 "--build-context") == [f"{k}={v}" for k, v in fine]
    # pkg/cmd/builder/build.go parseBuildContextFromOCILayout: one store id for every
    # oci-layout context, so a second one would be read from the first one's store
    two = (("a", "oci-layout:///var/one"), ("b", "oci-layout:///var/two"))
    with pytest.raises(Unsupported, match="one oci-layout:// named context") as err:
        nerdctl_argv(dataclasses.replace(MINIMAL, named_contexts=two))
    assert err.value.field == ("contexts", "b")


NERDCTL_VERSION_JSON = (  # `nerdctl version --format '{{json .}}'` (cmd/nerdctl/version.go)
    '{"Client":{"Version":"v1.7.7","GitCommit":"abc","GoVersion":"go1.22","Os":"linux",'
    '"Arch":"amd64","Components":[{"Name":"buildctl","Version":"v0.13.2","Details":'
    '{"GitCommit":"def"}}]},"Server":{"Components":[{"Name":"containerd","Version":"v1.7.20"}]}}')


def test_version_and_what_it_cannot_do() -> None:
    backend = get_backend("nerdctl")
    old = backend.tool_version(NERDCTL_VERSION_JSON)
    assert old == ToolVersion("nerdctl v1.7.7, buildctl v0.13.2", (1, 7, 7))
    with_contexts = dataclasses.replace(MINIMAL, named_contexts=(("b", "docker-image://r/b"),))
    assert "nerdctl 2.0 on; found nerdctl v1.7.7" in str(
        backend.version_problem(with_contexts, old))
    assert backend.version_problem(MINIMAL, old) is None
    new = backend.tool_version(NERDCTL_VERSION_JSON.replace("v1.7.7", "v2.0.3"))
    assert new.number == (2, 0, 3) and backend.version_problem(with_contexts, new) is None
    # pkg/cmd/builder/build.go: --network host asks for both entitlements
    assert any("security.insecure" in note for note in backend.capabilities("").notes)


@pytest.mark.parametrize(("field", "request_", "flag"), [
    ("shm_size", dataclasses.replace(MINIMAL, shm_size=67108864), "--shm-size"),
    ("ulimits", dataclasses.replace(MINIMAL, ulimits=(Ulimit("nofile", 1024, 2048),)),
     "--ulimit"),
    ("no_cache_filter", dataclasses.replace(MINIMAL, no_cache_filter=("deps",)),
     "--no-cache-filter"),
])
def test_fields_nerdctl_has_no_flag_for_are_refused(field: str, request_: BuildRequest,
                                                    flag: str) -> None:
    """cmd/nerdctl/builder/builder_build.go defines none of these flags, and
    pkg/cmd/builder/build.go passes no `shm-size`, `ulimit` or `no-cache` frontend option."""
    with pytest.raises(Unsupported, match=flag) as err:
        nerdctl_argv(request_)
    assert err.value.field == (field,)


def test_attest_pull_and_add_host_flags() -> None:
    """builder_build.go: `--attest` ("format: type=sbom,generator=image"), `--pull`,
    `--add-host` ("format: host:ip"); build.go cuts an attest spec at its first comma into
    `--opt=attest:TYPE=REST`, so a disabled spec is dropped, not passed on: nerdctl would ask
    for the attestation (containerd/nerdctl#4328)."""
    req = dataclasses.replace(
        MINIMAL, attest=tuple(AttrSpec.parse(t) for t in (
            "type=sbom", "type=provenance,disabled=true", "type=provenance,disabled=0,mode=min")),
        pull=True, extra_hosts=(("gw", "host-gateway"), ("db", "10.0.0.5")))
    argv = nerdctl_argv(req)
    assert pairs(argv, "--attest") == ["type=sbom", "type=provenance,mode=min"]
    assert pairs(argv, "--add-host") == ["gw:host-gateway", "db:10.0.0.5"]
    assert "--pull" in argv


def test_image_attributes_and_annotations_need_an_output_buildorch_writes() -> None:
    """pkg/cmd/builder/build.go: with no --output nerdctl picks `type=image,unpack=true` or
    `type=docker`/`type=oci` itself to load into containerd; builder_build.go has no
    `--annotation` flag. A pushed image or the pipeline's own output can carry them."""
    load = dataclasses.replace(MINIMAL, tags=("r/a:1",), load=True)
    with pytest.raises(Unsupported) as err:
        nerdctl_argv(dataclasses.replace(load, image_attrs=(("compression", "zstd"),)))
    assert err.value.field == ("outputs",)
    with pytest.raises(Unsupported) as err:
        nerdctl_argv(dataclasses.replace(load, annotations=(("k", "v"),)))
    assert err.value.field == ("annotations",)
    pushed = dataclasses.replace(load, load=False, push=True, annotations=(("k", "v,w"),),
                                 image_attrs=(("compression", "zstd"),))
    [output] = pairs(nerdctl_argv(pushed), "--output")
    assert next(csv.reader([output])) == [
        "type=image", "name=r/a:1", "push=true", "compression=zstd", "annotation.k=v,w",
        "danging-name-empty-only=true"]
    own = dataclasses.replace(load, annotations=(("k", "v"),),
                              outputs=(AttrSpec.parse("type=docker"),))
    assert pairs(nerdctl_argv(own), "--output") == ["type=docker,annotation.k=v"]


def test_cacheonly_output_is_left_to_nerdctls_load() -> None:
    """BuildKit has no `cacheonly` exporter: that is docker buildx's own (build/opt.go); with
    no --output nerdctl loads the image (build.go), so it is loaded untagged."""
    req = dataclasses.replace(MINIMAL, outputs=(AttrSpec.parse("type=cacheonly"),))
    assert "--output" not in nerdctl_argv(req) and "--tag" not in nerdctl_argv(req)
    both = dataclasses.replace(MINIMAL, outputs=(AttrSpec.parse("type=cacheonly"),
                                                 AttrSpec.parse("type=docker")))
    assert pairs(nerdctl_argv(both), "--output") == ["type=docker"]
    docker = dataclasses.replace(MINIMAL, outputs=(AttrSpec.parse("type=docker"),))
    assert pairs(nerdctl_argv(docker), "--output") == ["type=docker"]  # nerdctl loads it


@pytest.mark.parametrize("context", [
    "https://github.com/org/repo.git#main:svc", "http://host/ctx.tar.gz",
    "git@github.com:org/repo.git", "git://host/org/repo.git", "ssh://git@host/org/repo.git"])
def test_remote_context_is_refused(context: str) -> None:
    """cmd/nerdctl/builder/builder_build.go: `strings.Contains(buildContext, "://")` is an
    "unsupported build context"; `git@host:repo` would be read as a folder."""
    with pytest.raises(Unsupported) as err:
        nerdctl_argv(dataclasses.replace(MINIMAL, context=context))
    assert err.value.field == ("context",)


def test_inline_dockerfile_is_the_file_the_run_writes() -> None:
    req = dataclasses.replace(MINIMAL, dockerfile=".buildorch/run/a.Dockerfile",
                              dockerfile_inline="FROM scratch\n")
    assert pairs(nerdctl_argv(req), "--file") == [".buildorch/run/a.Dockerfile"]


def test_add_host_needs_nerdctl_2_0_3() -> None:
    """containerd/nerdctl#3786 added `build --add-host`, released in v2.0.3
    (runfinch/finch#1223)."""
    backend = get_backend("nerdctl")
    hosts = dataclasses.replace(MINIMAL, extra_hosts=(("db", "10.0.0.5"),))
    older = backend.tool_version(NERDCTL_VERSION_JSON.replace("v1.7.7", "v2.0.2"))
    assert "extra hosts (--add-host), which nerdctl gets from nerdctl 2.0.3 on; found " \
        "nerdctl v2.0.2" in str(backend.version_problem(hosts, older))
    newer = backend.tool_version(NERDCTL_VERSION_JSON.replace("v1.7.7", "v2.0.3"))
    assert backend.version_problem(hosts, newer) is None


@pytest.mark.parametrize(("change", "what"), [
    ({"attest": (AttrSpec.parse("type=sbom"),)}, "attestations (--attest)"),
    ({"pull": True}, "--pull"),
])
def test_attest_and_pull_need_nerdctl_2_0(change: dict[str, object], what: str) -> None:
    """containerd/nerdctl#2786 (--attest) and #3074 (--pull) are in v2.0, not in v1.7.x."""
    backend = get_backend("nerdctl")
    request = dataclasses.replace(MINIMAL, **change)  # type: ignore[arg-type]
    old = backend.tool_version(NERDCTL_VERSION_JSON)  # v1.7.7
    assert f"it needs {what}, which nerdctl gets from nerdctl 2.0 on; found nerdctl v1.7.7" \
        in str(backend.version_problem(request, old))
    new = backend.tool_version(NERDCTL_VERSION_JSON.replace("v1.7.7", "v2.0.0"))
    assert backend.version_problem(request, new) is None
    disabled = dataclasses.replace(MINIMAL, attest=(AttrSpec.parse(
        "type=provenance,disabled=true"),))  # passes no --attest at all
    assert backend.version_problem(disabled, old) is None


@pytest.mark.parametrize("output", ["type=local,dest=out", "type=tar,dest=o.tar",
                                    "type=oci,dest=o.tar", "type=docker,dest=o.tar"])
def test_file_outputs_are_refused(output: str) -> None:
    """With an --output of its own nerdctl neither loads the image nor finds its digest for
    --iidfile (pkg/cmd/builder/build.go, getDigestFromMetaFile)."""
    for tags in ((), ("r/a:1",)):
        req = dataclasses.replace(MINIMAL, tags=tags, outputs=(AttrSpec.parse(output),))
        with pytest.raises(Unsupported, match=f"cannot write type={output[5:].split(',')[0]}"
                           ) as err:
            nerdctl_argv(req)
        assert err.value.field == ("outputs",)


# --- reproducible: rewrite-timestamp on the image kept --------------------------------------

def test_a_pushed_image_rewrites_timestamps_on_its_output() -> None:
    push = dataclasses.replace(MINIMAL, tags=("r/a:1",), push=True, rewrite_timestamp=True)
    [output] = pairs(nerdctl_argv(push), "--output")
    assert next(csv.reader([output])) == [
        "type=image", "name=r/a:1", "push=true", "rewrite-timestamp=true",
        "danging-name-empty-only=true"]


def test_a_loaded_image_gets_an_output_nerdctl_imports_that_rewrites_timestamps() -> None:
    """pkg/cmd/builder/build.go: nerdctl's own `type=image,unpack=true` cannot rewrite
    (BuildKit: "rewrite-timestamp" conflicts with "unpack"); with `--output type=docker` (or
    `oci`) it imports the tarball buildctl writes to stdout (`needsLoading`), named from -t."""
    load = dataclasses.replace(MINIMAL, tags=("r/a:1", "r/a:2"), load=True,
                               rewrite_timestamp=True, annotations=(("k", "v"),))
    argv = nerdctl_argv(load)
    assert pairs(argv, "--output") == ["type=docker,rewrite-timestamp=true,annotation.k=v"]
    assert pairs(argv, "--tag") == ["r/a:1", "r/a:2"]
    # an index (several platforms, or attestations) needs the oci exporter
    multi = dataclasses.replace(load, platforms=("linux/amd64", "linux/arm64"))
    assert pairs(nerdctl_argv(multi), "--output")[0].startswith("type=oci,rewrite-timestamp=true")
    attested = dataclasses.replace(load, attest=(AttrSpec.parse("type=sbom"),))
    assert pairs(nerdctl_argv(attested), "--output")[0].startswith("type=oci,")
    disabled = dataclasses.replace(load, attest=(AttrSpec.parse("type=provenance,disabled=true"),))
    assert pairs(nerdctl_argv(disabled), "--output")[0].startswith("type=docker,")


def test_without_rewriting_nerdctl_picks_its_own_output() -> None:
    load = dataclasses.replace(MINIMAL, tags=("r/a:1",), load=True, reproducible=True)
    assert "--output" not in nerdctl_argv(load)
    # the pipeline's own output stays as planning wrote it
    own = dataclasses.replace(load, rewrite_timestamp=True, outputs=(
        AttrSpec.parse("type=docker,rewrite-timestamp=true"),))
    assert pairs(nerdctl_argv(own), "--output") == ["type=docker,rewrite-timestamp=true"]


def test_run_scoped_names_are_removed_in_one_call() -> None:
    # `rmi [flags] IMAGE [IMAGE, ...]` (containerd/nerdctl cmd/nerdctl/image_remove.go)
    assert get_backend("nerdctl").untag_argv(["buildorch.local/p/a:r", "buildorch.local/p/b:r"],
                                             None) == [
        "nerdctl", "rmi", "buildorch.local/p/a:r", "buildorch.local/p/b:r"]
