"""The git built-ins; here SOURCE_DATE_EPOCH: the environment's when not empty (as docker
buildx and nerdctl read it: docker/buildx commands/build.go, containerd/nerdctl
pkg/cmd/builder/build.go), else the commit time of HEAD (`git log -1 --format=%ct`)."""

from __future__ import annotations

from pathlib import Path

from buildorch.pipeline.gitinfo import git_builtins
from tests.git_repo import GitRepo


def test_source_date_epoch_is_heads_commit_time(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    (repo.root / "sub").mkdir()
    builtins = git_builtins(repo.root / "sub", {})
    first = repo.commit("one")
    assert builtins["SOURCE_DATE_EPOCH"]() == repo.git("show", "-s", "--format=%ct", first)


def test_the_environment_wins_unless_empty(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("one")
    assert git_builtins(repo.root, {"SOURCE_DATE_EPOCH": "0"})["SOURCE_DATE_EPOCH"]() == "0"
    empty = git_builtins(repo.root, {"SOURCE_DATE_EPOCH": ""})["SOURCE_DATE_EPOCH"]()
    assert empty == repo.git("log", "-1", "--format=%ct")


def test_no_commit_no_time(tmp_path: Path) -> None:
    assert git_builtins(tmp_path, {})["SOURCE_DATE_EPOCH"]() is None  # not a repository
    repo = GitRepo(tmp_path / "repo")
    assert git_builtins(repo.root, {})["SOURCE_DATE_EPOCH"]() is None  # no commit yet
