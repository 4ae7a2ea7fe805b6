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


@pytest.mark.parametrize(("argv", "error"), [
    (["history", "-n", "abc"], "argument -n: 'abc' is not a whole number"),
    (["history", "-n", "0"], "argument -n: must be at least 1"),
    (["build", "-j", "2.5"], "argument -j/--jobs: '2.5' is not a whole number"),
    (["repro", "r", "--retries", "x"], "argument --retries: 'x' is not a whole number"),
])
def test_a_count_that_is_not_a_number_is_said_so(argv: list[str], error: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # argparse would otherwise name the converting function: "invalid _positive value"
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(argv)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(error)
