"""argv contract for `buildctl build`: every field of the request is mapped."""

from __future__ import annotations

import csv
import dataclasses
import shutil

import pytest

from buildorch.backends.base import ToolVersion
from buildorch.backends.buildctl import buildctl_argv
from buildorch.backends.catalog import get_backend
from buildorch.backends.request import AttrSpec, SecretRef
from tests.backends.sample_requests import FULL as BASE_FULL
from tests.backends.sample_requests import MINIMAL, pairs, tool_help

FULL = dataclasses.replace(BASE_FULL, dockerfile="svc/api/docker/Dockerfile.prod", load=True,
                           builder="tcp://buildkitd:1234")


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
        "context:base=docker-image://r/base@sha256:abc",
        "context:src=local:src",
    ]
    assert pairs(argv, "--secret") == ["id=tok,env=TOKEN", "id=netrc,src=/home/u/.netrc"]
    assert pairs(argv, "--ssh") == ["default", "github=/k1,/k2"]
    assert pairs(argv, "--allow") == ["network.host"]
    assert pairs(argv, "--import-cache") == ["type=registry,ref=r/cache:api"]
    assert pairs(argv, "--export-cache") == ["type=registry,ref=r/cache:api,mode=max"]
    assert pairs(argv, "--output") == ['type=image,"name=r/api:1,r/api:latest",push=true',
                                       "type=oci,dest=out.tar"]
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


def test_several_tags_are_one_csv_quoted_name_field() -> None:
    [output] = pairs(buildctl_argv(dataclasses.replace(FULL, outputs=())), "--output")
    assert output == 'type=image,"name=r/api:1,r/api:latest",push=true'
    assert csv_fields(output) == ["type=image", "name=r/api:1,r/api:latest", "push=true"]


def test_a_single_tag_needs_no_quotes_and_not_pushing_says_so() -> None:
    req = dataclasses.replace(MINIMAL, tags=("r/a:1",))
    assert pairs(buildctl_argv(req), "--output") == ["type=image,name=r/a:1,push=false"]


def test_push_by_digest_names_repositories_without_tags() -> None:
    req = dataclasses.replace(FULL, outputs=(), push=False, push_by_digest=True,
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
    *FULL.named_contexts, ("lay", "oci-layout:///l@sha256:abc")))


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
