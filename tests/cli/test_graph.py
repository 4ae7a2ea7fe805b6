"""`buildorch graph` warns of near misses (a drawing is no place for unkept results)."""

from __future__ import annotations

import pytest

from buildorch.cli.main import main
from tests.cli.test_validate import stack_hint, stacks
from tests.conftest import MakeProject


def test_graph_warns_of_near_misses_only(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = stacks(make_project)
    monkeypatch.chdir(path.parent)
    # no image is built on the notebook: its result is kept nowhere, which graph leaves out
    (path.parent / path.name).write_text(path.read_text().replace(
        "    tags: [localhost:5000/jupyter/julia-notebook:2024-06]\n", ""))
    assert main(["graph", "-f", str(path), "julia-notebook"]) == 0
    out, err = capsys.readouterr()
    assert out == "julia-notebook\n"
    assert err == f"buildorch: warning: {stack_hint(path, 'julia-notebook')}\n"
