"""Records read back: typed, tolerant of other versions' fields, one error line when not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildorch.errors import ConfigError
from buildorch.run.recorded import (
    find_record,
    parse_record,
    read_record,
    readable_records,
    run_records,
)
from tests.run.record_samples import record, write_run


def test_a_record_reads_back_with_counts_and_cache_hit_rate() -> None:
    data = record()
    data["newer_field"] = {"x": 1}  # written by a later version: ignored
    run = parse_record(data, "r")
    assert run.count("succeeded", "unchanged") == 2 and run.count("failed") == 1
    assert run.cache_hit_rate == pytest.approx(3 / 5)
    assert run.duration == 12.0
    assert run.images["api"].failure is not None and run.images["api"].failure.line == 3


@pytest.mark.parametrize(("text", "message"), [
    ("{", "rec.json: not JSON"),
    ("[]", "rec.json: record: Input should be a valid dictionary"),
    ('{"id": "x"}', "rec.json: pipeline: Field required"),
    # Python's json reads NaN, which would show as "succeeded in nans"
    ('{"id": "x", "pipeline": "p", "backend": "docker", "started": NaN, "outcome": "failed", '
     '"images": {}}', "rec.json: started: Input should be a finite number"),
])
def test_a_broken_record_is_one_line_naming_file_and_field(
        tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rec.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        read_record(path, "rec.json")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids),
                    max_leaves=30),
       st.sampled_from(["id", "images", "started", "outcome", "backend"]))
def test_damaged_records_load_or_fail_cleanly(value: object, key: str) -> None:
    data = record()
    data[key] = value  # type: ignore[assignment]
    try:
        parse_record(json.loads(json.dumps(data)), "r")
    except ConfigError as exc:
        assert "\n" not in str(exc)


def test_runs_are_found_newest_first_by_id_prefix_or_path(tmp_path: Path) -> None:
    old = write_run(tmp_path, record("20261130T100000Z-aaaaaa"))
    new = write_run(tmp_path, record("20261201T100000Z-bbbbbb"))
    assert run_records(tmp_path) == [new, old]
    assert find_record("20261130", tmp_path) == old
    assert find_record(str(new), tmp_path) == new
    with pytest.raises(ConfigError, match="names 2 runs"):
        find_record("2026", tmp_path)
    with pytest.raises(ConfigError, match="no such run"):
        find_record("2027", tmp_path)


def test_readable_records_are_newest_first_past_a_damaged_one(tmp_path: Path) -> None:
    write_run(tmp_path, record("20261130T100000Z-aaaaaa"))
    write_run(tmp_path, record("20261201T100000Z-bbbbbb"))
    broken = write_run(tmp_path, record("20261201T110000Z-cccccc"))
    broken.write_text("{")
    assert [r.id for r in readable_records(tmp_path)] == [
        "20261201T100000Z-bbbbbb", "20261130T100000Z-aaaaaa"]
