"""Loading a reproducible build's tarball into the local store: the load's command, what the
store must then hold, the tarball removed whatever happens (a fake child stands for the
load; the store is asked through a backend whose inspect command prints a chosen id)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from buildorch.backends.docker import DockerBackend
from buildorch.backends.request import BuilderTls, BuildRequest
from buildorch.run.archive_load import (
    archive_of,
    discard_archive,
    load_archive,
    loaded_problem,
)
from tests.backends.sample_requests import MINIMAL

BUILT = "sha256:" + "b" * 64
CONFIG = "sha256:" + "c" * 64
OTHER = "sha256:" + "0" * 64
RUN_ID = "20261201T000000Z-abcdef"
REQUEST = dataclasses.replace(
    MINIMAL, tags=("r/a:1", "buildorch.local/p/a:{run_id}"), load=True, rewrite_timestamp=True,
    load_archive=".buildorch/runs/{run_id}/a.image.tar",
    metadata_file=".buildorch/runs/{run_id}/a.metadata.json")


class StoreHolding(DockerBackend):
    """The docker backend, with a local store that holds `found` under every name."""

    def __init__(self, found: str | None) -> None:
        self.found = found
        self.asked: list[str] = []

    def inspect_argv(self, refs: Sequence[str], address: str | None,
                     tls: BuilderTls | None = None) -> list[str]:
        self.asked.extend(refs)
        return ["echo", self.found] if self.found is not None else ["false"]


class Child:
    """Stands for the load: records its argv, answers as told."""

    def __init__(self, code: int = 0, lines: tuple[str, ...] = (), stopped: bool = False):
        self.answer = (code, list(lines), stopped)
        self.argv: list[str] | None = None

    def __call__(self, argv: list[str]) -> tuple[int, list[str], bool]:
        self.argv = argv
        return self.answer


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A run folder with the tarball and buildx's metadata file written."""
    folder = tmp_path / ".buildorch" / "runs" / RUN_ID
    folder.mkdir(parents=True)
    (folder / "a.image.tar").write_bytes(b"tarball")
    (folder / "a.metadata.json").write_text(json.dumps(
        {"containerimage.digest": BUILT, "containerimage.config.digest": CONFIG}))
    return tmp_path


def tarball(root: Path) -> Path:
    path = archive_of(REQUEST, root, RUN_ID)
    assert path == root / ".buildorch" / "runs" / RUN_ID / "a.image.tar"
    return path


def test_loads_checks_the_first_tag_and_removes_the_tarball(root: Path) -> None:
    backend, child = StoreHolding(BUILT), Child(0, ("Loaded image: r/a:1\n",))
    loaded = load_archive(backend, REQUEST, root, RUN_ID, BUILT, child)
    assert loaded.digest == BUILT and loaded.failure is None and not loaded.stopped
    assert child.argv == ["docker", "load", "--input", f".buildorch/runs/{RUN_ID}/a.image.tar"]
    assert backend.asked == ["r/a:1"]
    assert not tarball(root).exists()


def test_the_classic_store_holds_it_by_its_config_digest(root: Path) -> None:
    """Docker's classic image store names an image by its config: dependents are then checked
    against that id, so it is the digest the run records."""
    loaded = load_archive(StoreHolding(CONFIG), REQUEST, root, RUN_ID, BUILT, Child())
    assert loaded.digest == CONFIG and loaded.failure is None


def test_a_failed_load_fails_the_build_with_its_output_tail(root: Path) -> None:
    lines = (*(f"line {n}\n" for n in range(30)), "open /x: no space left on device\n")
    loaded = load_archive(StoreHolding(BUILT), REQUEST, root, RUN_ID, BUILT, Child(1, lines))
    assert loaded.digest is None and loaded.failure is not None
    assert loaded.failure.message.startswith(
        "loading the built image into the image store failed (exit code 1): docker load")
    assert loaded.failure.tail[-1] == "open /x: no space left on device"
    assert len(loaded.failure.tail) == 20
    assert not tarball(root).exists()


@pytest.mark.parametrize(("found", "shown"), [(OTHER, OTHER), (None, "nothing")])
def test_a_store_holding_something_else_fails_the_build(
        root: Path, found: str | None, shown: str) -> None:
    loaded = load_archive(StoreHolding(found), REQUEST, root, RUN_ID, BUILT, Child())
    assert loaded.failure is not None and loaded.digest is None
    assert loaded.failure.message == (
        f"after loading, r/a:1 holds {shown}, not the {BUILT} the build reported")


def test_a_stopped_load_is_stopped_and_leaves_no_tarball(root: Path) -> None:
    loaded = load_archive(StoreHolding(BUILT), REQUEST, root, RUN_ID, BUILT,
                          Child(-15, (), stopped=True))
    assert loaded.stopped and loaded.failure is None
    assert not tarball(root).exists()


def test_a_failed_builds_tarball_is_discarded(root: Path) -> None:
    discard_archive(REQUEST, root, RUN_ID)
    assert not tarball(root).exists()
    discard_archive(REQUEST, root, RUN_ID)  # already gone: nothing to do
    plain: BuildRequest = dataclasses.replace(REQUEST, load_archive=None)
    assert archive_of(plain, root, RUN_ID) is None
    discard_archive(plain, root, RUN_ID)


def test_only_the_built_digest_or_its_config_is_what_was_built() -> None:
    assert loaded_problem("r/a:1", BUILT, BUILT, CONFIG) is None
    assert loaded_problem("r/a:1", CONFIG, BUILT, CONFIG) is None
    assert loaded_problem("r/a:1", CONFIG, BUILT, None) is not None
    assert loaded_problem("r/a:1", "", BUILT, None) is not None
    assert loaded_problem("r/a:1", "", "", None) is not None  # an empty id is never a match
