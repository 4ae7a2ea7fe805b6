"""argv contract for `buildctl build`: every field of the request is mapped."""

from __future__ import annotations

import csv
import dataclasses
import shutil

import pytest

from buildorch.backends.base import ToolVersion
from buildorch.backends.buildctl import buildctl_argv
from buildorch.backends.catalog import get_backend
from buildorch.backends.request import (
    AttrSpec,
    BuilderTls,
    SecretRef,
    SshRef,
    Ulimit,
    Unsupported,
)
from tests.backends.sample_requests import FULL as BASE_FULL
from tests.backends.sample_requests import MINIMAL, pairs, tool_help

FULL = dataclasses.replace(BASE_FULL, dockerfile="svc/api/docker/Dockerfile.prod", load=True,
                           builder="tcp://buildkitd:1234")


# The image output alone, without the pipeline's attributes or annotations.
PLAIN_IMAGE = dataclasses.replace(FULL, outputs=(), image_attrs=(), annotations=())


def csv_fields(value: str) -> list[str]:
    """Split as BuildKit's CSV reader does (Python's csv agrees with Go's for these)."""
    return next(csv.reader([value]))


def test_every_field_is_mapped() -> None:
    argv = buildctl_argv(FULL)
    assert argv[:4] == ["buildctl", "--addr", "tcp://buildkitd:1234", "build"]
    assert pairs(argv, "--progress") == ["plain"]
    assert pairs(argv, "--frontend") == ["dockerfile.v0"]
    assert pairs(argv, "--local") == ["context=svc/api", "dockerfile=svc/api/docker",
                                      "src=../src"]
    assert pairs(argv, "--opt") == [
        "filename=Dockerfile.prod",
        "target=runtime",
        "build-arg:A=1",
        "build-arg:B=x y",
        "platform=linux/amd64,linux/arm64",
        "label:team=core",
        "force-network-mode=host",
        "add-hosts=db.internal=10.0.0.5",
        "shm-size=134217728",
        "ulimit=nofile=1024:2048",
        # no `no-cache=deps`: --no-cache already leaves out the cache of every stage
        "image-resolve-mode=pull",
        "attest:sbom=generator=r/scanner:1",
        "attest:provenance=mode=max",
        "context:base=docker-image://r/base@sha256:abc",
        "context:src=local:src",
    ]
    assert pairs(argv, "--secret") == ["id=tok,env=TOKEN", "id=netrc,src=/home/u/.netrc"]
    assert pairs(argv, "--ssh") == ["default", "github=/k1,/k2"]
    assert pairs(argv, "--allow") == ["network.host"]
    assert pairs(argv, "--import-cache") == ["type=registry,ref=r/cache:api"]
    assert pairs(argv, "--export-cache") == ["type=registry,ref=r/cache:api,mode=max"]
    assert pairs(argv, "--output") == [
        'type=image,"name=r/api:1,r/api:latest",push=true,compression=zstd,oci-mediatypes=true,'
        "annotation.org.opencontainers.image.title=API",
        "type=oci,dest=out.tar,annotation.org.opencontainers.image.title=API"]
    assert pairs(argv, "--metadata-file") == ["meta.json"]
    assert "--no-cache" in argv
    assert "--load" not in argv and "--oci-layout" not in argv  # load: no buildctl meaning


def test_minimal_request_has_no_optional_flags() -> None:
    assert buildctl_argv(MINIMAL) == [
        "buildctl", "build", "--progress", "plain", "--frontend", "dockerfile.v0",
        "--local", "context=.", "--local", "dockerfile=.", "--opt", "filename=Dockerfile",
        "--output", "type=image,push=false",
    ]


def test_no_address_leaves_buildkit_host_to_the_environment() -> None:
    argv = buildctl_argv(dataclasses.replace(FULL, builder=None))
    assert argv[:2] == ["buildctl", "build"] and "--addr" not in argv


def test_unix_socket_address_is_a_global_flag() -> None:
    argv = buildctl_argv(dataclasses.replace(MINIMAL, builder="unix:///run/bk.sock"))
    assert argv[:4] == ["buildctl", "--addr", "unix:///run/bk.sock", "build"]


TLS = BuilderTls("certs/ca.pem", "certs/cert.pem", "certs/key.pem", "buildkit")


