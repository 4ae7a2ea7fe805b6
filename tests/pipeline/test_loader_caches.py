"""The loader keeps the parsed pipeline and the Dockerfile analyses in `.buildorch/` of the
working folder: a second load parses and analyses nothing unchanged, a changed Dockerfile
or pipeline is read again whatever its size and mtime, and a folder where nothing can be
written still plans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from buildorch.cli.main import main
from buildorch.dockerfiles import analysis_cache
from buildorch.pipeline import yaml_source
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.workdir import DOCKERFILE_ANALYSES, YAML_DOCUMENTS
from tests.conftest import EXAMPLE, REPO, MakeProject

PIPELINE = """\
version: 1
name: cached
images:
  base: {context: base, tags: ["localhost:5000/cached/base:1"]}
  other: {context: other, tags: ["localhost:5000/cached/othr:1"]}
  app: {context: app, tags: ["localhost:5000/cached/app:1"], platforms: [linux/amd64, linux/arm64]}
"""
ON_BASE = "FROM localhost:5000/cached/base:1\nRUN true\n"
ON_OTHER = "FROM localhost:5000/cached/othr:1\nRUN true\n"  # as long as ON_BASE


def project(make_project: MakeProject) -> Path:
    return make_project(PIPELINE, files={
        "base/Dockerfile": "FROM localhost:5000/busybox:latest\n",
        "other/Dockerfile": "FROM localhost:5000/busybox:latest\n",
        "app/Dockerfile": ON_BASE,
    })


def plan(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["plan", "-f", str(path), "--format", "json"]) == 0
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


def app_depends_on(data: dict[str, object]) -> list[str]:
    nodes = data["nodes"]
    assert isinstance(nodes, list)
    return next(n["depends_on"] for n in nodes if n["name"] == "app")


def fail(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("read again")


def test_a_second_load_parses_and_analyses_nothing(make_project: MakeProject,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = project(make_project)
    monkeypatch.chdir(path.parent)
    first = load_pipeline(path, LoadOptions(env={}))
    assert (path.parent / DOCKERFILE_ANALYSES).is_file()
    assert (path.parent / YAML_DOCUMENTS).is_file()
    monkeypatch.setattr(analysis_cache, "parse_dockerfile", fail)
    monkeypatch.setattr(yaml_source, "parse_yaml", fail)
    second = load_pipeline(path, LoadOptions(env={}))
    assert second.source == first.source  # data, every line, the values as written
    assert second.model == first.model
    for name, image in first.images.items():
        assert second.images[name].info == image.info
    app = second.images["app"].info
    assert app is not None and app.platforms == ("linux/amd64", "linux/arm64")


def test_an_edit_of_same_size_and_mtime_is_seen(make_project: MakeProject,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = project(make_project)
    monkeypatch.chdir(path.parent)
    assert app_depends_on(plan(path, capsys)) == ["base"]
    dockerfile = path.parent / "app" / "Dockerfile"
    before = dockerfile.stat()
    dockerfile.write_text(ON_OTHER)
    os.utime(dockerfile, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = dockerfile.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert app_depends_on(plan(path, capsys)) == ["other"]


def test_an_edit_of_the_pipeline_of_same_size_and_mtime_is_seen(
        make_project: MakeProject, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = project(make_project)
    monkeypatch.chdir(path.parent)
    assert app_depends_on(plan(path, capsys)) == ["base"]
    before = path.stat()
    # base's tag goes to other: app's FROM now names other (same size)
    path.write_text(path.read_text().replace("cached/base:1", "cached/xxxx:1")
                    .replace("cached/othr:1", "cached/base:1"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert app_depends_on(plan(path, capsys)) == ["other"]


def test_a_pipeline_holding_a_date_loads_and_is_not_kept(
        make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    # YAML reads 2024-01-01 as a date, which the cache file cannot hold.
    path = make_project(PIPELINE + "defaults: {labels: {released: 2024-01-01}}\n", files={
        "base/Dockerfile": "FROM localhost:5000/busybox:latest\n",
        "other/Dockerfile": "FROM localhost:5000/busybox:latest\n", "app/Dockerfile": ON_BASE})
    monkeypatch.chdir(path.parent)
    for _ in range(2):
        loaded = load_pipeline(path, LoadOptions(env={}))
        assert loaded.images["app"].spec.labels == {"released": "2024-01-01"}  # as written
    assert not (path.parent / YAML_DOCUMENTS).exists()


def test_cold_and_warm_plans_are_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    cold = plan(EXAMPLE, capsys)
    file = tmp_path / DOCKERFILE_ANALYSES
    written = file.stat().st_mtime_ns
    assert plan(EXAMPLE, capsys) == cold
    assert file.stat().st_mtime_ns == written  # nothing new: not written again
    file.write_bytes(file.read_bytes()[:-7])  # truncated: ignored, and written again whole
    (tmp_path / YAML_DOCUMENTS).write_bytes(b"garbage")
    assert plan(EXAMPLE, capsys) == cold
    assert plan(EXAMPLE, capsys) == cold


@pytest.mark.parametrize("in_the_way", [".buildorch", DOCKERFILE_ANALYSES + "/"])
def test_a_folder_where_the_cache_cannot_be_written_still_plans(
        make_project: MakeProject, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], in_the_way: str) -> None:
    path = project(make_project)
    monkeypatch.chdir(path.parent)
    blocker = path.parent / in_the_way
    if in_the_way.endswith("/"):
        blocker.mkdir(parents=True)  # a folder where the file should be
    else:
        blocker.write_text("a file where the folder should be\n")
    assert app_depends_on(plan(path, capsys)) == ["base"]
    assert app_depends_on(plan(path, capsys)) == ["base"]
    assert not (path.parent / DOCKERFILE_ANALYSES).is_file()


def test_plan_as_a_subprocess_writes_then_uses_the_cache(make_project: MakeProject) -> None:
    path = project(make_project)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "buildorch", "plan", "-f", str(path), "--format", "json"]
    cold = subprocess.run(argv, cwd=path.parent, env=env, capture_output=True, text=True,
                          check=False)
    assert cold.returncode == 0, cold.stderr
    file = path.parent / DOCKERFILE_ANALYSES
    written = file.stat().st_mtime_ns
    (path.parent / "app" / "Dockerfile").write_text(ON_OTHER)
    warm = subprocess.run(argv, cwd=path.parent, env=env, capture_output=True, text=True,
                          check=False)
    assert warm.returncode == 0, warm.stderr
    assert app_depends_on(json.loads(cold.stdout)) == ["base"]
    assert app_depends_on(json.loads(warm.stdout)) == ["other"]
    assert file.stat().st_mtime_ns != written  # the new analysis was added


def test_a_load_without_a_cache_file_leaves_nothing(make_project: MakeProject,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = project(make_project)
    monkeypatch.chdir(path.parent)
    loaded = load_pipeline(path, LoadOptions(env={}, state_root=None))
    assert loaded.images["app"].info is not None
    assert not (path.parent / ".buildorch").exists()
    load_pipeline(path, LoadOptions(env={}, state_root=Path("state")))  # relative: to the cwd
    assert (path.parent / "state" / DOCKERFILE_ANALYSES).is_file()
    assert (path.parent / "state" / YAML_DOCUMENTS).is_file()
    assert not (path.parent / ".buildorch").exists()
