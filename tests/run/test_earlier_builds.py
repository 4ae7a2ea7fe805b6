"""The index of earlier builds and their input manifests under `.buildorch/`."""

from __future__ import annotations

import json
from pathlib import Path

from buildorch.planning.input_digests import InputManifest, Tree
from buildorch.run.earlier_builds import (
    INDEX,
    KEEP,
    BuildIndex,
    EarlierBuild,
    read_manifest,
    record_builds,
)

MANIFEST = InputManifest("sha256:d", Tree("sha256:t", (("a", "sha256:x 644"),)), (),
                         (("backend", "docker"),), ())


def build(image: str, digest: str, ended: float = 1.0) -> EarlierBuild:
    return EarlierBuild(image, "run1", digest, "sha256:img-" + image, None, ("out/x.tar",), ended)


def test_builds_are_found_by_input_digest_and_by_image(tmp_path: Path) -> None:
    record_builds(tmp_path, "shop", [build("api", MANIFEST.digest)], [MANIFEST])
    index = BuildIndex.load(tmp_path)
    assert index.by_input[MANIFEST.digest] == build("api", MANIFEST.digest)
    assert index.last_build_of("shop", "api") == build("api", MANIFEST.digest)
    assert index.last_build_of("other", "api") is None
    assert read_manifest(tmp_path, MANIFEST.digest) == MANIFEST


def test_a_later_run_merges_with_what_is_on_disk(tmp_path: Path) -> None:
    record_builds(tmp_path, "shop", [build("api", "sha256:1")], [])
    record_builds(tmp_path, "shop", [build("web", "sha256:2"), build("api", "sha256:3")], [])
    index = BuildIndex.load(tmp_path)
    assert set(index.by_input) == {"sha256:1", "sha256:2", "sha256:3"}
    assert index.latest == {"shop/api": "sha256:3", "shop/web": "sha256:2"}


def test_the_index_keeps_the_newest_entries(tmp_path: Path) -> None:
    index = BuildIndex()
    index.add("shop", (build(f"i{n}", f"sha256:{n}", ended=n) for n in range(KEEP + 10)))
    index.save(tmp_path)
    kept = BuildIndex.load(tmp_path).by_input
    assert len(kept) == KEEP and "sha256:9" not in kept and f"sha256:{KEEP + 9}" in kept


def test_a_corrupt_or_foreign_index_is_an_empty_one(tmp_path: Path) -> None:
    (tmp_path / INDEX).parent.mkdir(parents=True)
    for text in ("{", "[]", '{"builds": 3, "latest": {}}', json.dumps({"builds": {"x": {}}})):
        (tmp_path / INDEX).write_text(text)
        assert BuildIndex.load(tmp_path).by_input == {}
    assert read_manifest(tmp_path, "sha256:missing") is None
