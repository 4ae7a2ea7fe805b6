"""Values of one image checked against what the engine accepts (pure): what `validate`
would otherwise let through and the build would refuse, or silently ignore."""

from __future__ import annotations

from buildorch.backends.flags import NETWORK_MODES
from buildorch.errors import shorten
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.pipeline.model import Image

# A main context BuildKit fetches itself (moby/buildkit frontend/dockerui/context.go: a git
# URL, or an http(s) tarball or Dockerfile); anything else is a local folder.
REMOTE_PREFIXES = ("https://", "http://", "git://", "git@", "ssh://")


def is_remote(context: str) -> bool:
    return context.startswith(REMOTE_PREFIXES)


def remote_context_problem(context: str) -> str | None:
    if context.startswith("git@"):
        host = context[len("git@"):].split(":", 1)[0]
    else:
        host = context.partition("://")[2].split("/", 1)[0].split("#", 1)[0]
    if not host:
        return f"{shorten(context)!r}: a remote context names a host"
    return None


def check_values(p: LoadedPipeline, name: str, spec: Image) -> None:
    if spec.network is not None and spec.network not in NETWORK_MODES:
        raise p.error(f"network {shorten(spec.network)!r}: BuildKit takes "
                      f"{', '.join(NETWORK_MODES)} (a build joins no named network)",
                      p.field_path(name, "network"))
    if spec.push and not spec.tags:
        raise p.error("push: true needs at least one tag to publish",
                      p.field_path(name, "push"))