def test_tls_is_global_flags_before_the_subcommand() -> None:
    """moby/buildkit cmd/buildctl/main.go (at c6769594) defines `--tlsservername`,
    `--tlscacert`, `--tlscert`, `--tlskey` (and `--tlsdir`) as app flags, read through
    c.GlobalString in cmd/buildctl/common/common.go ResolveClient (at 09648f4d): they go
    before `build`."""
    req = dataclasses.replace(MINIMAL, builder="tcp://buildkit.internal:1234", builder_tls=TLS)
    argv = buildctl_argv(req)
    split = argv.index("build")
    assert argv[:split] == [
        "buildctl", "--addr", "tcp://buildkit.internal:1234", "--tlscacert", "certs/ca.pem",
        "--tlscert", "certs/cert.pem", "--tlskey", "certs/key.pem",
        "--tlsservername", "buildkit"]
    assert not any(a.startswith("--tls") for a in argv[split:])


def test_tls_without_a_key_pair_or_server_name_gives_only_the_ca() -> None:
    # ResolveClient: the CA turns TLS on (WithServerConfig); the name defaults to the host's
    req = dataclasses.replace(MINIMAL, builder="tcp://h:1234", builder_tls=BuilderTls("ca.pem"))
    assert buildctl_argv(req)[:6] == ["buildctl", "--addr", "tcp://h:1234", "--tlscacert",
                                      "ca.pem", "build"]


def test_the_probe_reaches_the_builder_with_its_tls() -> None:
    backend = get_backend("buildctl")
    assert backend.probe_argv("tcp://h:1234", TLS) == [
        "buildctl", "--addr", "tcp://h:1234", "--tlscacert", "certs/ca.pem", "--tlscert",
        "certs/cert.pem", "--tlskey", "certs/key.pem", "--tlsservername", "buildkit", "debug",
        "workers"]
    assert backend.probe_argv("unix:///run/bk.sock") == [
        "buildctl", "--addr", "unix:///run/bk.sock", "debug", "workers"]
    assert backend.version_argv("tcp://h:1234", TLS) == ["buildctl", "--version"]  # no daemon
    assert backend.tls_problem(TLS) is None


def test_several_tags_are_one_csv_quoted_name_field() -> None:
    [output] = pairs(buildctl_argv(PLAIN_IMAGE), "--output")
    assert output == 'type=image,"name=r/api:1,r/api:latest",push=true'
    assert csv_fields(output) == ["type=image", "name=r/api:1,r/api:latest", "push=true"]


def test_a_single_tag_needs_no_quotes_and_not_pushing_says_so() -> None:
    req = dataclasses.replace(MINIMAL, tags=("r/a:1",))
    assert pairs(buildctl_argv(req), "--output") == ["type=image,name=r/a:1,push=false"]


def test_push_by_digest_names_repositories_without_tags() -> None:
    req = dataclasses.replace(PLAIN_IMAGE, push=False, push_by_digest=True,
                              tags=("localhost:5000/shop/api:1", "localhost:5000/shop/api:dev",
                                    "r2/api:1"))
    [output] = pairs(buildctl_argv(req), "--output")
    assert csv_fields(output) == [
        "type=image", "name=localhost:5000/shop/api,r2/api", "push=true",
        "push-by-digest=true", "name-canonical=true",
    ]
    assert ":1" not in output and ":dev" not in output


def test_pushing_without_a_tag_is_an_error() -> None:
    with pytest.raises(ValueError, match="needs at least one tag"):
        buildctl_argv(dataclasses.replace(MINIMAL, push=True))


def test_outputs_alone_replace_the_image_export() -> None:
    req = dataclasses.replace(MINIMAL, outputs=(AttrSpec.parse("type=local,dest=out"),))
    assert pairs(buildctl_argv(req), "--output") == ["type=local,dest=out"]


def test_local_directory_context_needs_local_and_context_opt() -> None:
    req = dataclasses.replace(MINIMAL, named_contexts=(("shared", "../shared"),
                                                       ("context", "/abs/ctx")))
    argv = buildctl_argv(req)
    assert pairs(argv, "--local") == ["context=.", "dockerfile=.", "shared=../shared",
                                      "_context=/abs/ctx"]
    assert "context:shared=local:shared" in pairs(argv, "--opt")
    assert "context:context=local:_context" in pairs(argv, "--opt")


