"""Shell-word expansion as BuildKit's shell.Lex does it: examples and properties."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from buildorch.dockerfiles.shell_words import LexError, expand_word


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("plain", "plain"),
        ("$A-$B", "1-"),
        ("${A}x", "1x"),
        ("${E:-d} ${E-d} ${U-d}", "d  d"),
        ("${E:+a}|${E+a}|${A:+a}|${U+a}", "|a|a|"),
        ("${A:?no}", "1"),
        ("'$A' \"$A\" \\$A", "$A 1 $A"),
        ('"a\\"b\\c"', 'a"b\\c'),
        ("${U:-${A}}", "1"),
        ("$ $1 $@", "$  "),
    ],
)
def test_expand_word(word: str, expected: str) -> None:
    assert expand_word(word, {"A": "1", "E": ""}) == expected


# moby/buildkit frontend/dockerfile/shell/lex_test.go TestProcessWithMatches
PATTERN_CASES = [
    ("${FOO#()[]{\\}^$.\\*\\?|\\\\}", {"FOO": "()[]{}^$.*?|\\x"}, "x"),
    ("${FOO%%\\**}", {"FOO": "xx**"}, "xx"),
    ("${FOO#*x*y}", {"FOO": "xxyy"}, "y"),
    ("${FOO#*}", {"FOO": "xxyy"}, "xxyy"),
    ("${FOO#$BAR}", {"FOO": "xxyy", "BAR": "x"}, "xyy"),
    ("${FOO#$BAR}", {"FOO": "xxyy", "BAR": ""}, "xxyy"),
    ("${FOO#}", {"FOO": "xxyy"}, "xxyy"),
    ("${FOO##*x}", {"FOO": "xxyy"}, "yy"),
    ("${FOO##}", {"FOO": "xxyy"}, "xxyy"),
    ("${FOO#?\\?}", {"FOO": "???y"}, "?y"),
    ("${ABC:-.}${FOO%x}${ABC:-.}", {"FOO": "xxyy"}, ".xxyy."),
    ("${FOO%%\\**\\*}", {"FOO": "a***yy*"}, "a"),
    ("${FOO%}", {"FOO": "xxyy"}, "xxyy"),
    ("${FOO%%$BAR}", {"FOO": "xxyy", "BAR": ""}, "xxyy"),
    ("${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}", {"FOO": "/foo*/*/*.txt", "NEEDLE": "\\*/"},
     "/foo.*/*.txt - /foo..*.txt"),
    ("${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}", {"FOO": "/tmp/tmp/bar.txt", "NEEDLE": "/tmp"},
     "/tmp/bar.txt - /bar.txt"),
    ("${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
     {"FOO": "/a/foo/b/c.txt", "NEEDLE": "/?/", "REPLACEMENT": "/"},
     "/foo/b/c.txt - /foo/c.txt"),
    ("${FOO/$NEEDLE/$REPLACEMENT}",
     {"FOO": "http://google.de", "NEEDLE": "http://", "REPLACEMENT": "https://"},
     "https://google.de"),
    ("${FOO//\\//\\/}", {"FOO": "/tmp/foo.txt"}, "\\/tmp\\/foo.txt"),
    ("${FOO/$BAR/ww}", {"FOO": "xxyy", "BAR": ""}, "wwxxyy"),
    ("${FOO///}", {"FOO": "xxyy"}, "xxyy"),
    ("${FOO///}", {}, ""),
    # the common real-world uses
    ("${GO_VERSION%.*}", {"GO_VERSION": "1.22.3"}, "1.22"),
    ("${TARGETPLATFORM//\\//-}", {"TARGETPLATFORM": "linux/arm/v7"}, "linux-arm-v7"),
]
PATTERN_ERRORS = ["${FOO:#}", "${FOO:##}", "${FOO:%}", "${FOO:%%}", "${FOO//ww}",
                  "${FOO//}", "${FOO=aaa}", "${FOO=:aaa}", "${FOO=}"]


@pytest.mark.parametrize(("word", "env", "expected"), PATTERN_CASES)
def test_pattern_substitutions_as_buildkit(word: str, env: dict[str, str],
                                           expected: str) -> None:
    assert expand_word(word, env) == expected


@pytest.mark.parametrize("word", PATTERN_ERRORS)
def test_pattern_substitutions_buildkit_refuses(word: str) -> None:
    with pytest.raises(LexError):
        expand_word(word, {"FOO": "xxyy"})


def test_expand_word_with_backtick_escape() -> None:
    assert expand_word("`$A\\", {"A": "1"}, "`") == "$A\\"


# -- properties ----------------------------------------------------------------------------

ESCAPES = st.sampled_from(["\\", "`"])
# Text with nothing the lexer treats specially, whichever the escape character.
PLAIN = st.text(st.characters(blacklist_characters="$'\"\\`"))
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]*", fullmatch=True)
ENVS = st.dictionaries(NAMES, st.text(), max_size=4)


@given(PLAIN, ENVS, ESCAPES)
def test_words_without_quotes_dollars_or_escapes_are_unchanged(
    word: str, env: dict[str, str], escape: str,
) -> None:
    assert expand_word(word, env, escape) == word


@given(st.text(st.characters(blacklist_characters="'")), ENVS, ESCAPES)
def test_single_quotes_keep_their_text_literally(
    text: str, env: dict[str, str], escape: str,
) -> None:
    assert expand_word(f"'{text}'", env, escape) == text


@given(PLAIN, ENVS, ESCAPES)
def test_double_quotes_are_removed(text: str, env: dict[str, str], escape: str) -> None:
    assert expand_word(f'"{text}"', env, escape) == text


@given(st.text(), ENVS, ESCAPES)
def test_escaping_every_character_keeps_each_literally(
    text: str, env: dict[str, str], escape: str,
) -> None:
    assert expand_word("".join(escape + ch for ch in text), env, escape) == text


@given(NAMES, st.none() | st.text(), st.text(st.characters(blacklist_characters="$'\"\\`}")),
       ESCAPES)
def test_variables_and_modifiers_expand_like_a_posix_shell(
    name: str, value: str | None, word: str, escape: str,
) -> None:
    env = {} if value is None else {name: value}
    unset, empty = value is None, value is None or value == ""
    assert expand_word(f"${name}", env, escape) == (value or "")
    assert expand_word(f"${{{name}}}", env, escape) == (value or "")
    assert expand_word(f"${{{name}-{word}}}", env, escape) == (word if unset else value)
    assert expand_word(f"${{{name}:-{word}}}", env, escape) == (word if empty else value)
    assert expand_word(f"${{{name}+{word}}}", env, escape) == ("" if unset else word)
    assert expand_word(f"${{{name}:+{word}}}", env, escape) == ("" if empty else word)
    for modifier, fails in (("?", unset), (":?", empty)):
        if fails:
            with pytest.raises(LexError, match=f"^{re.escape(name)}: "):
                expand_word(f"${{{name}{modifier}{word}}}", env, escape)
        else:
            assert expand_word(f"${{{name}{modifier}{word}}}", env, escape) == value


@given(st.text(st.sampled_from("$'\"\\`{}:-+?#@!*0aB_ ")), ENVS, ESCAPES)
def test_any_word_expands_or_fails_with_a_lex_error(
    word: str, env: dict[str, str], escape: str,
) -> None:
    try:
        assert isinstance(expand_word(word, env, escape), str)
    except LexError as exc:
        assert str(exc)
