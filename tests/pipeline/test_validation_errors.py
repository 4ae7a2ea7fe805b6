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
