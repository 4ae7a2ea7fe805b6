"""`doctor -f`: the pipeline's builders, probed through the backend a run would use, and
their lines (pure, from made-up probe answers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildorch.backends.base import ToolVersion
from buildorch.backends.choice import BackendStatus
from buildorch.cli import doctor_builders
from buildorch.cli.doctor_builders import BuilderReport, builder_lines, load_text
from buildorch.errors import BuildorchError
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.pipeline.model import Builder
from buildorch.run.builder_load import BuilderLoad
from tests.conftest import MakeProject
from tests.run.record_samples import pooled_record, write_run

VERSION = ToolVersion("github.com/docker/buildx 0.13.1", (0, 13, 1))
UP = BackendStatus("docker", "/usr/bin/docker", VERSION, True, "ok")
DOWN = BackendStatus("docker", "/usr/bin/docker", VERSION, False,
                     "builder does not answer: Cannot connect to the Docker daemon")
NO_RUNS = BuilderLoad(0, 0, 0, 0)


def test_a_block_per_builder_state_version_platforms_slots_labels_and_load() -> None:
    one = Builder(name="one", backend="docker", max_parallel=2)
    two = Builder(name="two", backend="docker", address="unix:///nonexistent.sock",
                  platforms=["linux/amd64", "linux/386"], labels=["gpu", "big"])
    lines = builder_lines("shop", [
        BuilderReport(one, UP, ("linux/amd64", "linux/amd64/v2"), BuilderLoad(5, 7, 3, 0)),
        BuilderReport(two, DOWN, None, BuilderLoad(5, 2, 1, 2))])
    assert lines == [
        "builders of shop:",
        "[ok] one: docker, default, github.com/docker/buildx 0.13.1",
        "     platforms: any (none declared); the engine reports: linux/amd64, linux/amd64/v2",
        "     max_parallel: 2, labels: none",
        "     recent load: 7 builds in 3 of the last 5 runs of shop",
        "[--] two: docker, unix:///nonexistent.sock, github.com/docker/buildx 0.13.1 (builder "
        "does not answer: Cannot connect to the Docker daemon)",
        "     platforms: linux/amd64, linux/386",
        "     max_parallel: 4, labels: gpu, big",
        "     recent load: 2 builds in 1 of the last 5 runs of shop; down in 2 runs"]


def test_what_the_engine_does_not_report_and_how_auto_was_resolved() -> None:
    auto = Builder(name="b", backend="auto", address="tcp://bk:1234")
    nerdctl = BackendStatus("nerdctl", "/usr/bin/nerdctl", None, True, "ok")
    lines = builder_lines("shop", [BuilderReport(auto, nerdctl, None, NO_RUNS)])
    assert lines[1] == "[ok] b: nerdctl (auto), tcp://bk:1234"
    assert lines[2].endswith("the engine reports: not reported (nerdctl has no cheap way "
                             "to ask)")
    assert lines[4] == "     recent load: no run of shop recorded in this folder"
    nothing = BackendStatus("auto", None, detail="no backend answers: docker: ...")
    assert builder_lines("shop", [BuilderReport(auto, nothing, None, NO_RUNS)])[1] == (
        "[--] b: auto, tcp://bk:1234 (no backend answers: docker: ...)")


def test_a_pipeline_without_builders() -> None:
    assert builder_lines("shop", []) == [
        "builders of shop: none declared (a run takes the first backend above that answers)"]


def test_load_over_one_run_and_no_build() -> None:
    assert load_text("shop", BuilderLoad(1, 3, 1, 0)) == (
        "recent load: 3 builds in the last run of shop")
    assert load_text("shop", BuilderLoad(4, 0, 0, 1)) == (
        "recent load: 0 builds in the last 4 runs of shop; down in 1 run")


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, str | None]]:
    """Every probe (backend, address) answered: `auto` finds docker except at `tcp://none`,
    and a backend answers except at `unix:///down.sock`. Records are read in `tmp_path`."""
    monkeypatch.chdir(tmp_path)
    asked: list[tuple[str, str | None]] = []

    def check(name: str, address: str | None, tls: object = None) -> BackendStatus:
        asked.append((name, address))
        up = address != "unix:///down.sock"
        return BackendStatus(name, f"/usr/bin/{name}", None, up, "ok" if up else "refused")

    def choose(requested: str, address: str | None, tls: object = None) -> tuple[
            object, BackendStatus, str]:
        asked.append((requested, address))
        if address == "tcp://none":
            raise BuildorchError("no backend answers: ...")
        return object(), BackendStatus("docker", "/usr/bin/docker", None, True, "ok"), ""

    monkeypatch.setattr(doctor_builders, "check", check)
    monkeypatch.setattr(doctor_builders, "choose", choose)
    monkeypatch.setattr(doctor_builders, "engine_platforms", lambda status, *_: None)
    return asked


def pipeline_with(make_project: MakeProject, builders: str) -> Path:
    return make_project(f"version: 1\nname: shop\nbuilders:\n{builders}images:\n"
                        "  a: {context: a}\n", contexts=("a",))


def test_auto_builders_take_the_backend_a_run_takes(
        make_project: MakeProject, probes: list[tuple[str, str | None]]) -> None:
    path = pipeline_with(make_project, (
        "  - {name: one, backend: buildctl, address: 'tcp://a:1'}\n"
        "  - {name: two, address: 'unix:///down.sock'}\n"))
    write_run(path.parent, pooled_record("R1", {"a": "one"}, down={"two": "refused"}))
    reports = doctor_builders.builder_reports(load_pipeline(path, LoadOptions(env={})))
    assert sorted(probes) == [("buildctl", "tcp://a:1"), ("buildctl", "unix:///down.sock")]
    assert [(r.status.name, r.status.reachable) for r in reports] == [
        ("buildctl", True), ("buildctl", False)]
    assert [r.load for r in reports] == [BuilderLoad(1, 1, 1, 0), BuilderLoad(1, 0, 0, 1)]


def test_a_first_builder_of_backend_auto_decides_for_the_others(
        make_project: MakeProject, probes: list[tuple[str, str | None]]) -> None:
    path = pipeline_with(make_project, (
        "  - {name: one, address: 'unix:///one.sock'}\n"
        "  - {name: two, address: 'unix:///two.sock'}\n"))
    reports = doctor_builders.builder_reports(load_pipeline(path, LoadOptions(env={})))
    assert probes == [("auto", "unix:///one.sock"), ("docker", "unix:///two.sock")]
    assert [r.status.name for r in reports] == ["docker", "docker"]


def test_where_auto_finds_nothing_at_the_first_each_builder_is_looked_at_alone(
        make_project: MakeProject, probes: list[tuple[str, str | None]]) -> None:
    path = pipeline_with(make_project, (
        "  - {name: one, address: 'tcp://none'}\n"
        "  - {name: two, address: 'unix:///two.sock'}\n"))
    reports = doctor_builders.builder_reports(load_pipeline(path, LoadOptions(env={})))
    assert probes == [("auto", "tcp://none"), ("auto", "unix:///two.sock")]
    assert [(r.status.name, r.status.reachable) for r in reports] == [
        ("auto", False), ("docker", True)]
    assert reports[0].status.detail == "no backend answers: ..."
