"""Parser directives `# syntax=` and `# escape=`, and the escape's effect on parsing."""

from __future__ import annotations

from tests.dockerfiles.parse_helpers import parse


def test_syntax_directive_is_recorded() -> None:
    info = parse("# syntax=docker/dockerfile:1.7\nFROM a\n")
    assert (info.syntax, info.escape) == ("docker/dockerfile:1.7", "\\")


def test_syntax_directive_after_a_shebang_counts() -> None:
    assert parse("#!/usr/bin/env buildctl\n#syntax = x/y:1\nFROM a\n").syntax == "x/y:1"


def test_directives_only_count_at_the_very_top() -> None:
    info = parse("# a comment\n# syntax=docker/dockerfile:1\n# escape=`\nFROM a\n")
    assert (info.syntax, info.escape) == (None, "\\")
    assert parse("\n# syntax=docker/dockerfile:1\nFROM a\n").syntax is None
    assert parse("FROM a\n# syntax=docker/dockerfile:1\n").syntax is None


# -- the escape character ------------------------------------------------------------------


def test_backtick_escape_continues_lines_and_keeps_line_numbers() -> None:
    text = (
        "# escape=`\n"
        "FROM mcr.microsoft.com/windows/servercore AS build\n"
        "RUN powershell -Command `\n"
        "    Write-Host C:\\path\\ `\n"
        "    done\n"
        "FROM build AS final\n"
    )
    info = parse(text)
    assert info.escape == "`"
    assert [(s.name, s.line) for s in info.stages] == [("build", 2), ("final", 6)]
    assert info.stage_edges() == ((0, 1, "from", 6),)


def test_backslash_does_not_continue_with_backtick_escape() -> None:
    # The "\" ends the RUN, so "FROM b" on the next line really is an instruction.
    info = parse("# escape=`\nFROM a\nRUN dir c:\\\nFROM b\n")
    assert [s.line for s in info.stages] == [2, 4]


def test_a_directive_needs_ascii_whitespace_like_buildkits_regexp() -> None:
    # Go's `\s` is ASCII: a non-breaking space keeps the line a plain comment
    assert parse("#\u00a0escape=`\nFROM a\n").escape == "\\"
    assert parse("# escape=`\nFROM a\n").escape == "`"
