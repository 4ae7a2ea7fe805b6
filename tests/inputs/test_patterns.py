"""Pattern compilation and matching as moby/patternmatcher does it (patternmatcher.go and
the rows of patternmatcher_test.go that apply on Linux)."""

from __future__ import annotations

import pytest

from buildorch.inputs.patterns import Kind, Pattern, PatternError, compile_pattern, match_path


def pattern(text: str) -> Pattern:
    found = Pattern.parse(text)
    assert found is not None
    return found


@pytest.mark.parametrize(("text", "kind", "expression"), [
    ("docs/readme.md", Kind.EXACT, "^docs/readme\\.md"),
    ("a.b", Kind.EXACT, "^a\\.b"),  # escaped for a regexp never built
    ("docs/**", Kind.PREFIX, "^docs/"),
    ("**/x", Kind.SUFFIX, "^(.*/)?x"),
    ("**", Kind.SUFFIX, "^"),
    ("**/*.go", Kind.REGEXP, "^(.*/)?[^/]*\\.go$"),
    ("a/**/**/b", Kind.REGEXP, "^a/(.*/)?b$"),  # one (.*/)? for two: the same language
    ("a/**/x/**", Kind.REGEXP, "^a/(.*/)?x/.*$"),
    ("\ufeffa*", Kind.REGEXP, "^a[^/]*$"),  # text/scanner drops a leading BOM
    ("a\\", Kind.EXACT, "^a\\"),
])
def test_compile(text: str, kind: Kind, expression: str) -> None:
    assert compile_pattern(text) == (kind, expression)


@pytest.mark.parametrize(("text", "path", "hit"), [
    ("**", "a/b", True), ("**/", "a", True), ("**/a", "a", True), ("**/a", "b/a", True),
    ("**/a", "ba", False), ("**a", "ba", True), ("dir/**", "dir", False),
    ("dir/**", "dir/a", True), ("dir**", "directory/x", True), ("*", "a/b", False),
    ("a?c", "a/c", False), ("a?c", "abc", True), ("[^/]", "/", False),
    ("a\\*b", "a*b", True), ("a\\*b", "ab", False), ("[\\]]", "]", True),
    ("\\a", "a", False), ("\\a", "\a", True),  # Go's regexp reads `\a` as the bell
    ("*\\a", "x\x07", True), ("[[:digit:]]x", "1x", True), ("[[:^digit:]]x", "1x", False),
    ("\\d*", "7abc", True), ("a$b", "a$b", True), ("a+(b)|{c}", "a+(b)|{c}", True),
    ("^a*", "^ab", False), ("a*\n", "ab\n", True), ("a*", "ab\n", True),
    ("a.*", "a.b\n", True), ("**/b", "a\n/b", True), ("a/**/b", "a/x\n/b", False),
    ("\\101*", "Ax", True), ("*\\x41", "xA", True),
    # `|`, `{` and `}` reach Go's regexp unescaped (patternmatcher's escape bitmap)
    ("x*|.md", "docs/a.md", True), ("x*|.md", "xyz/q", True), ("x*|.md", "a.txt", False),
    ("a|b", "a|b", True), ("a|b", "a", False),  # no glob character: an exact match
    ("?{2}", "ab", True), ("?{2}", "abc", False), ("*.{md,txt}", "a.{md,txt}", True),
    ("*.{md,txt}", "a.md", False), ("?{01}", "a{01}", True), ("?{,2}", "a{,2}", True),
    ("\ufeff**/a", "b/a", False), ("\ufeff**", "x¿**", True),  # Go cuts 2 bytes of "\ufeff**"
])
def test_matches(text: str, path: str, hit: bool) -> None:
    assert pattern(text).matches(path) is hit


@pytest.mark.parametrize(("text", "why"), [
    ("!", "illegal exclusion"), ("[", "syntax error"), ("a\\", "syntax error"),
    ("*\\1", "invalid escape"), ("*\\8", "invalid escape"), ("*\\e", "invalid escape"),
    ("*\\C", "invalid escape"), ("*\\pL", "does not support"), ("*\\Q", "does not support"),
    ("[[:word:]x", "missing closing"), ("*\\x4", "invalid escape"),
    ("*{2}", "nested repetition"), ("?|{2}", "missing argument"), ("?{1001}", "repeat count"),
    ("?{3,2}", "repeat count"), ("?{123456789}", "repeat count"),
])
def test_refused(text: str, why: str) -> None:
    with pytest.raises(PatternError, match=why):
        Pattern.parse(text)


def test_blank_and_cleaned() -> None:
    assert Pattern.parse(" \t") is None
    assert pattern(" ./a//b/ ").text == "a/b"
    assert pattern("!a/../b").text == "b" and pattern("!a").exclusion
    assert pattern("!./a").text == "./a"  # New cleans before stripping '!'


def test_match_path_tries_a_pattern_only_while_it_can_change_the_answer() -> None:
    """MatchesUsingParentResults: 'b' is skipped on a/b (nothing excluded yet), so the
    result handed down does not mark it, and a/b/c is not re-included by it."""
    patterns = (pattern("a/b/*"), pattern("!a/b"))
    excluded, info = match_path(patterns, "a/b")
    assert not excluded and info == (False, False)
    assert match_path(patterns, "a/b/c", info) == (True, (True, False))
    # without the walk's results, parent folders are matched (MatchesOrParentMatches)
    assert match_path(patterns, "a/b/c") == (False, (True, True))
    assert match_path((pattern("a"),), "a/b/c") == (True, (True,))
