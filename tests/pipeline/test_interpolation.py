from __future__ import annotations

import pytest

from buildorch.pipeline.interpolation import InterpolationError, VarResolver, interpolate


def resolver(vars_: dict[str, str], overrides: dict[str, str] | None = None,
             builtins: dict[str, str | None] | None = None,
             env: dict[str, str] | None = None) -> VarResolver:
    calls = {k: (lambda v=v: v) for k, v in (builtins or {}).items()}
    return VarResolver(vars_, overrides or {}, calls, env or {})


def test_plain_and_braced_forms() -> None:
    r = resolver({"REGISTRY": "localhost:5000", "TAG": "v1"})
    assert r.expand("${REGISTRY}/api:${TAG}") == "localhost:5000/api:v1"


def test_default_applies_when_unset_or_empty() -> None:
    r = resolver({"EMPTY": ""})
    assert r.expand("${MISSING:-x}") == "x"
    assert r.expand("${EMPTY:-y}") == "y"


def test_default_may_itself_reference_variables() -> None:
    r = resolver({"A": "a"})
    assert r.expand("${MISSING:-${A}-b}") == "a-b"


def test_env_namespace_reads_only_the_environment() -> None:
    r = resolver({"HOME": "pipeline"}, env={"HOME": "/root"})
    assert r.expand("${env.HOME}") == "/root"
    assert r.expand("${HOME}") == "pipeline"
    assert r.expand("${env.NOPE:-fallback}") == "fallback"


def test_override_beats_pipeline_var_beats_builtin() -> None:
    r = resolver({"TAG": "from-file", "X": "${GIT_SHA}"}, overrides={"TAG": "cli"},
                 builtins={"GIT_SHA": "abc", "TAG": "builtin"})
    assert r.expand("${TAG} ${X}") == "cli abc"


def test_variables_resolve_through_other_variables() -> None:
    r = resolver({"REGISTRY": "r", "BASE": "${REGISTRY}/base", "REF": "${BASE}:1"})
    assert r.expand("${REF}") == "r/base:1"


def test_cycle_is_reported_with_its_chain() -> None:
    r = resolver({"A": "${B}", "B": "${A}"})
    with pytest.raises(InterpolationError, match="A -> B -> A"):
        r.expand("${A}")


def test_undefined_variable_names_it() -> None:
    with pytest.raises(InterpolationError, match="undefined variable 'NOPE'"):
        resolver({}).expand("x-${NOPE}")


def test_unavailable_builtin_falls_back_to_default() -> None:
    r = resolver({}, builtins={"GIT_SHORT_SHA": None})
    assert r.expand("${GIT_SHORT_SHA:-dev}") == "dev"
    with pytest.raises(InterpolationError, match="GIT_SHORT_SHA"):
        r.expand("${GIT_SHORT_SHA}")


def test_dollar_dollar_is_literal_and_bare_dollar_passes() -> None:
    r = resolver({"A": "a"})
    assert r.expand("$${A} $HOME ${A}") == "${A} $HOME a"


@pytest.mark.parametrize("bad", ["${}", "${1X}", "${A B}", "${env.}"])
def test_bad_reference_syntax(bad: str) -> None:
    with pytest.raises(InterpolationError, match="bad variable reference"):
        resolver({}).expand(bad)


def test_unclosed_reference() -> None:
    with pytest.raises(InterpolationError, match="unclosed"):
        resolver({}).expand("${A")


def test_interpolate_without_dollar_is_identity() -> None:
    assert interpolate("plain", lambda _: None, {}) == "plain"


def test_a_scope_shadows_variables_and_may_name_keys() -> None:
    """A matrix combination's values come before `vars` (bake's child EvalContext)."""
    r = resolver({"py": "var", "REG": "r"})
    scope = {"py": "3.11", "it.k": "v"}.get
    assert r.expand_in("${REG}/${py}:${it.k}:${NONE:-d}", scope) == "r/3.11:v:d"
    assert r.expand("${py}") == "var"
    with pytest.raises(InterpolationError, match=r"undefined variable 'it\.k'"):
        r.expand("${it.k}")


def test_resolved_lists_only_the_variables_used_with_their_values() -> None:
    r = resolver({"TAG": "${GIT_SHORT_SHA}-x", "UNUSED_VAR": "u"}, overrides={"REG": "cli"},
                 builtins={"GIT_SHORT_SHA": "abc1234", "GIT_BRANCH": "main", "NONE": None})
    assert r.resolved() == {}
    assert r.expand("${REG}/api:${TAG} ${NONE:-d}") == "cli/api:abc1234-x d"
    assert r.resolved() == {"REG": "cli", "TAG": "abc1234-x", "GIT_SHORT_SHA": "abc1234",
                            "NONE": None}
