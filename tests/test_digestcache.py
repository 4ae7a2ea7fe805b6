"""A cache file of digest-keyed values: read back as written, ignored whole when it is not
exactly what this code wrote, written atomically and only when something was added."""

from __future__ import annotations

import datetime as dt
import hashlib
import marshal
import tempfile
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from buildorch.digestcache import (
    DigestCache,
    kept_entries,
    read_entries,
    source_digest,
    write_entries,
)

VERSION = hashlib.sha256(b"this code").digest()
OTHER = hashlib.sha256(b"other code").digest()
KEY = hashlib.sha256(b"k").digest()
VALUE = ("x", 1, None, (2.5, b"b"), {"k": [True]})


def key(i: int) -> bytes:
    return i.to_bytes(32, "big")


def saved(file: Path, value: object = VALUE) -> Path:
    cache = DigestCache.open(file, VERSION, 10)
    cache.put(KEY, value)
    cache.save()
    return file


def test_a_value_is_read_back_as_written(tmp_path: Path) -> None:
    file = saved(tmp_path / ".buildorch" / "c")
    cache = DigestCache.open(file, VERSION, 10)
    assert cache.get(KEY) == VALUE
    assert cache.get(key(1)) is None
    assert list(cache.used) == [KEY]


def test_a_run_that_adds_nothing_does_not_write(tmp_path: Path) -> None:
    file = saved(tmp_path / "c")
    before = file.stat()
    cache = DigestCache.open(file, VERSION, 10)
    cache.get(KEY)
    cache.save()
    after = file.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_value_marshal_cannot_hold_is_not_kept(tmp_path: Path) -> None:
    cache = DigestCache.open(tmp_path / "c", VERSION, 10)
    cache.put(KEY, {"when": dt.date(2024, 1, 1)})  # YAML reads 2024-01-01 as a date
    assert cache.get(KEY) is None and cache.added == 0
    cache.save()
    assert not (tmp_path / "c").exists()


def test_the_file_is_owner_only_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    file = saved(tmp_path / "state" / "c")
    assert file.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in file.parent.iterdir()] == ["c"]


def test_a_failed_write_leaves_the_old_file(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    file = saved(tmp_path / "c")
    old = file.read_bytes()
    cache = DigestCache.open(file, VERSION, 10)
    cache.put(key(2), ("new",))

    def broken_replace(self: Path, target: Path) -> Path:
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Path, "replace", broken_replace)
    cache.save()  # no error: the cache is only not saved
    assert file.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["c"]


@pytest.mark.parametrize("how", ["file in the way", "folder in the way", "cannot create"])
def test_where_nothing_can_be_written_the_cache_is_only_not_saved(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    file = tmp_path / ".buildorch" / "c"
    if how == "file in the way":
        file.parent.write_text("not a folder")
    elif how == "folder in the way":
        file.mkdir(parents=True)
    else:  # as a read-only folder answers (root ignores permission bits, so simulated)
        def refuse(*_args: object, **_kwargs: object) -> None:
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    cache = DigestCache.open(file, VERSION, 10)
    assert cache.entries == {}
    cache.put(KEY, VALUE)
    cache.save()
    assert not file.is_file()


def damaged(data: bytes) -> list[bytes]:
    flipped = bytearray(data)
    flipped[-5] ^= 0x40
    return [b"", data[:10], data[:60], data[:-1], bytes(flipped), data + b"\0",
            data.replace(VERSION, OTHER), b"x" * len(data)]


def test_a_truncated_corrupt_or_foreign_file_is_ignored_and_replaced(tmp_path: Path) -> None:
    file = saved(tmp_path / "c")
    good = file.read_bytes()
    assert read_entries(good, VERSION)
    for data in damaged(good):
        assert read_entries(data, VERSION) == {}
        file.write_bytes(data)
        cache = DigestCache.open(file, VERSION, 10)
        assert cache.get(KEY) is None
        cache.put(KEY, VALUE)
        cache.save()  # written again, whole
        assert DigestCache.open(file, VERSION, 10).get(KEY) == VALUE


def test_another_code_version_is_ignored() -> None:
    data = write_entries({KEY: marshal.dumps(VALUE)}, VERSION)
    assert read_entries(data, VERSION) == {KEY: marshal.dumps(VALUE)}
    assert read_entries(data, OTHER) == {}


def test_a_save_keeps_what_was_used_and_as_many_recent_others() -> None:
    entries = {key(i): b"v" for i in range(3000)}
    used = {key(i): None for i in (7, 5)}
    kept = kept_entries(entries, used, 1024)
    assert list(kept)[-2:] == [key(7), key(5)]  # the used ones, last, in the order of use
    assert len(kept) == 2 + 1024 and key(2999) in kept and key(0) not in kept
    many = {key(i): None for i in range(2000)}
    assert len(kept_entries(entries, many, 1024)) == 3000  # 2000 used, and 1000 others
    assert list(kept_entries(entries, used, 0)) == [key(2998), key(2999), key(7), key(5)]


def test_the_version_of_code_follows_its_files(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("x = 1\n")
    first = source_digest(b"3.11", source)
    assert source_digest(b"3.11", source) == first
    source.write_text("x = 2\n")
    assert source_digest(b"3.11", source) != first
    assert source_digest(b"3.12", source) != source_digest(b"3.11", source)
    assert source_digest(b"a", b"bc") != source_digest(b"ab", b"c")


@settings(deadline=None, max_examples=200)
@given(st.binary(max_size=300))
def test_bytes_that_fail_the_checksum_read_as_no_entries(data: bytes) -> None:
    # Only bytes that pass the checksum reach marshal, which trusts its input (a forged
    # length makes it allocate gigabytes): arbitrary payloads are never fed to it here.
    empty = write_entries({}, VERSION)
    prefix = empty[: len(empty) - len(marshal.dumps({})) - 32]  # magic and code version
    assume(data[:32] != hashlib.sha256(data[32:]).digest())  # never true by chance
    assert read_entries(data, VERSION) == {}
    assert read_entries(prefix + data, VERSION) == {}


PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
    | st.binary(),
    lambda inner: st.lists(inner, max_size=3) | st.lists(inner, max_size=3).map(tuple)
    | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=10)


@settings(deadline=None, max_examples=100)
@given(st.dictionaries(st.binary(min_size=32, max_size=32), PLAIN, max_size=5))
def test_values_survive_a_save_and_an_open(values: dict[bytes, object]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "c"
        cache = DigestCache.open(file, VERSION, 10)
        for k, v in values.items():
            cache.put(k, v)
        cache.save()
        again = DigestCache.open(file, VERSION, 10)
        assert {k: again.get(k) for k in values} == values
