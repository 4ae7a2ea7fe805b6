"""A compose file's build sections as a pipeline: values as compose reads them."""

from __future__ import annotations

import pytest

from buildorch.pipeline.from_compose import from_compose
from buildorch.pipeline.imported import ConversionError, Imported
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


def test_services_whose_names_clean_alike_are_both_kept() -> None:
    text = ("services:\n  'a b':\n    build: ./x\n  a-b:\n    build: ./y\n"
            "  c:\n    build:\n      context: .\n      additional_contexts: ['p=service:a b']\n")
    result = from_compose(parse_yaml(text, "c.yaml"), "p")
    assert {k: v["context"] for k, v in result.images.items()} == {
        "a-b-2": "./x", "a-b": "./y", "c": "."}
    assert result.images["c"]["contexts"] == {"p": {"image": "a-b-2"}}
    assert result.notes == ["a-b-2: the service 'a b' is the image a-b-2 (a-b is the service "
                            "'a-b')"]


@pytest.mark.parametrize(("ssh", "expected"), [
    ("default", ["default"]),  # one entry, not one per character
    ("[default]", ["default"]),
    ("[default, 'gh=~/.ssh/gh']", ["default", {"id": "gh", "paths": ["~/.ssh/gh"]}]),
    ("['gh=/a,/b']", [{"id": "gh", "paths": ["/a", "/b"]}]),
    ("{default: null, gh: /k}", ["default", {"id": "gh", "paths": ["/k"]}]),
])
def test_ssh_in_each_form_compose_takes(ssh: str, expected: list[object]) -> None:
    assert convert(f"      context: .\n      ssh: {ssh}\n").images["web"]["ssh"] == expected


@pytest.mark.parametrize(("build", "message"), [
    ("ssh: [=/k]", r"services\.web\.build\.ssh: an ssh entry needs an id"),
    ("ssh: [1]", r"services\.web\.build\.ssh\[0\]: expected a KEY=VALUE string"),
    ("secrets: token", r"services\.web\.build\.secrets: expected a list of secrets"),
    ("secrets: [{target: x}]", r"services\.web\.build\.secrets\[0\]: expected a secret's name"),
])
def test_a_value_compose_would_refuse_is_an_error_that_names_it(build: str,
                                                                 message: str) -> None:
    with pytest.raises(ConversionError, match=message):
        convert(f"      context: .\n      {build}\n")