def test_oci_layout_context_becomes_a_store_and_a_digest_reference() -> None:
    req = dataclasses.replace(MINIMAL, named_contexts=(
        ("base", "oci-layout:///var/oci/base@sha256:abc"),
        ("docker.io/library/alpine", "oci-layout://layouts/alpine:3.19@sha256:def"),
    ))
    argv = buildctl_argv(req)
    assert pairs(argv, "--oci-layout") == ["base=/var/oci/base",
                                           "docker-io-library-alpine=layouts/alpine"]
    opts = pairs(argv, "--opt")
    assert "context:base=oci-layout://base@sha256:abc" in opts
    assert ("context:docker.io/library/alpine="
            "oci-layout://docker-io-library-alpine:3.19@sha256:def") in opts


def test_oci_layout_context_without_digest_is_an_error() -> None:
    req = dataclasses.replace(MINIMAL, named_contexts=(("base", "oci-layout:///var/oci"),))
    with pytest.raises(ValueError, match="needs the digest"):
        buildctl_argv(req)


def test_remote_contexts_pass_through() -> None:
    req = dataclasses.replace(MINIMAL, named_contexts=(
        ("src", "https://example.com/src.git"), ("stage", "target:build"),
        ("repo", "git://example.com/r.git")))
    argv = buildctl_argv(req)
    opts = pairs(argv, "--opt")
    assert "context:repo=git://example.com/r.git" in opts
    assert pairs(argv, "--local") == ["context=.", "dockerfile=."]
    assert "context:src=https://example.com/src.git" in opts
    assert "context:stage=target:build" in opts


def test_network_none_forces_no_entitlement_and_default_adds_nothing() -> None:
    none = buildctl_argv(dataclasses.replace(MINIMAL, network="none"))
    assert "force-network-mode=none" in pairs(none, "--opt") and "--allow" not in none
    default = buildctl_argv(dataclasses.replace(MINIMAL, network="default"))
    assert not any(o.startswith("force-network-mode") for o in pairs(default, "--opt"))
    with pytest.raises(ValueError, match="not supported"):
        buildctl_argv(dataclasses.replace(MINIMAL, network="bridge"))


def test_secrets_are_references_csv_quoted_when_needed() -> None:
    req = dataclasses.replace(MINIMAL, secrets=(SecretRef("a", src="/p/with,comma"),
                                                SecretRef("b", env="B_TOKEN")))
    secrets = pairs(buildctl_argv(req), "--secret")
    assert secrets == ['id=a,"src=/p/with,comma"', "id=b,env=B_TOKEN"]
    assert csv_fields(secrets[0]) == ["id=a", "src=/p/with,comma"]
    with pytest.raises(ValueError, match="exactly one of src or env"):
        buildctl_argv(dataclasses.replace(MINIMAL, secrets=(SecretRef("c"),)))


# `buildctl --help` and `buildctl build --help` as generated into moby/buildkit
# docs/reference/buildctl.md.
DOCUMENTED_GLOBAL = {"--debug", "--addr", "--log-format", "--tlsservername", "--tlscacert",
                     "--tlscert", "--tlskey", "--tlsdir", "--timeout", "--wait", "--help"}
DOCUMENTED_BUILD = {
    "--output", "--progress", "--trace", "--local", "--oci-layout", "--frontend", "--opt",
    "--no-cache", "--export-cache", "--import-cache", "--secret", "--allow", "--ssh",
    "--metadata-file", "--source-policy-file", "--ref-file", "--registry-auth-tlscontext",
    "--debug-json-cache-metrics", "--docker-config",
}
EVERYTHING = dataclasses.replace(FULL, named_contexts=(
    *FULL.named_contexts, ("lay", "oci-layout:///l@sha256:abc")), builder_tls=TLS)


def split_flags(argv: list[str]) -> tuple[set[str], set[str]]:
    """Flags before `build` (global) and after it."""
    split = argv.index("build")
    return ({a for a in argv[:split] if a.startswith("--")},
            {a for a in argv[split:] if a.startswith("--")})


