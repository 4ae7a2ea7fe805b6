"""Finding and reading a repository's Dockerfiles (`buildorch init`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from buildorch.errors import ConfigError
from buildorch.pipeline.repository_scan import (
    dockerfile_label,
    find_dockerfiles,
    read_scanned,
    scan_text,
)

BASE = "FROM localhost:5000/busybox:latest\n"
HAS_GIT = shutil.which("git") is not None


@pytest.mark.parametrize(("name", "label"), [
    ("Dockerfile", ""), ("dockerfile", ""), ("Containerfile", ""), ("containerfile", ""),
    ("Dockerfile.worker", "worker"), ("Dockerfile-worker", "worker"),
    ("Dockerfile_worker", "worker"), ("worker.Dockerfile", "worker"),
    ("worker.dockerfile", "worker"), ("Containerfile.dev", "dev"),
    ("Dockerfile.api.prod", "api.prod"),
])
def test_dockerfile_names(name: str, label: str) -> None:
    assert dockerfile_label(name) == label


@pytest.mark.parametrize("name", [
    "Dockerfile.dockerignore", "api.Dockerfile.dockerignore", "Dockerfile.md", "Dockerfile.j2",
    "Dockerfile.api.tmpl", "Dockerfile.in", "Dockerfile.bak", "Dockerfile.ORIG",
    "DOCKERFILE", "Dockerfiles", "Dockerfile.", ".Dockerfile", "x.Dockerfile.j2", "README.md",
    "docker-compose.yml", "Makefile",
])
def test_not_dockerfiles(name: str) -> None:
    assert dockerfile_label(name) is None


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


SKIPPED = {".git/x/Dockerfile": BASE, ".github/Dockerfile": BASE,
           ".devcontainer/Dockerfile": BASE, "node_modules/p/Dockerfile": BASE,
           "a/vendor/Dockerfile": BASE, "venv/Dockerfile": BASE, ".buildorch/Dockerfile": BASE}
FOUND = {"Dockerfile": BASE, "a/Dockerfile.x": BASE, "a/b/y.Dockerfile": BASE,
         "c/Containerfile": BASE, "c/README.md": "", "c/Dockerfile.dockerignore": "x\n"}


def test_a_walk_finds_dockerfiles_and_passes_hidden_and_dependency_folders_over(
        tmp_path: Path) -> None:
    write(tmp_path, {**SKIPPED, **FOUND})
    (tmp_path / "loop").symlink_to(tmp_path)  # links are not followed
    assert find_dockerfiles(tmp_path) == [
        "Dockerfile", "a/Dockerfile.x", "a/b/y.Dockerfile", "c/Containerfile"]


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_in_a_git_work_tree_gitignore_is_followed(tmp_path: Path) -> None:
    write(tmp_path, {**SKIPPED, **FOUND, ".gitignore": "generated/\n*.gen.Dockerfile\n",
                     "generated/Dockerfile": BASE, "a/z.gen.Dockerfile": BASE,
                     "untracked/Dockerfile": BASE})
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    for args in (["init", "-q"], ["add", "Dockerfile", "a", "c", ".gitignore"],
                 ["commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=tmp_path, env=env, check=True, capture_output=True)
    (tmp_path / "c" / "Containerfile").unlink()  # in the index, gone from the tree
    assert find_dockerfiles(tmp_path) == [
        "Dockerfile", "a/Dockerfile.x", "a/b/y.Dockerfile", "untracked/Dockerfile"]
    # a sub-folder of the work tree: paths relative to it, only what is under it
    assert find_dockerfiles(tmp_path / "a") == ["Dockerfile.x", "b/y.Dockerfile"]


def test_scan_text_tells_which_froms_are_written_with_a_variable() -> None:
    text = ("ARG BASE=x\nFROM --platform=$BUILDPLATFORM busybox AS a\nFROM ${BASE} AS b\n"
            "FROM a\nFROM $BASE\n")
    scanned = scan_text("api/Dockerfile.dev", text)
    assert scanned.parameterised == frozenset({1, 3})  # the flag's `$` is not the image's
    assert scanned.label == "dev" and scanned.folder == "api"
    assert scan_text("Dockerfile", BASE).label is None


def test_an_unreadable_dockerfile_is_a_config_error_naming_it(tmp_path: Path) -> None:
    write(tmp_path, {"a/Dockerfile": "FROM\n", "b/Dockerfile": "RUN x\n"})
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "Dockerfile").write_bytes(b"FROM \xff\n")
    for rel in ("a/Dockerfile", "b/Dockerfile", "c/Dockerfile"):
        with pytest.raises(ConfigError) as caught:
            read_scanned(tmp_path, rel)
        assert caught.value.file == rel
