"""Each pool builder's recent load, from the run records of one pipeline (pure)."""

from __future__ import annotations

from collections.abc import Iterator

from buildorch.jsontypes import JsonObject
from buildorch.run.builder_load import BuilderLoad, builder_loads, builds_on, recent_runs
from buildorch.run.recorded import RecordedRun, parse_record
from tests.run.record_samples import image, pooled_record, record


def run(data: JsonObject) -> RecordedRun:
    return parse_record(data, "r")


def test_builds_and_down_runs_counted_per_builder_over_the_pipelines_runs() -> None:
    runs = [
        run(pooled_record("R3", {"a": "one", "b": "one", "c": None}, down={"two": "gone"})),
        run(pooled_record("R2", {"a": "two", "b": "one", "c": "two"})),
        run(pooled_record("R1", {"a": "one"}, down={"three": "refused"})),
    ]
    loads = builder_loads(runs, ["one", "two", "three", "gpu"])
    assert loads == {"one": BuilderLoad(runs=3, builds=4, used_in=3, down_in=0),
                     "two": BuilderLoad(runs=3, builds=2, used_in=1, down_in=1),
                     "three": BuilderLoad(runs=3, builds=0, used_in=0, down_in=1),
                     "gpu": BuilderLoad(runs=3, builds=0, used_in=0, down_in=0)}


def test_a_run_without_a_pool_counts_as_a_run_with_no_build_on_any() -> None:
    loads = builder_loads([run(record())], ["one"])
    assert loads["one"] == BuilderLoad(runs=1, builds=0, used_in=0, down_in=0)


def test_only_the_newest_runs_of_the_pipeline_are_read() -> None:
    read: list[str] = []

    def records() -> Iterator[RecordedRun]:
        for n in range(9, 0, -1):
            read.append(f"R{n}")
            yield run(pooled_record(f"R{n}", {"a": "one"},
                                    pipeline="shop" if n % 2 else "other"))

    recent = recent_runs(records(), "shop", limit=3)
    assert [r.id for r in recent] == ["R9", "R7", "R5"]
    assert read == ["R9", "R8", "R7", "R6", "R5"]  # no record read past the last one taken


def test_an_image_built_per_platform_is_a_build_on_each_platforms_builder() -> None:
    data = pooled_record("R1", {"a": "one"})
    parts = [{"platform": "linux/amd64", "builder": "one", "pushed": None},
             {"platform": "linux/386", "builder": "two", "pushed": None},
             {"platform": "linux/arm64", "builder": "two", "pushed": None}]
    data["images"]["multi"] = image("multi", "succeeded", builder="one, two",  # type: ignore[index]
                                    platforms=parts)
    data["images"]["listed"] = image("listed", "failed", builder="two, one")  # type: ignore[index]
    assert builds_on(run(data)) == {"one": 3, "two": 3}
