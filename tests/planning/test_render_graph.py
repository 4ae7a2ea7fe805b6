"""Drawings of the graph: every format names an unnamed stage as BuildKit does (`stage-N`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from buildorch.cli.main import main
from tests.conftest import MakeProject

UNNAMED = """\
FROM localhost:5000/busybox:latest
RUN true
FROM localhost:5000/busybox:latest AS final
COPY --from=0 /bin/sh /sh
"""


@pytest.fixture
def unnamed(make_project: MakeProject) -> Path:
    return make_project("version: 1\nname: p\nimages:\n  app: {context: app}\n",
                        files={"app/Dockerfile": UNNAMED})


def test_text_names_an_unnamed_stage_stage_n(
        unnamed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "-f", str(unnamed), "--stages"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "app",
        "  stage-0 (FROM localhost:5000/busybox:latest)",
        "  final (FROM localhost:5000/busybox:latest)  <- stage-0",
    ]


@pytest.mark.parametrize(("fmt", "node"), [("dot", 'i0s0 [label="stage-0"];'),
                                           ("mermaid", 'i0s0["stage-0"]')])
def test_dot_and_mermaid_name_an_unnamed_stage_stage_n(
        unnamed: Path, capsys: pytest.CaptureFixture[str], fmt: str, node: str) -> None:
    assert main(["graph", "-f", str(unnamed), "--stages", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert node in out and "stage 0" not in out


def test_plan_lists_an_unnamed_stage_as_stage_n(
        unnamed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "-f", str(unnamed), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["nodes"][0]["stages"] == ["stage-0", "final"]
