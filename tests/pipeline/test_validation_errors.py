"""Messages of validation errors: 'did you mean' for compose and bake names."""

from __future__ import annotations

import pytest

from buildorch.cli.main import main
from buildorch.pipeline.validation_errors import did_you_mean
from tests.conftest import MakeProject

FIELDS = ["args", "contexts", "cache", "platforms", "outputs", "extra_hosts", "shm_size",
          "dockerfile_inline", "no_cache_filter", "tags", "depends_on", "target"]


@pytest.mark.parametrize(("written", "meant"), [
    ("build_args", "args"), ("build-args", "args"), ("additional_contexts", "contexts"),
    ("cache_from", "cache"), ("cache-to", "cache"), ("platform", "platforms"),
    ("output", "outputs"), ("extra-hosts", "extra_hosts"), ("shm-size", "shm_size"),
    ("dockerfile-inline", "dockerfile_inline"), ("no-cache-filter", "no_cache_filter"),
    ("image", "tags"), ("depends-on", "depends_on"),
])
def test_compose_and_bake_names_point_at_ours(written: str, meant: str) -> None:
    assert did_you_mean(written, FIELDS).startswith(f" (did you mean '{meant}'")


def test_a_cache_alias_says_what_a_profile_is() -> None:
    assert did_you_mean("cache_from", FIELDS) == (
        " (did you mean 'cache', a cache profile in cache-config/?)")


def test_near_misses_still_get_close_matches() -> None:
    assert did_you_mean("targte", FIELDS) == " (did you mean 'target'?)"
    assert did_you_mean("zzzz", FIELDS) == ""


def test_did_you_mean_in_a_real_message(make_project: MakeProject,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: a\n"
                        "    additional_contexts: {x: ../b}\n", contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"buildorch: error: {path}:6: images.a.additional_contexts: unknown field "
        "'additional_contexts' (did you mean 'contexts'?)\n")


DEFAULTS_WRONG = """\
version: 1
name: p
defaults:
  platforms: linux/amd64
  zzzz: 1
images:
  a:
    context: a
    push: maybe
  b:
    context: nothere
    platforms: [linux/arm64]
  c:
    context: a
    network: foo
  d:
    context: nothere
  e:
    context: a
    platforms: [linux/amd64]
    depends_on: [nosuch]
"""


def test_an_error_in_defaults_leaves_its_field_out_and_images_are_checked(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    """What an image takes from a wrong field of `defaults` is unknown: such an image has
    only the values it writes itself checked (`d` reports no missing context, which the
    user may have meant to give in `defaults`); the others are checked in full."""
    path = make_project(DEFAULTS_WRONG, contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 2
    err = [line.split(": ", 2)[2] for line in capsys.readouterr().err.splitlines()]
    assert err == [
        f"{path}:4: defaults.platforms: expected a list, got str 'linux/amd64'",
        f"{path}:5: defaults.zzzz: unknown field 'zzzz'",
        f"{path}:9: images.a.push: expected true or false, got str 'maybe'",
        f"{path}:11: images.b.context: build context folder not found: nothere",
        f"{path}:15: images.c.network: network 'foo': BuildKit takes default, host, none "
        "(a build joins no named network)",
        f"{path}:21: images.e.depends_on[0]: unknown image 'nosuch' (known: a, b, c, d, e)",
    ], err


@pytest.mark.parametrize(("defaults", "message"), [
    ("defaults: [x]", "3: defaults: expected a mapping"),
    ("defaults:\n  build_args: {X: '1'}", "4: defaults.build_args: unknown field 'build_args'"),
    ("defaults:\n  build: {context: a}", "4: defaults.build: unknown field 'build'"),
    ("defaults:\n  contxt: a", "4: defaults.contxt: unknown field 'contxt'"),
])
def test_a_field_defaults_may_have_meant_is_unknown(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str], defaults: str,
        message: str) -> None:
    """An image that may take the field is checked on its own values only: no false error
    (a missing context, a missing build arg), but its own wrong network is reported."""
    path = make_project(f"version: 1\nname: p\n{defaults}\nimages:\n  a:\n    network: foo\n"
                        "    dockerfile: nothere\n", contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 2
    err = [line.split(": ", 2)[2] for line in capsys.readouterr().err.splitlines()]
    assert len(err) == 2 and err[0].startswith(f"{path}:{message}"), err
    assert "images.a.network: network 'foo': BuildKit takes" in err[1], err


@pytest.mark.parametrize(("fields", "sets", "expected"), [
    ("    outputs: ['']\n", (), "6: images.a.outputs[0]: must not be empty"),
    ("    extra_hosts: {'': 10.0.0.1}\n", (), "6: images.a.extra_hosts: a key must not be empty"),
    ("    args: {'': x}\n", (), "6: images.a.args: a key must not be empty"),
    ("    tags: ['']\n", (), "6: images.a.tags[0]: must not be empty"),
    ("", ("a.outputs=",), "images.a.outputs[0]: must not be empty"),
])
def test_an_empty_string_is_named(make_project: MakeProject,
                                  capsys: pytest.CaptureFixture[str], fields: str,
                                  sets: tuple[str, ...], expected: str) -> None:
    path = make_project(f"version: 1\nname: p\nimages:\n  a:\n    context: a\n{fields}",
                        contexts=("a",))
    assert main(["validate", "-f", str(path), *(f"--set={s}" for s in sets)]) == 2
    err = capsys.readouterr().err
    where = f"--set {sets[0]}: " if sets else f"{path}:"
    assert err == f"buildorch: error: {where}{expected}\n"


def test_compose_build_section_says_where_its_fields_go(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    build: {context: a}\n")
    assert main(["validate", "-f", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"buildorch: error: {path}:5: images.a.build: unknown field 'build' (compose's build: "
        "section: its fields, such as context, dockerfile, args and target, go on the image "
        "itself)\n")
    assert did_you_mean("build", ["builders", "images"]) == " (did you mean 'builders'?)"