def test_every_emitted_flag_is_documented() -> None:
    global_flags, build_flags = split_flags(buildctl_argv(EVERYTHING))
    assert global_flags <= DOCUMENTED_GLOBAL
    assert build_flags <= DOCUMENTED_BUILD
    assert "--oci-layout" in build_flags
    assert {"--tlscacert", "--tlscert", "--tlskey", "--tlsservername"} <= global_flags
    probe = get_backend("buildctl").probe_argv("tcp://h:1", TLS)
    assert {a for a in probe[:probe.index("debug")] if a.startswith("--")} <= DOCUMENTED_GLOBAL


def test_every_emitted_flag_is_in_buildctl_help() -> None:
    if shutil.which("buildctl") is None:
        pytest.skip("buildctl not installed")
    global_flags, build_flags = split_flags(buildctl_argv(EVERYTHING))
    global_help, build_help = tool_help("buildctl"), tool_help("buildctl", "build")
    for flag in global_flags:
        assert flag in global_help, flag
    for flag in build_flags:
        assert flag in build_help, flag


def test_several_outputs_need_buildkit_0_13() -> None:
    backend = get_backend("buildctl")
    assert backend.tool_version("buildctl github.com/moby/buildkit v0.12.5 bf13cbd\n") == \
        ToolVersion("buildctl github.com/moby/buildkit v0.12.5 bf13cbd", (0, 12, 5))
    two = dataclasses.replace(MINIMAL, tags=("r/a:1",),
                              outputs=(AttrSpec.parse("type=local,dest=out"),))
    old = ToolVersion("buildctl v0.12.5", (0, 12, 5))
    assert "2 outputs at once, which BuildKit takes from v0.13 on" in str(
        backend.version_problem(two, old))
    assert backend.version_problem(two, ToolVersion("buildctl v0.13.0", (0, 13, 0))) is None
    assert backend.version_problem(MINIMAL, old) is None


def test_run_limits_are_dockerfile_frontend_options() -> None:
    """moby/buildkit frontend/dockerui/config.go keys `add-hosts`, `shm-size`, `ulimit`,
    `no-cache`, `image-resolve-mode`; attr.go reads add-hosts and ulimit as CSV of
    `host=ip` and go-units `name=soft:hard`, shm-size as bytes, and config.go splits no-cache
    on commas (empty: every stage)."""
    req = dataclasses.replace(MINIMAL, extra_hosts=(("a", "10.0.0.1"), ("b", "fd00::1")),
                              ulimits=(Ulimit("nofile", 1024, 2048), Ulimit("nproc", 64, 64)),
                              no_cache_filter=("deps", "test"), shm_size=67108864, pull=True)
    assert pairs(buildctl_argv(req), "--opt") == [
        "filename=Dockerfile", "add-hosts=a=10.0.0.1,b=fd00::1", "shm-size=67108864",
        "ulimit=nofile=1024:2048,nproc=64:64", "no-cache=deps,test",
        "image-resolve-mode=pull"]
    everything = buildctl_argv(dataclasses.replace(req, no_cache=True))
    assert "--no-cache" in everything
    assert not any(o.startswith("no-cache=") for o in pairs(everything, "--opt"))


def test_host_gateway_is_not_an_ip_buildkit_takes() -> None:
    """dockerui attr.go parseExtraHosts: net.ParseIP or "failed to parse IP"."""
    req = dataclasses.replace(MINIMAL, extra_hosts=(("host.docker.internal", "host-gateway"),))
    with pytest.raises(Unsupported) as err:
        buildctl_argv(req)
    assert err.value.field == ("extra_hosts",)


def test_attestations_are_frontend_options_and_disabled_ones_are_left_out() -> None:
    """docs/attestations/sbom.md `--opt attest:sbom=` / `attest:sbom=generator=<image>`,
    slsa-provenance.md `--opt attest:provenance=mode=min,inline-only=true`;
    frontend/attestations/parse.go reads the value as CSV. BuildKit adds no provenance of its
    own (only buildx does), so `disabled=true` asks for nothing."""
    req = dataclasses.replace(MINIMAL, attest=tuple(AttrSpec.parse(t) for t in (
        "type=sbom", "type=provenance,mode=max,builder-id=https://ci/x,disabled=false")))
    assert pairs(buildctl_argv(req), "--opt") == [
        "filename=Dockerfile", "attest:sbom=", "attest:provenance=mode=max,builder-id=https://ci/x"]
    off = dataclasses.replace(MINIMAL, attest=(AttrSpec.parse("type=provenance,disabled=true"),))
    assert pairs(buildctl_argv(off), "--opt") == ["filename=Dockerfile"]
    bad = dataclasses.replace(MINIMAL, attest=(AttrSpec.parse("type=sbom,disabled=maybe"),))
    with pytest.raises(Unsupported) as err:
        buildctl_argv(bad)
    assert err.value.field == ("attest",)


