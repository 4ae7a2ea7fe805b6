"""argv contract for `docker buildx build`: every field of the request is mapped."""

from __future__ import annotations

import dataclasses

from buildorch.backends.docker import docker_argv
from buildorch.backends.request import AttrSpec, BuildRequest
from tests.backends.sample_requests import FULL as BASE_FULL
from tests.backends.sample_requests import pairs

FULL = dataclasses.replace(BASE_FULL, outputs=(AttrSpec.parse("type=oci,dest=out.tar"),))


def test_every_field_is_mapped() -> None:
    argv = docker_argv(FULL)
    assert argv[:5] == ["docker", "buildx", "build", "--builder", "mybuilder"]
    assert argv[-1] == "svc/api"
    assert pairs(argv, "--file") == ["svc/api/Dockerfile"]
    assert pairs(argv, "--target") == ["runtime"]
    assert pairs(argv, "--build-arg") == ["A=1", "B=x y"]
    assert pairs(argv, "--build-context") == ["base=docker-image://r/base@sha256:abc",
                                              "src=../src"]
    assert pairs(argv, "--secret") == ["id=tok,env=TOKEN", "id=netrc,src=/home/u/.netrc"]
    assert pairs(argv, "--ssh") == ["default", "github=/k1,/k2"]
    assert pairs(argv, "--platform") == ["linux/amd64,linux/arm64"]
    assert pairs(argv, "--label") == ["team=core"]
    assert pairs(argv, "--tag") == ["r/api:1", "r/api:latest"]
    assert pairs(argv, "--cache-from") == ["type=registry,ref=r/cache:api"]
    assert pairs(argv, "--cache-to") == ["type=registry,ref=r/cache:api,mode=max"]
    assert pairs(argv, "--output") == ["type=oci,dest=out.tar"]
    assert pairs(argv, "--network") == ["host"]
    assert pairs(argv, "--metadata-file") == ["meta.json"]
    assert "--push" in argv and "--no-cache" in argv and "--load" not in argv


def test_minimal_request_has_no_optional_flags() -> None:
    argv = docker_argv(BuildRequest(name="a", context=".", dockerfile="Dockerfile"))
    assert argv == ["docker", "buildx", "build", "--progress", "plain",
                    "--file", "Dockerfile", "."]


def test_docker_host_address_goes_before_buildx() -> None:
    argv = docker_argv(BuildRequest(name="a", context=".", dockerfile="Dockerfile",
                                    builder="unix:///run/d.sock", load=True))
    assert argv[:4] == ["docker", "--host", "unix:///run/d.sock", "buildx"]
    assert "--builder" not in argv and "--load" in argv
