"""`history` rows (pure)."""

from __future__ import annotations

from buildorch.run.history import HistoryEntry, duration_text, history_table
from buildorch.run.recorded import parse_record
from tests.run.record_samples import record


def test_a_row_per_run_with_outcome_duration_counts_and_cache_hits() -> None:
    run = parse_record(record(), "r")
    lines = history_table([HistoryEntry(run.id, run), HistoryEntry("X", None, "bad")]
                          ).splitlines()
    assert lines[0].split() == ["RUN", "PIPELINE", "STARTED", "OUTCOME", "DURATION", "BUILT",
                                "CACHED", "UNCHANGED", "FAILED", "CACHE", "HITS"]
    cells = lines[1].split()
    assert cells[0:2] == ["20261201T050000Z-abcdef", "shop"]
    # base: every step cached; api failed; old unchanged; web skipped
    assert cells[4:] == ["failed", "12s", "0", "1", "1", "1", "60%"]
    assert lines[2].split()[:2] == ["X", "-"] and "(damaged record)" in lines[2]


def test_durations_read_at_a_glance() -> None:
    assert [duration_text(s) for s in (None, 0.74, 42.2, 185, 3725)] == [
        "-", "0.7s", "42s", "3m05s", "1h02m"]


def test_a_builders_column_where_some_run_had_a_pool() -> None:
    from tests.run.record_samples import pooled_record

    pooled = parse_record(pooled_record("P2", {"a": "one", "b": "two", "c": "two"},
                                        down={"three": "refused"}), "r")
    lost = parse_record(pooled_record("P1", {"a": "two", "b": "two", "c": "two"},
                                      down={"one": "stopped answering"}), "r")
    alone = parse_record(record(), "r")
    lines = history_table([HistoryEntry("P2", pooled), HistoryEntry("P1", lost),
                           HistoryEntry(alone.id, alone), HistoryEntry("X", None, "bad")]
                          ).splitlines()
    assert lines[0].split()[-1] == "BUILDERS"
    assert lines[1].endswith("  one:1 two:2 three:0(down)")
    assert lines[2].endswith("  one:0(down) two:3")
    assert lines[3].split()[-1] == "-" and lines[4].split()[-1] == "-"


def test_no_builders_column_without_a_pool() -> None:
    run = parse_record(record(), "r")
    header = history_table([HistoryEntry(run.id, run)]).splitlines()[0]
    assert "BUILDERS" not in header and header.rstrip().endswith("CACHE HITS")


def test_a_reproduces_column_where_some_run_was_a_repro() -> None:
    original = parse_record(record(), "r")
    repro = parse_record({**record("20261201T060000Z-123456", "succeeded"),
                          "reproduces": original.id}, "r")
    lines = history_table([HistoryEntry(repro.id, repro), HistoryEntry(original.id, original),
                           HistoryEntry("X", None, "bad")]).splitlines()
    assert lines[0].split()[-1] == "REPRODUCES" and "BUILDERS" not in lines[0]
    assert lines[1].split()[-1] == original.id
    assert lines[2].split()[-1] == "-" and lines[3].split()[-1] == "-"
    alone = history_table([HistoryEntry(original.id, original)]).splitlines()[0]
    assert "REPRODUCES" not in alone
