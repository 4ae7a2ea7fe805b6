"""`plan`'s text and JSON."""

from __future__ import annotations

import pytest

from buildorch.cli.main import main
from tests.conftest import MakeProject

ONE = "version: 1\nname: p\nimages:\n  a: {context: a, tags: [localhost:5000/p/a:1]}\n"


def test_plan_text_counts_one_image_in_the_singular(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project(ONE, contexts=("a",))
    assert main(["plan", "-f", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"pipeline p ({path}): 1 image"
