"""A plan turned into a reproduction: base images pinned, the recorded cache imported,
nothing exported or published."""

from __future__ import annotations

import pytest

from buildorch.backends.catalog import get_backend
from buildorch.cache.plan import CacheContext
from buildorch.errors import BuildorchError
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.graph import build_graph
from buildorch.planning.plan import Plan, make_plan
from buildorch.planning.requests import PlanOptions
from buildorch.run.recorded import RecordedImage, RecordedRun, parse_record
from buildorch.run.repro.plan import (
    base_pins,
    cache_imports,
    reproduction,
    rewrites_timestamps,
    tagged_names,
)
from tests.conftest import MakeProject
from tests.run.record_samples import image, record

BUSYBOX = "sha256:" + "bb" * 32
ALPINE = "sha256:" + "a1" * 32
PIPELINE = """\
version: 1
name: shop
defaults: {cache: reg}
images:
  base:
    context: base
    tags: ["localhost:5000/shop/base:dev"]
    push: true
  app:
    context: app
    tags: ["localhost:5000/shop/app:dev"]
"""
FILES = {
    "base/Dockerfile": "FROM localhost:5000/busybox:latest\nRUN true\n",
    "app/Dockerfile": "FROM localhost:5000/shop/base:dev\nFROM alpine:3.19 AS tools\n"
                      "FROM localhost:5000/shop/base:dev\nCOPY --from=tools /bin/sh /x\n",
    "cache-config/reg.yaml": "type: registry\nref: localhost:5000/shop/cache\nexport: always\n",
}


def recorded_run(**images: dict[str, object]) -> RecordedRun:
    data = record()
    data["images"] = {name: image(name, "succeeded", **fields)
                      for name, fields in images.items()}
    return parse_record(data, "r")


def planned(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch,
            backend: str = "docker", push: bool = False) -> Plan:
    path = make_project(PIPELINE, FILES)
    monkeypatch.chdir(path.parent)
    pipeline = load_pipeline(path, LoadOptions(env={}, state_root=None))
    options = PlanOptions(backend=backend, push=push, cache=CacheContext(branch="main"))
    return make_plan(pipeline, build_graph(pipeline), [], options)


def unasked(ref: str) -> str | None:
    raise AssertionError(f"asked what {ref} names now: only for rewritten timestamps")


def test_only_external_base_images_are_pinned() -> None:
    recorded = RecordedImage(name="app", state="succeeded", base_images={
        "localhost:5000/busybox:latest": BUSYBOX,  # external: pinned, key as BuildKit asks
        "docker.io/library/alpine:3.19": ALPINE,  # the frontend looks up `alpine:3.19`
        "buildorch.local/shop/base:20261201T050000Z-abcdef": BUSYBOX,  # this run's own
        "localhost:5000/shop/base:dev": BUSYBOX,  # a pipeline image's tag
        "localhost:5000/served:1": BUSYBOX,  # a named context serves it already
    })
    pins, notes = base_pins(recorded, ["localhost:5000/served:1"],
                            tagged_names(["localhost:5000/shop/base:dev"]))
    assert notes == [] and pins == (
        ("alpine:3.19", f"docker-image://docker.io/library/alpine:3.19@{ALPINE}"),
        ("localhost:5000/busybox", f"docker-image://localhost:5000/busybox:latest@{BUSYBOX}"),
    )


