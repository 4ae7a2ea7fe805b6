"""`inherits` as bake merges it: in order, mappings key by key, lists replaced, own last."""

from __future__ import annotations

import pytest

from buildorch.cli.main import main
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from tests.conftest import MakeProject

PIPELINE = """\
version: 1
name: p
defaults:
  args: {FROM_DEFAULTS: d, SHARED: defaults}
  context: a
images:
  _common:
    args: {SHARED: common, COMMON: c}
    labels: {team: core}
    platforms: [linux/amd64, linux/arm64]
    tags: [r/common]
  _release:
    args: {SHARED: release}
    platforms: [linux/arm64]
    push: true
  api:
    inherits: [_common, _release]
    args: {OWN: o}
    tags: [r/api:1]
    description: the API
  worker:
    inherits: [api]
    context: b
    tags: [r/worker:1]
"""


def test_merged_in_order(make_project: MakeProject) -> None:
    images = load_pipeline(make_project(PIPELINE, contexts=("a", "b")),
                           LoadOptions(env={})).images
    assert set(images) == {"api", "worker"}  # templates are never built
    api = images["api"].spec
    assert api.args == {"FROM_DEFAULTS": "d", "SHARED": "release", "COMMON": "c", "OWN": "o"}
    assert api.labels == {"team": "core"}
    assert api.platforms == ["linux/arm64"]  # lists are replaced whole
    assert api.tags == ["r/api:1"] and api.push and api.description == "the API"
    worker = images["worker"]
    assert worker.spec.args == api.args and worker.spec.push
    assert worker.context_dir is not None and worker.context_dir.name == "b"
    assert images["api"].context_dir is not None and images["api"].context_dir.name == "a"


def test_an_inherited_field_is_reported_where_it_is_written(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    text = PIPELINE.replace("    platforms: [linux/arm64]\n", "    platforms: [linux/arm64/v99]\n")
    path = make_project(text, contexts=("a", "b"))
    assert main(["validate", "-f", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"buildorch: error: {path}:14: images._release.platforms[0]: ")
    assert len(err) == 1  # reported once, though two images inherit it


@pytest.mark.parametrize(("inherits", "line", "field", "message"), [
    ("[nosuch]", 4, "images.a.inherits[0]", "unknown image or template 'nosuch'"),
    ("[b]", 4, "images.b.inherits", "inherits form a cycle: a -> b -> a"),
])
def test_unknown_names_and_cycles(make_project: MakeProject,
                                  capsys: pytest.CaptureFixture[str], inherits: str,
                                  line: int, field: str, message: str) -> None:
    path = make_project(f"version: 1\nname: p\nimages:\n  a:\n    inherits: {inherits}\n"
                        "    context: a\n  b:\n    inherits: [a]\n    context: a\n",
                        contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{field}: {message}" in err, err


def test_an_image_without_a_context_anywhere(make_project: MakeProject,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  _t: {args: {A: b}}\n"
                        "  a:\n    inherits: [_t]\n")
    assert main(["validate", "-f", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"buildorch: error: {path}:5: images.a.context: required field is missing (on the "
        "image, an image it inherits, or defaults)\n")


def test_defaults_context_is_used(make_project: MakeProject) -> None:
    path = make_project("version: 1\nname: p\ndefaults: {context: sub}\nimages:\n  a: {}\n",
                        contexts=("sub",))
    image = load_pipeline(path, LoadOptions(env={})).images["a"]
    assert image.context_dir is not None and image.context_dir.name == "sub"


def test_defaults_cannot_inherit(make_project: MakeProject,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project("version: 1\nname: p\ndefaults:\n  inherits: [_t]\nimages:\n"
                        "  _t: {args: {A: b}}\n  a: {context: a}\n", contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"buildorch: error: {path}:4: defaults.inherits: defaults inherit nothing: name "
        "templates in each image's inherits\n")
