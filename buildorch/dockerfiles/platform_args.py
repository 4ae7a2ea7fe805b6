"""BuildKit's automatic platform ARGs, defined in the global scope for `FROM` lines.

As moby/buildkit frontend/dockerfile/dockerfile2llb/convert.go `defaultArgs`: BUILD* from
the builder's platform, TARGET* from the platform being built (one analysis per platform
of a multi-platform build), TARGETSTAGE the stage built. A build arg of the same name
wins; a global `ARG TARGETOS` keeps the automatic value, and `ARG TARGETOS=x` replaces it
(`buildMetaArgs`: only a declared value replaces).
"""

from __future__ import annotations

from buildorch.oci import platforms


def platform_args(target: str, build: str, stage: str) -> dict[str, str]:
    """Automatic ARGs for `target` built on `build` (`os/arch[/variant]` each)."""
    args: dict[str, str] = {}
    for prefix, text in (("BUILD", build), ("TARGET", target)):
        parsed = platforms.parse(text)
        args |= {f"{prefix}PLATFORM": parsed.format(), f"{prefix}OS": parsed.os,
                 f"{prefix}OSVERSION": "", f"{prefix}ARCH": parsed.architecture,
                 f"{prefix}VARIANT": parsed.variant}
    args["TARGETSTAGE"] = stage
    return args
