"""`buildorch plan`: the hints it warns about, and the images whose references all miss."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from buildorch.cli.main import main
from tests.cli.test_validate import STACKS, stack_hint, stacks
from tests.conftest import MakeProject


def test_plan_warns_of_each_near_miss_and_marks_the_images_built_without_their_base(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = stacks(make_project)
    monkeypatch.chdir(path.parent)
    assert main(["plan", "-f", str(path), "scipy-notebook"]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"buildorch: warning: {stack_hint(path, name)}"
                                for name in ("scipy-notebook",)]
    assert out.splitlines()[3:5] == [
        "  1. scipy-notebook",
        "     ! no reference of its Dockerfile matches a pipeline image (nearly: "
        "minimal-notebook): it builds on what the registry holds, not on this run's build"]
    assert main(["plan", "-f", str(path)]) == 0
    out, err = capsys.readouterr()
    assert len(err.splitlines()) == len(STACKS) - 1
    assert out.count("     ! no reference of its Dockerfile matches") == len(STACKS) - 1


def test_an_image_with_one_matching_reference_is_not_marked(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_project(
        "version: 1\nname: p\nimages:\n"
        "  base: {context: base, tags: [localhost:5000/p/base:1]}\n"
        "  tools: {context: base, tags: [localhost:5000/p/tools:1]}\n"
        "  app: {context: app, tags: [localhost:5000/p/app:1]}\n",
        files={"app/Dockerfile": "FROM localhost:5000/p/base:1\n"
                                 "COPY --from=localhost:5000/p/tools:2 /t /t\n"},
        contexts=("base",))
    monkeypatch.chdir(path.parent)
    assert main(["plan", "-f", str(path), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert "COPY --from=localhost:5000/p/tools:2 nearly names pipeline image 'tools'" in err
    app = next(n for n in json.loads(out)["nodes"] if n["name"] == "app")
    assert app["near_misses"] == [{
        "kind": "copy", "ref": "localhost:5000/p/tools:2", "declared_at": "app/Dockerfile:2",
        "nearly": [{"image": "tools", "tag": "localhost:5000/p/tools:1"}]}]
    assert main(["plan", "-f", str(path)]) == 0
    assert "!" not in capsys.readouterr().out


def test_plan_warns_of_results_nobody_keeps_in_its_selection_only(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project(
        "version: 1\nname: p\nimages:\n"
        "  base: {context: base}\n"
        "  app: {context: base, depends_on: [base], tags: [localhost:5000/p/app:1]}\n",
        contexts=("base",))
    assert main(["plan", "-f", str(path), "app"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["plan", "-f", str(path), "base"]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"buildorch: warning: {path}:4: images.base: its result is not kept")


def test_reproducible_outside_git_is_one_line_and_exit_2(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)  # else it would be the epoch
    path = make_project("version: 1\nname: p\nreproducible: true\nimages:\n  a: {context: a}\n",
                        contexts=("a",))
    assert main(["plan", "-f", str(path), "--backend", "buildctl"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"buildorch: error: {path}:3: reproducible: SOURCE_DATE_EPOCH comes from the "
                   f"commit time of HEAD, and {path.parent} is in no git repository with a commit: "
                   "commit, or give it (--var SOURCE_DATE_EPOCH=SECONDS, or the environment)"]
    done = subprocess.run([sys.executable, "-m", "buildorch", "plan", "-f", str(path),
                           "--backend", "buildctl"], capture_output=True, text=True, check=False,
                          env={**os.environ, "SOURCE_DATE_EPOCH": ""}, cwd=path.parent)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "reproducible: SOURCE_DATE_EPOCH" in done.stderr
    given = main(["plan", "-f", str(path), "--backend", "buildctl",
                  "--var", "SOURCE_DATE_EPOCH=1700000000"])
    assert given == 0 and "--opt build-arg:SOURCE_DATE_EPOCH=1700000000" in capsys.readouterr().out


def test_plan_on_docker_loads_reproducible_images_through_a_tarball(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    """No warning any more on the docker driver: the build writes a tarball with rewritten
    timestamps, which the run loads (the plan says so)."""
    path = make_project("version: 1\nname: p\nreproducible: true\n"
                        "images:\n  a: {context: a, tags: [r/a:1]}\n", contexts=("a",))
    assert main(["plan", "-f", str(path), "--backend", "docker", "--var",
                 "SOURCE_DATE_EPOCH=0"]) == 0
    out, err = capsys.readouterr()
    assert "reproducible" not in err
    archive = ".buildorch/runs/{run_id}/a.image.tar"
    assert f"--output 'type=docker,dest={archive},rewrite-timestamp=true'" in out
    assert f"     outputs: load r/a:1 through {archive}" in out.splitlines()
