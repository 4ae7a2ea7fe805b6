"""The argument parser's own rules (cli/parser)."""

from __future__ import annotations

import pytest

from buildorch.cli.parser import build_parser


@pytest.mark.parametrize(("argv", "builder"), [
    ([], None),
    (["--builder", "tcp://buildkit:1234"], "tcp://buildkit:1234"),
    (["--builder", "a,b"], "a,b"),
    (["--builder", "a", "--builder", "b"], "a,b"),  # the option again: a pool of both
    (["--builder", "a", "--builder", "b,c"], "a,b,c"),
])
def test_builder_given_again_adds_to_the_pool(argv: list[str], builder: str | None) -> None:
    for command in ("build", "plan"):
        assert build_parser().parse_args([command, *argv]).builder == builder
