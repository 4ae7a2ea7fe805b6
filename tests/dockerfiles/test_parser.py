"""parse_dockerfile and load_dockerfile: BuildKit's Go parser, its errors, reading files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from buildorch.dockerfiles.parser import load_dockerfile
from buildorch.errors import ConfigError
from tests.dockerfiles.parse_helpers import MULTI_STAGE, config_error, edges, parse


def test_line_continuations_in_run_mount_flags() -> None:
    text = (
        "FROM a AS tools\n"
        "FROM b\n"
        "RUN --mount=type=cache,target=/c \\\n"
        "    --mount=type=bind,from=tools,target=/t \\\n"
        "    make\n"
        "FROM tools AS last\n"
    )
    assert edges(text) == ((0, 1, "mount", 3), (0, 2, "from", 6))


# -- heredocs ------------------------------------------------------------------------------


def test_heredoc_bodies_do_not_create_stages_or_references() -> None:
    text = (
        "FROM a AS one\n"
        "RUN <<EOF\n"
        "FROM evil AS two\n"
        "COPY --from=one /x /y\n"
        "EOF\n"
        "COPY <<-EOT /etc/conf\n"
        "\tRUN --mount=type=bind,from=one,target=/x\n"
        "\tEOT\n"
        "FROM one AS three\n"
    )
    info = parse(text)
    assert [(s.name, s.line) for s in info.stages] == [("one", 1), ("three", 9)]
    assert info.stage_edges() == ((0, 1, "from", 9),)


# -- errors --------------------------------------------------------------------------------


def test_parser_syntax_error() -> None:
    error = config_error("FROM a\nRUN <<EOF\necho\n")
    assert error.message == "Dockerfile syntax error: unterminated heredoc"
    assert error.file == "Dockerfile.x"


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_dockerfile(text: str) -> None:
    error = config_error(text)
    assert (error.message, error.file) == ("Dockerfile is empty (no instructions)", "Dockerfile.x")


def test_bom_in_text_is_ignored() -> None:
    info = parse("\ufeff# escape=`\nFROM a\n")
    assert (info.escape, info.stages[0].line) == ("`", 2)


# -- load_dockerfile -----------------------------------------------------------------------


def test_load_dockerfile_reads_utf8_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"\xef\xbb\xbf# syntax=docker/dockerfile:1\nFROM alpine AS caf\xc3\xa9\n")
    with pytest.raises(ConfigError, match="invalid name for build stage"):
        load_dockerfile(path)
    path.write_bytes(b"\xef\xbb\xbf# syntax=docker/dockerfile:1\nARG X=\xc3\xa9\nFROM a\n")
    info = load_dockerfile(path, display_path="svc/Dockerfile")
    assert (info.path, info.syntax, info.global_args["X"]) == (
        "svc/Dockerfile", "docker/dockerfile:1", "\u00e9",
    )


def test_load_dockerfile_passes_build_args(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("ARG TAG=1\nFROM a:$TAG\n", encoding="utf-8")
    assert load_dockerfile(path, {"TAG": "2"}).stages[0].base == "a:2"
    assert load_dockerfile(path).path == str(path)


def test_load_missing_dockerfile(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_dockerfile(tmp_path / "nope", display_path="svc/Dockerfile")
    assert caught.value.message == "Dockerfile not found: svc/Dockerfile"
    assert caught.value.file == "svc/Dockerfile"


def test_load_unreadable_dockerfile(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read Dockerfile") as caught:
        load_dockerfile(tmp_path)  # a directory
    assert caught.value.file == str(tmp_path)


def test_load_non_utf8_dockerfile_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM a\nRUN echo \xff\n")
    with pytest.raises(ConfigError, match="not valid UTF-8") as caught:
        load_dockerfile(path)
    assert caught.value.line == 2


# -- properties ----------------------------------------------------------------------------

FILLER = st.sampled_from(["", "# a comment", "   ", "\t# indented comment", "#syntax=no/t:1"])


@settings(deadline=None)  # the first parse loads the Go parser
@given(st.lists(st.tuples(st.integers(2, MULTI_STAGE.count("\n")), FILLER), max_size=6))
def test_blank_lines_and_comments_only_shift_line_numbers(
    inserts: list[tuple[int, str]],
) -> None:
    lines = MULTI_STAGE.splitlines()
    added = [0] * (len(lines) + 1)  # lines inserted before line n (1-based)
    for after, filler in sorted(inserts, reverse=True):
        lines.insert(after, filler)
    for after, _filler in inserts:
        for line in range(after + 1, len(added)):
            added[line] += 1
    info, plain = parse("\n".join(lines) + "\n"), parse(MULTI_STAGE)
    assert (info.syntax, info.escape, info.global_args) == (
        plain.syntax, plain.escape, plain.global_args,
    )
    assert info.stages == tuple(replace(s, line=s.line + added[s.line]) for s in plain.stages)
    assert info.references == tuple(
        replace(r, line=r.line + added[r.line]) for r in plain.references
    )


@settings(deadline=None)
@example("\\")
@example("FROM a\n\\")
@given(st.text() | st.text(st.sampled_from("FROM a\n\t AS copy --from=$\\`'\"#<EOF=x1")))
def test_any_text_parses_or_fails_with_a_config_error(text: str) -> None:
    try:
        info = parse(text)
    except ConfigError as exc:
        assert exc.message
        assert exc.file == "Dockerfile.x"
    else:
        assert info.stages


def test_a_line_holding_only_the_escape_character_is_an_error_on_its_line() -> None:
    with pytest.raises(ConfigError, match="empty instruction") as err:
        parse("FROM a\nRUN true\n\\\n")
    assert err.value.line == 3
