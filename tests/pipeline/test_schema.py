"""The JSON Schema carries a description for every field, so that an editor shows help."""

from __future__ import annotations

import pytest

from buildorch.jsontypes import Json
from buildorch.pipeline.schema import json_schemas


def properties(schema: Json) -> list[tuple[str, Json]]:
    """Every (name, property schema) of every object in the schema, $defs included."""
    found: list[tuple[str, Json]] = []
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                found.extend(props.items())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


@pytest.mark.parametrize(("schema", "at_least"), [("pipeline", 40), ("cache_profile", 18)])
def test_every_field_has_a_description(schema: str, at_least: int) -> None:
    props = properties(json_schemas()[schema])
    assert len(props) >= at_least
    missing = sorted({name for name, prop in props
                      if not (isinstance(prop, dict) and prop.get("description"))})
    assert missing == []


def test_descriptions_say_something() -> None:
    props = dict(properties(json_schemas()["pipeline"]))
    args = props["args"]
    assert isinstance(args, dict) and "as written" in str(args["description"])
