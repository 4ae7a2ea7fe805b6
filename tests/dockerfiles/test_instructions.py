"""The walk over the instructions: stages, COPY/RUN references, global ARGs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildorch.dockerfiles.parser import BuildPlatforms, parse_dockerfile
from buildorch.dockerfiles.stages import Reference, Stage
from buildorch.errors import ConfigError
from tests.dockerfiles.parse_helpers import MULTI_STAGE, config_error, edges, parse

# -- stages --------------------------------------------------------------------------------


def test_stages_have_index_lowercased_name_base_line_and_platform() -> None:
    info = parse("FROM alpine AS Build\nRUN true\nFROM --platform=linux/arm64 debian\n")
    assert info.stages == (
        Stage(0, "build", "alpine", 1, None),
        Stage(1, None, "debian", 3, "linux/arm64"),
    )


def test_as_keyword_and_instruction_may_be_any_case() -> None:
    info = parse("from a as One\nFrOm b aS two\nFROM c As three\n")
    assert [s.name for s in info.stages] == ["one", "two", "three"]


def test_platform_is_expanded_with_the_automatic_args_like_buildkit() -> None:
    # dockerfile2llb expands FROM --platform with the global args, then parses it
    text = "ARG P=linux/arm64\nFROM --platform=$BUILDPLATFORM a AS b\nFROM --platform=$P c\n"
    info = parse_dockerfile(text, "Dockerfile.x",
                            platforms=BuildPlatforms("linux/arm/v7", "linux/amd64"))
    assert [s.platform for s in info.stages] == ["linux/amd64", "linux/arm64"]
    with pytest.raises(ConfigError, match="empty platform value from expression \\$NOPE"):
        parse("FROM --platform=$NOPE a\n")
    with pytest.raises(ConfigError, match=r"failed to parse platform linux/a\+b"):
        parse("FROM --platform=linux/a+b a\n")  # containerd's specifierRe: [A-Za-z0-9_.-]


def test_from_base_is_quote_processed_like_buildkit() -> None:
    assert parse('FROM "alpine:3.20" AS b\n').stages[0].base == "alpine:3.20"


# -- references from COPY --from and RUN --mount -------------------------------------------


def test_copy_from_a_stage_with_other_flags() -> None:
    text = "FROM a AS build\nFROM b\nCOPY --chown=1:1 --link --from=build /x /y\n"
    assert edges(text) == ((0, 1, "copy", 3),)


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


def test_copy_from_index_out_of_range_is_an_error() -> None:
    error = config_error("FROM a\nCOPY --from=3 /x /y\n")
    assert (error.message, error.line) == ("invalid stage index 3", 2)


# -- global ARGs and expansion -------------------------------------------------------------


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
    info = parse("FROM a\nARG LATE=1\nFROM b$LATE\n")
    assert dict(info.global_args) == {}
    assert info.stages[1].base == "b"


def test_base_expanding_to_nothing_is_an_error() -> None:
    error = config_error("ARG IMG\nFROM $IMG\n")
    assert (error.message, error.line) == ("base name ($IMG) should not be blank", 2)


def test_required_variable_error_names_the_line() -> None:
    error = config_error("ARG IMG=\nFROM ${IMG:?must-be-set}\n")
    assert error.line == 2
    assert "IMG: must-be-set" in error.message
    assert "is not allowed to be unset" in config_error("FROM ${IMG?}\n").message


def test_unsupported_substitution_is_an_error_not_a_guess() -> None:
    assert "unsupported modifier (=)" in config_error("ARG V=1.2\nFROM a:${V=1}\n").message


def test_pattern_substitutions_choose_the_base_like_buildkit() -> None:
    info = parse_dockerfile("ARG GO=1.22.3\nFROM golang:${GO%.*}-alpine AS build\n", "D")
    assert info.stages[0].base == "golang:1.22-alpine"


def test_copy_from_variable_is_rejected_like_buildkit() -> None:
    error = config_error("ARG S=build\nFROM a AS build\nFROM b\nCOPY --from=$S /x /y\n")
    assert "variable expansion is not supported" in error.message
    assert error.line == 4


def test_mount_from_variable_is_rejected_like_buildkit() -> None:
    error = config_error("FROM a\nRUN --mount=type=bind,from=${S},target=/x true\n")
    assert "variable expansion is not supported" in error.message


# -- invalid instructions ------------------------------------------------------------------


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


# -- properties ----------------------------------------------------------------------------

ARG_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)
TAGS = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)
STAGE_NAMES = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_.-]{0,10}", fullmatch=True)


@settings(deadline=None)  # the first parse loads the Go parser
@given(ARG_NAMES, TAGS, st.none() | TAGS, STAGE_NAMES, st.booleans())
def test_global_arg_reaches_from_and_stage_names_are_lower_cased(
    arg: str, default: str, override: str | None, stage: str, braces: bool,
) -> None:
    build_args = {} if override is None else {arg: override}
    use = f"${{{arg}}}" if braces else f"${arg}"
    text = f"ARG {arg}={default}\nFROM image:{use} AS {stage}\n"
    info = parse_dockerfile(text, "Dockerfile.x", build_args)
    value = default if override is None else override
    assert dict(info.global_args) == {arg: value}
    assert info.stages == (Stage(0, stage.lower(), f"image:{value}", 2, None),)


@given(
    st.permutations(["type=bind", "target=/t", "source=/s", "FROM=tools"]),
    st.sampled_from(["from", "FROM", "From"]),
    st.sampled_from(['{}', '"{}"']),
)
def test_mount_from_is_found_among_the_other_keys_in_any_order(
    fields: list[str], key: str, quoting: str,
) -> None:
    spec = ",".join(
        quoting.format(key + field[4:]) if field.startswith("FROM=") else field
        for field in fields
    )
    info = parse(f"FROM a AS tools\nFROM b\nRUN --mount={spec} true\n")
    assert info.stage_edges() == ((0, 1, "mount", 3),)
