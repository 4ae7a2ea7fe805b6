"""`buildorch why IMAGE` and `plan --explain`: which inputs changed since the image's last
successful build; and the input digests `plan` shows (in-process and as a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from buildorch.cli.main import main
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.graph import build_graph
from buildorch.planning.input_sources import SourceReader
from buildorch.planning.plan import make_plan
from buildorch.planning.requests import PlanOptions
from buildorch.run.earlier_builds import EarlierBuild, record_builds
from tests.conftest import MakeProject

PIPELINE = """\
version: 1
name: shop
vars: {V: "1"}
images:
  base:
    context: base
    tags: ["r/base:${INPUT_DIGEST_SHORT}"]
  api:
    context: api
    args: {VERSION: "${V}"}
    contexts: {base: {image: base}}
    tags: ["r/api:${INPUT_DIGEST}"]
"""
FILES = {"base/Dockerfile": "FROM scratch\nCOPY . /\n",
         "api/Dockerfile": "FROM base\nARG VERSION\nCOPY . /app\n",
         "api/app.py": "print(1)\n", "api/old.txt": "old\n", "api/.dockerignore": "*.tmp\n"}


@pytest.fixture
def project(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = make_project(PIPELINE, FILES)
    monkeypatch.chdir(path.parent)
    return path


def remember_a_build(path: Path, run: str = "run1") -> dict[str, str]:
    """What a successful run of every image would leave: its builds and input manifests."""
    pipeline = load_pipeline(path, LoadOptions(env={}))
    sources = SourceReader(pipeline, Path.cwd()).read(pipeline.images)
    plan = make_plan(pipeline, build_graph(pipeline), [], PlanOptions(sources=sources))
    builds = [EarlierBuild(i.name, run, i.inputs.digest, f"sha256:{i.name}")
              for i in plan.images if i.inputs is not None]
    record_builds(Path.cwd(), "shop", builds, [i.inputs for i in plan.images if i.inputs])
    return {i.name: i.input_digest or "" for i in plan.images}


def test_plan_shows_input_digests_and_fills_them_into_tags(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "-f", str(project), "--format", "json"]) == 0
    nodes = {n["name"]: n for n in json.loads(capsys.readouterr().out)["nodes"]}
    base, api = nodes["base"]["input_digest"], nodes["api"]["input_digest"]
    assert base.startswith("sha256:") and api.startswith("sha256:") and base != api
    assert nodes["base"]["tags"][0] == f"r/base:{base[7:19]}"
    assert f"r/api:{api[7:]}" in nodes["api"]["tags"]
    assert main(["plan", "-f", str(project)]) == 0
    assert f"input digest: {api}" in capsys.readouterr().out


def test_an_ignored_file_does_not_change_the_digest_and_a_visible_one_does(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def digests() -> dict[str, str]:
        assert main(["plan", "-f", str(project), "--format", "json"]) == 0
        return {n["name"]: n["input_digest"]
                for n in json.loads(capsys.readouterr().out)["nodes"]}

    before = digests()
    (project.parent / "api/scratch.tmp").write_text("ignored")
    assert digests() == before
    (project.parent / "base/new.txt").write_text("seen")
    after = digests()
    assert after["base"] != before["base"]
    assert after["api"] != before["api"]  # built on base: its digest follows


def test_why_lists_the_changed_inputs(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["why", "-f", str(project), "api"]) == 0
    assert "no successful build recorded" in capsys.readouterr().out
    remember_a_build(project)
    assert main(["why", "-f", str(project), "api"]) == 0
    assert "unchanged since run run1" in capsys.readouterr().out
    (project.parent / "api/app.py").write_text("print(2)\n")
    (project.parent / "api/old.txt").unlink()
    (project.parent / "api/new.txt").write_text("new\n")
    (project.parent / "base/extra").write_text("x\n")
    assert main(["why", "-f", str(project), "--var", "V=2", "api"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("api: changed since run run1 (input digest sha256:")
    assert out[1:] == ["  file app.py: changed", "  file new.txt: added",
                       "  file old.txt: removed", "  arg:VERSION: '1' -> '2'",
                       "  dependency base: input digest changed"]


def test_plan_explain_adds_the_reasons(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    remember_a_build(project)
    (project.parent / "base/Dockerfile").write_text("FROM scratch\nCOPY . /b\n")
    assert main(["plan", "-f", str(project), "--explain", "--format", "json"]) == 0
    nodes = {n["name"]: n for n in json.loads(capsys.readouterr().out)["nodes"]}
    # the Dockerfile is also a file of its own context
    assert nodes["base"]["why"][1:] == ["  Dockerfile changed", "  file Dockerfile: changed"]
    assert nodes["api"]["why"][1:] == ["  dependency base: input digest changed"]
    assert main(["plan", "-f", str(project), "--explain"]) == 0
    assert "base: changed since run run1" in capsys.readouterr().out


def test_why_as_a_subprocess_and_an_unknown_image(project: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "buildorch", "why", "-f", str(project), "nope"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("buildorch: error: why: no image 'nope'")
    done = subprocess.run([sys.executable, "-m", "buildorch", "why", "-f", str(project), "base"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("base: no successful build")


@pytest.mark.parametrize("content", [b"\xff\xfe not text\n", b"[\n"])
def test_a_dockerignore_that_cannot_be_used_is_one_error(
        project: Path, capsys: pytest.CaptureFixture[str], content: bytes) -> None:
    (project.parent / "api/.dockerignore").write_bytes(content)
    for command in (["validate"], ["plan"], ["build", "--dry-run"]):
        assert main([*command, "-f", str(project)]) == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and "api/.dockerignore" in err[0], err
    assert not (project.parent / ".buildorch/runs").exists()
