"""Finding and reading a repository's Dockerfiles, for `buildorch init`.

A Dockerfile is a file named as Renovate's dockerfile manager finds them
(renovatebot/renovate lib/modules/manager/dockerfile/index.ts: `(^|/|\\.)([Dd]ocker|
[Cc]ontainer)file$` and `(^|/)([Dd]ocker|[Cc]ontainer)file[^/]*$`): `Dockerfile`,
`Containerfile`, `<label>.Dockerfile`, and `Dockerfile.<label>` (or `-<label>`,
`_<label>`), but not what only looks like one: `Dockerfile.dockerignore` (its ignore
file), templates (`.j2`, `.tmpl`, `.in`, ...), notes (`.md`, `.txt`) and backups
(`.bak`, `.orig`, ...).

Inside a git work tree the files are those git knows or would add (`git ls-files
--cached --others --exclude-standard`: `.gitignore` is followed; submodules are not
entered); elsewhere the folder is walked, not following links. Either way hidden folders
(`.git`, `.buildorch`, `.venv`, `.github`, `.devcontainer`) and dependency folders
(`node_modules`, `bower_components`, `vendor`, `venv`, `__pycache__`, `site-packages`)
are passed over: their Dockerfiles are not the repository's images.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import dockerfile

from buildorch import proc
from buildorch.dockerfiles.parser import parse_dockerfile, read_dockerfile
from buildorch.localpaths import is_file
from buildorch.pipeline.from_repository import ScannedDockerfile

SKIPPED_FOLDERS = frozenset({"node_modules", "bower_components", "vendor", "venv",
                             "__pycache__", "site-packages"})
NOT_DOCKERFILES = frozenset({"dockerignore", "md", "txt", "rst", "j2", "jinja", "jinja2",
                             "tmpl", "tpl", "template", "in", "bak", "orig", "rej", "swp",
                             "old"})
_SUFFIXED = re.compile(r"(?:[Dd]ocker|[Cc]ontainer)file(?:[._-](?P<label>.+))?")
_PREFIXED = re.compile(r"(?P<label>.+)\.(?:[Dd]ocker|[Cc]ontainer)file")
GIT_TIMEOUT = 60.0


def dockerfile_label(filename: str) -> str | None:
    """What the name of a Dockerfile adds to its folder's (`worker` for `Dockerfile.worker`
    and `worker.Dockerfile`, `""` for `Dockerfile`); None: not a Dockerfile."""
    match = _SUFFIXED.fullmatch(filename) or _PREFIXED.fullmatch(filename)
    if match is None:
        return None
    label = match.group("label") or ""
    if label.rpartition(".")[2].lower() in NOT_DOCKERFILES:
        return None
    return label


def find_dockerfiles(root: Path) -> list[str]:
    """The Dockerfiles under `root`, `/`-separated paths relative to it, sorted."""
    listed = _git_listed(root)
    paths = listed if listed is not None else _walked(root)
    return sorted(p for p in set(paths) if dockerfile_label(p.rpartition("/")[2]) is not None
                  and not _skipped(p) and _is_text(p) and is_file(root / p))


def read_scanned(root: Path, path: str) -> ScannedDockerfile:
    """The analysis of the Dockerfile at `root / path`; ConfigError naming `path`."""
    return scan_text(path, read_dockerfile(root / path, path))


def scan_text(path: str, text: str) -> ScannedDockerfile:
    """The analysis of Dockerfile `text` found at `path`; ConfigError naming `path`."""
    info = parse_dockerfile(text, path)
    label = dockerfile_label(path.rpartition("/")[2])
    return ScannedDockerfile(path, label or None, info, _parameterised(text))


def _parameterised(text: str) -> frozenset[int]:
    """The stages whose FROM names its image through a variable, as written."""
    froms = [c for c in dockerfile.parse_string(text.removeprefix("\ufeff"))
             if (c.cmd or "").upper() == "FROM"]
    return frozenset(i for i, c in enumerate(froms) if c.value and "$" in c.value[0])


def _is_text(path: str) -> bool:
    """Whether a path can be written in the pipeline: a name that is not UTF-8 cannot."""
    try:
        path.encode()
    except UnicodeEncodeError:
        return False
    return True


def _skipped(path: str) -> bool:
    return any(f.startswith(".") or f in SKIPPED_FOLDERS for f in path.split("/")[:-1])


def _git_listed(root: Path) -> list[str] | None:
    """The files git lists under `root`; None outside a work tree or without git."""
    argv = ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others",
            "--exclude-standard"]
    try:
        result = proc.run(argv, check=False, timeout=GIT_TIMEOUT)
    except (proc.ToolNotFoundError, subprocess.TimeoutExpired, UnicodeDecodeError):
        return None  # a name that is not UTF-8: the walk reads it
    if result.returncode != 0:
        return None
    return [p for p in result.output.split("\0") if p]


def _walked(root: Path) -> list[str]:
    found: list[str] = []
    for folder, folders, files in os.walk(root):
        folders[:] = [f for f in folders if not f.startswith(".") and f not in SKIPPED_FOLDERS]
        rel = Path(folder).relative_to(root).as_posix()
        found.extend(name if rel == "." else f"{rel}/{name}" for name in files)
    return found
