"""compose's `extends` in one file (compose-spec 05-services.md extends, 13-merge.md)."""

from __future__ import annotations

import pytest

from buildorch.pipeline.compose_extends import merged, with_extends
from buildorch.pipeline.imported import ConversionError
from buildorch.pipeline.yaml_source import Path_


def extend(services: dict[str, object]) -> tuple[dict[str, dict[str, object]], list[Path_]]:
    files: list[Path_] = []
    return with_extends(services, files.append), files


def test_the_extending_service_s_fields_merge_over_its_base() -> None:
    result, _ = extend({
        "base": {"build": {"context": "b", "args": {"A": "1", "B": "2"}, "tags": ["x"]},
                 "image": "base", "ports": ["80"]},
        "app": {"extends": "base", "build": {"args": ["B=3", "C"], "tags": ["y", "x"]},
                "image": "app"},
    })
    assert result["app"] == {
        "build": {"context": "b", "args": {"A": "1", "B": "3", "C": None}, "tags": ["x", "y"]},
        "image": "app", "ports": ["80"]}
    assert result["base"]["image"] == "base"  # the base itself is unchanged


def test_a_build_path_merges_with_a_build_mapping() -> None:
    result, _ = extend({"base": {"build": "./b"},
                        "app": {"extends": {"service": "base"}, "build": {"target": "t"}}})
    assert result["app"]["build"] == {"context": "./b", "target": "t"}


def test_chains_resolve_in_any_order_and_depends_on_lists_become_mappings() -> None:
    result, _ = extend({
        "c": {"extends": "b", "depends_on": ["z"]},
        "b": {"extends": "a", "depends_on": {"y": {"condition": "service_healthy"}}},
        "a": {"build": ".", "depends_on": ["x"]},
    })
    assert list(result["c"]["depends_on"]) == ["x", "y", "z"]  # type: ignore[call-overload]
    assert list(result) == ["c", "b", "a"]


def test_a_long_chain_needs_no_deep_recursion() -> None:
    services: dict[str, object] = {f"s{i}": {"extends": f"s{i + 1}"} for i in range(5000)}
    services["s5000"] = {"build": "."}
    assert extend(services)[0]["s0"]["build"] == {"context": "."}


def test_another_file_is_not_read_and_is_told() -> None:
    result, files = extend({"app": {"extends": {"service": "x", "file": "other.yml"},
                                    "build": "."}})
    assert result["app"] == {"build": "."}
    assert files == [("services", "app", "extends", "file")]


@pytest.mark.parametrize(("services", "message"), [
    ({"a": {"extends": "a"}}, r"^services\.a\.extends: extends goes round in a loop: a -> a$"),
    ({"a": {"extends": "b"}, "b": {"extends": "a"}},
     r"^services\.b\.extends: extends goes round in a loop: a -> b -> a$"),
    ({"a": {"extends": "nope"}}, r"^services\.a\.extends: no service 'nope' in this file"),
    ({"a": {"extends": "b"}, "b": "text"}, r"no service 'b' in this file"),
    ({"a": {"extends": [1]}}, r"^services\.a\.extends: expected a service name"),
    ({"a": {"extends": {"file": "x"}}}, r"expected a service name"),
])
def test_what_compose_refuses(services: dict[str, object], message: str) -> None:
    with pytest.raises(ConversionError, match=message):
        extend(services)


def test_merge_rules() -> None:
    assert merged({"a": 1, "m": {"x": 1}}, {"a": 2, "m": {"y": 2}}) == {
        "a": 2, "m": {"x": 1, "y": 2}}
    assert merged([1, 2], [2, 3]) == [1, 2, 3]
    assert merged([1], "s") == "s"
    deep: dict[str, object] = {"k": {"k": {"k": {"k": {"old": 1}}}}}
    assert merged(deep, {"k": {"k": {"k": {"k": {"new": 1}}}}}) == {
        "k": {"k": {"k": {"k": {"new": 1}}}}}  # replaced below the build's own mappings