def test_annotations_and_image_attributes_are_output_attributes() -> None:
    """README.md "Image/Registry" and docs/annotations.md: `annotation.KEY=VALUE` on the image
    and oci exporters, CSV-quoted like any output attribute; nothing on a local folder."""
    req = dataclasses.replace(
        MINIMAL, tags=("r/a:1",), image_attrs=(("compression", "zstd"),
                                               ("force-compression", "true")),
        annotations=(("org.opencontainers.image.description", "a, b"),),
        outputs=(AttrSpec.parse("type=local,dest=out"),
                 AttrSpec.parse("type=docker,dest=a.tar")))
    image, local, docker = pairs(buildctl_argv(req), "--output")
    assert csv_fields(image) == [
        "type=image", "name=r/a:1", "push=false", "compression=zstd", "force-compression=true",
        "annotation.org.opencontainers.image.description=a, b"]
    assert local == "type=local,dest=out"
    assert csv_fields(docker) == ["type=docker", "dest=a.tar",
                                  "annotation.org.opencontainers.image.description=a, b"]


def test_annotation_levels_written_as_buildx_does_are_buildkit_attribute_levels() -> None:
    """`index:KEY` is `annotation-index.KEY` (exptypes/annotations.go AnnotationKey.String:
    the platform only on the manifest levels); a key whose colon names no level is a key."""
    req = dataclasses.replace(MINIMAL, tags=("r/a:1",), annotations=(
        ("index:i", "1"), ("manifest[linux/amd64],index-descriptor:m", "2"),
        ("com.example:build", "3")))
    assert csv_fields(pairs(buildctl_argv(req), "--output")[0])[3:] == [
        "annotation-index.i=1", "annotation-manifest[linux/amd64].m=2",
        "annotation-index-descriptor.m=2", "annotation.com.example:build=3"]


def test_image_attributes_alone_still_ask_for_the_image_output() -> None:
    req = dataclasses.replace(MINIMAL, image_attrs=(("oci-mediatypes", "true"),),
                              outputs=(AttrSpec.parse("type=local,dest=out"),))
    assert pairs(buildctl_argv(req), "--output") == [
        "type=image,push=false,oci-mediatypes=true", "type=local,dest=out"]
    with pytest.raises(Unsupported) as err:
        buildctl_argv(dataclasses.replace(MINIMAL, image_attrs=(("name", "r/x"),)))
    assert err.value.field == ("outputs",)


def test_cacheonly_is_no_output_and_docker_needs_a_file() -> None:
    """buildx's `cacheonly` (build/opt.go) means no export: buildctl with no `--output`
    keeps the result in BuildKit's cache. buildctl has no image store to load `type=docker`
    into: without `dest` it would write the tarball to stdout (cmd/buildctl/build/output.go)."""
    cache = dataclasses.replace(MINIMAL, outputs=(AttrSpec.parse("type=cacheonly"),))
    assert "--output" not in buildctl_argv(cache)
    tagged = dataclasses.replace(cache, tags=("r/a:1",))
    assert pairs(buildctl_argv(tagged), "--output") == ["type=image,name=r/a:1,push=false"]
    load = dataclasses.replace(MINIMAL, outputs=(AttrSpec.parse("type=docker"),))
    with pytest.raises(Unsupported) as err:
        buildctl_argv(load)
    assert err.value.field == ("outputs",)


def test_remote_context_is_the_frontend_context_option() -> None:
    """moby/buildkit README.md `--opt context=https://github.com/moby/moby.git`;
    frontend/dockerui/context.go initContext reads the main context and the Dockerfile from
    a git (DetectGitContext: `#ref:subdir`) or http(s) source, `filename` inside it."""
    req = dataclasses.replace(MINIMAL, context="https://github.com/org/repo.git#main:svc",
                              dockerfile="docker/Dockerfile", named_contexts=(("lib", "../lib"),))
    argv = buildctl_argv(req)
    assert pairs(argv, "--local") == ["lib=../lib"]
    assert pairs(argv, "--opt")[:2] == ["context=https://github.com/org/repo.git#main:svc",
                                        "filename=docker/Dockerfile"]
    assert "--ssh" not in argv


