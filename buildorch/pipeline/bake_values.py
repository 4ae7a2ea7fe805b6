"""The forms bake and compose users write for some fields, turned into one form (pure).

Each function is a pydantic validator: it returns the value in the model's form, or
raises ValueError with a message that names what is wrong.
"""

from __future__ import annotations

import ipaddress
import re

from buildorch.backends.request import AttrSpec
from buildorch.errors import shorten

# docker/go-units RAMInBytes: binary multiples, `b` and `ib` suffixes allowed, any case
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp])?(?:i?b)?$", re.IGNORECASE)
_UNITS = {None: 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
# The limits BuildKit passes to runc (moby/buildkit solver/llbsolver/ops/exec.go, go-units)
ULIMIT_NAMES = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
                "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")
OUTPUT_TYPES = ("local", "tar", "oci", "docker", "image", "cacheonly")
NEEDS_DEST = ("local", "tar", "oci")
# The image export's names and pushing are buildorch's (tags, push, all-or-nothing).
IMAGE_ATTRS_OWNED = ("name", "push", "push-by-digest", "name-canonical", "unpack")


def byte_size(value: object) -> object:
    """`64m`, `1g`, `1024`, `2.5GiB` -> bytes."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return value  # pydantic says what type it wanted
    if isinstance(value, int):
        return value
    match = _SIZE.match(value.strip())
    if not match:
        raise ValueError(f"{shorten(value)!r} is not a size (write bytes, or 64m, 1g)")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower() or None])


def extra_hosts(value: object) -> object:
    """compose's `["host:ip", "host=ip"]` or a mapping -> {host: ip}; each IP checked."""
    pairs: list[tuple[object, object]]
    if isinstance(value, list):
        pairs = [_host_entry(item) for item in value]
    elif isinstance(value, dict):
        pairs = list(value.items())
    else:
        return value
    for host, ip in pairs:
        if isinstance(ip, str) and ip != "host-gateway":
            try:
                ipaddress.ip_address(ip.strip("[]"))
            except ValueError:
                raise ValueError(f"{shorten(host)}: {shorten(ip)!r} is not an IP address") from None
    return dict(pairs)


def _host_entry(item: object) -> tuple[object, object]:
    if not isinstance(item, str):
        raise ValueError("each entry is 'host:ip' or 'host=ip'")
    # `=` first: an IPv6 address holds colons (compose-spec: `myhostv6=::1`)
    host, sep, ip = item.partition("=") if "=" in item else item.partition(":")
    if not sep or not host or not ip:
        raise ValueError(f"{shorten(item)!r}: expected 'host:ip' or 'host=ip'")
    return host, ip


def ulimits(value: object) -> object:
    """bake's `["nofile=1024:2048"]` or compose's `{nofile: 1024}` / `{nofile: {soft, hard}}`
    -> {name: {soft, hard}}; names checked."""
    if isinstance(value, list):
        value = dict(_ulimit_entry(item) for item in value)
    if not isinstance(value, dict):
        return value
    out: dict[object, object] = {}
    for name, limit in value.items():
        if name not in ULIMIT_NAMES:
            raise ValueError(f"unknown ulimit {shorten(name)!r} (known: {', '.join(ULIMIT_NAMES)})")
        out[name] = {"soft": limit, "hard": limit} if isinstance(limit, int | str) else limit
    return out


def _ulimit_entry(item: object) -> tuple[object, object]:
    if not isinstance(item, str):
        raise ValueError("each entry is 'name=soft[:hard]'")
    name, sep, limits = item.partition("=")
    soft, _, hard = limits.partition(":")
    if not sep or not soft:
        raise ValueError(f"{shorten(item)!r}: expected 'name=soft[:hard]'")
    return name, {"soft": soft, "hard": hard or soft}


def check_outputs(values: list[str]) -> list[str]:
    for text in values:
        spec = _spec(text)
        if spec.type == "registry":
            raise ValueError("type=registry pushes at once; write `push: true` (tags are "
                             "published once every image of the run has built)")
        if spec.type not in OUTPUT_TYPES:
            raise ValueError(f"unknown output type {shorten(spec.type)!r} "
                             f"(known: {', '.join(OUTPUT_TYPES)})")
        if spec.type in NEEDS_DEST and not spec.get("dest"):
            raise ValueError(f"type={spec.type} needs dest=")
        owned = [k for k, _ in spec.attrs if k in IMAGE_ATTRS_OWNED]
        if spec.type == "image" and owned:
            raise ValueError(f"type=image takes no {owned[0]}= here: names come from `tags`, "
                             "pushing from `push`")
    if sum(_spec(t).type == "image" for t in values) > 1:
        raise ValueError("one type=image output at most")
    return values


def check_attests(values: list[str]) -> list[str]:
    for text in values:
        spec = _spec(text)
        if spec.type not in ("sbom", "provenance"):
            raise ValueError(f"unknown attestation type {shorten(spec.type)!r} "
                             "(known: sbom, provenance)")
        mode = spec.get("mode")
        if spec.type == "provenance" and mode not in (None, "min", "max"):
            raise ValueError(f"provenance mode {shorten(mode)!r}: use min or max")
        if spec.get("disabled") not in (None, "true", "false"):
            raise ValueError("disabled= takes true or false")
    return values


def _spec(text: str) -> AttrSpec:
    try:
        return AttrSpec.parse(text)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
