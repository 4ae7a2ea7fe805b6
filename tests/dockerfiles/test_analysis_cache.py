"""The cache of Dockerfile analyses: the same answers as analysing, and a miss for anything
changed. (The file itself: tests/test_digestcache.py.)"""

from __future__ import annotations

import dataclasses
import marshal
import platform
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildorch.digestcache import write_entries
from buildorch.dockerfiles import analysis_cache
from buildorch.dockerfiles.analysis_cache import (
    AnalysisCache,
    code_version,
    entry_key,
    flatten,
    unflatten,
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


def saved(folder: Path, text: str = MULTI_STAGE, args: dict[str, str] = ARGS) -> Path:
    known = AnalysisCache.open(cache_file(folder))
    known.analyse(text, "a/Dockerfile", args, AMD64)
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
    assert known.kept.added == 0


def test_a_dockerfile_with_an_error_is_not_kept(tmp_path: Path) -> None:
    known = AnalysisCache.open(cache_file(tmp_path))
    for _ in range(2):
        with pytest.raises(ConfigError, match="unknown instruction"):
            known.analyse("FROM a\nFROBNICATE x\n", "a/Dockerfile", {}, AMD64)
    assert known.kept.entries == {}
    known.save()
    assert not cache_file(tmp_path).exists()


def test_an_entry_of_the_wrong_shape_is_analysed_again(tmp_path: Path) -> None:
    key = entry_key(MULTI_STAGE, ARGS, AMD64)
    file = cache_file(tmp_path)
    file.parent.mkdir()
    for wrong in [("too", "short"), (None, "\\", (), ((1, 2),), ()), (None, "\\", 5, (), ())]:
        file.write_bytes(write_entries({key: marshal.dumps(wrong)}, code_version()))
        known = AnalysisCache.open(file)
        assert known.kept.get(key) == wrong  # the file is read
        assert known.analyse(MULTI_STAGE, "a/Dockerfile", ARGS, AMD64) == parse_dockerfile(
            MULTI_STAGE, "a/Dockerfile", ARGS, AMD64)
        assert known.kept.added == 1


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
        assert again.kept.added == 0


def test_flatten_keeps_every_field() -> None:
    info = parse_dockerfile(MULTI_STAGE, "p", ARGS, AMD64)
    names = {f.name for f in dataclasses.fields(info)} - {"path"}
    assert len(flatten(info, ARGS)) == len(names)
    restored = unflatten(marshal.loads(marshal.dumps(flatten(info, ARGS))), "p", ARGS)
    assert restored == info


def test_a_build_arg_value_is_not_written(tmp_path: Path) -> None:
    text = "ARG NPM_TOKEN\nARG GO_VERSION=1.22\nFROM golang:${GO_VERSION}\n"
    args = {"NPM_TOKEN": "s3cr3t-t0ken", "GO_VERSION": "1.23"}
    file = saved(tmp_path, text, args)
    assert b"s3cr3t-t0ken" not in file.read_bytes()
    cached = AnalysisCache.open(file).analyse(text, "a/Dockerfile", args, AMD64)
    assert cached == parse_dockerfile(text, "a/Dockerfile", args, AMD64)
    assert dict(cached.global_args) == args
