"""BuildKit's automatic platform ARGs in the global scope (moby/buildkit
frontend/dockerfile/dockerfile2llb/convert.go `defaultArgs`, `buildMetaArgs`), on
Dockerfiles shaped like large real ones (docker/buildx's own: `FROM binaries-$TARGETOS`)."""

from __future__ import annotations

import pytest

from buildorch.dockerfiles.parser import BuildPlatforms, parse_dockerfile
from buildorch.dockerfiles.per_platform import PlatformAnalyses
from buildorch.dockerfiles.platform_args import platform_args
from buildorch.errors import ConfigError

BUILDX_LIKE = """\
# syntax=docker/dockerfile:1
ARG GO_VERSION=1.21
ARG XX_VERSION=1.3.0
FROM --platform=$BUILDPLATFORM tonistiigi/xx:${XX_VERSION} AS xx
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-alpine AS golatest
FROM golatest AS gobase
COPY --from=xx / /
RUN true
FROM gobase AS buildx-build
RUN --mount=type=bind,target=. go build -o /usr/bin/docker-buildx ./cmd/buildx
FROM scratch AS binaries-unix
COPY --link --from=buildx-build /usr/bin/docker-buildx /
FROM binaries-unix AS binaries-darwin
FROM binaries-unix AS binaries-linux
FROM scratch AS binaries-windows
COPY --link --from=buildx-build /usr/bin/docker-buildx /docker-buildx.exe
FROM binaries-$TARGETOS AS binaries
FROM alpine AS test
"""


def needed(text: str, target: str, platform: str) -> list[str]:
    info = parse_dockerfile(text, "Dockerfile", platforms=BuildPlatforms(platform, "linux/amd64"))
    return [s.display_name for s in info.needed_stages(target)]


def test_target_os_selects_the_stages_a_target_needs() -> None:
    common = ["xx", "golatest", "gobase", "buildx-build"]
    assert needed(BUILDX_LIKE, "binaries", "linux/arm64") == [
        *common, "binaries-unix", "binaries-linux", "binaries"]
    assert needed(BUILDX_LIKE, "binaries", "windows/amd64") == [
        *common, "binaries-windows", "binaries"]
    assert needed(BUILDX_LIKE, "binaries", "darwin/arm64") == [
        *common, "binaries-unix", "binaries-darwin", "binaries"]


def test_every_platform_of_a_multi_platform_build_counts() -> None:
    platforms = ("linux/amd64", "windows/amd64")
    infos = tuple(parse_dockerfile(BUILDX_LIKE, "Dockerfile", platforms=BuildPlatforms(p))
                  for p in platforms)
    both = PlatformAnalyses(platforms, infos)
    stages = both.needed_stages("binaries")
    assert [s.name for s in stages] == ["xx", "golatest", "gobase", "buildx-build",
                                        "binaries-unix", "binaries-linux", "binaries-windows",
                                        "binaries"]
    assert stages[-1].base == "binaries-linux | binaries-windows"


def test_automatic_values_and_what_overrides_them() -> None:
    args = platform_args("linux/arm/v7", "linux/amd64", "out")
    assert (args["TARGETPLATFORM"], args["TARGETOS"], args["TARGETARCH"],
            args["TARGETVARIANT"]) == ("linux/arm/v7", "linux", "arm", "v7")
    assert (args["BUILDPLATFORM"], args["BUILDARCH"], args["BUILDVARIANT"],
            args["TARGETSTAGE"]) == ("linux/amd64", "amd64", "", "out")
    text = "ARG TARGETARCH\nARG TARGETOS=plan9\nFROM img-$TARGETOS-$TARGETARCH-$TARGETSTAGE AS x\n"
    on_arm = BuildPlatforms("linux/arm64", "linux/amd64")
    # `ARG TARGETARCH` keeps the automatic value; `ARG TARGETOS=plan9` replaces it
    assert parse_dockerfile(text, "D", platforms=on_arm).stages[0].base == "img-plan9-arm64-x"
    # a build arg wins over both
    info = parse_dockerfile(text, "D", {"TARGETOS": "freebsd", "TARGETARCH": "riscv64"},
                            platforms=on_arm)
    assert info.stages[0].base == "img-freebsd-riscv64-x"


def test_a_base_chosen_by_a_global_arg_and_the_architecture() -> None:
    text = ("ARG EXPORT_BASE=alpine\nFROM alpine AS base-alpine\nFROM scratch AS base-scratch\n"
            "FROM base-${EXPORT_BASE} AS export\nFROM registry.io/org/tool-${TARGETARCH} AS tool\n")
    info = parse_dockerfile(text, "D", platforms=BuildPlatforms("linux/arm64"))
    assert [s.name for s in info.needed_stages("export")] == ["base-alpine", "export"]
    assert [r.ref for r in info.external_references("tool")] == ["registry.io/org/tool-arm64"]
    info = parse_dockerfile(text, "D", {"EXPORT_BASE": "scratch"},
                            platforms=BuildPlatforms("linux/amd64"))
    assert [s.name for s in info.needed_stages("export")] == ["base-scratch", "export"]


def test_an_empty_platform_flag_is_no_platform_but_an_empty_expansion_fails() -> None:
    # moby/buildkit frontend/dockerfile/dockerfile2llb/convert.go: `if v := st.Platform;
    # v != ""` before expanding, then "empty platform value from expression"
    info = parse_dockerfile("FROM --platform= alpine AS a\n", "D",
                            platforms=BuildPlatforms("linux/arm64"))
    assert info.stages[0].platform is None
    with pytest.raises(ConfigError, match=r"D:1: empty platform value from expression \$NOPE"):
        parse_dockerfile("FROM --platform=$NOPE alpine\n", "D")


def test_targetstage_is_the_last_stage_name_lower_cased() -> None:
    # instructions/parse.go parseBuildStageName lower-cases stage names
    info = parse_dockerfile("FROM alpine:${TARGETSTAGE} AS First\nFROM alpine AS Final\n", "D")
    assert info.stages[0].base == "alpine:final"
