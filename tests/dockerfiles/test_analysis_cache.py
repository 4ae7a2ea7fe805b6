"""The cache of Dockerfile analyses: the same answers as analysing, a miss for anything
changed, and a file that is ignored when it is not exactly what this code wrote."""

from __future__ import annotations

import dataclasses
import hashlib
import marshal
import platform
import tempfile
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from buildorch.dockerfiles import analysis_cache
from buildorch.dockerfiles.analysis_cache import (
    AnalysisCache,
    code_version,
    entry_key,
    flatten,
    kept_entries,
    read_entries,
    unflatten,
    write_entries,
)
from buildorch.dockerfiles.parser import BuildPlatforms, parse_dockerfile
from buildorch.errors import ConfigError
from buildorch.oci import platforms as oci_platforms
from tests.dockerfiles.parse_helpers import MULTI_STAGE

AMD64 = BuildPlatforms("linux/amd64", "linux/amd64", None)
ARGS = {"GO_VERSION": "1.23", "UNUSED": "x"}


def cache_file(folder: Path) -> Path:
    return folder / ".buildorch" / "dockerfile-analyses"


def no_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, an analysis that is not in the cache fails the test."""
    def fail(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("analysed again")
    monkeypatch.setattr(analysis_cache, "parse_dockerfile", fail)


def saved(folder: Path, text: str = MULTI_STAGE) -> Path:
    known = AnalysisCache.open(cache_file(folder))
    known.analyse(text, "a/Dockerfile", ARGS, AMD64)
    known.save()
    return cache_file(folder)


def test_a_cached_analysis_equals_a_fresh_one(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = parse_dockerfile(MULTI_STAGE, "b/Dockerfile", ARGS, AMD64)
    saved(tmp_path)
    no_parse(monkeypatch)
    cached = AnalysisCache.open(cache_file(tmp_path)).analyse(MULTI_STAGE, "b/Dockerfile",
                                                               ARGS, AMD64)
    assert cached == fresh  # every field, the path as this run names the file
    assert cached.path == "b/Dockerfile"
    assert cached.stages[0].base == "golang:1.23"  # the build arg is in the analysis
    assert cached.needed_stages("test") == fresh.needed_stages("test")
    assert cached.external_references(None) == fresh.external_references(None)


@pytest.mark.parametrize(("text", "args", "platforms"), [
    (MULTI_STAGE.replace("alpine:3.20", "alpine:3.21"), ARGS, AMD64),  # same size
    (MULTI_STAGE, {"GO_VERSION": "1.24", "UNUSED": "x"}, AMD64),
    (MULTI_STAGE, {"GO_VERSION": "1.23"}, AMD64),  # an arg less, even one the file ignores
    (MULTI_STAGE, ARGS, BuildPlatforms("linux/arm64", "linux/amd64", None)),
    (MULTI_STAGE, ARGS, BuildPlatforms("linux/amd64", "linux/arm64", None)),
    (MULTI_STAGE, ARGS, BuildPlatforms("linux/amd64", "linux/amd64", "runtime")),
])
def test_anything_the_analysis_depends_on_changes_the_key(
        text: str, args: dict[str, str], platforms: BuildPlatforms) -> None:
    key = entry_key(MULTI_STAGE, ARGS, AMD64)
    assert entry_key(text, args, platforms) != key
    assert entry_key(MULTI_STAGE, dict(ARGS), BuildPlatforms("linux/amd64", "linux/amd64")) == key


def test_the_machine_platform_is_in_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # parse_dockerfile fills in this machine's platform where none is given: a cache file
    # carried to another machine must miss.
    unset = BuildPlatforms()
    key = entry_key(MULTI_STAGE, ARGS, unset)
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    assert oci_platforms.native().format() == "linux/arm64"
    assert entry_key(MULTI_STAGE, ARGS, unset) != key


def test_an_edited_dockerfile_is_analysed_again(tmp_path: Path) -> None:
    saved(tmp_path)
    edited = MULTI_STAGE.replace("alpine:3.20", "alpine:3.21")
    info = AnalysisCache.open(cache_file(tmp_path)).analyse(edited, "a/Dockerfile", ARGS,
                                                            AMD64)
    assert info.stages[1].base == "alpine:3.21"


def test_a_warm_run_does_not_write_the_file(tmp_path: Path) -> None:
    file = saved(tmp_path)
    before = file.stat()
    known = AnalysisCache.open(file)
    known.analyse(MULTI_STAGE, "a/Dockerfile", ARGS, AMD64)
    known.save()
    after = file.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert known.added == 0


def test_a_dockerfile_with_an_error_is_not_kept(tmp_path: Path) -> None:
    known = AnalysisCache.open(cache_file(tmp_path))
    for _ in range(2):
        with pytest.raises(ConfigError, match="unknown instruction"):
            known.analyse("FROM a\nFROBNICATE x\n", "a/Dockerfile", {}, AMD64)
    assert known.entries == {}
    known.save()
    assert not cache_file(tmp_path).exists()


def test_the_file_is_owner_only_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    file = saved(tmp_path)
    assert file.stat().st_mode & 0o777 == 0o600  # stage bases hold build-arg values
    assert [p.name for p in file.parent.iterdir()] == [file.name]


def test_a_failed_write_leaves_the_old_file(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    file = saved(tmp_path)
    old = file.read_bytes()
    known = AnalysisCache.open(file)
    known.analyse("FROM b\n", "b/Dockerfile", {}, AMD64)

    def broken_replace(self: Path, target: Path) -> Path:
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Path, "replace", broken_replace)
    known.save()  # no error: the cache is only not saved
    assert file.read_bytes() == old
    assert [p.name for p in file.parent.iterdir()] == [file.name]


@pytest.mark.parametrize("how", ["file in the way", "cannot create a file"])
def test_an_unwritable_folder_only_leaves_the_cache_unsaved(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    if how == "file in the way":
        (tmp_path / ".buildorch").write_text("not a folder")
    else:  # as a read-only folder answers (root ignores permission bits, so simulated)
        def refuse(*_args: object, **_kwargs: object) -> None:
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    known = AnalysisCache.open(cache_file(tmp_path))
    info = known.analyse(MULTI_STAGE, "a/Dockerfile", ARGS, AMD64)
    known.save()
    assert info == parse_dockerfile(MULTI_STAGE, "a/Dockerfile", ARGS, AMD64)
    assert not cache_file(tmp_path).is_file()


def damaged(data: bytes) -> list[bytes]:
    head = len(b"buildorch dockerfile analyses 1\n")
    flipped = bytearray(data)
    flipped[-5] ^= 0x40
    return [b"", data[:10], data[: head + 40], data[:-1], bytes(flipped),
            data.replace(code_version(), bytes(32)), b"x" * len(data)]


def test_a_truncated_corrupt_or_foreign_file_is_ignored(tmp_path: Path) -> None:
    file = saved(tmp_path)
    good = file.read_bytes()
    assert read_entries(good, code_version())
    for data in damaged(good):
        assert read_entries(data, code_version()) == {}
        file.write_bytes(data)
        known = AnalysisCache.open(file)
        assert known.entries == {}
        assert known.analyse(MULTI_STAGE, "a/Dockerfile", ARGS, AMD64).stages[0].base == (
            "golang:1.23")
        known.save()  # written again, whole
        assert read_entries(file.read_bytes(), code_version())


def test_another_code_version_is_ignored() -> None:
    data = write_entries({b"k" * 32: ("x",)}, code_version())
    assert read_entries(data, code_version()) == {b"k" * 32: ("x",)}
    assert read_entries(data, bytes(32)) == {}


def test_an_entry_of_the_wrong_shape_is_analysed_again(tmp_path: Path) -> None:
    key = entry_key(MULTI_STAGE, ARGS, AMD64)
    file = cache_file(tmp_path)
    file.parent.mkdir()
    for wrong in [("too", "short"), (None, "\\", (), ((1, 2),), ()), (None, "\\", 5, (), ())]:
        file.write_bytes(write_entries({key: wrong}, code_version()))
        known = AnalysisCache.open(file)
        assert known.analyse(MULTI_STAGE, "a/Dockerfile", ARGS, AMD64) == parse_dockerfile(
            MULTI_STAGE, "a/Dockerfile", ARGS, AMD64)
        assert known.added == 1


def test_a_folder_in_place_of_the_file_is_ignored(tmp_path: Path) -> None:
    cache_file(tmp_path).mkdir(parents=True)
    known = AnalysisCache.open(cache_file(tmp_path))
    assert known.entries == {}
    known.analyse(MULTI_STAGE, "a/Dockerfile", ARGS, AMD64)
    known.save()  # cannot replace a folder: not saved, no error
    assert cache_file(tmp_path).is_dir()


def key(i: int) -> bytes:
    return i.to_bytes(32, "big")


def test_a_save_keeps_what_was_used_and_as_many_recent_others() -> None:
    entries = {key(i): (i,) for i in range(3000)}
    used = {key(i): None for i in (7, 5)}
    kept = kept_entries(entries, used)
    assert list(kept)[-2:] == [key(7), key(5)]  # the used ones, last, in the order of use
    assert len(kept) == 2 + 1024 and key(2999) in kept and key(0) not in kept
    many = {key(i): None for i in range(2000)}
    assert len(kept_entries(entries, many)) == 3000  # 2000 used, and 1000 others


@settings(deadline=None, max_examples=200)
@given(st.binary(max_size=300))
def test_bytes_that_fail_the_checksum_read_as_no_entries(data: bytes) -> None:
    # Only bytes that pass the checksum reach marshal, which trusts its input (a forged
    # length makes it allocate gigabytes): arbitrary payloads are never fed to it here.
    empty = write_entries({}, code_version())
    prefix = empty[: len(empty) - len(marshal.dumps({})) - 32]  # magic and code version
    assume(data[:32] != hashlib.sha256(data[32:]).digest())  # never true by chance
    assert read_entries(data, code_version()) == {}
    assert read_entries(prefix + data, code_version()) == {}


FLAT = st.tuples(st.none() | st.text(max_size=5), st.sampled_from(["\\", "`"]),
                 st.lists(st.tuples(st.text(max_size=5), st.none() | st.text(max_size=5)),
                          max_size=3).map(tuple))


@settings(deadline=None, max_examples=100)
@given(st.dictionaries(st.binary(min_size=32, max_size=32), FLAT, max_size=5))
def test_entries_survive_a_write_and_a_read(entries: dict[bytes, tuple[object, ...]]) -> None:
    assert read_entries(write_entries(entries, code_version()), code_version()) == entries


NAMES = st.sampled_from(["build", "base", "Runtime", "t-1", "x.y"])
IMAGES = st.sampled_from(["alpine", "golang:1.22", "${BASE}", "$TARGETARCH/x", "build"])


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(IMAGES, NAMES, st.booleans()), min_size=1, max_size=5),
       st.dictionaries(st.sampled_from(["BASE", "TARGETARCH", "X"]),
                       st.sampled_from(["alpine", "arm64", ""]), max_size=2),
       st.sampled_from(["linux/amd64", "linux/arm/v7", None]))
def test_cached_equals_fresh_for_generated_dockerfiles(
        stages: list[tuple[str, str, bool]], args: dict[str, str], target: str | None) -> None:
    lines = ["ARG BASE=busybox"]
    for i, (image, name, copies) in enumerate(stages):
        lines.append(f"FROM {image} AS {name}")
        if copies and i:
            lines.append(f"COPY --from={stages[i - 1][1]} /a /b")
    text = "\n".join(lines) + "\n"
    platforms = BuildPlatforms(target, "linux/amd64", None)
    try:
        fresh = parse_dockerfile(text, "g/Dockerfile", args, platforms)
    except ConfigError:
        return
    with tempfile.TemporaryDirectory() as folder:
        first = AnalysisCache.open(cache_file(Path(folder)))
        assert first.analyse(text, "g/Dockerfile", args, platforms) == fresh
        first.save()
        again = AnalysisCache.open(cache_file(Path(folder)))
        assert again.analyse(text, "g/Dockerfile", args, platforms) == fresh
        assert again.added == 0


def test_flatten_keeps_every_field() -> None:
    info = parse_dockerfile(MULTI_STAGE, "p", ARGS, AMD64)
    names = {f.name for f in dataclasses.fields(info)} - {"path"}
    assert len(flatten(info)) == len(names)
    restored = unflatten(marshal.loads(marshal.dumps(flatten(info))), "p")
    assert restored == info