def test_inline_dockerfile_with_a_remote_context_stays_local() -> None:
    """context.go: `dockerfilekey` makes the frontend read the Dockerfile from that local
    (moby/buildkit#947), as docker/buildx build/opt.go does for a local Dockerfile with a
    remote context."""
    req = dataclasses.replace(MINIMAL, context="https://host/ctx.tar.gz",
                              dockerfile=".buildorch/run/api.Dockerfile",
                              dockerfile_inline="FROM scratch\n")
    argv = buildctl_argv(req)
    assert pairs(argv, "--local") == ["dockerfile=.buildorch/run"]
    assert pairs(argv, "--opt") == ["context=https://host/ctx.tar.gz", "filename=api.Dockerfile",
                                    "dockerfilekey=dockerfile"]


def test_git_context_over_ssh_forwards_the_default_agent() -> None:
    """client/llb/source.go: llb.Git mounts the SSH socket `default` for an SSH remote;
    buildx adds `--ssh default` for such a context by itself (IsGitSSH)."""
    for context in ("git@github.com:org/repo.git#main", "ssh://git@host:2222/org/repo.git"):
        req = dataclasses.replace(MINIMAL, context=context, ssh=(SshRef("deploy", ("/k",)),))
        assert pairs(buildctl_argv(req), "--ssh") == ["deploy=/k", "default"]
        given = dataclasses.replace(req, ssh=(SshRef("default", ("/k",)),))
        assert pairs(buildctl_argv(given), "--ssh") == ["default=/k"]


def test_a_scheme_buildkit_does_not_fetch_is_no_context() -> None:
    with pytest.raises(Unsupported) as err:
        buildctl_argv(dataclasses.replace(MINIMAL, context="oci-layout:///var/oci"))
    assert err.value.field == ("context",)


def test_reproducible_image_output_rewrites_timestamps() -> None:
    """`rewrite-timestamp=true` on the image exporter (README.md "Image/Registry"; BuildKit
    0.13, pushing fixed in 0.14.1: moby/buildkit#5008); buildctl unpacks nothing unless asked,
    so it never conflicts with `unpack`."""
    req = dataclasses.replace(MINIMAL, tags=("r/a",), push_by_digest=True,
                              rewrite_timestamp=True)
    [output] = pairs(buildctl_argv(req), "--output")
    assert csv_fields(output) == ["type=image", "name=r/a", "push=true", "push-by-digest=true",
                                  "name-canonical=true", "rewrite-timestamp=true"]
    assert all("rewrite-timestamp" not in a
               for a in buildctl_argv(dataclasses.replace(req, rewrite_timestamp=False)))
    # an OCI layout for dependents is the only output: no image output added for rewriting
    layout = AttrSpec.parse("type=oci,dest=run/a.oci,tar=false,rewrite-timestamp=true")
    alone = dataclasses.replace(MINIMAL, outputs=(layout,), rewrite_timestamp=True)
    assert pairs(buildctl_argv(alone), "--output") == [
        "type=oci,dest=run/a.oci,tar=false,rewrite-timestamp=true"]


def test_the_platforms_of_every_worker_debug_workers_lists() -> None:
    """`buildctl debug workers` (the probe) prints a tabwriter table: `ID PLATFORMS`, then a
    row per worker, its platforms normalised and joined with "," (moby/buildkit
    cmd/buildctl/debug/workers.go printWorkersTable)."""
    backend = get_backend("buildctl")
    table = ("ID\t\t\t\tPLATFORMS\n"
             "kq1ld0v9k8bxrmmqu8lnw1ab4\tlinux/amd64,linux/amd64/v2,linux/386\n"
             "zf3h0pk8ouv7r2x5i2ovc4\t\tlinux/arm64,linux/386\n")
    assert backend.engine_platforms(table) == (
        "linux/amd64", "linux/amd64/v2", "linux/386", "linux/arm64")
    assert backend.engine_platforms("ID\tPLATFORMS\n") is None
    assert backend.platforms_argv("tcp://h:1234") is None  # the probe's answer has them
