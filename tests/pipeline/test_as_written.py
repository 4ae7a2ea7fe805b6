"""String fields take each YAML scalar exactly as written, through to the build argv."""

from __future__ import annotations

import pytest

from buildorch.backends.docker import docker_argv
from buildorch.cli.main import main
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.graph import build_graph
from buildorch.planning.plan import make_plan
from buildorch.planning.requests import PlanOptions
from tests.backends.sample_requests import pairs
from tests.conftest import MakeProject

# What YAML would make of each plain scalar, had it not been kept as written.
SCALARS = ["3.10", "0755", "yes", "no", "on", "1e3", "~", "null", "Null", ".inf", "-.Inf",
           ".nan", "2024-01-01", "2001-12-14t21:59:43.10-05:00", "0x1F", "0o17", "1_000",
           "true", "False", "12:30:00", "+1", "-0"]


def pipeline_with(value: str) -> str:
    return f"""\
version: 1
name: p
vars:
  V: {value}
defaults:
  labels: {{fromdefaults: {value}}}
images:
  a:
    context: a
    args: {{X: {value}, FROMVAR: "${{V}}"}}
    labels: {{l: {value}}}
    annotations: {{an: {value}}}
"""


@pytest.mark.parametrize("value", SCALARS)
def test_scalars_reach_the_argv_as_written(make_project: MakeProject, value: str) -> None:
    path = make_project(pipeline_with(value), contexts=("a",))
    pipeline = load_pipeline(path, LoadOptions(env={}))
    plan = make_plan(pipeline, build_graph(pipeline), ["a"], PlanOptions(backend="docker"))
    argv = docker_argv(plan.images[0].request)
    assert pairs(argv, "--build-arg") == [f"X={value}", f"FROMVAR={value}"]
    assert sorted(pairs(argv, "--label")) == sorted([f"fromdefaults={value}", f"l={value}"])
    assert pairs(argv, "--annotation") == [f"an={value}"]


@pytest.mark.parametrize("value", SCALARS)
def test_set_and_var_take_values_as_written(make_project: MakeProject, value: str) -> None:
    path = make_project(pipeline_with("x"), contexts=("a",))
    options = LoadOptions(env={}, variables={"V": value},
                          sets=(f"a.args.X={value}", f"a.labels.l={value}"))
    spec = load_pipeline(path, options).images["a"].spec
    assert spec.args == {"X": value, "FROMVAR": value}
    assert spec.labels == {"fromdefaults": "x", "l": value}


def test_an_empty_value_is_the_empty_string(make_project: MakeProject) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: a\n"
                        "    args: {EMPTY: , QUOTED: '0755'}\n", contexts=("a",))
    assert load_pipeline(path, LoadOptions(env={})).images["a"].spec.args == {
        "EMPTY": "", "QUOTED": "0755"}


def test_a_null_field_is_still_unset(make_project: MakeProject) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: a\n    target: ~\n",
                        contexts=("a",))
    assert load_pipeline(path, LoadOptions(env={})).images["a"].spec.target is None


@pytest.mark.parametrize("value", ["[1, 2]", "{k: v}"])
def test_a_list_or_mapping_in_a_string_map_is_an_error(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str], value: str) -> None:
    path = make_project(f"version: 1\nname: p\nimages:\n  a:\n    context: a\n"
                        f"    args:\n      X: {value}\n", contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 2
    assert capsys.readouterr().err == (f"buildorch: error: {path}:7: images.a.args.X: "
                                       "expected a string, got "
                                       f"{'list' if '[' in value else 'dict'} "
                                       f"{[1, 2] if '[' in value else {'k': 'v'}}\n")


def test_merged_and_aliased_values_keep_their_text(make_project: MakeProject) -> None:
    path = make_project("version: 1\nname: p\ndefaults:\n  args: &args {PY: 3.10}\n"
                        "images:\n  a:\n    context: a\n    args: {<<: *args, OWN: 1.50}\n"
                        "  b:\n    context: a\n    args: *args\n", contexts=("a",))
    images = load_pipeline(path, LoadOptions(env={})).images
    assert images["a"].spec.args == {"PY": "3.10", "OWN": "1.50"}
    assert images["b"].spec.args == {"PY": "3.10"}
