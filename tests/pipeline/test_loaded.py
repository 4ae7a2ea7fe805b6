"""Where a merged field was written: on the image, or in `defaults` (one answer for all)."""

from __future__ import annotations

from buildorch.pipeline.loader import LoadOptions, load_pipeline
from tests.conftest import MakeProject
from tests.pipeline.test_loader import BASIC


def test_field_path_names_the_image_or_defaults(make_project: MakeProject) -> None:
    path = make_project(BASIC, contexts=("base", "api"))
    loaded = load_pipeline(path, LoadOptions(env={}, sets=("base.labels.tier=web",)))
    assert loaded.field_path("api", "platforms") == ("images", "api", "platforms")
    assert loaded.field_path("base", "platforms") == ("defaults", "platforms")
    assert loaded.field_path("base", "platforms", 0) == ("defaults", "platforms", 0)
    # mappings merge key by key: the key decides
    assert loaded.field_path("api", "args", "SHARED") == ("images", "api", "args", "SHARED")
    assert loaded.field_path("api", "args", "COMMON") == ("defaults", "args", "COMMON")
    assert loaded.field_path("base", "args", "COMMON") == ("defaults", "args", "COMMON")
    assert loaded.where(loaded.field_path("api", "args", "COMMON")) == (str(path), 8)
    assert loaded.where(loaded.field_path("api", "platforms")) == (str(path), 17)
    # a value --set gave is reported against the --set
    assert loaded.field_path("base", "labels", "tier") == ("images", "base", "labels", "tier")
    assert loaded.where(loaded.field_path("base", "labels", "tier")) == (
        "--set base.labels.tier=web", None)
