"""A compose file's build sections as a pipeline: values as compose reads them."""

from __future__ import annotations

import pytest

from buildorch.pipeline.from_compose import from_compose
from buildorch.pipeline.imported import Imported
from buildorch.pipeline.yaml_source import parse_yaml


def convert(build: str) -> Imported:
    return from_compose(parse_yaml(f"services:\n  web:\n    build:\n{build}", "c.yaml"), "p")


ARG_NOTE = ("web: args.{} left out (no value: compose takes it from the environment, or "
            "leaves the ARG unset; give it here or with --set)")


@pytest.mark.parametrize("args", ["[A=1, B]", "{A: 1, B: null}", "{A: 1, B: ~}",
                                  "\n        A: 1\n        B:"])
def test_an_arg_without_a_value_is_left_out_with_a_note(args: str) -> None:
    result = convert(f"      context: .\n      args: {args}\n")
    assert result.images["web"]["args"] == {"A": "1"}
    assert result.notes == [ARG_NOTE.format("B")]


def test_an_empty_or_quoted_arg_is_a_value() -> None:
    result = convert("      context: .\n      args: [A=, 'B=~']\n")
    assert result.images["web"]["args"] == {"A": "", "B": "~"}
    result = convert("      context: .\n      args: {A: '', B: '~', C: 0755}\n")
    assert result.images["web"]["args"] == {"A": "", "B": "~", "C": "0755"}
    assert result.notes == []


def test_a_label_without_a_value_is_an_empty_label() -> None:
    result = convert("      context: .\n      labels: {a: ~, b: 1.0}\n")
    assert result.images["web"]["labels"] == {"a": "", "b": "1.0"}
    result = convert("      context: .\n      labels: [a, b=x]\n")
    assert result.images["web"]["labels"] == {"a": "", "b": "x"}
