"""What the Dockerfile analysis tests share: a sample file and short ways to parse."""

from __future__ import annotations

import pytest

from buildorch.dockerfiles.parser import parse_dockerfile
from buildorch.dockerfiles.stages import DockerfileInfo
from buildorch.errors import ConfigError

MULTI_STAGE = """\
# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
RUN --mount=type=cache,target=/root/.cache/go-build go build -o /out/app .

FROM alpine:3.20 AS runtime
COPY --from=build /out/app /app

FROM runtime AS test
RUN --mount=type=bind,from=tools,target=/t /t/run

FROM scratch AS unused
COPY --from=docker.io/library/busybox /bin/sh /sh
"""


def parse(text: str, **build_args: str) -> DockerfileInfo:
    return parse_dockerfile(text, "Dockerfile.x", build_args)


def config_error(text: str, **build_args: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse(text, **build_args)
    return caught.value


def edges(text: str) -> tuple[tuple[int, int, str, int], ...]:
    return parse(text).stage_edges()
