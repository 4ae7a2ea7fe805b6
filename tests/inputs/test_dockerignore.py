"""Reading `.dockerignore` (moby/patternmatcher ignorefile.ReadAll), finding the one a build
uses (moby/buildkit frontend/dockerui/config.go) and the context walker's matching rules
(tonistiigi/fsutil filter.go), with generated inputs: text and patterns end in patterns or
a ConfigError, never another exception."""

from __future__ import annotations

import fnmatch
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buildorch.errors import ConfigError
from buildorch.inputs.context_files import EntryKind, visible_files
from buildorch.inputs.dockerignore import (
    IgnoreMatcher,
    ignore_file_for,
    parse_ignore,
    read_ignore,
)


def test_read_all_as_upstream() -> None:
    """ignorefile_test.go's TestReadAll."""
    text = ("test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n"
            "! /inverted/abs/path\n!\n! ")
    assert parse_ignore(text) == ("test1", "test2", "a/file/here", "lastfile",
                                  "!inverted/abs/path", "!", "!")


@pytest.mark.parametrize(("text", "patterns"), [
    ("\ufeff# comment\r\n  a/b/ \r\n", ("a/b",)),
    (" # not a comment", ("# not a comment",)),
    ("//a//b/./c/..\n/\n!//x\n", ("a/b", "/", "!x")),
    ("x\u00a0\n\u001fy", ("x", "\u001fy")),  # Go's TrimSpace keeps U+001F
    ("a\n\ufeffb", ("a", "\ufeffb")),  # a BOM is only dropped at the start
    ("../a\n!..", ("../a", "!..")),
])
def test_parse_ignore(text: str, patterns: tuple[str, ...]) -> None:
    assert parse_ignore(text) == patterns


def test_a_line_over_64k_is_refused_as_buildkit_does() -> None:
    assert parse_ignore("a" * 65535) == ("a" * 65535,)
    with pytest.raises(ConfigError, match=r"^x/.dockerignore:2: line too long"):
        parse_ignore("a\n" + "é" * 40000, "x/.dockerignore")


def test_read_ignore_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / ".dockerignore"
    with pytest.raises(ConfigError, match=r"^ctx/.dockerignore: cannot read .*No such file"):
        read_ignore(path, "ctx/.dockerignore")
    path.mkdir()
    with pytest.raises(ConfigError, match=r"^ctx/\.dockerignore: cannot read"):
        read_ignore(path, "ctx/.dockerignore")
    path.rmdir()
    path.write_bytes(b"a\nb\xff\n")
    with pytest.raises(ConfigError, match=r"^ctx/.dockerignore:2: not valid UTF-8 \(byte 0xff\)"):
        read_ignore(path, "ctx/.dockerignore")
    for line, why in (("[a", "syntax error in pattern"), ("!", 'illegal exclusion pattern: "!"'),
                      ("*\\8", "invalid escape"), ("[z-a]*", "syntax error|invalid"),
                      ("[[:nope:]]", "invalid character class")):
        path.write_text(f"ok\n\n{line}\n")
        with pytest.raises(ConfigError, match=rf"^ctx/.dockerignore:3: .*({why})"):
            read_ignore(path, "ctx/.dockerignore")
        with pytest.raises(ConfigError, match=rf"^\.dockerignore: .*({why})") as raised:
            IgnoreMatcher.of([line])
        assert "\n" not in str(raised.value)


