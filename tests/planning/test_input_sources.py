"""What an image's input digest reads from disk: which ignore file applies where, the stat
cache, and folders shared by several images read once."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from buildorch.inputs import hashing
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.input_sources import SourceReader
from tests.conftest import MakeProject

PIPELINE = """\
version: 1
name: p
images:
  app:
    context: app
    dockerfile: build/app.Dockerfile
    contexts: {shared: ./shared}
  inline:
    context: app
    dockerfile_inline: "FROM scratch\\nCOPY . /\\n"
"""
FILES = {
    "app/build/app.Dockerfile": "FROM scratch\nCOPY . /\n",
    "app/build/app.Dockerfile.dockerignore": "secret.txt\n",  # only for app's own build
    "app/.dockerignore": "notes.md\n",
    "app/secret.txt": "s", "app/notes.md": "n", "app/main.c": "m",
    "shared/Dockerfile.dockerignore": "big.bin\n",  # BuildKit never reads this for a named context
    "shared/.dockerignore": "tmp/\n",
    "shared/big.bin": "b", "shared/tmp/x": "x", "shared/lib.c": "l",
}


@pytest.fixture
def reader(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> SourceReader:
    path = make_project(PIPELINE, FILES)
    monkeypatch.chdir(path.parent)
    return SourceReader(load_pipeline(path, LoadOptions(env={})), path.parent)


def paths(reader: SourceReader, image: str, named: str | None = None) -> set[str]:
    sources = reader.image(reader.pipeline.images[image])
    tree = sources.named[named] if named else sources.context
    assert tree is not None
    return {p for p, held in tree.files if not held.startswith("dir")}


def test_the_dockerfiles_own_ignore_file_wins_for_its_build(reader: SourceReader) -> None:
    seen = paths(reader, "app")
    assert "secret.txt" not in seen and "notes.md" in seen and "main.c" in seen


def test_an_inline_dockerfile_build_uses_the_contexts_ignore_file(reader: SourceReader) -> None:
    seen = paths(reader, "inline")
    assert "notes.md" not in seen and "secret.txt" in seen


def test_a_named_context_uses_only_its_dockerignore(reader: SourceReader) -> None:
    seen = paths(reader, "app", "shared")
    assert seen == {"big.bin", "lib.c", ".dockerignore", "Dockerfile.dockerignore"}


def test_the_stat_cache_spares_reading_unchanged_files(reader: SourceReader,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path.cwd()
    old = root / "app/main.c"
    stamp = time.time() - 60  # older than the racy window: the cache may trust it
    for file in root.rglob("*"):
        if file.is_file():
            os.utime(file, (stamp, stamp))
    first = reader.read(["app"])
    read: list[str] = []
    real = hashing.file_digest
    monkeypatch.setattr(hashing, "file_digest", lambda p: read.append(p) or real(p))
    again = SourceReader(reader.pipeline, root).read(["app"])
    assert read == [] and again == first
    old.write_text("changed")
    changed = SourceReader(reader.pipeline, root).read(["app"])
    assert read == [str(old)]
    assert changed["app"].context != first["app"].context
