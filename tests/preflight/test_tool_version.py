"""Before any build, a tool too old for what a build asks is an exit-2 error naming the
image and the version needed."""

from __future__ import annotations

import pytest

from buildorch.backends.base import ToolVersion
from buildorch.backends.catalog import get_backend
from buildorch.backends.request import BuildRequest
from buildorch.errors import ConfigError
from buildorch.preflight.tool_version import check_tool_version

PLAIN = BuildRequest(name="base", context=".", dockerfile="Dockerfile")
CHAINED = BuildRequest(name="api", context=".", dockerfile="Dockerfile",
                       named_contexts=(("base", "docker-image://buildorch.local/p/base:r"),))


def test_named_contexts_need_nerdctl_2() -> None:
    nerdctl = get_backend("nerdctl")
    old = ToolVersion("nerdctl v1.7.7", (1, 7, 7))
    with pytest.raises(ConfigError) as err:
        check_tool_version([PLAIN, CHAINED], nerdctl, old)
    assert err.value.exit_code == 2
    assert str(err.value) == (
        "image 'api' cannot be built with nerdctl: it needs named build contexts "
        "(--build-context), which nerdctl gets from nerdctl 2.0 on; found nerdctl v1.7.7")
    check_tool_version([PLAIN, CHAINED], nerdctl, ToolVersion("nerdctl v2.0.0", (2, 0, 0)))
    check_tool_version([PLAIN, CHAINED], nerdctl, None)  # unknown: the build will tell
