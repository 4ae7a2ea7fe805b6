"""What repro loads and selects again from a record: variables, --set, cache, images."""

from __future__ import annotations

import pytest

from buildorch.errors import ConfigError
from buildorch.jsontypes import JsonObject
from buildorch.run.recorded import parse_record
from buildorch.run.repro.replay import (
    check_closure,
    check_names,
    check_record,
    replay,
    selection,
)
from tests.run.record_samples import DIGEST, record


def base_entry(data: JsonObject) -> JsonObject:
    images = data["images"]
    assert isinstance(images, dict)
    base = images["base"]
    assert isinstance(base, dict)
    return base


def test_the_recorded_variables_and_sets_are_replayed_and_redacted_ones_dropped() -> None:
    data = record()
    data["variables"] = {"GIT_BRANCH": "ci-branch", "TAG": "abc", "TOKEN": "x-***", "N": None}
    data["invocation"] = {"vars": {"TAG": "abc", "UNUSED": "u"}, "cache": "registry",
                          "cache_config": "profiles", "push": True,
                          "sets": ["api.target=test", "api.args.PW=***"]}
    again = replay(parse_record(data, "r"))
    assert again.variables == (("GIT_BRANCH", "ci-branch"), ("TAG", "abc"), ("UNUSED", "u"))
    assert again.sets == ("api.target=test",)
    assert (again.cache, again.cache_config, again.push) == ("registry", "profiles", True)
    assert len(again.notes) == 2
    assert "variable TOKEN was redacted" in again.notes[0]
    assert "--set api.args.PW=*** was redacted" in again.notes[1]


def test_an_older_record_replays_nothing_and_says_so() -> None:
    again = replay(parse_record(record(), "r"))
    assert (again.variables, again.sets, again.cache, again.push) == ((), (), None, False)
    assert again.notes and "holds no variables" in again.notes[0]


def test_a_base_image_digest_that_is_no_digest_names_the_field() -> None:
    data = record()
    base_entry(data)["base_images"] = {"busybox": "latest"}
    with pytest.raises(ConfigError) as caught:
        check_record(parse_record(data, "r.json"), "r.json")
    assert str(caught.value) == ("r.json: images.base.base_images.busybox: 'latest' is not a "
                                 "sha256 digest")
    base_entry(data)["base_images"] = {"busybox": DIGEST}
    check_record(parse_record(data, "r.json"), "r.json")


def test_an_image_recorded_under_another_name_or_an_unknown_backend_is_a_bad_record() -> None:
    data = record()
    base_entry(data)["name"] = "other"
    with pytest.raises(ConfigError, match=r"r.json: images.base.name: names image 'other'"):
        check_record(parse_record(data, "r.json"), "r.json")
    data = record()
    data["backend"] = "podman"
    with pytest.raises(ConfigError, match=r"^r.json: backend: no backend 'podman' \(backends: "):
        check_record(parse_record(data, "r.json"), "r.json")


def test_images_given_must_be_in_the_record_and_so_must_what_they_depend_on() -> None:
    run = parse_record(record(), "r.json")
    check_names(run, ["api", "web"], "r.json")
    with pytest.raises(ConfigError, match=r"^r.json: run 20261201T050000Z-abcdef has no "
                                          r"image 'nope' \(images: base, api, web, old\)$"):
        check_names(run, ["nope"], "r.json")
    check_closure(run, ["api", "base"], {"api": {"base"}}, "r.json")
    with pytest.raises(ConfigError, match=r"image 'lib' is not in run .* \(api depends on it\)"):
        check_closure(run, ["api", "lib"], {"api": {"lib"}, "lib": set()}, "r.json")


def test_the_selection_is_the_images_given_else_the_recorded_one() -> None:
    run = parse_record(record(), "r")
    assert selection(run, ["web"]) == ("web",)
    assert selection(run, []) == ("api",)
    data = record()
    data["selection"] = []
    assert selection(parse_record(data, "r"), []) == ("base", "api", "web", "old")
