"""Built-in pipeline variables that come from git (GIT_SHA, GIT_SHORT_SHA, GIT_BRANCH, and
SOURCE_DATE_EPOCH where the environment does not give it)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from buildorch import proc

# CI systems check out a detached HEAD; they name the branch in their environment.
_CI_BRANCH_VARS = ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME", "BRANCH_NAME")


def _git(folder: Path, *args: str) -> str | None:
    try:
        result = proc.run(["git", "-C", str(folder), *args], check=False, timeout=10)
    except proc.ToolNotFoundError:
        return None
    value = result.output.strip()
    return value if result.returncode == 0 and value else None


def _branch(folder: Path, env: Mapping[str, str]) -> str | None:
    for name in _CI_BRANCH_VARS:
        if env.get(name):
            return env[name]
    branch = _git(folder, "rev-parse", "--abbrev-ref", "HEAD")
    return None if branch == "HEAD" else branch


def _source_date_epoch(folder: Path, env: Mapping[str, str]) -> str | None:
    """The environment's SOURCE_DATE_EPOCH, as docker buildx and nerdctl read it (a value that
    is not empty: docker/buildx commands/build.go, containerd/nerdctl pkg/cmd/builder/build.go),
    else the commit time of HEAD; None outside git or before the first commit."""
    return env.get("SOURCE_DATE_EPOCH") or _git(folder, "log", "-1", "--format=%ct")


def git_builtins(
    folder: Path, env: Mapping[str, str] | None = None
) -> dict[str, Callable[[], str | None]]:
    """Lazy built-ins: git is only run when a pipeline uses one of them."""
    environ = os.environ if env is None else env
    sha = functools.cache(lambda: _git(folder, "rev-parse", "HEAD"))
    return {
        "GIT_SHA": sha,
        "GIT_SHORT_SHA": lambda: (sha() or "")[:7] or None,
        "GIT_BRANCH": functools.cache(lambda: _branch(folder, environ)),
        "SOURCE_DATE_EPOCH": functools.cache(lambda: _source_date_epoch(folder, environ)),
    }
