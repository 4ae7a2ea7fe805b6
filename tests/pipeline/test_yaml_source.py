from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from buildorch.digestcache import DigestCache
from buildorch.errors import ConfigError
from buildorch.pipeline.yaml_source import Located, code_version, dotted, load_yaml, parse_yaml

DOC = """\
version: 1
images:
  api:
    tags:
      - a
      - b
    args: {X: 1}
base: &b {k: v}
merged:
  <<: *b
  j: w
"""


def test_lines_follow_keys_and_items() -> None:
    doc = parse_yaml(DOC, "p.yaml")
    assert doc.data["images"]["api"]["tags"] == ["a", "b"]
    assert doc.lines[("images", "api")] == 3
    assert doc.lines[("images", "api", "tags", 1)] == 6
    assert doc.lines[("images", "api", "args", "X")] == 7


def test_line_of_falls_back_to_nearest_ancestor() -> None:
    doc = parse_yaml(DOC, "p.yaml")
    assert doc.line_of(("images", "api", "nonexistent", 3)) == 3


def test_merge_keys_are_expanded() -> None:
    assert parse_yaml(DOC, "p.yaml").data["merged"] == {"k": "v", "j": "w"}


def test_duplicate_key_is_an_error_with_its_line() -> None:
    with pytest.raises(ConfigError) as err:
        parse_yaml("a: 1\nb: 2\na: 3\n", "p.yaml")
    assert str(err.value) == "p.yaml:3: a: duplicate key 'a'"


def test_syntax_error_names_file_and_line() -> None:
    with pytest.raises(ConfigError) as err:
        parse_yaml("a:\n  - [1, 2\nb: 3\n", "p.yaml")
    assert str(err.value).startswith("p.yaml:3: YAML syntax error")


def test_empty_document() -> None:
    assert parse_yaml("", "p.yaml").data is None


def test_dotted_paths() -> None:
    assert dotted(("images", "api", "tags", 0)) == "images.api.tags[0]"


def test_a_merge_key_is_overridden_by_the_mappings_own_keys() -> None:
    text = "base: &b {context: a, target: x}\nimage:\n  <<: *b\n  target: y\n"
    data = parse_yaml(text, "p.yaml").data
    assert data == {"base": {"context": "a", "target": "x"},
                    "image": {"context": "a", "target": "y"}}
    with pytest.raises(ConfigError, match="duplicate key 'target'"):
        parse_yaml("image:\n  <<: {context: a}\n  target: y\n  target: z\n", "p.yaml")


def test_values_are_built_in_order_without_recursion() -> None:
    deep = "a: " + "[" * 900 + "1" + "]" * 900 + "\nb: [x, y]\nc: {d: e}\n"
    located = parse_yaml(deep, "p.yaml")
    assert list(located.data) == ["a", "b", "c"]  # type: ignore[call-overload]
    assert located.line_of(("b", 1)) == 2 and located.line_of(("c", "d")) == 3


def test_plain_non_strings_keep_their_text() -> None:
    located = parse_yaml("a: 3.10\nb: '0755'\nc: [yes, ~]\nd: text\ne: |\n  7\n", "f.yaml")
    assert located.data == {"a": 3.1, "b": "0755", "c": [True, None], "d": "text", "e": "7\n"}
    assert located.written == {("a",): "3.10", ("c", 0): "yes", ("c", 1): "~"}


def test_an_alias_keeps_the_text_at_each_place() -> None:
    located = parse_yaml("x: &v 010\ny: *v\n", "f.yaml")
    assert located.written == {("x",): "010", ("y",): "010"}


YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=8) | st.sampled_from(["3.10", "0755", "yes", "~", "", "a: b", "- x"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=3), max_leaves=12)


@settings(deadline=None, max_examples=100)
@given(st.dictionaries(st.text(min_size=1, max_size=5), YAML_VALUES, min_size=1, max_size=4),
       st.sampled_from(["block", "flow", "anchors"]))
def test_a_kept_parse_equals_a_fresh_one(doc: dict[str, object], style: str) -> None:
    text = yaml.safe_dump(doc, default_flow_style=style == "flow", sort_keys=False)
    if style == "anchors":
        text = "x-base: &base {a: 1, b: [2, 3]}\nmerged: {<<: *base, b: 4}\n" + text
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.yaml"
        path.write_text(text)
        fresh = parse_yaml(text, "p.yaml")
        first = DigestCache.open(Path(folder) / "c", code_version(), 2)
        assert load_yaml(path, "p.yaml", first) == fresh
        first.save()
        again = DigestCache.open(Path(folder) / "c", code_version(), 2)
        kept = load_yaml(path, "shown.yaml", again)
        assert again.added == 0 and list(again.used)  # read from the file, not parsed
        assert kept == Located("shown.yaml", fresh.data, fresh.lines, fresh.written)
        assert json.dumps(kept.data) == json.dumps(fresh.data)  # the same order


def test_a_document_with_an_error_is_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("a: 1\na: 2\n")
    known = DigestCache.open(tmp_path / "c", code_version(), 2)
    for _ in range(2):
        with pytest.raises(ConfigError, match="duplicate key 'a'"):
            load_yaml(path, "p.yaml", known)
    assert known.entries == {}
