"""`validate` lists every configuration error at once: one line each, sorted by line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from buildorch.cli.main import main
from buildorch.errors import SHOWN_ERRORS
from tests.conftest import MakeProject

TEN_MISTAKES = """\
version: 1
name: shop
images:
  a:
    context: a
    build_args: {X: "1"}
  b:
    context: missing-folder
  c:
    context: c
    target: nosuchstage
  d:
    context: a
    depends_on: [nosuchimage]
  e:
    context: a
    tags: ["Bad Tag"]
  f:
    context: a
    platforms: [linux/amd64/v9]
  g:
    context: a
    network: foo
  h:
    context: a
    push: true
  i:
    context: a
    tags: ["r/x:${NOPE}"]
  j:
    context: a
    no_cache: maybe
"""

EXPECTED = [
    "6: images.a.build_args: unknown field 'build_args' (did you mean 'args'?)",
    "8: images.b.context: build context folder not found: missing-folder",
    "11: images.c.target: ",
    "14: images.d.depends_on[0]: unknown image 'nosuchimage'",
    "17: images.e.tags[0]: 'Bad Tag' is not an image reference",
    "20: images.f.platforms[0]: 'linux/amd64/v9': unknown variant 'v9' of amd64",
    "23: images.g.network: network 'foo': BuildKit takes default, host, none",
    "26: images.h.push: push: true needs at least one tag to publish",
    "29: images.i.tags[0]: undefined variable 'NOPE'",
    "32: images.j.no_cache: expected true or false",
]


def check_ten(path: Path, err: str) -> None:
    lines = err.splitlines()
    assert len(lines) == len(EXPECTED), err
    for line, expected in zip(lines, EXPECTED, strict=True):
        assert line.startswith(f"buildorch: error: {path}:{expected}"), (line, expected)


def test_ten_independent_mistakes_are_all_reported(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project(TEN_MISTAKES, contexts=("a", "c"))
    for command in ("validate", "plan", "graph"):
        assert main([command, "-f", str(path)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        check_ten(path, captured.err)


def test_ten_mistakes_as_a_subprocess(make_project: MakeProject) -> None:
    path = make_project(TEN_MISTAKES, contexts=("a", "c"))
    result = subprocess.run([sys.executable, "-m", "buildorch", "validate", "-f", str(path)],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    check_ten(path, result.stderr)


def test_errors_past_the_limit_are_counted(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    images = "".join(f"  i{n}:\n    context: missing{n}\n" for n in range(SHOWN_ERRORS + 5))
    path = make_project(f"version: 1\nname: p\nimages:\n{images}")
    assert main(["validate", "-f", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == SHOWN_ERRORS + 1
    assert lines[0].startswith(f"buildorch: error: {path}:5: images.i0.context: ")
    assert lines[-1] == "buildorch: error: ... and 5 more errors"


def test_an_image_with_errors_is_not_unknown_to_others(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    """`b` is left out for its own error; `a` naming it is no second error."""
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: a\n"
                        "    depends_on: [b]\n  b:\n    context: a\n    push: maybe\n"
                        "groups:\n  all: [a, b]\n", contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 2
    assert capsys.readouterr().err == (f"buildorch: error: {path}:9: images.b.push: "
                                       "expected true or false, got str 'maybe'\n")


def test_one_error_behind_a_variable_is_reported_once(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: ${NOPE}\n")
    assert main(["validate", "-f", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "undefined variable 'NOPE'" in err
