"""Which patterns Go's filepath.Match refuses (ErrBadPattern), as patternmatcher's `New`
checks them: Go's match_test.go bad-pattern rows, and well-formed ones."""

from __future__ import annotations

import pytest

from buildorch.inputs.go_glob import is_valid_glob


@pytest.mark.parametrize("pattern", [
    "[", "[^", "[^bc", "a[", "[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "[\\",
    "[a-\\", "a[b-", "[]", "[^]", "*[a", "[a-z-]", "a\\", ".\\", "**\\", "b["])
def test_bad_patterns(pattern: str) -> None:
    assert not is_valid_glob(pattern)


@pytest.mark.parametrize("pattern", [
    "", "abc", "*", "a*b*c", "[a-z]", "[^a]", "[\\]a]", "[\\-]", "[*]", "[[:alpha:]]",
    "a\\*b", "**/x", "[z-a]", "]]", "?", "é[é-ü]",
    # Match stops at the first chunk that cannot match ".": what follows goes unchecked
    "x*\\", "a*[", "*..*\\*\\[_\\"])
def test_good_patterns(pattern: str) -> None:
    assert is_valid_glob(pattern)
