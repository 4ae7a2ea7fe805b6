"""visible_files against the hand-worked `.dockerignore` table (tests/inputs/ignore_cases.py;
the engine test checks the same table against BuildKit), and the entries' details."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from buildorch.errors import ConfigError
from buildorch.inputs.context_files import ContextEntry, EntryKind, visible_files
from buildorch.inputs.dockerignore import IgnoreMatcher, ignore_file_for, read_ignore
from tests.inputs.ignore_cases import CASES, Case, make_case, tree_dirs, tree_files


def listed(case: Case, root: Path) -> tuple[ContextEntry, ...]:
    context, dockerfile = make_case(root, case)
    found = ignore_file_for(context, dockerfile)
    patterns = read_ignore(found, str(found)) if found else ()
    return visible_files(context, IgnoreMatcher.of(patterns))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_entries_a_build_sees(case: Case, tmp_path: Path) -> None:
    entries = listed(case, tmp_path)
    assert {e.path for e in entries if e.kind is not EntryKind.DIR} == (
        tree_files(case) - case.excluded)
    assert {e.path for e in entries if e.kind is EntryKind.DIR} == tree_dirs() - case.gone_dirs


def test_entries_carry_kind_mode_target_and_stamp(tmp_path: Path) -> None:
    entries = {e.path: e for e in listed(CASES[0], tmp_path)}
    assert [e.path for e in listed(CASES[0], tmp_path / "again")] == sorted(entries)
    assert entries["run.sh"].mode == 0o755 and entries["src/lib/deep.py"].mode == 0o4755
    assert entries["docs/guide"].kind is EntryKind.DIR and entries["docs/guide"].mode == 0o750
    link = entries["link.txt"]
    assert link.kind is EntryKind.SYMLINK and link.target == "a.txt"
    assert entries["fifo"].kind is EntryKind.OTHER
    stat = (tmp_path / "ctx" / "a.txt").stat()
    assert (entries["a.txt"].size, entries["a.txt"].mtime_ns, entries["a.txt"].inode) == (
        stat.st_size, stat.st_mtime_ns, stat.st_ino)


def test_symlinks_are_not_followed_and_targets_kept_as_written(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f").write_text("x")
    (tmp_path / "into").symlink_to("./real//")
    entries = visible_files(tmp_path, IgnoreMatcher.of(()))
    assert [(e.path, e.kind, e.target) for e in entries] == [
        ("into", EntryKind.SYMLINK, "./real//"), ("real", EntryKind.DIR, None),
        ("real/f", EntryKind.FILE, None)]


def test_a_missing_context_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read this folder"):
        visible_files(tmp_path / "nope", IgnoreMatcher.of(()))


def test_an_unreadable_excluded_folder_is_passed_over(tmp_path: Path) -> None:
    """fsutil ignores a permission error in a folder it only walks for exceptions."""
    if os.geteuid() == 0:
        pytest.skip("root reads every folder")
    (tmp_path / "secret").mkdir(mode=0o000)
    (tmp_path / "keep").write_text("k")
    try:
        entries = visible_files(tmp_path, IgnoreMatcher.of(("secret", "!**/keep")))
        assert [e.path for e in entries] == ["keep"]
        with pytest.raises(ConfigError, match="permission denied"):
            visible_files(tmp_path, IgnoreMatcher.of(()))
    finally:
        (tmp_path / "secret").chmod(0o755)
