"""Values of one image checked against what the engine accepts (pure): what `validate`
would otherwise let through and the build would refuse, or silently ignore."""

from __future__ import annotations

from collections.abc import Collection

from buildorch.backends.flags import NETWORK_MODES
from buildorch.errors import Problems, shorten
from buildorch.oci import platforms as oci_platforms
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.pipeline.model import Image


def remote_context_problem(context: str) -> str | None:
    if context.startswith("git@"):
        host = context[len("git@"):].split(":", 1)[0]
    else:
        host = context.partition("://")[2].split("/", 1)[0].split("#", 1)[0]
    if not host:
        return f"{shorten(context)!r}: a remote context names a host"
    return None


def remote_dockerfile_problem(dockerfile: str) -> str | None:
    """An absolute `dockerfile` beside a remote context: buildx reads an absolute --file
    from this machine, buildctl (and BuildKit's dockerui) from inside the fetched context."""
    if dockerfile.startswith("/"):
        return (f"{shorten(dockerfile)!r}: an absolute Dockerfile path with a remote context "
                "means this machine's file to docker buildx and a file inside the remote "
                "context to buildctl; write a path relative to the remote context")
    return None


def check_values(p: LoadedPipeline, name: str, spec: Image, problems: Problems,
                 known: Collection[str] | None = None) -> tuple[str, ...]:
    """Every value of the image the engine would refuse goes to `problems`, whatever else is
    wrong with the image; `known`: only these fields' values are known (None: all). Returns
    the platforms it is built for: the valid ones, this machine's when none is given."""

    def checked(*fields: str) -> bool:
        return known is None or all(f in known for f in fields)

    if checked("network") and spec.network is not None and spec.network not in NETWORK_MODES:
        problems.add(p.error(f"network {shorten(spec.network)!r}: BuildKit takes "
                             f"{', '.join(NETWORK_MODES)} (a build joins no named network)",
                             p.field_path(name, "network")))
    if checked("push", "tags") and spec.push and not spec.tags:
        problems.add(p.error("push: true needs at least one tag to publish",
                             p.field_path(name, "push")))
    return _platforms(p, name, spec, problems) if checked("platforms") else ()


def _platforms(p: LoadedPipeline, name: str, spec: Image,
               problems: Problems) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for i, text in enumerate(spec.platforms):
        try:
            platform = oci_platforms.parse(text)
        except oci_platforms.InvalidPlatform as exc:
            problems.add(p.error(str(exc), p.field_path(name, "platforms", i)))
            continue
        if problem := oci_platforms.unknown_part(platform):
            problems.add(p.error(f"{shorten(text)!r}: {problem}",
                                 p.field_path(name, "platforms", i)))
            continue
        found[platform.format()] = None
    return tuple(found) or (oci_platforms.native().format(),)