def test_the_reproduction_pins_imports_read_only_and_publishes_nothing(
        make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = planned(make_project, monkeypatch, push=True)
    assert plan.publish and any("--cache-to" in i.argv for i in plan.images)
    run = recorded_run(base={"base_images": {"localhost:5000/busybox:latest": BUSYBOX}},
                       app={"base_images": {"docker.io/library/alpine:3.19": ALPINE}})
    repro = reproduction(plan, run, get_backend("docker"),
                         tagged_names(["localhost:5000/shop/base:dev"]), unasked)
    base, app = (repro.plan.images[plan.order.index(n)] for n in ("base", "app"))
    assert "--cache-to" not in base.argv and "--push" not in base.argv
    assert not repro.plan.publish and not base.publish and base.cache.exports == ()
    assert f"localhost:5000/busybox=docker-image://localhost:5000/busybox:latest@{BUSYBOX}" \
        in base.argv
    assert f"alpine:3.19=docker-image://docker.io/library/alpine:3.19@{ALPINE}" in app.argv
    # the dependency is still this run's build, not a pin
    assert any(a.startswith("localhost:5000/shop/base:dev=docker-image://buildorch.local/")
               for a in app.argv)
    assert base.inputs == plan.images[plan.order.index("base")].inputs
    assert repro.pins["base"] and repro.notes == ()
    # what is published decides the attestations: buildx's provenance stays as recorded
    assert "type=provenance,disabled=true" not in base.argv


def test_recorded_cache_imports_are_used_where_this_checkout_names_others(
        make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = planned(make_project, monkeypatch)
    base = plan.images[plan.order.index("base")]
    now = [f"type=registry,ref=localhost:5000/shop/cache:base-{b}" for b in ("main",)]
    same = RecordedImage(name="base", state="succeeded", cache_imports=tuple(now))
    assert cache_imports(base, same) == (base.request.cache_from, None)
    ci = ("type=registry,ref=ci.example/shop/cache:base-feature",
          "type=registry,ref=ci.example/shop/cache:base-main")
    specs, note = cache_imports(base, RecordedImage(name="base", state="succeeded",
                                                    cache_imports=ci))
    assert [s.get("ref") for s in specs] == ["ci.example/shop/cache:base-feature",
                                             "ci.example/shop/cache:base-main"]
    assert note is not None and "imports the recorded run's cache" in note
    redacted = ("type=s3,bucket=b,secret_access_key=***",)
    assert cache_imports(base, RecordedImage(name="base", state="succeeded",
                                             cache_imports=redacted))[1] is None


def test_a_backend_that_pushes_during_the_build_is_refused(
        make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = planned(make_project, monkeypatch, backend="buildctl")
    run = recorded_run(base={}, app={})
    with pytest.raises(BuildorchError, match=r"base would be pushed during its build .* "
                                             r"repro never pushes: add --set base\.push=false"):
        reproduction(plan, run, get_backend("buildctl"), frozenset(), unasked)


def test_an_image_with_rewritten_timestamps_is_pinned_only_where_its_base_moved() -> None:
    """A pin makes BuildKit rewrite the base image's layers too (seen on the stack)."""
    recorded = RecordedImage(name="app", state="succeeded", base_images={
        "localhost:5000/busybox:latest": BUSYBOX, "localhost:5000/moved:1": BUSYBOX,
        "localhost:5000/unknown:1": BUSYBOX})
    now = {"localhost:5000/busybox:latest": BUSYBOX, "localhost:5000/moved:1": ALPINE}
    pins, notes = base_pins(recorded, [], frozenset(), now.get)
    assert pins == (("localhost:5000/moved:1",  # only `:latest` is dropped from a key
                     f"docker-image://localhost:5000/moved:1@{BUSYBOX}"),)
    assert len(notes) == 2
    assert notes[0].startswith(f"app: base image localhost:5000/moved:1 is {ALPINE[:19]} now, "
                               f"{BUSYBOX[:19]} in the run: pinned")
    assert notes[1].startswith("app: cannot tell whether base image localhost:5000/unknown:1 "
                               "still is the run's")


def test_reproducible_images_are_asked_about_their_base_images(
        make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_project(PIPELINE.replace("name: shop\n", "name: shop\nreproducible: true\n"),
                        FILES)
    monkeypatch.chdir(path.parent)
    pipeline = load_pipeline(path, LoadOptions(env={"SOURCE_DATE_EPOCH": "0"}, state_root=None))
    plan = make_plan(pipeline, build_graph(pipeline), [],
                     PlanOptions(backend="docker", cache=CacheContext(branch="main")))
    assert all(rewrites_timestamps(i.request) for i in plan.images)
    asked: list[str] = []

    def current(ref: str) -> str | None:
        asked.append(ref)
        return BUSYBOX

    run = recorded_run(base={"base_images": {"localhost:5000/busybox:latest": BUSYBOX}},
                       app={})
    repro = reproduction(plan, run, get_backend("docker"), frozenset(), current)
    assert asked == ["localhost:5000/busybox:latest"] and repro.pins["base"] == ()
    assert not any("--build-context" in a and "busybox" in a
                   for a in repro.plan.images[0].argv)
