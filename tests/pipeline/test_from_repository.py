"""A repository's Dockerfiles as a pipeline (`buildorch init`): images, names, contexts,
tags and the dependencies between them."""

from __future__ import annotations

import pytest

from buildorch.pipeline.from_repository import clean_name, from_repository
from buildorch.pipeline.imported import Imported
from buildorch.pipeline.repository_scan import scan_text

BASE = "FROM localhost:5000/busybox:latest\n"


def convert(files: dict[str, str], name: str = "shop", prefix: str = ".") -> Imported:
    return from_repository([scan_text(path, text) for path, text in files.items()], name,
                           prefix)


def targets(result: Imported) -> dict[str, object]:
    return {name: fields.get("target") for name, fields in result.images.items()}


# --- images: one per final stage ---------------------------------------------------------


def test_one_image_per_dockerfile_built_from_its_folder() -> None:
    result = convert({"api/Dockerfile": BASE, "web/Dockerfile": BASE})
    assert result.images == {
        "api": {"context": "api", "tags": ["shop-api"]},
        "web": {"context": "web", "tags": ["shop-web"]},
    }
    assert result.notes == []


def test_final_stages_are_the_last_one_and_the_named_stages_nothing_uses() -> None:
    text = (f"{BASE[:-1]} AS build\nRUN true\nFROM build AS test\nRUN true\n"
            f"FROM build AS dev\n{BASE[:-1]} AS runtime\nCOPY --from=build /a /a\n")
    result = convert({"api/Dockerfile": text})
    # build is used by test, dev and runtime; runtime is the last stage: no target
    assert targets(result) == {"api": None, "api-test": "test", "api-dev": "dev"}


def test_a_stage_used_by_copy_or_a_mount_is_not_final() -> None:
    text = (f"{BASE[:-1]} AS assets\n{BASE[:-1]} AS deps\n"
            f"{BASE[:-1]}\nCOPY --from=assets /a /a\nRUN --mount=from=deps,target=/d true\n")
    assert targets(convert({"api/Dockerfile": text})) == {"api": None}


def test_an_unnamed_final_stage_cannot_be_a_target_and_is_noted() -> None:
    result = convert({"api/Dockerfile": f"{BASE}RUN true\n{BASE}"})
    assert targets(result) == {"api": None}
    assert result.notes == ["api/Dockerfile: stage-0 (line 1) is used by no other stage but "
                            "has no name, so it cannot be a target: left out"]


def test_a_stage_name_given_twice_is_one_target_the_later_stage() -> None:
    text = f"{BASE[:-1]} AS x\n{BASE[:-1]} AS x\n{BASE[:-1]} AS out\n"
    assert targets(convert({"api/Dockerfile": text})) == {"api": None, "api-x": "x"}


def test_a_target_buildkit_cannot_build_is_left_out_with_a_note() -> None:
    # stage `early` copies from a stage defined after it: BuildKit refuses that target
    text = f"{BASE[:-1]} AS early\nCOPY --from=late /a /a\n{BASE[:-1]} AS late\n"
    result = convert({"api/Dockerfile": text})
    assert targets(result) == {"api": None}
    assert len(result.notes) == 1 and result.notes[0].startswith(
        "api/Dockerfile: target early left out: line 2: stage 'late' is used by copy")


# --- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "name"), [
    ("services/api/Dockerfile", "api"),
    ("services/api/Dockerfile.worker", "api-worker"),
    ("services/api/worker.Dockerfile", "api-worker"),
    ("services/api/Dockerfile-worker", "api-worker"),
    ("services/api/Containerfile", "api"),
    ("Dockerfile", "shop"),
    ("Dockerfile.api", "api"),
    ("api.Dockerfile", "api"),
    ("docker/Dockerfile.api", "api"),  # `docker` says nothing
    ("api/docker/Dockerfile", "api"),
    ("My_Service/Dockerfile.Prod.v2", "my-service-prod-v2"),
])
def test_an_image_is_named_after_its_folder_and_file(path: str, name: str) -> None:
    assert list(convert({path: BASE}).images) == [name]


def test_names_that_collide_take_more_folders_for_every_image_of_the_file() -> None:
    test_stage = f"{BASE[:-1]} AS test\n{BASE}"
    result = convert({"services/api/Dockerfile": test_stage, "libs/api/Dockerfile": BASE,
                      "web/Dockerfile": BASE})
    assert targets(result) == {"services-api": None, "services-api-test": "test",
                               "libs-api": None, "web": None}


def test_a_target_name_that_collides_with_a_folder_takes_more_folders() -> None:
    result = convert({"svc/api/Dockerfile": f"{BASE[:-1]} AS test\n{BASE}",
                      "lib/api-test/Dockerfile": BASE})
    assert targets(result) == {"svc-api": None, "svc-api-test": "test", "lib-api-test": None}


def test_names_that_still_collide_get_a_number_in_the_order_given() -> None:
    result = convert({"X/Dockerfile": BASE, "a/x/Dockerfile": BASE, "x/Dockerfile": BASE})
    assert {n: f["context"] for n, f in result.images.items()} == {
        "x": "X", "a-x": "a/x", "x-2": "x"}


@pytest.mark.parametrize(("text", "cleaned"), [
    ("My_App.v2", "my-app-v2"), ("--a--b--", "a-b"), ("ÄÖ", "image"), ("x" * 100, "x" * 80)])
