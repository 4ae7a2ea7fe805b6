"""Go regexp syntax (regexp/syntax parse.go, perl_groups.go) rewritten for Python's re: the
pieces patternmatcher passes through (brackets, escapes, ^ and $)."""

from __future__ import annotations

import re

import pytest

from buildorch.inputs.go_regexp import GoRegexpError, complement, to_python


def full(expression: str, text: str) -> bool:
    return re.search(to_python(expression), text, re.ASCII) is not None


@pytest.mark.parametrize(("expression", "text", "hit"), [
    ("^a$", "a\n", False),  # Go's $ is the end of the text, Python's $ is not
    ("^a$", "a", True), ("^[[:alpha:]]$", "x", True), ("^[[:alpha:]]$", "1", False),
    ("^[[:^alpha:]]$", "1", True), ("^[^[:alpha:]]$", "é", True), ("^[[:word:]]$", "_", True),
    ("^\\s$", "\v", False), ("^[\\s]$", "\f", True), ("^\\S$", "\v", True),
    ("^[\\S]$", " ", False), ("^\\d$", "٣", False),  # ASCII digits only
    ("^\\w\\W$", "é", False), ("^[\\D]$", "x", True), ("^\\x41\\101\\0$", "AA\0", True),
    ("^[\\x41-\\x43]$", "B", True), ("^[]a]$", "]", True), ("^[^]a]$", "b", True),
    ("^[a-]$", "-", True), ("^[[a]$", "[", True), ("^[a[^/]*]$", "[[]", True),
    ("^a\\b$", "a", True), ("^\\Aa\\z$", "a", True), ("^x^y$", "x^y", False),
    ("^\\.\\+\\(\\)\\|\\{\\}\\$\\_$", ".+()|{}$_", True), ("^(.*/)?b$", "a/b", True),
    ("^a|b$", "xb", True), ("^a|b$", "bx", False), ("^a{2}$", "aa", True),
    ("^a{2,}$", "aaa", True), ("^a{1,2}$", "aaa", False), ("^a{01}$", "a{01}", True),
    ("^a{,2}$", "a{,2}", True), ("^a{2$", "a{2", True), ("^}$", "}", True),
    ("^{2}a$", "a", True),  # Go repeats an empty-width ^ where Python's re would refuse
])
def test_meaning(expression: str, text: str, hit: bool) -> None:
    assert full(expression, text) is hit


@pytest.mark.parametrize(("expression", "why"), [
    ("^[a", "missing closing"), ("^[z-a]$", "range"), ("^[[:nope:]]$", "invalid character"),
    ("^\\", "trailing backslash"), ("^\\1$", "invalid escape"), ("^\\9$", "invalid escape"),
    ("^\\xZZ$", "invalid escape"), ("^\\pL$", "does not support"), ("^[\\p{L}]$", "support"),
    ("^\\C$", "invalid escape"), ("^\\Qa\\E$", "does not support"), ("^[\\b]$", "invalid"),
    ("^\\é$", "invalid escape"), ("^a|{2}$", "missing argument"),
    ("^a*{2}$", "nested repetition"), ("^(.*/)?{2}$", "nested"), ("^a{1001}$", "count"),
])
def test_refused(expression: str, why: str) -> None:
    with pytest.raises(GoRegexpError, match=why):
        to_python(expression)


def test_complement() -> None:
    assert complement(((0x30, 0x39),)) == ((0, 0x2F), (0x3A, 0x10FFFF))
    assert complement(((0, 5), (3, 0x10FFFF))) == ()
