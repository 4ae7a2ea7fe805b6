"""The forms bake and compose users write for some fields, turned into one form (pure).

Each function is a pydantic validator: it returns the value in the model's form, or
raises ValueError with a message that names what is wrong.
"""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal

from buildorch.backends.flags import HOST_GATEWAY
from buildorch.backends.request import AttrSpec
from buildorch.errors import shorten

# docker/go-units RAMInBytes: binary multiples, `b` and `ib` suffixes allowed, any case
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp])?(?:i?b)?$", re.IGNORECASE)
_UNITS = {None: 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
# The limits BuildKit passes to runc (moby/buildkit solver/llbsolver/ops/exec.go, go-units)
INT64_MAX = (1 << 63) - 1
_INTEGER = re.compile(r"[+-]?[0-9]+")  # strconv.ParseInt, base 10
ULIMIT_NAMES = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
                "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")
OUTPUT_TYPES = ("local", "tar", "oci", "docker", "image", "cacheonly")
NEEDS_DEST = ("local", "tar", "oci")
# The image export's names and pushing are buildorch's (tags, push, all-or-nothing).
IMAGE_ATTRS_OWNED = ("name", "push", "push-by-digest", "name-canonical", "unpack")


def byte_size(value: object) -> object:
    """`64m`, `1g`, `1024`, `2.5GiB` -> bytes, as go-units RAMInBytes reads them; a number
    without a unit is a whole number of bytes (RAMInBytes would read `1.5` as 1 byte)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return value  # pydantic says what type it wanted
    if isinstance(value, float):
        value = repr(value)  # YAML's 1.5 (the loader keeps the text as written anyway)
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(value.strip())
        if not match:
            raise ValueError(f"{shorten(value)!r} is not a size (write bytes, or 64m, 1g)")
        number, unit = match.group(1), (match.group(2) or "").lower() or None
        if unit is None and "." in number:
            raise ValueError(f"{shorten(value)!r} is not a whole number of bytes: give a unit "
                             "(1.5m, 1.5g)")
        size = int(Decimal(number) * _UNITS[unit])  # go-units truncates fractions of a byte
    if size > INT64_MAX:
        raise ValueError(f"{shorten(value)!r} is more than the largest size, {INT64_MAX} bytes")
    return size


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
        if isinstance(ip, str) and (problem := _ip_problem(ip)):
            raise ValueError(f"{shorten(host)}: {shorten(ip)!r} {problem}")
    return dict(pairs)


def _ip_problem(ip: str) -> str | None:
    """What BuildKit's dockerui (Go's net.ParseIP) refuses: anything but a plain IPv4 or IPv6
    address (no brackets, no zone); `host-gateway` is buildx's name for the host."""
    if ip == HOST_GATEWAY:
        return None
    if "[" in ip or "]" in ip:
        return "is not an IP address: write it without brackets"
    if "%" in ip:
        return "is not an IP address: BuildKit takes no zone (%...)"
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return "is not an IP address"
    return None


def _host_entry(item: object) -> tuple[object, object]:
    if not isinstance(item, str):
        raise ValueError("each entry is 'host:ip' or 'host=ip'")
    # `=` first: an IPv6 address holds colons (compose-spec: `myhostv6=::1`)
    host, sep, ip = item.partition("=") if "=" in item else item.partition(":")
    if not sep or not host or not ip:
        raise ValueError(f"{shorten(item)!r}: expected 'host:ip' or 'host=ip'")
    # compose-spec's list form writes an IPv6 address in brackets (`myhostv6=[::1]`), which
    # compose strips; BuildKit takes the bare address
    if ip.startswith("[") and ip.endswith("]") and len(ip) > 2:
        ip = ip[1:-1]
    return host, ip


def ulimits(value: object) -> object:
    """bake's `["nofile=1024:2048"]` or a mapping -> {name: limits}; names checked (each
    limit by `ulimit_limits`)."""
    if isinstance(value, list):
        value = dict(_ulimit_entry(item) for item in value)
    if not isinstance(value, dict):
        return value
    for name in value:
        if name not in ULIMIT_NAMES:
            raise ValueError(f"unknown ulimit {shorten(name)!r} (known: {', '.join(ULIMIT_NAMES)})")
    return value


