"""`plan`'s text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from buildorch.cli.main import main
from tests.conftest import MakeProject

ONE = "version: 1\nname: p\nimages:\n  a: {context: a, tags: [localhost:5000/p/a:1]}\n"


def test_plan_text_counts_one_image_in_the_singular(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project(ONE, contexts=("a",))
    assert main(["plan", "-f", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"pipeline p ({path}): 1 image"


SHOP = """\
version: 1
name: shop
images:
  base:
    context: a
    description: >
      The base every service
      is built on
    tags: [localhost:5000/shop/base:1]
  api:
    context: a
    depends_on: [base]
    tags: [localhost:5000/shop/api:1]
    outputs: ["type=local,dest=out/"]
  check: {context: a, depends_on: [base], outputs: [type=cacheonly]}
"""


def plan_lines(path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    assert main(["plan", "-f", path.name, *args]) == 0
    return capsys.readouterr().out.splitlines()


def test_plan_text_shows_descriptions_outputs_and_publish_steps(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_project(SHOP, contexts=("a",))
    monkeypatch.chdir(path.parent)  # paths are shown relative to here
    lines = plan_lines(path, capsys, "--backend", "docker", "--push")
    assert lines[3] == "  1. base: The base every service is built on"
    assert [line for line in lines if line.startswith("     outputs: ")] == [
        "     outputs: load localhost:5000/shop/base:1, buildorch.local/shop/base:{run_id}",
        "     outputs: load localhost:5000/shop/api:1; type=local,dest=out",
        "     outputs: type=cacheonly",
    ]
    assert lines[-3:] == ["publish, once every build has succeeded:",
                          "  docker push localhost:5000/shop/base:1",
                          "  docker push localhost:5000/shop/api:1"]


def test_plan_text_shows_what_buildctl_writes_and_the_registry_sets(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_project(SHOP, contexts=("a",))
    monkeypatch.chdir(path.parent)  # paths are shown relative to here
    lines = plan_lines(path, capsys, "--backend", "buildctl")
    assert [line for line in lines if line.startswith("     outputs: ")] == [
        # not published: others reach it in an OCI layout, under no tag
        "     outputs: type=oci,dest=.buildorch/runs/{run_id}/base.oci,tar=false",
        "     outputs: image localhost:5000/shop/api:1 (neither loaded nor pushed); "
        "type=local,dest=out",
        "     outputs: type=cacheonly",
    ]
    assert lines[-1] == "publish: nothing (publish tags with --push or push: true)"
    lines = plan_lines(path, capsys, "--backend", "buildctl", "--push")
    assert lines[-3:] == ["publish, once every build has succeeded:",
                          "  # registry: tag localhost:5000/shop/base:1 -> {digest:base}",
                          "  # registry: tag localhost:5000/shop/api:1 -> {digest:api}"]
    assert "     outputs: push by digest localhost:5000/shop/base" in lines


def test_an_image_without_outputs_says_so(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a: {context: a}\n", contexts=("a",))
    monkeypatch.chdir(path.parent)
    assert "     outputs: none: no tag or output keeps the result" in plan_lines(path, capsys)


def test_plan_json_carries_description_outputs_and_publish(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_project(SHOP, contexts=("a",))
    monkeypatch.chdir(path.parent)  # paths are shown relative to here
    assert main(["plan", "-f", path.name, "--format", "json", "--push",
                 "--backend", "docker"]) == 0
    plan = json.loads(capsys.readouterr().out)
    nodes = {n["name"]: n for n in plan["nodes"]}
    assert nodes["base"]["description"] == "The base every service is built on\n"
    assert nodes["check"]["description"] is None
    assert nodes["api"]["outputs"] == {
        "tags": ["localhost:5000/shop/api:1"], "load": True, "push": False,
        "push_by_digest": False, "load_archive": None, "exports": ["type=local,dest=out"]}
    assert plan["publish"] == [
        {"image": "base", "tag": "localhost:5000/shop/base:1",
         "argv": ["docker", "push", "localhost:5000/shop/base:1"]},
        {"image": "api", "tag": "localhost:5000/shop/api:1",
         "argv": ["docker", "push", "localhost:5000/shop/api:1"]}]


def test_plan_shows_the_tarball_a_reproducible_image_is_loaded_through(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The docker backend writes it, and the run loads it (`docker load`) and removes it."""
    path = make_project(SHOP.replace("name: shop\n", "name: shop\nreproducible: true\n"),
                        contexts=("a",))
    monkeypatch.chdir(path.parent)
    args = ("--backend", "docker", "--var", "SOURCE_DATE_EPOCH=0")
    lines = plan_lines(path, capsys, *args)
    assert [line for line in lines if line.startswith("     outputs: ")] == [
        "     outputs: load localhost:5000/shop/base:1, buildorch.local/shop/base:{run_id} "
        "through .buildorch/runs/{run_id}/base.image.tar",
        "     outputs: load localhost:5000/shop/api:1 through "
        ".buildorch/runs/{run_id}/api.image.tar; type=local,dest=out",
        "     outputs: type=cacheonly",
    ]
    plan = json.loads("\n".join(plan_lines(path, capsys, "--format", "json", *args)))
    nodes = {n["name"]: n for n in plan["nodes"]}
    assert nodes["api"]["outputs"]["load_archive"] == ".buildorch/runs/{run_id}/api.image.tar"
    assert nodes["check"]["outputs"]["load_archive"] is None
