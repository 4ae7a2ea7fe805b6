"""Pipeline entries compared between two versions of a pipeline file, as the loader merges
them (own fields, `inherits`, `defaults`, scalars as written) and the variables they use."""

from __future__ import annotations

import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from buildorch.pipeline.entry_diff import ENTRY_CHANGED, entry_changes
from buildorch.pipeline.yaml_source import Located, parse_yaml

BASE = """\
version: 1
name: shop
vars:
  REGISTRY: localhost:5000/shop
  PY: "3.12"
  IMAGE_PY: python:${PY}
  UNUSED: x
defaults:
  platforms: [linux/amd64]
builders:
  - {name: local, backend: docker}
  - {name: remote, backend: buildctl}
images:
  _common:
    labels: {team: core}
  base:
    context: base
    tags: ["${REGISTRY}/base:1"]
  api:
    inherits: [_common]
    context: api
    args: {BASE: "${IMAGE_PY}", LEVEL: 3.10}
    description: the API
  worker:
    context: worker
    builder: remote
    args: {COST: "$${REGISTRY}"}
"""
ENTRIES = {"base": "base", "api": "api", "worker": "worker"}


def doc(text: str) -> Located:
    return parse_yaml(textwrap.dedent(text), "p.yaml")


def changes(new: str, old: str = BASE, also: dict[str, object] | None = None) -> dict[str, str]:
    return entry_changes(doc(old), doc(new), ENTRIES, also)


def test_the_same_file_changes_nothing() -> None:
    assert changes(BASE) == {}


def test_an_own_field_changes_only_that_image() -> None:
    assert changes(BASE.replace("context: worker", "context: worker\n    target: t")) == {
        "worker": ENTRY_CHANGED}


def test_a_template_changes_what_inherits_it() -> None:
    assert changes(BASE.replace("{team: core}", "{team: web}")) == {"api": ENTRY_CHANGED}


def test_defaults_change_every_image_that_does_not_override_the_field() -> None:
    old = BASE.replace("context: base\n", "context: base\n    platforms: [linux/amd64]\n")
    new = old.replace("[linux/amd64]\nbuilders", "[linux/arm64]\nbuilders")
    assert new != old
    assert changes(new, old) == {"api": ENTRY_CHANGED, "worker": ENTRY_CHANGED}


def test_a_variable_counts_where_used_directly_or_through_another() -> None:
    assert changes(BASE.replace('PY: "3.12"', 'PY: "3.13"')) == {"api": "variable PY changed"}
    assert changes(BASE.replace("localhost:5000/shop", "localhost:5000/web")) == {
        "base": "variable REGISTRY changed"}  # worker's $${REGISTRY} is a literal
    assert changes(BASE.replace("UNUSED: x", "UNUSED: y")) == {}
    assert changes(BASE.replace("UNUSED: x", "UNUSED: x\n  NEW: n")) == {}


def test_a_cache_profile_s_variables_count_too() -> None:
    also: dict[str, object] = {"worker": {"type": "registry", "ref": "${UNUSED}/cache"}}
    assert changes(BASE.replace("UNUSED: x", "UNUSED: y"), also=also) == {
        "worker": "variable UNUSED changed"}


def test_scalars_compare_as_written_and_people_s_fields_do_not_count() -> None:
    assert changes(BASE.replace("LEVEL: 3.10", 'LEVEL: "3.10"')) == {}
    assert changes(BASE.replace("LEVEL: 3.10", "LEVEL: 3.1")) == {"api": ENTRY_CHANGED}
    assert changes(BASE.replace("the API", "the API, now documented")) == {}


def test_a_builder_s_backend_counts_for_the_images_it_builds() -> None:
    assert changes(BASE.replace("backend: buildctl", "backend: nerdctl")) == {
        "worker": "its builder's backend changed"}
    assert changes(BASE.replace("backend: docker", "backend: nerdctl")) == {
        "base": "its builder's backend changed", "api": "its builder's backend changed"}


def test_the_pipeline_name_is_the_variable_pipeline() -> None:
    old = BASE.replace("context: base", "context: base\n    args: {P: \"${PIPELINE}\"}")
    new = old.replace("name: shop", "name: web")
    assert changes(new, old) == {"base": "variable PIPELINE changed"}


def test_an_entry_missing_or_broken_at_the_revision_counts_as_changed() -> None:
    assert changes(BASE, BASE.replace("  worker:", "  other:")) == {"worker": ENTRY_CHANGED}
    assert changes(BASE, BASE.replace("inherits: [_common]", "inherits: [_gone]")) == {
        "api": ENTRY_CHANGED}
    cycle = BASE.replace("labels: {team: core}", "inherits: [api]")
    assert changes(BASE, cycle) == {"api": ENTRY_CHANGED}
    assert changes(BASE, BASE.replace("defaults:\n  platforms: [linux/amd64]",
                                      "defaults: [1]")) == dict.fromkeys(ENTRIES, ENTRY_CHANGED)
    assert changes(BASE, "version: 1\nimages: [a]\n") == dict.fromkeys(ENTRIES, ENTRY_CHANGED)


def test_a_matrix_template_is_one_entry() -> None:
    old = BASE + "  py-lib:\n    matrix: {py: ['3.11', '3.12']}\n    context: lib\n"
    entries = {**ENTRIES, "py-lib-3.11": "py-lib", "py-lib-3.12": "py-lib"}
    new = old.replace("'3.12']", "'3.13']")
    assert entry_changes(doc(old), doc(new), entries) == {"py-lib-3.11": ENTRY_CHANGED,
                                                           "py-lib-3.12": ENTRY_CHANGED}


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["context", "inherits", "args", "vars", "images", "defaults", "api",
                         "base", "builder", "builders", "name"]), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(old=_VALUES, new=_VALUES)
def test_any_pair_of_documents_gives_reasons_never_an_exception(old: object,
                                                                new: object) -> None:
    found = entry_changes(Located("a", old, {}), Located("b", new, {}), ENTRIES)
    assert set(found) <= set(ENTRIES)
    # the same document twice: only entries that cannot be merged count
    same = entry_changes(Located("a", new, {}), Located("b", new, {}), ENTRIES)
    assert all(v == ENTRY_CHANGED for v in same.values())



def test_the_pipelines_reproducible_counts_where_the_entry_says_nothing() -> None:
    on = BASE.replace("name: shop\n", "name: shop\nreproducible: true\n")
    own = BASE.replace("    builder: remote\n", "    builder: remote\n    reproducible: false\n")
    assert changes(on) == dict.fromkeys(ENTRIES, "the pipeline's reproducible changed")
    assert changes(on.replace("    builder: remote\n",
                              "    builder: remote\n    reproducible: false\n"), own) == {
        "base": "the pipeline's reproducible changed",
        "api": "the pipeline's reproducible changed"}
    assert changes(on, on) == {}