def _ulimit_entry(item: object) -> tuple[object, object]:
    if not isinstance(item, str):
        raise ValueError("each entry is 'name=soft[:hard]'")
    name, sep, limits = item.partition("=")
    if not sep or not limits:
        raise ValueError(f"{shorten(item)!r}: expected 'name=soft[:hard]'")
    return name, limits


def ulimit_limits(limit: object) -> object:
    """compose's `1024`, `"1024:2048"` or `{soft, hard}` -> {soft, hard}, checked as go-units
    ParseUlimit does (64-bit numbers, soft at most hard), -1 being unlimited."""
    if isinstance(limit, str):
        parts = limit.split(":")
        if len(parts) > 2:
            raise ValueError(f"{shorten(limit)!r}: expected 'soft[:hard]'")
        soft, hard = parts[0], parts[-1]
        limits: dict[str, object] = {"soft": soft, "hard": hard}
    elif isinstance(limit, dict):
        limits = dict(limit)  # a key missing or unknown: the model says so
    else:
        limits = {"soft": limit, "hard": limit}
    for key in ("soft", "hard"):
        if key in limits:
            limits[key] = _limit(limits[key])
    soft_value, hard_value = limits.get("soft"), limits.get("hard")
    if isinstance(soft_value, int) and isinstance(hard_value, int) and (
            _rank(soft_value) > _rank(hard_value)):
        raise ValueError(f"soft limit {_shown_limit(soft_value)} is above hard limit "
                         f"{_shown_limit(hard_value)}")
    return limits


def _limit(value: object) -> object:
    """A limit as go-units reads it (strconv.ParseInt, 64 bits); -1 is unlimited."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        shown = str(value).lower() if isinstance(value, bool) else shorten(value)
        raise ValueError(f"expected a number (-1: unlimited) or 'soft:hard', got {shown}")
    if isinstance(value, str):
        if not _INTEGER.fullmatch(value):
            raise ValueError(f"{shorten(value)!r} is not a number (-1: unlimited)")
        value = int(value)
    if value < -1:
        raise ValueError(f"{value} is no limit (a number of 0 or more, -1: unlimited)")
    if value > INT64_MAX:
        raise ValueError(f"{shorten(value)} is above the largest limit, {INT64_MAX}")
    return value


def _rank(limit: int) -> int:
    return INT64_MAX + 1 if limit == -1 else limit  # -1: unlimited, above any number


def _shown_limit(limit: int) -> str:
    return "-1 (unlimited)" if limit == -1 else str(limit)


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
        if spec.get("dest") == "-":
            raise ValueError("dest=- writes to standard output, which buildorch keeps as the "
                             "build log: give a file or folder")
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
    """`text` as buildx reads it: CSV as Go's encoding/csv parses it (which refuses quotes
    that Python's csv module lets through), then `key=value` fields."""
    if problem := _csv_quote_problem(text):
        raise ValueError(f"{shorten(text)!r}: {problem} (a field with a comma is quoted "
                         'whole: "dest=a,b")')
    return AttrSpec.parse(text)  # its ValueError is pydantic's message


def _csv_quote_problem(text: str) -> str | None:
    """What Go's encoding/csv (LazyQuotes off) refuses in one record: a quote inside a field
    that does not start with one (ErrBareQuote), and a quoted field that is not closed or
    goes on after its closing quote (ErrQuote)."""
    i = 0
    while True:
        if text.startswith('"', i):
            i += 1
            while True:
                end = text.find('"', i)
                if end < 0:
                    return "a quoted field is not closed"
                if text.startswith('""', end):  # a quote inside a quoted field
                    i = end + 2
                    continue
                if end + 1 == len(text):
                    return None
                if text[end + 1] != ",":
                    return "a quoted field goes on after its closing quote"
                i = end + 2
                break
        else:
            comma = text.find(",", i)
            field = text[i:] if comma < 0 else text[i:comma]
            if '"' in field:
                return "a quote inside a field that does not start with one"
            if comma < 0:
                return None
            i = comma + 1
