"""`buildorch build` before any build runs: the dry run."""

from __future__ import annotations

import pytest

from buildorch.cli.main import main
from tests.conftest import MakeProject

ONE = "version: 1\nname: p\nimages:\n  a: {context: a, tags: [localhost:5000/p/a:1]}\n"


def test_dry_run_counts_one_build_in_the_singular(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project(ONE, contexts=("a",))
    assert main(["build", "-f", str(path), "--dry-run", "--backend", "docker"]) == 0
    assert capsys.readouterr().out.startswith("# 1 build, backend docker;")


def test_dry_run_warns_of_the_pipelines_hints(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project(
        "version: 1\nname: p\nimages:\n"
        "  base: {context: a, tags: [localhost:5000/p/base:1]}\n"
        "  test: {context: test}\n",
        files={"test/Dockerfile": "FROM localhost:5000/p/base:latest\nRUN true\n"},
        contexts=("a",))
    assert main(["build", "-f", str(path), "--dry-run", "--backend", "docker", "test"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[:4] for line in err] == [
        ["buildorch", "warning", f"{path}:5", "images.test"]] * 2
    assert "FROM localhost:5000/p/base:latest nearly names pipeline image 'base'" in err[0]
    assert "its result is not kept" in err[1]


@pytest.mark.parametrize("backend", ["docker", "buildctl"])
def test_dry_run_prints_the_publish_steps_plan_shows(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str], backend: str) -> None:
    path = make_project(ONE, contexts=("a",))
    assert main(["build", "-f", str(path), "--dry-run", "--push", "--backend", backend]) == 0
    dry = capsys.readouterr().out.splitlines()
    assert main(["plan", "-f", str(path), "--push", "--backend", backend]) == 0
    plan = capsys.readouterr().out.splitlines()
    steps = plan[plan.index("publish, once every build has succeeded:") + 1:]
    assert [step.strip() for step in steps] == dry[2:]
    assert dry[2] == {"docker": "docker push localhost:5000/p/a:1",
                      "buildctl": "# registry: tag localhost:5000/p/a:1 -> {digest:a}"}[backend]


def test_under_json_progress_the_dry_run_goes_to_stderr(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    """stdout carries only JSON events with --progress json."""
    path = make_project(ONE, contexts=("a",))
    assert main(["build", "-f", str(path), "--dry-run", "--backend", "docker",
                 "--progress", "json"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("# 1 build, backend docker;")


def test_dry_run_shows_the_load_of_a_reproducible_images_tarball(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    """On the docker backend the build writes a tarball the run then loads: both commands."""
    path = make_project(ONE.replace("name: p\n", "name: p\nreproducible: true\n"),
                        contexts=("a",))
    assert main(["build", "-f", str(path), "--dry-run", "--backend", "docker",
                 "--var", "SOURCE_DATE_EPOCH=0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "type=docker,dest=.buildorch/runs/{run_id}/a.image.tar" in lines[1]
    assert lines[2] == "docker load --input '.buildorch/runs/{run_id}/a.image.tar'"
    assert len(lines) == 3


def test_default_jobs_follow_the_builder_then_the_machine(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    from buildorch.cli.build import default_jobs
    from buildorch.pipeline.model import Builder

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert default_jobs([]) == 4  # at least 4: cached builds at once on 2 cores (README)
    assert default_jobs([Builder(name="b")]) == 4  # max_parallel not set: the machine's
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert default_jobs([Builder(name="b")]) == 16
    assert default_jobs([Builder(name="b", max_parallel=3)]) == 3


def test_dry_run_shows_a_tls_builders_flags(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    """`--builder NAME` picks the pipeline's builder: its address and TLS on every command."""
    path = make_project(
        "version: 1\nname: p\nbuilders:\n  - {name: local, backend: docker}\n"
        "  - {name: remote, backend: docker, address: 'tcp://docker.internal:2376', "
        "tls: {ca: certs/ca.pem, cert: certs/cert.pem, key: certs/key.pem}}\n"
        "images:\n  a: {context: a, tags: [localhost:5000/p/a:1]}\n",
        {"certs/ca.pem": "", "certs/cert.pem": "", "certs/key.pem": ""}, contexts=("a",))
    assert main(["build", "-f", str(path), "--dry-run", "--builder", "remote"]) == 0
    build = next(line for line in capsys.readouterr().out.splitlines()
                 if "buildx build" in line)
    assert "docker --host tcp://docker.internal:2376 --tlsverify --tlscacert " in build
    assert "--tlscert " in build and "--tlskey " in build


def test_dry_run_over_a_pool_says_builds_are_placed_when_ready(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project("version: 1\nname: p\nbuilders:\n  - {name: a, backend: docker}\n"
                        "  - {name: b, backend: docker, address: 'unix:///b.sock'}\n"
                        "images:\n  x: {context: x}\n", contexts=("x",))
    assert main(["build", "-f", str(path), "--dry-run"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("# a pool of builders a, b: each build goes to one with its "
                            "platforms, labels and a free slot when it is ready; shown for a")
    assert main(["build", "-f", str(path), "--dry-run", "--builder", "b"]) == 0
    shown = capsys.readouterr().out
    assert "# a pool" not in shown and "--host unix:///b.sock" in shown  # one builder
