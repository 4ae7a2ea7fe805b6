"""What git says changed between a revision and the working tree (`--changed-since REF`).

The paths that differ are those of `git diff REF` (staged, unstaged and deleted files,
renames as a deletion and an addition) plus the untracked files git does not ignore,
each relative to the repository's top folder. Files git ignores are not seen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from buildorch import proc
from buildorch.errors import BuildorchError, shorten

OPTION = "--changed-since"
TIMEOUT = 120.0  # seconds: listing the changes of a large repository


@dataclass(frozen=True)
class GitChanges:
    ref: str  # as given
    commit: str  # what it names
    root: Path  # the repository's top folder, symlinks resolved
    paths: frozenset[str]  # relative to `root`, with '/'

    def relative(self, path: Path) -> str | None:
        """`path` relative to the repository (with '/', '' for its top), or None where it
        lies outside."""
        rel = os.path.relpath(os.path.realpath(path), self.root)
        if rel == os.curdir:
            return ""
        if rel == os.pardir or rel.startswith(os.pardir + os.sep):
            return None
        return rel.replace(os.sep, "/")

    def text_at_ref(self, rel: str) -> str | None:
        """The file `rel` (relative to the repository) as it was at the revision; None
        where it did not exist there (or was not a text file)."""
        spec = f"{self.commit}:{rel}"
        code, kind, _ = _git(self.root, "cat-file", "-t", spec)
        if code != 0 or kind.strip() != b"blob":
            return None
        code, out, err = _git(self.root, "cat-file", "blob", spec)
        if code != 0:
            raise BuildorchError(f"{OPTION} {shorten(self.ref)}: git cannot read {rel}: "
                                 f"{_first_line(err)}")
        try:
            return out.decode("utf-8")
        except UnicodeDecodeError:
            return None


def changes_since(ref: str, folder: Path) -> GitChanges:
    """The files that differ between `ref` and the working tree of the repository that
    holds `folder`; exit 2 (one line) where there is no repository or no such revision."""
    root = _top_folder(ref, folder)
    commit = _commit(ref, root)
    code, diff, err = _git(root, "diff", "--name-only", "-z", "--no-renames", "--no-ext-diff",
                           commit, "--")
    if code != 0:
        raise BuildorchError(f"{OPTION} {shorten(ref)}: git diff failed: {_first_line(err)}")
    code, untracked, err = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    if code != 0:
        raise BuildorchError(f"{OPTION} {shorten(ref)}: git ls-files failed: "
                             f"{_first_line(err)}")
    names = {os.fsdecode(n) for n in (*diff.split(b"\0"), *untracked.split(b"\0")) if n}
    return GitChanges(ref, commit, root, frozenset(names))


def _top_folder(ref: str, folder: Path) -> Path:
    code, out, _ = _git(folder, "rev-parse", "--show-toplevel")
    top = os.fsdecode(out).strip()
    if code != 0 or not top:
        raise BuildorchError(f"{OPTION} {shorten(ref)}: {folder} is not inside a git "
                             "repository")
    return Path(os.path.realpath(top))


def _commit(ref: str, root: Path) -> str:
    # A ref starting with '-' would be read as an option.
    code, out, _ = (1, b"", "") if not ref or ref.startswith("-") else _git(
        root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    commit = out.decode(errors="replace").strip()
    if code != 0 or not commit:
        shallow = _git(root, "rev-parse", "--is-shallow-repository")[1].strip() == b"true"
        hint = " (the clone is shallow: fetch more history)" if shallow else ""
        raise BuildorchError(f"{OPTION} {shorten(ref)}: no such commit in {root}{hint}")
    return commit


def _git(folder: Path, *args: str) -> tuple[int, bytes, str]:
    # No pager, no colour, no locale-dependent quoting: -z output is taken verbatim.
    return proc.capture(["git", "-C", str(folder), "--no-pager", "-c", "core.quotePath=false",
                         *args], timeout=TIMEOUT)


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return shorten(lines[0] if lines else "no message", 200)
