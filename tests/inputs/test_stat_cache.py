"""The stat cache: digests kept by (path, size, mtime, inode), racy entries re-read,
a missing or corrupt file starts empty, saving is atomic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from buildorch.inputs import stat_cache
from buildorch.inputs.stat_cache import RACY_NS, Stamp, StatCache

DIGEST = "ab" * 32
OTHER = "cd" * 32
STAMP = Stamp(3, 10 * RACY_NS, 42)
LATER = 20 * RACY_NS  # a clock well after STAMP's mtime


def cache_at(path: Path, now: int = LATER) -> StatCache:
    return StatCache.load(path, clock=lambda: now)


def test_a_digest_is_used_only_with_the_very_same_stamp(tmp_path: Path) -> None:
    cache = cache_at(tmp_path / "c.json")
    assert cache.lookup("/f", STAMP) is None
    cache.store("/f", STAMP, DIGEST)
    assert cache.lookup("/f", STAMP) == DIGEST
    for changed in (Stamp(4, STAMP.mtime_ns, 42), Stamp(3, STAMP.mtime_ns + 1, 42),
                    Stamp(3, STAMP.mtime_ns, 43)):
        assert cache.lookup("/f", changed) is None
    assert cache.lookup("/g", STAMP) is None


def test_survives_a_save_and_load(tmp_path: Path) -> None:
    path = tmp_path / ".buildorch" / "stat-cache.json"
    cache = cache_at(path)
    cache.store("/f", STAMP, DIGEST)
    cache.store("/\udcff-not-utf8", STAMP, OTHER)  # a file name that is not UTF-8
    assert cache.save()
    again = cache_at(path)
    assert again.lookup("/f", STAMP) == DIGEST
    assert again.lookup("/\udcff-not-utf8", STAMP) == OTHER


def test_a_file_changed_just_before_hashing_is_read_again(tmp_path: Path) -> None:
    """Racy git: hashed within RACY_NS of its mtime, an edit in the same mtime tick would
    keep the stamp; so the digest is kept but not trusted until hashed while older."""
    path = tmp_path / "c.json"
    soon = cache_at(path, now=STAMP.mtime_ns + RACY_NS - 1)
    soon.store("/f", STAMP, DIGEST)
    assert soon.lookup("/f", STAMP) is None
    soon.save()
    later = cache_at(path)
    assert later.lookup("/f", STAMP) is None
    later.store("/f", STAMP, DIGEST)
    assert later.lookup("/f", STAMP) == DIGEST
    future = cache_at(path, now=STAMP.mtime_ns - 5)  # an mtime ahead of the clock
    future.store("/g", STAMP, DIGEST)
    assert future.lookup("/g", STAMP) is None


@pytest.mark.parametrize("content", [
    b"", b"{", b"\xff\xfe", b"[]", b'{"format": 2, "files": {}}', b'{"format": 1}',
    b'{"format": 1, "files": []}',
    b'{"format": 1, "files": {"/f": [3, 1, 42, "short", false], "/g": [true, 1, 1, "'
    + DIGEST.encode() + b'", false], "/h": "x", "/i": [3, 1, 42, "' + DIGEST.encode()
    + b'", 0]}}',
])
def test_a_corrupt_cache_starts_empty(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(content)
    cache = cache_at(path)
    assert len(cache) == 0
    cache.store("/f", STAMP, DIGEST)
    assert cache.save() and cache_at(path).lookup("/f", STAMP) == DIGEST


def test_a_missing_or_unreadable_cache_starts_empty(tmp_path: Path) -> None:
    assert len(cache_at(tmp_path / "none.json")) == 0
    (tmp_path / "dir.json").mkdir()
    assert len(cache_at(tmp_path / "dir.json")) == 0


def test_valid_entries_survive_beside_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"format": 1, "files": {
        "/ok": [3, STAMP.mtime_ns, 42, DIGEST, False], "/bad": [1, 2]}}))
    assert cache_at(path).lookup("/ok", STAMP) == DIGEST


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Written to a temporary file renamed over the old cache: a failure leaves the old
    cache whole and no temporary file behind."""
    path = tmp_path / "c.json"
    first = cache_at(path)
    first.store("/f", STAMP, DIGEST)
    first.save()
    before = path.read_bytes()
    second = cache_at(path)
    second.store("/g", STAMP, OTHER)

    def broken_replace(self: Path, target: Path) -> Path:
        assert self.parent == path.parent and self.name.startswith(".c.json.")
        assert json.loads(self.read_text())["files"]["/g"][3] == OTHER  # complete
        raise OSError("disk went away")

    monkeypatch.setattr(Path, "replace", broken_replace)
    assert not second.save()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json"]
    monkeypatch.undo()
    assert second.save()
    assert cache_at(path).lookup("/g", STAMP) == OTHER


def test_save_writes_only_when_something_changed(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.json"
    cache = cache_at(path)
    cache.store("/f", STAMP, DIGEST)
    cache.save()
    writes: list[str] = []
    monkeypatch.setattr(stat_cache, "write_atomically", lambda p, text: writes.append(text))
    again = cache_at(path)
    assert again.lookup("/f", STAMP) == DIGEST
    again.store("/f", STAMP, DIGEST)
    assert again.save() and writes == []


def test_unseen_entries_may_be_dropped(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    cache = cache_at(path)
    cache.store("/old", STAMP, DIGEST)
    cache.store("/kept", STAMP, DIGEST)
    cache.save()
    again = cache_at(path)
    again.lookup("/kept", STAMP)
    again.save()
    assert len(cache_at(path)) == 2  # kept by default: another selection may need them
    again.save(drop_unseen=True)
    reloaded = cache_at(path)
    assert len(reloaded) == 1 and reloaded.lookup("/kept", STAMP) == DIGEST


def test_the_workdir_cache_lives_under_dot_buildorch(tmp_path: Path) -> None:
    cache = StatCache.in_workdir(tmp_path)
    assert cache.path == tmp_path / ".buildorch" / "stat-cache.json"
    cache.store("/f", STAMP, DIGEST)
    assert cache.save() and cache.path.is_file()
