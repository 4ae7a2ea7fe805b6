"""compose's variable syntax (compose-spec/compose-spec 12-interpolation.md, compose-go
template/template.go) rewritten as the pipeline's: the rewritten value, expanded by the
pipeline's own interpolation, equals what compose would substitute, for each environment."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildorch.pipeline.compose_variables import TemplateError, translate
from buildorch.pipeline.interpolation import InterpolationError, interpolate


def expand(text: str, env: dict[str, str]) -> str:
    """The pipeline's reading of a translated value (no pipeline vars)."""
    return interpolate(translate(text).text, lambda _: None, env)


@pytest.mark.parametrize(("compose", "pipeline"), [
    ("plain", "plain"),
    ("$$HOME", "$$HOME"),
    ("a$$", "a$$"),
    ("$TAG", "${env.TAG:-}"),
    ("${TAG}", "${env.TAG:-}"),
    ("v${TAG}-x", "v${env.TAG:-}-x"),
    ("$TAG.x", "${env.TAG:-}.x"),
    ("${TAG:-dev}", "${env.TAG:-dev}"),
    ("${TAG-dev}", "${env.TAG:-dev}"),
    ("${TAG:?set TAG}", "${env.TAG}"),
    ("${TAG?set TAG}", "${env.TAG}"),
    ("${A:-${B:-c}}", "${env.A:-${env.B:-c}}"),
    ("${A:-$B}", "${env.A:-${env.B:-}}"),
    ("${A:-x$$y}", "${env.A:-x$$y}"),
    ("${lower_case1}", "${env.lower_case1:-}"),
    ("${A:+on}", ""),
    ("x${A+on}y", "xy"),
])
def test_each_form(compose: str, pipeline: str) -> None:
    assert translate(compose).text == pipeline


def test_names_and_what_has_no_equivalent() -> None:
    result = translate("${A:-${B}}/$C/${A}/${D:+x}")
    assert result.names == ("A", "B", "C", "D")
    assert result.inexact == ("${D:+x}",)
    assert translate("${A}").inexact == ()


@pytest.mark.parametrize("text", ["$", "cost $", "$1", "${", "${A", "${1}", "${}", "${A B}",
                                  "${A:x}", "${A:-${B}", "$-"])
def test_what_compose_calls_an_invalid_template_is_an_error(text: str) -> None:
    with pytest.raises(TemplateError):
        translate(text)


@pytest.mark.parametrize(("compose", "env", "expected"), [
    ("${T:-dev}", {}, "dev"),
    ("${T:-dev}", {"T": ""}, "dev"),
    ("${T:-dev}", {"T": "1"}, "1"),
    ("${T}", {}, ""),
    ("$T-x", {"T": "v"}, "v-x"),
    ("${A:-${B:-c}}", {"B": "b"}, "b"),
    ("$$T", {"T": "v"}, "$T"),
    ("${T?need}", {"T": ""}, ""),
])
def test_the_pipeline_reads_what_compose_would(compose: str, env: dict[str, str],
                                              expected: str) -> None:
    assert expand(compose, env) == expected


def test_a_required_variable_stays_required() -> None:
    with pytest.raises(InterpolationError, match="undefined environment variable 'T'"):
        expand("${T:?set it}", {})


# compose's reading of a value, written from template.go for the forms translated exactly
_REF = re.compile(r"\$(\$|[_A-Za-z]\w*|\{[_A-Za-z]\w*(?::-[^${}]*)?\})")


def compose_reads(text: str, env: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        body = match.group(1)
        if body == "$":
            return "$"
        name, _, default = body.strip("{}").partition(":-")
        return env.get(name) or (default if ":-" in body else env.get(name, ""))
    return _REF.sub(one, text)


pieces = st.sampled_from(["a", "-", "/", ":", ".", "$$", "$A", "$B_1", "${A}", "${B_1}",
                          "${A:-d}", "${B_1:-x/y}", "${C:-}", "}", "{"])


@settings(max_examples=300, deadline=None)
@given(st.lists(pieces, max_size=8).map("".join),
       st.dictionaries(st.sampled_from(["A", "B_1", "C"]), st.sampled_from(["", "v", "w/1"])))
def test_generated_values_read_alike(text: str, env: dict[str, str]) -> None:
    assert expand(text, env) == compose_reads(text, env)


class EveryVariableSet(dict[str, str]):
    def get(self, key: str, default: object = None) -> str:
        return "v"


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="${}:-?+aB_1 ", max_size=20))
def test_any_text_is_refused_or_becomes_a_value_the_pipeline_reads(text: str) -> None:
    try:
        result = translate(text)
    except TemplateError as exc:
        assert str(exc)
    else:  # valid pipeline syntax, whatever it reads
        interpolate(result.text, lambda _: None, EveryVariableSet())
