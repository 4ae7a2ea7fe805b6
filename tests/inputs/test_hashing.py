"""Hashing a context's files through the stat cache, and the digest of a whole tree."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import pytest

from buildorch.errors import ConfigError
from buildorch.inputs import hashing
from buildorch.inputs.context_files import ContextEntry, EntryKind, visible_files
from buildorch.inputs.dockerignore import IgnoreMatcher
from buildorch.inputs.hashing import file_digest, hash_files, tree_digest
from buildorch.inputs.stat_cache import StatCache

PAST_NS = 1_600_000_000 * 10**9  # an mtime long before now: not racy


def context(root: Path, files: dict[str, str]) -> tuple[ContextEntry, ...]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.utime(path, ns=(PAST_NS, PAST_NS))
    return visible_files(root, IgnoreMatcher.of(()))


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files hash_files reads, in any order."""
    seen: list[str] = []

    def counting(path: str) -> str:
        seen.append(Path(path).name)
        return file_digest(path)

    monkeypatch.setattr(hashing, "file_digest", counting)
    return seen


def test_digests_are_the_contents_sha256(tmp_path: Path) -> None:
    root = tmp_path / "ctx"
    entries = context(root, {"a": "alpha", "d/b": "beta"})
    (root / "link").symlink_to("a")
    entries = visible_files(root, IgnoreMatcher.of(()))
    digests = hash_files(root, entries, StatCache(None))
    assert digests == {"a": hashlib.sha256(b"alpha").hexdigest(),
                       "d/b": hashlib.sha256(b"beta").hexdigest()}


def test_unchanged_files_are_not_read_again(tmp_path: Path, reads: list[str]) -> None:
    root = tmp_path / "ctx"
    entries = context(root, {"a": "one", "b": "two"})
    cache_file = tmp_path / "cache.json"
    first = StatCache.load(cache_file)
    hash_files(root, entries, first)
    first.save()
    assert sorted(reads) == ["a", "b"]
    reads.clear()
    again = hash_files(root, visible_files(root, IgnoreMatcher.of(())),
                       StatCache.load(cache_file))
    assert reads == []
    assert again["a"] == hashlib.sha256(b"one").hexdigest()


def test_the_stamp_decides_not_the_content(tmp_path: Path) -> None:
    """Same size, mtime and inode: the cached digest is used even though the content
    changed (that is what saves the reads); a new mtime or size makes it read again."""
    root = tmp_path / "ctx"
    context(root, {"a": "one"})
    cache = StatCache(tmp_path / "cache.json")
    old = hash_files(root, visible_files(root, IgnoreMatcher.of(())), cache)["a"]
    path = root / "a"
    inode = path.stat().st_ino
    with path.open("r+") as handle:  # in place: same inode, same size
        handle.write("ONE")
    os.utime(path, ns=(PAST_NS, PAST_NS))
    assert path.stat().st_ino == inode
    entries = visible_files(root, IgnoreMatcher.of(()))
    assert hash_files(root, entries, cache)["a"] == old
    os.utime(path, ns=(PAST_NS + 1, PAST_NS + 1))
    entries = visible_files(root, IgnoreMatcher.of(()))
    assert hash_files(root, entries, cache)["a"] == hashlib.sha256(b"ONE").hexdigest()
    path.write_text("ONE!")
    os.utime(path, ns=(PAST_NS + 1, PAST_NS + 1))
    entries = visible_files(root, IgnoreMatcher.of(()))
    assert hash_files(root, entries, cache)["a"] == hashlib.sha256(b"ONE!").hexdigest()


def test_a_file_written_just_now_is_read_again_next_time(tmp_path: Path,
                                                        reads: list[str]) -> None:
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "fresh").write_text("x")  # mtime: now
    cache = StatCache(None)
    hash_files(root, visible_files(root, IgnoreMatcher.of(())), cache)
    hash_files(root, visible_files(root, IgnoreMatcher.of(())), cache)
    assert reads == ["fresh", "fresh"]


def test_parallel_and_inline_agree(tmp_path: Path) -> None:
    root = tmp_path / "ctx"
    entries = context(root, {f"d{i % 3}/f{i}": "x" * i for i in range(40)})
    parallel = hash_files(root, entries, StatCache(None), workers=4)
    assert parallel == hash_files(root, entries, StatCache(None), workers=1)
    assert len(parallel) == 40


def test_an_unreadable_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    root = tmp_path / "ctx"
    entries = context(root, {"gone": "x", "here": "y"})
    (root / "gone").unlink()
    with pytest.raises(ConfigError, match=r"ctx/gone: cannot read .*No such file"):
        hash_files(root, entries, StatCache(None))


def entry(path: str, kind: EntryKind = EntryKind.FILE, mode: int = 0o644,
          target: str | None = None) -> ContextEntry:
    return ContextEntry(path, kind, mode, target, 1, 1, 1)


def test_tree_digest_covers_paths_kinds_modes_contents_and_targets() -> None:
    base = [entry("a"), entry("d", EntryKind.DIR, 0o755), entry("l", EntryKind.SYMLINK,
                                                                0o777, "a")]
    digests = {"a": "0" * 64}
    digest = tree_digest(base, digests)
    assert digest == tree_digest(list(reversed(base)), digests)  # order does not matter
    variants = [
        ([entry("b"), *base[1:]], {"b": "0" * 64}),
        ([entry("a", mode=0o755), *base[1:]], digests),
        (base, {"a": "1" * 64}),
        ([*base[:2], entry("l", EntryKind.SYMLINK, 0o777, "b")], digests),
        ([*base[:2], entry("l", EntryKind.DIR, 0o777)], digests),
        (base[:2], digests),
        ([*base, entry("e", EntryKind.DIR)], digests),
    ]
    assert len({digest} | {tree_digest(e, d) for e, d in variants}) == len(variants) + 1
    assert tree_digest([dataclasses.replace(base[0], size=9, mtime_ns=9, inode=9),
                        *base[1:]], digests) == digest  # the stamp is not content
    with pytest.raises(ValueError, match="no content digest for 'a'"):
        tree_digest(base, {})
