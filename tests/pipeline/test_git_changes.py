"""The paths git says differ between a revision and the working tree, on a real repository:
staged, unstaged, deleted, renamed and untracked files; ignored files are not seen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from buildorch.errors import BuildorchError
from buildorch.pipeline.git_changes import changes_since
from tests.git_repo import GIT_ENV, GitRepo


@pytest.fixture(autouse=True)
def _no_user_git_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM"):
        monkeypatch.setenv(key, GIT_ENV[key])


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("one", {"a/keep.txt": "k", "a/edit.txt": "1", "a/gone.txt": "g",
                        "a/old-name.txt": "r", "b/staged.txt": "s", ".gitignore": "*.log\n"})
    return repo


def test_every_kind_of_change_and_nothing_else(repo: GitRepo) -> None:
    first = repo.git("rev-parse", "HEAD")
    repo.commit("two", {"c/committed.txt": "c"})
    repo.write({"a/edit.txt": "2", "a/gone.txt": None, "b/staged.txt": "S",
                "a/new.txt": "n", "a/debug.log": "ignored", "d/e/f.txt": "deep"})
    repo.git("add", "b/staged.txt")
    repo.git("mv", "a/old-name.txt", "a/new-name.txt")
    changes = changes_since("HEAD~1", repo.root / "a")
    assert changes.commit == first
    assert changes.root == Path(os.path.realpath(repo.root))
    assert changes.paths == {"c/committed.txt", "a/edit.txt", "a/gone.txt", "b/staged.txt",
                             "a/new.txt", "d/e/f.txt", "a/old-name.txt", "a/new-name.txt"}
    assert changes_since("HEAD", repo.root).paths == changes.paths - {"c/committed.txt"}


def test_nothing_changed(repo: GitRepo) -> None:
    assert changes_since("main", repo.root).paths == frozenset()


def test_odd_file_names_come_back_as_written(repo: GitRepo) -> None:
    names = {"a/with space.txt", "a/ünï.txt", "a/tab\there.txt", "a/quote\"d.txt"}
    repo.write(dict.fromkeys(names, "x"))
    assert changes_since("HEAD", repo.root).paths == names


def test_text_at_the_revision(repo: GitRepo) -> None:
    repo.write({"a/edit.txt": "now"})
    changes = changes_since("HEAD", repo.root)
    assert changes.text_at_ref("a/edit.txt") == "1"
    assert changes.text_at_ref("a/new-file.txt") is None
    assert changes.text_at_ref("a") is None  # a folder is no file


def test_relative_paths(repo: GitRepo, tmp_path: Path) -> None:
    changes = changes_since("HEAD", repo.root)
    assert changes.relative(repo.root / "a" / ".." / "b" / "x") == "b/x"
    assert changes.relative(repo.root) == ""
    assert changes.relative(tmp_path / "elsewhere") is None
    (repo.root / "link").symlink_to(repo.root / "a")
    assert changes.relative(repo.root / "link" / "keep.txt") == "a/keep.txt"


@pytest.mark.parametrize("ref", ["no-such-branch", "HEAD~5", "-h", "", "HEAD:a",
                                 "0123456789abcdef0123456789abcdef01234567"])
def test_an_unknown_revision_is_one_line_naming_the_option(repo: GitRepo, ref: str) -> None:
    with pytest.raises(BuildorchError) as err:
        changes_since(ref, repo.root)
    assert str(err.value).startswith(f"--changed-since {ref}: no such commit in ")
    assert len(str(err.value).splitlines()) == 1
    assert err.value.exit_code == 2


def test_a_tree_is_no_commit(repo: GitRepo) -> None:
    tree = repo.git("rev-parse", "HEAD^{tree}")
    with pytest.raises(BuildorchError, match="no such commit"):
        changes_since(tree, repo.root)


def test_a_folder_outside_any_repository(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    with pytest.raises(BuildorchError) as err:
        changes_since("main", folder)
    assert str(err.value) == f"--changed-since main: {folder} is not inside a git repository"
