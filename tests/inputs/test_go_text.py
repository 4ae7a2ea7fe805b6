"""go_text against Go's own tables (path/path_test.go cleantests) and unicode.IsSpace."""

from __future__ import annotations

import pytest

from buildorch.inputs.go_text import clean, trim_space

CLEAN = [
    ("", "."), ("abc", "abc"), ("abc/def", "abc/def"), (".", "."), ("..", ".."),
    ("../..", "../.."), ("../../abc", "../../abc"), ("/abc", "/abc"), ("/", "/"),
    ("abc/", "abc"), ("./", "."), ("../", ".."), ("/abc/", "/abc"),
    ("abc//def//ghi", "abc/def/ghi"), ("//abc", "/abc"), ("///abc", "/abc"),
    ("//abc//", "/abc"), ("abc/./def", "abc/def"), ("/./abc/def", "/abc/def"),
    ("abc/.", "abc"), ("abc/def/ghi/../jkl", "abc/def/jkl"),
    ("abc/def/../ghi/../jkl", "abc/jkl"), ("abc/def/..", "abc"), ("abc/def/../..", "."),
    ("/abc/def/../..", "/"), ("abc/def/../../..", ".."), ("/abc/def/../../..", "/"),
    ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"), ("/../abc", "/abc"),
    ("abc/./../def", "def"), ("abc//./../def", "def"), ("abc/../../././../def", "../../def"),
]


@pytest.mark.parametrize(("path", "cleaned"), CLEAN)
def test_clean_as_go(path: str, cleaned: str) -> None:
    assert clean(path) == cleaned
    assert clean(cleaned) == cleaned


def test_trim_space_uses_go_white_space() -> None:
    assert trim_space("\t\n\v\f\r \x85\xa0\u3000a b\u2028") == "a b"
    assert trim_space("\x1c\x1fa") == "\x1c\x1fa"  # Python's strip() would drop these
    assert trim_space("\u200ba") == "\u200ba"  # zero width space is not White_Space
