"""An export the bucket's entry already covers sends nothing (the real S3 server, no mocks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from buildorch.cache.s3.client import S3Location
from buildorch.cache.s3.download import download
from buildorch.cache.s3.upload import upload
from tests.cache.s3.layouts import fake_digest, layers, make_layout, rewrite_config

pytestmark = pytest.mark.engine


def test_an_export_the_entry_already_covers_uploads_nothing(location: S3Location,
                                                            tmp_path: Path) -> None:
    layout = make_layout(tmp_path / "a", layers(3, 1000))
    upload(location, layout.root, "shop", "api", "main")
    # the same content, recorded with one link fewer (as BuildKit does after an import)
    rewrite_config(layout, lambda config: config["records"][1].update(inputs=[]))
    stats = upload(location, layout.root, "shop", "api", "main")
    assert (stats.blobs_uploaded, stats.bytes_uploaded, stats.already_covered) == (0, 0, True)


def test_an_export_with_a_new_cache_key_is_uploaded(location: S3Location,
                                                    tmp_path: Path) -> None:
    layout = make_layout(tmp_path / "a", layers(3, 1000))
    upload(location, layout.root, "shop", "api", "main")

    def add_record(config: dict[str, Any]) -> None:
        config["records"].append({"digest": fake_digest(), "layers": [{"layer": 0}]})

    rewrite_config(layout, add_record)
    stats = upload(location, layout.root, "shop", "api", "main")
    assert not stats.already_covered
    assert stats.blobs_uploaded == 2  # the new cache config and the index naming it
    found = download(location, "shop", "api", "main", tmp_path / "copy")
    assert found is not None
    assert (tmp_path / "copy" / "index.json").read_bytes() == (
        layout.root / "index.json").read_bytes()
