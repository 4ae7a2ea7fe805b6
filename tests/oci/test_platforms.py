"""Platforms as containerd's platforms package parses and normalises them
(containerd/platforms platforms.go `Parse`, database.go `normalizeArch`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from buildorch.oci.platforms import InvalidPlatform, parse, unknown_part


@pytest.mark.parametrize(("text", "normal"), [
    ("linux/amd64", "linux/amd64"), ("linux/amd64/v1", "linux/amd64"),
    ("linux/amd64/v3", "linux/amd64/v3"), ("x86_64", "linux/amd64"),
    ("linux/arm64/8", "linux/arm64"), ("linux/arm64/v8", "linux/arm64"),
    ("linux/arm64/v9", "linux/arm64/v9"), ("linux/aarch64", "linux/arm64"),
    ("linux/arm", "linux/arm/v7"), ("linux/arm/6", "linux/arm/v6"),
    ("linux/armhf", "linux/arm/v7"), ("linux/armel", "linux/arm/v6"),
    ("linux/i386", "linux/386"), ("macos/arm64", "darwin/arm64"),
    ("LINUX/ARM64", "linux/arm64"), ("linux/arm64/v8.2", "linux/arm64/v8.2"),
    ("windows(10.0.17763)/amd64", "windows/amd64"), ("arm64", "linux/arm64"),
])
def test_normalised_as_containerd(text: str, normal: str) -> None:
    assert parse(text).format() == normal


@pytest.mark.parametrize("text", ["", "bad//plat", "linux/amd64/v1/x", "linux/a b", "amd64x"])
def test_refused(text: str) -> None:
    with pytest.raises(InvalidPlatform):
        parse(text)


@given(st.text(max_size=30))
def test_any_text_parses_or_is_refused_cleanly(text: str) -> None:
    try:
        parsed = parse(text)
    except InvalidPlatform:
        return
    assert parse(parsed.format()) == parsed  # normalising is idempotent


@pytest.mark.parametrize(("text", "problem"), [
    ("linux/amd64/v9", "unknown variant 'v9' of amd64 (known: one of v2, v3, v4)"),
    ("linux/arm/v9", "unknown variant 'v9' of arm (known: one of v5, v6, v7, v8)"),
    ("linux/s390x/z14", "unknown variant 'z14' of s390x (known: none)"),
    ("linux/amd46", "unknown architecture 'amd46'"),
    ("lnux/amd64", "unknown operating system 'lnux'"),
])
def test_unknown_parts_are_named(text: str, problem: str) -> None:
    assert unknown_part(parse(text)) == problem


@pytest.mark.parametrize("text", ["linux/amd64", "linux/amd64/v1", "linux/amd64/v3",
                                  "linux/arm64/v8", "linux/arm64/v8.2", "linux/arm/7",
                                  "linux/ppc64le/power10", "linux/riscv64/rva22u64",
                                  "darwin/arm64", "windows/amd64", "x86_64"])
def test_real_platforms_have_no_unknown_part(text: str) -> None:
    assert unknown_part(parse(text)) is None
