"""Writing buildorch's own files atomically."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildorch.statefile import write_atomically


def test_writes_text_or_bytes_and_makes_the_folder(tmp_path: Path) -> None:
    target = tmp_path / "a/b/state.json"
    write_atomically(target, "one")
    assert target.read_text() == "one"
    write_atomically(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state.json"
    write_atomically(target, "old")

    def broken(self: Path, other: Path) -> Path:
        raise OSError("disk went away")

    monkeypatch.setattr(Path, "replace", broken)
    with pytest.raises(OSError):
        write_atomically(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