def test_ignore_file_beside_the_dockerfile_wins(tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    assert ignore_file_for(context, None) is None
    (context / ".dockerignore").write_text("")
    assert ignore_file_for(context, None) == context / ".dockerignore"
    (context / "Dockerfile.dockerignore").write_text("")
    assert ignore_file_for(context, None) == context / "Dockerfile.dockerignore"
    other = tmp_path / "other" / "api.Dockerfile"
    other.parent.mkdir()
    assert ignore_file_for(context, other) == context / ".dockerignore"
    (other.parent / "api.Dockerfile.dockerignore").mkdir()  # not a file: not read
    assert ignore_file_for(context, other) == context / ".dockerignore"
    (other.parent / "api.Dockerfile.dockerignore").rmdir()
    (other.parent / "api.Dockerfile.dockerignore").write_text("x")
    assert ignore_file_for(context, other) == other.parent / "api.Dockerfile.dockerignore"


def test_the_walker_does_not_apply_an_exception_to_a_parent_it_skipped() -> None:
    """fsutil hands each folder's results down: `!src` was not tried on `src` (nothing had
    matched yet), so it does not re-include `src/lib`'s files, which MatchesOrParentMatches
    alone would (it matches `!src` against the parent folder)."""
    matcher = IgnoreMatcher.of(["src/lib", "!src"])
    assert matcher.excluded("src/lib/deep.py", False)
    assert not matcher.excluded("src/main.py", False)
    assert matcher.excluded("src/lib", True) and not matcher.walks_into("src/lib")


def test_excluded_folders_are_walked_while_an_exception_may_apply() -> None:
    prefix_only = IgnoreMatcher.of(["build", "node_modules", "!build/keep/**"])
    assert prefix_only.has_exceptions and prefix_only.prefix_exceptions_only
    assert prefix_only.walks_into("build") and not prefix_only.walks_into("node_modules")
    assert not prefix_only.excluded("build", True)  # may be sent, as keep's parent
    assert prefix_only.excluded("node_modules", True)
    assert prefix_only.excluded("build/out.bin", False)
    assert not prefix_only.excluded("build/keep/a", False)
    globbed = IgnoreMatcher.of(["build", "node_modules", "!**/keep"])
    assert not globbed.prefix_exceptions_only and globbed.walks_into("node_modules")
    plain = IgnoreMatcher.of(["build"])
    assert not plain.has_exceptions and not plain.walks_into("build")
    assert not plain.excluded("", True) and not plain.excluded(".", True)


SEGMENT = st.text("abc.", min_size=1, max_size=3).filter(lambda s: s not in (".", ".."))
GLOB_SEGMENT = st.text("ab.*?", min_size=1, max_size=4).filter(
    lambda s: s not in (".", "..") and "**" not in s)
PATH = st.lists(SEGMENT, min_size=1, max_size=4).map("/".join)


def reference_excluded(patterns: list[str], path: str) -> bool:
    """Without exceptions, `**` or brackets: a pattern excludes a path when it matches the
    path or one of its folders segment by segment (`*` and `?` never cross a '/')."""
    parts = path.split("/")
    for pattern in patterns:
        wanted = pattern.split("/")
        for depth in range(1, len(parts) + 1):
            if depth == len(wanted) and all(
                    fnmatch.fnmatchcase(p, w) for p, w in zip(parts[:depth], wanted, strict=True)):
                return True
    return False


@given(st.lists(st.lists(GLOB_SEGMENT, min_size=1, max_size=3).map("/".join), max_size=4),
       st.lists(PATH, min_size=1, max_size=8))
def test_simple_globs_agree_with_a_reference(patterns: list[str], paths: list[str]) -> None:
    matcher = IgnoreMatcher.of(patterns)
    for path in paths:
        assert matcher.excluded(path, False) == reference_excluded(patterns, path), path


@given(st.text(max_size=300))
def test_any_text_parses_into_patterns_or_a_config_error(text: str) -> None:
    try:
        patterns = parse_ignore(text)
        matcher = IgnoreMatcher.of(patterns)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    assert all(p and p == p.strip(" \t") for p in patterns)
    matcher.excluded("a/b.txt", False)


PATTERN_PIECE = st.sampled_from(
    ["a", "b", "*", "**", "?", "/", ".", "..", "!", "[", "]", "^", "-", "\\", ":", "[:alpha:]",
     "\\d", "\\x41", "\\101", "é", " ", "{", "$", "(", "|"])
ANY_PATH = st.lists(st.text("ab.*?[]\\é/ -", min_size=1, max_size=5), min_size=1,
                    max_size=4).map("/".join)


@settings(max_examples=300)
@given(st.lists(st.lists(PATTERN_PIECE, max_size=8).map("".join), max_size=5),
       st.lists(ANY_PATH, max_size=5))
def test_generated_patterns_match_or_are_refused_cleanly(patterns: list[str],
                                                        paths: list[str]) -> None:
    try:
        matcher = IgnoreMatcher.of(patterns)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    for path, is_dir in itertools.product(paths, (False, True)):
        assert isinstance(matcher.excluded(path, is_dir), bool)


TREE_PATHS = st.lists(PATH, min_size=1, max_size=8, unique=True)
RULES = st.lists(st.tuples(st.booleans(), st.lists(
    st.sampled_from(["a", "b", "*", "**", "a*", "?", "b.c"]), min_size=1, max_size=3)),
    max_size=4).map(lambda rules: ["!" * bang + "/".join(parts) for bang, parts in rules])


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TREE_PATHS, RULES)
def test_excluded_agrees_with_the_walk(tmp_path_factory: pytest.TempPathFactory,
                                       files: list[str], patterns: list[str]) -> None:
    """`excluded(file)` (one path, its folders matched on the way) says what the walk of a
    real tree (visible_files) leaves out, exceptions and pruning included."""
    root = tmp_path_factory.mktemp("tree")
    written = []
    for name in files:
        path = root / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            continue  # a name already used as a folder (or the other way round)
        written.append(name)
    matcher = IgnoreMatcher.of(patterns)
    seen = {e.path for e in visible_files(root, matcher) if e.kind is EntryKind.FILE}
    for name in written:
        assert matcher.excluded(name, False) == (name not in seen), (name, patterns)
