"""`doctor -f` on the real stack: a pipeline of two builders, the stack's engine and an
address where nothing answers; in-process and as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from buildorch.cli.main import main
from tests.run.record_samples import pooled_record, write_run

pytestmark = pytest.mark.engine

NOWHERE = "unix:///nonexistent.sock"


def write_pipeline(folder: Path, second: str) -> Path:
    (folder / "a").mkdir()
    (folder / "a" / "Dockerfile").write_text("FROM scratch\n")
    path = folder / "pipeline.yaml"
    path.write_text("version: 1\nname: shop\nbuilders:\n"
                    "  - {name: one, backend: docker, max_parallel: 2}\n"
                    f"  - {{name: two, backend: docker, address: '{second}', "
                    "platforms: [linux/amd64], labels: [gpu]}\n"
                    "images:\n  a: {context: a}\n")
    return path


@pytest.fixture
def folder(engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_run(tmp_path, pooled_record("R2", {"a": "one", "b": "one"}, down={"two": "gone"}))
    write_run(tmp_path, pooled_record("R1", {"a": "two"}))
    write_run(tmp_path, pooled_record("R0", {"a": "two"}, pipeline="other"))
    return tmp_path


def test_a_builder_that_does_not_answer_is_named_and_fails_the_check(
        folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_pipeline(folder, NOWHERE)
    assert main(["doctor", "-f", str(path)]) == 1
    out = capsys.readouterr().out
    lines = out[out.index("builders of shop:"):].splitlines()
    assert lines[1].startswith("[ok] one: docker, default, github.com/docker/buildx")
    # the stack's engine: BuildKit lists its native platform (and amd64 levels)
    assert "; the engine reports: linux/amd64" in lines[2]
    assert lines[3:5] == ["     max_parallel: 2, labels: none",
                          "     recent load: 2 builds in 1 of the last 2 runs of shop"]
    assert lines[5].startswith(f"[--] two: docker, {NOWHERE}, ")
    assert f"(builder does not answer: Cannot connect to the Docker daemon at {NOWHERE}" \
        in lines[5]
    assert lines[6:] == ["     platforms: linux/amd64", "     max_parallel: 4, labels: gpu",
                         "     recent load: 1 build in 1 of the last 2 runs of shop; "
                         "down in 1 run"]


def test_as_a_subprocess_every_builder_answering(folder: Path) -> None:
    def doctor(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "buildorch", "doctor", "-f", str(path)],
                              cwd=folder, capture_output=True, text=True, timeout=120,
                              check=False)

    both = doctor(write_pipeline(folder, os.environ["DOCKER_HOST"]))
    assert both.returncode == 0, both.stdout + both.stderr
    assert both.stdout.count("; the engine reports: linux/amd64") == 2
    other = folder / "other"
    other.mkdir()
    one_down = doctor(write_pipeline(other, NOWHERE))
    assert one_down.returncode == 1 and one_down.stderr == ""
    assert f"[--] two: docker, {NOWHERE}" in one_down.stdout
