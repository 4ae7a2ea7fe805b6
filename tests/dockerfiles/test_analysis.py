"""Tests for buildorch.dockerfile_analysis (real parser, no mocks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildorch.dockerfiles.analysis import (
    DockerfileInfo,
    Reference,
    Stage,
    expand_word,
    load_dockerfile,
    parse_dockerfile,
)
from buildorch.errors import ConfigError

MULTI_STAGE = """\
# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
RUN --mount=type=cache,target=/root/.cache/go-build go build -o /out/app .

FROM alpine:3.20 AS runtime
COPY --from=build /out/app /app

FROM runtime AS test
RUN --mount=type=bind,from=tools,target=/t /t/run

FROM scratch AS unused
COPY --from=docker.io/library/busybox /bin/sh /sh
"""


def parse(text: str, **build_args: str) -> DockerfileInfo:
    return parse_dockerfile(text, "Dockerfile.x", build_args)


def config_error(text: str, **build_args: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse(text, **build_args)
    return caught.value


def edges(text: str) -> tuple[tuple[int, int, str, int], ...]:
    return parse(text).stage_edges()


# -- stages ----------------------------------------------------------------------------------


def test_stages_have_index_lowercased_name_base_line_and_platform() -> None:
    info = parse("FROM alpine AS Build\nRUN true\nFROM --platform=linux/arm64 debian\n")
    assert info.stages == (
        Stage(0, "build", "alpine", 1, None),
        Stage(1, None, "debian", 3, "linux/arm64"),
    )


def test_as_keyword_and_instruction_may_be_any_case() -> None:
    info = parse("from a as One\nFrOm b aS two\nFROM c As three\n")
    assert [s.name for s in info.stages] == ["one", "two", "three"]


def test_stage_names_lists_named_stages_in_order() -> None:
    info = parse("FROM a AS x\nFROM b\nFROM c AS y\n")
    assert info.stage_names() == ("x", "y")


def test_platform_is_kept_unexpanded() -> None:
    info = parse("FROM --platform=$BUILDPLATFORM a AS b\n")
    assert info.stages[0].platform == "$BUILDPLATFORM"


def test_from_base_is_quote_processed_like_buildkit() -> None:
    assert parse('FROM "alpine:3.20" AS b\n').stages[0].base == "alpine:3.20"


# -- edges between stages ------------------------------------------------------------------


def test_from_an_earlier_stage_is_an_edge() -> None:
    assert edges("FROM a AS base\nFROM base AS app\n") == ((0, 1, "from", 2),)


def test_from_a_stage_defined_later_is_an_image_not_a_stage() -> None:
    info = parse("FROM later AS first\nFROM alpine AS later\n")
    assert info.stage_edges() == ()
    assert Reference("from", "later", 1, 0) in info.external_references("first")


def test_from_matches_stage_names_case_sensitively() -> None:
    # BuildKit looks FROM's argument up as written among lower-cased stage names.
    assert edges("FROM a AS build\nFROM Build\n") == ()


def test_from_own_name_is_an_image() -> None:
    info = parse("FROM node AS node\n")
    assert info.stage_edges() == ()
    assert info.stages[0].base == "node"


def test_copy_from_a_stage_with_other_flags() -> None:
    text = "FROM a AS build\nFROM b\nCOPY --chown=1:1 --link --from=build /x /y\n"
    assert edges(text) == ((0, 1, "copy", 3),)


def test_copy_from_is_case_insensitive() -> None:
    assert edges("FROM a AS build\nFROM b\nCOPY --from=BUILD /x /y\n") == ((0, 1, "copy", 3),)


def test_copy_from_numeric_index() -> None:
    assert edges("FROM a\nFROM b\nCOPY --from=0 /x /y\n") == ((0, 1, "copy", 3),)


def test_copy_from_an_image_is_a_reference_but_not_an_edge() -> None:
    info = parse("FROM a\nCOPY --from=nginx:1.27 /etc/nginx /etc/nginx\n")
    assert info.stage_edges() == ()
    assert info.references[-1] == Reference("copy", "nginx:1.27", 2, 0)


def test_copy_with_empty_from_copies_the_context() -> None:
    assert parse("FROM a\nCOPY --from= x /y\n").references == (Reference("from", "a", 1, 0),)


def test_add_from_is_not_a_reference() -> None:
    # ADD has no --from in BuildKit (the build fails with "Unknown flag: from").
    assert parse("FROM a AS b\nFROM c\nADD --from=b /x /y\n").stage_edges() == ()


def test_onbuild_copy_from_is_not_a_reference_of_this_build() -> None:
    assert parse("FROM a AS b\nFROM c\nONBUILD COPY --from=b /x /y\n").stage_edges() == ()


def test_run_mount_from_bind_and_cache() -> None:
    text = (
        "FROM a AS tools\nFROM b AS cache\nFROM c\n"
        "RUN --mount=type=bind,from=tools,source=/bin,target=/t "
        "--mount=type=cache,from=cache,target=/c true\n"
    )
    assert edges(text) == ((0, 2, "mount", 4), (1, 2, "mount", 4))


def test_mount_source_and_secret_are_not_references() -> None:
    text = (
        "FROM a AS src\nFROM b\n"
        "RUN --mount=type=bind,source=src,target=/x --mount=type=secret,id=tok "
        "--mount=type=cache,target=/c true\n"
    )
    assert parse(text).references == (
        Reference("from", "a", 1, 0), Reference("from", "b", 2, 1),
    )


def test_mount_keys_are_case_insensitive_and_may_be_quoted() -> None:
    text = 'FROM a AS s\nFROM b\nRUN --mount=type=bind,"FROM=s",target=/x true\n'
    assert edges(text) == ((0, 1, "mount", 3),)


def test_mount_from_numeric_is_a_name_not_an_index() -> None:
    # BuildKit resolves a mount's from= by name only, so "0" is an image reference.
    info = parse("FROM a\nFROM b\nRUN --mount=type=bind,from=0,target=/x true\n")
    assert info.stage_edges() == ()
    assert Reference("mount", "0", 3, 1) in info.external_references(None)


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


def test_duplicate_stage_names_resolve_like_buildkit() -> None:
    # FROM sees the latest earlier definition; COPY --from the last one in the file.
    text = "FROM a AS x\nFROM x AS y\nFROM b AS x\nFROM c\nCOPY --from=x /p /p\n"
    assert edges(text) == ((0, 1, "from", 2), (2, 3, "copy", 5))


def test_references_record_their_stage_and_line() -> None:
    info = parse(MULTI_STAGE)
    assert info.references == (
        Reference("from", "golang:1.22", 3, 0),
        Reference("from", "alpine:3.20", 7, 1),
        Reference("copy", "build", 8, 1),
        Reference("from", "runtime", 10, 2),
        Reference("mount", "tools", 11, 2),
        Reference("from", "scratch", 13, 3),
        Reference("copy", "docker.io/library/busybox", 14, 3),
    )


# -- target, needed stages, external references --------------------------------------------


def test_target_none_or_empty_is_the_last_stage() -> None:
    info = parse(MULTI_STAGE)
    assert info.target_stage(None).name == "unused"
    assert info.target_stage("").name == "unused"


def test_target_by_name_is_case_insensitive() -> None:
    assert parse(MULTI_STAGE).target_stage("Runtime").index == 1


def test_unknown_target_lists_the_stages() -> None:
    info = parse("FROM a AS build\nFROM b AS runtime\nFROM c\nFROM d AS test\n")
    with pytest.raises(ConfigError) as caught:
        info.target_stage("nope")
    error = caught.value
    assert error.message == (
        "target 'nope' is not a stage of Dockerfile.x (stages: build, runtime, test)"
    )
    assert (error.file, error.line, error.field) == ("Dockerfile.x", None, None)


def test_target_cannot_be_an_index() -> None:
    # `docker build --target 0` fails too: targets are names.
    with pytest.raises(ConfigError, match="no named stages"):
        parse("FROM a\nFROM b\n").target_stage("0")


def test_needed_stages_follow_edges_transitively_in_file_order() -> None:
    text = (
        "FROM a AS one\nFROM b AS two\nFROM one AS three\n"
        "FROM c AS four\nCOPY --from=three /x /x\nCOPY --from=two /y /y\n"
    )
    info = parse(text)
    assert [s.name for s in info.needed_stages("four")] == ["one", "two", "three", "four"]
    assert [s.name for s in info.needed_stages("three")] == ["one", "three"]


def test_needed_stages_skip_unused_stages() -> None:
    info = parse(MULTI_STAGE)
    assert [s.name for s in info.needed_stages("test")] == ["build", "runtime", "test"]
    assert [s.name for s in info.needed_stages(None)] == ["unused"]


def test_external_references_of_needed_stages_only() -> None:
    info = parse(MULTI_STAGE)
    assert info.external_references("test") == (
        Reference("from", "golang:1.22", 3, 0),
        Reference("from", "alpine:3.20", 7, 1),
        Reference("mount", "tools", 11, 2),
    )


def test_external_references_exclude_scratch() -> None:
    info = parse(MULTI_STAGE)
    assert info.external_references(None) == (
        Reference("copy", "docker.io/library/busybox", 14, 3),
    )


def test_copy_from_a_later_stage_fails_only_when_needed() -> None:
    text = "FROM a AS early\nCOPY --from=late /x /x\nFROM b AS late\nFROM c AS other\n"
    info = parse(text)
    assert info.stage_edges() == ((1, 0, "copy", 2),)
    assert [s.name for s in info.needed_stages("other")] == ["other"]
    with pytest.raises(ConfigError, match="'late' is used by copy in stage 'early'") as caught:
        info.needed_stages("early")
    assert caught.value.line == 2


def test_circular_dependency_is_an_error() -> None:
    error = config_error("FROM a AS one\nCOPY --from=two /x /x\nFROM one AS two\n")
    assert "circular dependency detected on stage" in error.message
    assert error.file == "Dockerfile.x"


def test_copy_from_own_stage_is_a_cycle() -> None:
    assert "circular" in config_error("FROM a AS me\nCOPY --from=me /x /y\n").message


def test_copy_from_index_out_of_range_is_an_error() -> None:
    error = config_error("FROM a\nCOPY --from=3 /x /y\n")
    assert (error.message, error.line) == ("invalid stage index 3", 2)


def test_resolve_stage_by_name_or_index() -> None:
    info = parse("FROM a AS build\nFROM b\n")
    assert info.resolve_stage("BUILD") == info.stages[0]
    assert info.resolve_stage("1") == info.stages[1]
    assert info.resolve_stage("2") is None
    assert info.resolve_stage("-1") is None
    assert info.resolve_stage("alpine") is None


# -- global ARGs and expansion ----------------------------------------------------------------


def test_global_args_defaults_quotes_and_several_per_line() -> None:
    info = parse('ARG A=1 B=2\nARG C="x y"\nARG D\nARG E=\'$A\'\nFROM a\n')
    assert dict(info.global_args) == {"A": "1", "B": "2", "C": "x y", "D": None, "E": "$A"}


def test_global_args_overridden_by_build_args_unexpanded() -> None:
    info = parse("ARG A=1\nARG B\nARG C=$A\nFROM a\n", A="$HOME", B="2", UNDECLARED="x")
    assert dict(info.global_args) == {"A": "$HOME", "B": "2", "C": "$HOME"}


def test_global_args_are_read_only() -> None:
    info = parse("ARG A=1\nFROM a\n")
    with pytest.raises(TypeError):
        info.global_args["A"] = "2"  # type: ignore[index]


def test_arg_without_value_keeps_an_earlier_value() -> None:
    info = parse("ARG A=1\nARG A\nFROM a:$A\n")
    assert (info.stages[0].base, info.global_args["A"]) == ("a:1", "1")


def test_from_expands_global_args() -> None:
    text = (
        "ARG REG=r.io IMG=app TAG\n"
        "FROM $REG/${IMG}:${TAG:-latest} AS one\n"
        "FROM ${MISSING}x${REG:+-set}\n"
    )
    info = parse(text)
    assert [s.base for s in info.stages] == ["r.io/app:latest", "x-set"]


def test_from_expansion_uses_build_args() -> None:
    info = parse("ARG TAG=1\nFROM a:${TAG}\n", TAG="2")
    assert info.stages[0].base == "a:2"


def test_undeclared_build_args_do_not_expand_but_builtins_do() -> None:
    info = parse("FROM a:${OTHER}x\nFROM b:$TARGETARCH\n", OTHER="1", TARGETARCH="arm64")
    assert [s.base for s in info.stages] == ["a:x", "b:arm64"]


def test_args_after_the_first_from_are_not_global() -> None:
    info = parse("FROM a\nARG LATE=1\nFROM b:$LATE\n")
    assert dict(info.global_args) == {}
    assert info.stages[1].base == "b:"


def test_base_expanding_to_nothing_is_an_error() -> None:
    error = config_error("ARG IMG\nFROM $IMG\n")
    assert (error.message, error.line) == ("base name ($IMG) should not be blank", 2)


def test_required_variable_error_names_the_line() -> None:
    error = config_error("ARG IMG=\nFROM ${IMG:?must-be-set}\n")
    assert error.line == 2
    assert "IMG: must-be-set" in error.message
    assert "is not allowed to be unset" in config_error("FROM ${IMG?}\n").message


def test_unsupported_substitution_is_an_error_not_a_guess() -> None:
    assert "unsupported modifier (#)" in config_error("ARG V=1.2\nFROM a:${V#1}\n").message


def test_copy_from_variable_is_rejected_like_buildkit() -> None:
    error = config_error("ARG S=build\nFROM a AS build\nFROM b\nCOPY --from=$S /x /y\n")
    assert "variable expansion is not supported" in error.message
    assert error.line == 4


def test_mount_from_variable_is_rejected_like_buildkit() -> None:
    error = config_error("FROM a\nRUN --mount=type=bind,from=${S},target=/x true\n")
    assert "variable expansion is not supported" in error.message


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


def test_expand_word_with_backtick_escape() -> None:
    assert expand_word("`$A\\", {"A": "1"}, "`") == "$A\\"


# -- parser directives --------------------------------------------------------------------------


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


# -- heredocs --------------------------------------------------------------------------------------


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


# -- errors -------------------------------------------------------------------------------------


def test_parser_syntax_error() -> None:
    error = config_error("FROM a\nRUN <<EOF\necho\n")
    assert error.message == "Dockerfile syntax error: unterminated heredoc"
    assert error.file == "Dockerfile.x"


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_dockerfile(text: str) -> None:
    error = config_error(text)
    assert (error.message, error.file) == ("Dockerfile is empty (no instructions)", "Dockerfile.x")


def test_dockerfile_without_from() -> None:
    error = config_error("ARG A=1\n")
    assert error.message == "Dockerfile has no FROM instruction (no build stage)"
    assert (error.file, error.line) == ("Dockerfile.x", None)


def test_instruction_before_first_from() -> None:
    error = config_error("ARG A\nRUN true\nFROM a\n")
    assert error.line == 2
    assert "RUN before the first FROM" in error.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM a b\n", "FROM requires either one or three arguments"),
        ("FROM\n", "FROM requires either one or three arguments"),
        ("FROM a AS 1st\n", "invalid name for build stage"),
        ("FROM a\nRUNN true\n", "unknown instruction: RUNN"),
        ("FROM a\nCOPY --from x /y\n", "Missing a value on flag: from"),
        ("FROM a\nCOPY --from=a --from=b /x /y\n", "Duplicate flag specified: from"),
        ("FROM a\nRUN --mount true\n", "Missing a value on flag: mount"),
    ],
)
def test_invalid_instructions(text: str, message: str) -> None:
    error = config_error(text)
    assert message in error.message
    assert error.line == text.count("\n")


def test_bom_in_text_is_ignored() -> None:
    info = parse("\ufeff# escape=`\nFROM a\n")
    assert (info.escape, info.stages[0].line) == ("`", 2)


# -- load_dockerfile ------------------------------------------------------------------------------


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
