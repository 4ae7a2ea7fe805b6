"""`buildorch history`, in-process and as a subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildorch.cli.main import main
from tests.run.record_samples import write_sample_runs


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_sample_runs(tmp_path)
    return tmp_path


def test_history_lists_the_newest_runs_first(runs: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "-n", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == [
        "20261204T100000Z-000009", "20261203T100000Z-000002", "20261202T100000Z-000001"]
    assert "(damaged record)" in lines[1]


def test_history_says_why_a_record_is_damaged(runs: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    # the table's row says only "(damaged record)": the reason goes to stderr, a line each
    assert main(["history"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == ["buildorch: warning: .buildorch/runs/20261204T100000Z-000009/record.json: "
                   "not JSON: Expecting property name enclosed in double quotes: line 1 "
                   "column 2 (char 1)"]


def test_history_in_an_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["history"]) == 0
    assert "no runs yet" in capsys.readouterr().out


def test_history_shows_each_pool_builders_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from tests.run.record_samples import pooled_record, write_run

    monkeypatch.chdir(tmp_path)
    write_run(tmp_path, pooled_record("20261202T100000Z-000002", {"a": "two"},
                                      down={"one": "stopped answering"}))
    write_run(tmp_path, pooled_record("20261201T100000Z-000001", {"a": "one", "b": "two"}))
    assert main(["history"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[-1] == "BUILDERS"
    assert [line.split("  ")[-1].strip() for line in lines[1:]] == [
        "one:0(down) two:1", "one:1 two:1"]
