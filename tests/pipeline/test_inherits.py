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
    assert err.count("\n") == 1, err  # a cycle once, not once from each side


def test_a_chain_through_a_cycle_is_reported_once(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  x: {inherits: [a], context: a}\n"
                        "  a: {inherits: [b], context: a}\n  b: {inherits: [a], context: a}\n"
                        "  y: {inherits: [nosuch], context: a}\n  z: {inherits: [y]}\n",
                        contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"buildorch: error: {path}:6: images.b.inherits: inherits form a cycle: a -> b -> a",
        f"buildorch: error: {path}:7: images.y.inherits[0]: unknown image or template "
        "'nosuch' (known: a, b, x, y, z)"]


def test_inheriting_an_image_with_errors_is_no_error(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    """`a` is left out for its own error: who inherits it is skipped quietly, but the
    values it writes itself are still checked."""
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: a\n"
                        "    extra_hosts: {gw: not-an-ip}\n  b: {inherits: [a]}\n"
                        "  c:\n    inherits: [a]\n    platforms: [linux/amd64/v9]\n"
                        "    network: foo\n    push: maybe\n  d: {inherits: [b], push: true}\n"
                        "  e: {depends_on: [b, c, d], context: a}\n", contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 2
    err = [line.split(": ", 2)[2] for line in capsys.readouterr().err.splitlines()]
    assert err == [
        f"{path}:6: images.a.extra_hosts: gw: 'not-an-ip' is not an IP address",
        f"{path}:12: images.c.push: expected true or false, got str 'maybe'",
    ], err
    path.write_text(path.read_text().replace("    push: maybe\n", ""))
    assert main(["validate", "-f", str(path)]) == 2
    err = [line.split(": ", 2)[2] for line in capsys.readouterr().err.splitlines()]
    assert err == [
        f"{path}:6: images.a.extra_hosts: gw: 'not-an-ip' is not an IP address",
        f"{path}:10: images.c.platforms[0]: 'linux/amd64/v9': unknown variant 'v9' of amd64 "
        "(known: one of v2, v3, v4)",
        f"{path}:11: images.c.network: network 'foo': BuildKit takes default, host, none "
        "(a build joins no named network)",
    ], err


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
