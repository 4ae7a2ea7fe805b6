"""Before any build: the installed tool can do what each build asks of it (named
contexts need nerdctl 2.0, several outputs BuildKit 0.13), naming the version needed."""

from __future__ import annotations

from collections.abc import Iterable

from buildorch.backends.base import Backend, ToolVersion
from buildorch.backends.request import BuildRequest
from buildorch.errors import ConfigError


def check_tool_version(requests: Iterable[BuildRequest], backend: Backend,
                       version: ToolVersion | None) -> None:
    if version is None:
        return  # the version command failed; the build will say what it lacks
    for request in requests:
        problem = backend.version_problem(request, version)
        if problem:
            raise ConfigError(f"image '{request.name}' cannot be built with {backend.name}: "
                              f"{problem}")
