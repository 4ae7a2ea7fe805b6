"""`buildorch build` before any build runs: the dry run."""

from __future__ import annotations

import pytest

from buildorch.cli.main import main
from tests.conftest import MakeProject

ONE = "version: 1\nname: p\nimages:\n  a: {context: a, tags: [localhost:5000/p/a:1]}\n"


def test_dry_run_counts_one_build_in_the_singular(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project(ONE, contexts=("a",))
    assert main(["build", "-f", str(path), "--dry-run", "--backend", "docker"]) == 0
    assert capsys.readouterr().out.startswith("# 1 build, backend docker;")
