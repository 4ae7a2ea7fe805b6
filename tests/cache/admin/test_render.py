"""The text of `cache ls|stats|prune`, one format for registry and S3 entries (pure)."""

from __future__ import annotations

import re

from buildorch.cache.admin.entries import PruneResult
from buildorch.cache.admin.render import render_entries, render_prune, render_stats
from tests.cache.admin.fake_entries import registry_entry, s3_entry

MIB = 1024**2
REGISTRY = [
    registry_entry("app-main", "app", "main", {"a": MIB, "b": MIB // 2}, age=10),
    registry_entry("app-feature-x", "app", "feature-x", {"a": MIB, "c": MIB // 4},
                   age=2 / 24),
    registry_entry("tool-main", None, None, {"t": MIB + 1000}),
]
S3 = [
    s3_entry("shop/api/main", {"a": MIB, "b": 2000}, 0.5),
    s3_entry("shop/api/feature-x", {"a": MIB}, 3, complete=False),
    s3_entry("a-b-c-d", {"z": 700}, 12, "native"),
]


def test_registry_rows_end_with_the_age() -> None:
    text = render_entries(REGISTRY)
    assert text.splitlines()[0].split() == ["IMAGE", "BRANCH/SCOPE", "SIZE", "AGE"]
    assert re.search(r"^app +main +1\.\d MiB +10\.0d$", text, re.MULTILINE), text
    assert re.search(r"^app +feature-x +1\.\d MiB +2h$", text, re.MULTILINE), text
    assert re.search(r"^tool-main +- +1\.\d MiB +unknown$", text, re.MULTILINE), text


def test_s3_rows_have_a_pipeline_and_a_note() -> None:
    lines = render_entries(S3).splitlines()
    assert lines[0].split() == ["PIPELINE", "IMAGE", "BRANCH/SCOPE", "SIZE", "AGE", "NOTE"]
    assert re.match(r"shop +api +feature-x +1\.0 MiB +3\.0d +sync, incomplete$", lines[1])
    assert re.match(r"shop +api +main +1\.0 MiB +12h +sync$", lines[2])
    assert re.match(r"- +a-b-c-d +- +700 B +12\.0d +native$", lines[3])
    assert re.search(r"(^|\s)api\s+main\s", "\n".join(lines), re.MULTILINE)


def test_nothing_to_list() -> None:
    assert render_entries([]) == render_stats([]) == "no cache entries"


def test_stats_title_per_image_a_row_per_scope_and_the_total() -> None:
    text = render_stats(S3)
    assert "shop/api: 2 entries, 1.0 MiB" in text
    assert re.search(r"^  main +1 entry +1\.0 MiB +2 blobs +12h +sync$", text, re.MULTILINE)
    assert "names not split into image and scope: 1 entry, 700 B" in text
    assert text.endswith("total: 3 entries, 1.0 MiB (blobs shared between entries counted once)")
    registry = render_stats(REGISTRY)
    assert re.search(r"^app: 2 entries, 1\.8 MiB$", registry, re.MULTILINE), registry
    assert re.search(r"^  feature-x +1 entry +1\.\d MiB +2 blobs +2h$", registry, re.MULTILINE)
    assert "total: 3 entries" in registry


def test_prune_lists_deleted_and_kept_then_sums_up() -> None:
    dry = PruneResult((S3[2],), ("shop/oci/blobs/sha256/z",), 900, tuple(S3[:2]), True)
    text = render_prune(dry)
    assert text.startswith("would delete 1 entry:\n")
    assert "kept 2 entries:" in text
    assert text.endswith("would delete 1 entry and 1 blob (900 B); kept 2 entries")
    done = PruneResult(tuple(REGISTRY[:2]), ("a", "b", "c", "d"), 5000, (), False,
                       reclaimed_later=True)
    assert render_prune(done).endswith(
        "deleted 2 entries and 4 blobs (4.9 KiB); kept 0 entries; "
        "the registry's garbage-collect reclaims the space")
    nothing = PruneResult((), (), 0, tuple(REGISTRY), True, reclaimed_later=True)
    assert render_prune(nothing).startswith("would delete no entry\nkept 3 entries:")
