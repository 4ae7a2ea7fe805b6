"""Platforms (`linux/arm64`, `linux/arm/v7`) as containerd's `platforms` package parses and
normalises them (pure), and the platform of this machine, BuildKit's default.

`parse` accepts `os`, `os/arch` and `os/arch/variant` (and a lone architecture, taken
as Linux), lower-cases them, and normalises the aliases containerd does
(containerd/platforms database.go: `x86_64` is `amd64`, `aarch64` is `arm64` and its
`v8` variant is implied, a bare `arm` is `arm/v7`, `armhf` and `armel` are `arm/v7` and
`arm/v6`, `i386` is `386`, `macos` is `darwin`, `amd64/v1` is `amd64`). Each part matches
`[A-Za-z0-9_.-]+` (containerd's specifierRe); an OS may carry a version in parentheses,
`windows(10.0.17763)/amd64`, which is kept out of the platform's name here.
"""

from __future__ import annotations

import platform as host
import re
from dataclasses import dataclass

_COMPONENT = re.compile(r"[A-Za-z0-9_.-]+")
_OS_VERSION = re.compile(r"([A-Za-z0-9_.-]+)\(([A-Za-z0-9_.-]*)\)")
_ARCH_ALIASES = {
    "x86_64": ("amd64", ""), "x86-64": ("amd64", ""), "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
}
_KNOWN_OS = frozenset({"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos",
                       "ios", "js", "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris",
                       "wasip1", "windows", "zos"})
_KNOWN_ARCH = frozenset({"386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be",
                         "loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32",
                         "mips64p32le", "ppc", "ppc64", "ppc64le", "riscv", "riscv64", "s390",
                         "s390x", "sparc", "sparc64", "wasm"})


# Variants per architecture, as Go's GOAMD64/GOARM/GOARM64/GOPPC64/GORISCV64/GOMIPS name
# them and containerd/platforms normalises them (amd64 v1 and arm64 v8 are implied).
_KNOWN_VARIANTS = {
    "amd64": ("v2", "v3", "v4"),
    "arm": ("v5", "v6", "v7", "v8"),
    "arm64": ("v8", *(f"v8.{n}" for n in range(10)), "v9", *(f"v9.{n}" for n in range(6))),
    "ppc64le": ("power8", "power9", "power10"),
    "ppc64": ("power8", "power9", "power10"),
    "riscv64": ("rva20u64", "rva22u64"),
    "mips": ("hardfloat", "softfloat"), "mipsle": ("hardfloat", "softfloat"),
    "mips64": ("hardfloat", "softfloat"), "mips64le": ("hardfloat", "softfloat"),
}


class InvalidPlatform(ValueError):
    """Not a platform containerd would parse; the message says why."""


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    def format(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


def _arch(architecture: str, variant: str) -> tuple[str, str]:
    """containerd/platforms database.go normalizeArch."""
    architecture, variant = _ARCH_ALIASES.get(architecture, (architecture, variant))
    if architecture == "i386":
        architecture, variant = "386", ""
    elif architecture == "amd64" and variant == "v1":
        variant = ""
    elif architecture == "aarch64" or architecture == "arm64":
        architecture = "arm64"
        variant = "" if variant in ("8", "v8") else variant
    elif architecture == "arm" and variant in ("", "7"):
        variant = "v7"
    elif architecture == "arm" and variant in ("5", "6", "8"):
        variant = f"v{variant}"
    return architecture, variant


def parse(text: str) -> Platform:
    parts = text.lower().split("/")
    os_version = _OS_VERSION.fullmatch(parts[0])
    if os_version:
        parts[0] = os_version.group(1)
    if not text or len(parts) > 3 or any(not _COMPONENT.fullmatch(p) for p in parts):
        raise InvalidPlatform(f"{text!r} is not a platform: use os/arch[/variant], such as "
                              "linux/amd64 or linux/arm/v7")
    if len(parts) == 1:
        os_name = "darwin" if parts[0] == "macos" else parts[0]
        if os_name in _KNOWN_OS:
            return Platform(os_name, native().architecture, native().variant)
        architecture, variant = _arch(parts[0], "")
        if architecture not in _KNOWN_ARCH:
            raise InvalidPlatform(f"{text!r}: unknown operating system or architecture")
        return Platform("linux", architecture, variant)
    os_name = "darwin" if parts[0] == "macos" else parts[0]
    architecture, variant = _arch(parts[1], parts[2] if len(parts) == 3 else "")
    return Platform(os_name, architecture, variant)


def normalised(text: str) -> str:
    """`text` as containerd normalises it (`linux/aarch64` is `linux/arm64`); raises
    InvalidPlatform as `parse` does."""
    return parse(text).format()


def unknown_part(platform: Platform) -> str | None:
    """Why a parsed platform names no real OS, architecture or variant, if it does not: BuildKit
    would take it and fail later (no base image has it, no worker can run it)."""
    if platform.os not in _KNOWN_OS:
        return f"unknown operating system {platform.os!r}"
    if platform.architecture not in _KNOWN_ARCH:
        return f"unknown architecture {platform.architecture!r}"
    known = _KNOWN_VARIANTS.get(platform.architecture, ())
    if platform.variant and platform.variant not in known:
        choice = f"one of {', '.join(known)}" if known else "none"
        return (f"unknown variant {platform.variant!r} of {platform.architecture} "
                f"(known: {choice})")
    return None


def native() -> Platform:
    """This machine's platform, as a local BuildKit reports it (its OS is Linux: BuildKit
    runs Linux workers even on a Mac, in a VM)."""
    architecture, variant = _arch(host.machine().lower() or "amd64", "")
    if architecture.startswith("armv"):
        architecture, variant = "arm", f"v{architecture[4]}"
    return Platform("linux", architecture, variant)
