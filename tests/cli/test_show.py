"""`buildorch show`, in-process and as a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from buildorch.cli.main import main
from tests.run.record_samples import write_sample_runs


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_sample_runs(tmp_path)
    return tmp_path


def test_show_prints_a_runs_summary_again(runs: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "20261202"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("IMAGE")
    assert "api failed at api/Dockerfile:3, stage build: exit code: 3" in out
    assert out.rstrip().endswith(
        "record in .buildorch/runs/20261202T100000Z-000001/record.json")


def test_show_as_a_subprocess_and_bad_input(runs: Path) -> None:
    def show(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "buildorch", "show", *args], cwd=runs,
                              capture_output=True, text=True, check=False)

    done = show("20261203T100000Z-000002")
    assert done.returncode == 0 and "run 20261203T100000Z-000002 failed" in done.stdout
    for given, message in (("20261204", "not JSON"), ("2025", "no such run"),
                           ("missing.json", "cannot read")):
        done = show(given)
        assert done.returncode == 2, given
        assert message in done.stderr and len(done.stderr.splitlines()) == 1
        assert "Traceback" not in done.stderr
