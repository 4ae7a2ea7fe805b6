"""A compose or bake file given as a pipeline is recognised, and the message says which
command converts it."""

from __future__ import annotations

import pytest

from buildorch.cli.main import main
from tests.conftest import MakeProject

COMPOSE = """\
version: "3.8"
services:
  vote:
    build: ./vote
"""
BAKE_JSON = '{"group": {"default": {"targets": ["api"]}}, "target": {"api": {"context": "."}}}'
BAKE_HCL = 'target "api" {\n  context = "."\n}\n'


def test_a_compose_file_says_so(make_project: MakeProject,
                                capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project(COMPOSE)
    assert main(["validate", "-f", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"buildorch: error: {path}:2: this looks like a compose file (it has 'services'), not "
        f"a buildorch pipeline: convert it with `buildorch import compose {path} > "
        "buildorch.yaml`\n")


def test_a_bake_json_file_says_so(make_project: MakeProject,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project(BAKE_JSON)
    assert main(["validate", "-f", str(path)]) == 2
    err = capsys.readouterr().err
    assert "looks like a bake file" in err and f"buildorch import bake {path}" in err


def test_a_bake_hcl_file_says_how_to_print_it_as_json(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project("version: 1\n").parent / "docker-bake.hcl"
    path.write_text(BAKE_HCL)
    assert main(["plan", "-f", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bake file (HCL)" in err
    assert f"docker buildx bake -f {path} --print > bake.json" in err


def test_a_pipeline_with_a_services_key_is_still_a_pipeline(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project("version: 1\nname: p\nservices: {}\nimages:\n  a:\n    context: a\n",
                        contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 2
    assert "unknown field 'services'" in capsys.readouterr().err
