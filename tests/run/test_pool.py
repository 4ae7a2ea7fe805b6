"""The pure parts of run/pool: where images were built last, read from records."""

from __future__ import annotations

from buildorch.run.pool import last_builders
from buildorch.run.recorded import RecordedRun, parse_record


def record(run_id: str, images: dict[str, tuple[str, str | None]]) -> RecordedRun:
    return parse_record({
        "id": run_id, "pipeline": "p", "backend": "docker", "started": 1.0,
        "outcome": "succeeded",
        "images": {name: {"name": name, "state": state, "builder": builder}
                   for name, (state, builder) in images.items()}}, run_id)


def test_the_newest_successful_build_of_each_image_gives_its_builder() -> None:
    newest = record("r2", {"a": ("succeeded", "two"), "b": ("failed", "two"),
                           "c": ("succeeded", None)})
    older = record("r1", {"a": ("succeeded", "one"), "b": ("succeeded", "one"),
                          "c": ("succeeded", "one"), "d": ("succeeded", "two")})
    assert last_builders([newest, older], ["a", "b", "c"]) == {"a": "two", "b": "one",
                                                              "c": "one"}
    assert last_builders([], ["a"]) == {}
