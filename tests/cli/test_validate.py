from __future__ import annotations

import pytest

from buildorch.cli.main import main
from tests.conftest import MakeProject


@pytest.mark.parametrize(("images", "summary"), [
    ("  a: {context: a, tags: [localhost:5000/p/a:1]}\n", "(1 image, 0 dependencies)"),
    ("  a: {context: a, tags: [localhost:5000/p/a:1]}\n"
     "  b: {context: a, depends_on: [a], tags: [localhost:5000/p/b:1]}\n",
     "(2 images, 1 dependency)"),
])
def test_validate_counts_in_the_singular_and_the_plural(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str], images: str,
        summary: str) -> None:
    path = make_project("version: 1\nname: p\nimages:\n" + images, contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: ok {summary}\n"
