"""The events' JSON Schema: made from the event dataclasses, kept in the repository as
schemas/events.schema.json, one entry per kind with every field required and
nothing else allowed, both ways."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import jsonschema
import pytest

from buildorch.run import events
from buildorch.run.event_schema import FINISH_STATES, FIXED_KINDS, event_kinds, events_schema
from buildorch.run.record import State
from buildorch.run.reporters.json_events import event_json
from tests.conftest import REPO

CHECKED_IN = REPO / "schemas" / "events.schema.json"
SCHEMA: Any = events_schema()
DEFS: Any = SCHEMA["$defs"]


def test_the_checked_in_schema_is_what_the_code_makes() -> None:
    assert json.loads(CHECKED_IN.read_text()) == SCHEMA, (
        "regenerate: buildorch schema --events > schemas/events.schema.json")


def test_it_is_a_valid_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_every_kind_has_an_entry_and_every_entry_is_a_kind() -> None:
    kinds = set(event_kinds())
    assert kinds == {"run_started", "queued", "started", "step", "cached", "cache_miss", "log",
                     "note", "published", "finished", "failed", "skipped", "cancelled",
                     "interrupted", "run_finished"}
    assert set(DEFS) - {"failure"} == kinds
    assert {ref["$ref"] for ref in SCHEMA["oneOf"]} == {f"#/$defs/{k}" for k in kinds}


def test_every_event_class_is_covered() -> None:
    """A new event type in events.py must get a schema entry."""
    classes = {c for c in vars(events).values()
               if isinstance(c, type) and dataclasses.is_dataclass(c)
               and c.__module__ == events.__name__}
    assert classes == {*FIXED_KINDS, events.ImageFinished}


@pytest.mark.parametrize("kind", event_kinds())
def test_each_entry_requires_exactly_the_events_fields_and_allows_nothing_else(
        kind: str) -> None:
    entry = DEFS[kind]
    cls = next((c for c in FIXED_KINDS if c.__dataclass_fields__["kind"].default == kind),
               events.ImageFinished)
    fields = {f.name for f in dataclasses.fields(cls)} - {"kind"}
    assert set(entry["properties"]) == {"event", "time"} | fields
    assert set(entry["required"]) == set(entry["properties"])
    assert entry["additionalProperties"] is False
    assert entry["properties"]["event"] == {"description": "The kind of event.", "const": kind}
    assert all(p.get("description") for p in entry["properties"].values())


def test_the_failure_object_is_closed_too() -> None:
    failure = DEFS["failure"]
    assert set(failure["required"]) == set(failure["properties"]) == {
        "message", "dockerfile", "line", "stage", "step", "tail", "transient"}
    assert failure["additionalProperties"] is False


def test_an_images_end_is_of_the_kind_its_state_gives() -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert set(FINISH_STATES) == {s.value for s in State} - {"pending", "running"}
    for state in FINISH_STATES:
        event = event_json(events.ImageFinished("api", state), 1.0)
        validator.validate(json.loads(json.dumps(event)))
        assert not validator.is_valid({**event, "event": "finished" if state == "failed"
                                       else "failed"})
    assert not validator.is_valid(event_json(events.ImageFinished("api", "running"), 1.0))


def test_a_line_with_a_field_too_many_or_too_few_is_refused() -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    line = json.loads(json.dumps(event_json(events.Published("api", "reg/api:1"), 1.0)))
    assert validator.is_valid(line)
    assert not validator.is_valid({**line, "extra": 1})
    assert not validator.is_valid({k: v for k, v in line.items() if k != "tag"})
    assert not validator.is_valid({**line, "tag": None})