def test_clean_name(text: str, cleaned: str) -> None:
    assert clean_name(text) == cleaned


# --- contexts ----------------------------------------------------------------------------------


def test_contexts_are_relative_to_the_pipeline_and_dockerfile_only_when_not_the_default() -> None:
    result = convert({"Dockerfile": BASE, "a/Containerfile": BASE, "a/b/x.Dockerfile": BASE,
                      "c$d/Dockerfile": BASE}, prefix="../repo")
    assert result.images == {
        "shop": {"context": "../repo", "tags": ["shop-shop"]},
        "a": {"context": "../repo/a", "dockerfile": "Containerfile", "tags": ["shop-a"]},
        "b-x": {"context": "../repo/a/b", "dockerfile": "x.Dockerfile", "tags": ["shop-b-x"]},
        "c-d": {"context": "../repo/c$$d", "tags": ["shop-c-d"]},  # `$$` reads back as `$`
    }


def test_the_pipeline_name_is_cleaned() -> None:
    result = convert({"a/Dockerfile": BASE}, name="My Shop")
    assert result.name == "my-shop" and result.images["a"]["tags"] == ["my-shop-a"]


# --- dependencies ------------------------------------------------------------------------------


def tags(result: Imported) -> dict[str, object]:
    return {name: fields["tags"] for name, fields in result.images.items()}


@pytest.mark.parametrize("ref", ["base", "base:1", "mycorp/base", "mycorp/base:1",
                                 "localhost:5000/mycorp/base:2024", "docker.io/library/base"])
def test_a_from_naming_an_image_tags_it_with_that_reference(ref: str) -> None:
    result = convert({"base/Dockerfile": BASE, "api/Dockerfile": f"FROM {ref}\n"})
    assert tags(result) == {"base": ["shop-base", ref], "api": ["shop-api"]}
    assert result.notes == []


def test_copy_from_and_mount_from_name_images_too() -> None:
    text = f"{BASE}COPY --from=mycorp/assets /a /a\nRUN --mount=from=tools,target=/t true\n"
    result = convert({"assets/Dockerfile": BASE, "tools/Dockerfile": BASE,
                      "api/Dockerfile": text})
    assert tags(result)["assets"] == ["shop-assets", "mycorp/assets"]
    assert tags(result)["tools"] == ["shop-tools", "tools"]


def test_one_tag_per_reference_whatever_its_spelling() -> None:
    result = convert({"base/Dockerfile": BASE, "a/Dockerfile": "FROM base\n",
                      "b/Dockerfile": "FROM docker.io/library/base:latest\n",
                      "c/Dockerfile": "FROM base:2\n", "d/Dockerfile": "FROM shop-base\n"})
    # shop-base is its own tag already
    assert tags(result)["base"] == ["shop-base", "base", "base:2"]


def test_a_disambiguated_image_is_found_by_its_folder_name_when_only_it_has_it() -> None:
    result = convert({"svc/api/Dockerfile": f"{BASE[:-1]} AS test\n{BASE}",
                      "lib/api-test/Dockerfile": BASE, "web/Dockerfile": "FROM mycorp/api\n"})
    assert tags(result)["svc-api"] == ["shop-svc-api", "mycorp/api"]


def test_a_reference_that_could_name_two_images_names_none() -> None:
    result = convert({"services/api/Dockerfile": BASE, "libs/api/Dockerfile": BASE,
                      "web/Dockerfile": "FROM mycorp/api\n"})
    assert tags(result) == {"services-api": ["shop-services-api"],
                            "libs-api": ["shop-libs-api"], "web": ["shop-web"]}
    assert result.notes == ["web: web/Dockerfile:1: FROM mycorp/api could name image libs-api "
                            "or services-api: no dependency; add depends_on and a tag by hand"]


@pytest.mark.parametrize("text", [
    "FROM mycorp/base@sha256:" + "a" * 64 + "\n",  # pinned on purpose
    "ARG BASE=mycorp/base\nFROM ${BASE}\n",  # the user's to give
    "FROM $BASE\n".replace("$BASE", "${BASE:-mycorp/base}"),
    f"{BASE}RUN true\n{BASE[:-1]} AS out\n".replace("RUN true", "RUN true\nFROM base"),
])
def test_references_left_alone(text: str) -> None:
    result = convert({"base/Dockerfile": BASE, "api/Dockerfile": text})
    assert tags(result)["base"] == ["shop-base"]


def test_an_image_built_on_the_repository_it_names_is_no_producer_of_it() -> None:
    result = convert({"node/Dockerfile": "FROM node:20\n", "api/Dockerfile": "FROM node:18\n",
                      "web/Dockerfile": "FROM mycorp/node\n"})
    assert tags(result)["node"] == ["shop-node", "mycorp/node"]
    assert result.notes == ["api: api/Dockerfile:1: FROM node:18 is left to the registry: "
                            "image node is itself built on that repository"]


def test_an_image_naming_itself_is_no_dependency() -> None:
    result = convert({"api/Dockerfile": "FROM mycorp/api:previous\n"})
    assert tags(result) == {"api": ["shop-api"]} and result.notes == []


def test_only_the_stages_a_target_needs_count() -> None:
    # the unnamed first stage is built by no target: its FROM names no dependency
    text = f"FROM base\n{BASE}"
    assert tags(convert({"base/Dockerfile": BASE, "api/Dockerfile": text}))["base"] == [
        "shop-base"]
