"""A run over a pool of two builders on the real stack (run/pool): the stack's engine and
the second one `scripts/stack up --second` starts (each test skips without it, or fails
with BUILDORCH_REQUIRE_SECOND_ENGINE=1, as CI sets). Killing an engine mid-run is done to
the second one, by its pid, and the stack starts it again afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from buildorch.cli.main import main
from buildorch.oci.registry import RegistryClient
from buildorch.run.platform_index import index_manifests
from tests.conftest import REPO
from tests.run.test_executor import build_processes, wait_for_processes
from tests.test_stack import second_engine_host

pytestmark = pytest.mark.engine

BASE = os.environ.get("BUILDORCH_BASE_IMAGE", "localhost:5000/busybox:latest")
STACK = str(REPO / "scripts" / "stack")


@pytest.fixture
def second(engine: str) -> str:
    return second_engine_host()


@pytest.fixture
def restarts_second(second: str) -> Iterator[str]:
    """The second engine, started again after the test (which kills it)."""
    yield second
    subprocess.run([STACK, "up", "--second"], check=True, capture_output=True, timeout=300)


def start(folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "buildorch", "build", "--progress", "plain",
                             *args], cwd=folder, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish(child: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = child.communicate(timeout=600)
    return child.returncode, out


def record_of(folder: Path) -> dict:  # type: ignore[type-arg]
    runs = sorted((folder / ".buildorch" / "runs").iterdir())
    return json.loads((runs[-1] / "record.json").read_text())  # type: ignore[no-any-return]


def write_pipeline(folder: Path, builders: str, images: dict[str, str],
                   contexts: dict[str, str] | None = None, tags: dict[str, str] | None = None,
                   ) -> None:
    """One folder per image with its Dockerfile; `contexts`: image -> the image it is
    built on (as named context `base`); `tags`: image -> its tag."""
    lines = ["version: 1", "name: pooltest", "builders:", builders, "images:"]
    for name, dockerfile in images.items():
        (folder / name).mkdir()
        (folder / name / "Dockerfile").write_text(dockerfile)
        fields = [f"context: {name}"]
        if contexts and name in contexts:
            fields.append(f"contexts: {{base: {{image: {contexts[name]}}}}}")
        fields.append(f"tags: [{tags[name]}]" if tags and name in tags
                      else "outputs: [type=cacheonly]")
        lines.append(f"  {name}: {{{', '.join(fields)}}}")
    (folder / "pipeline.yaml").write_text("\n".join(lines) + "\n")


def two_builders(second: str, slots: int) -> str:
    return (f"  - {{name: one, backend: docker, max_parallel: {slots}}}\n"
            f"  - {{name: two, backend: docker, address: \"{second}\", max_parallel: {slots}}}")


def docker(host: str | None, *args: str) -> str:
    hosted = ["--host", host] if host else []
    return subprocess.run(["docker", *hosted, *args], check=True, capture_output=True,
                          text=True, timeout=120).stdout.strip()


def test_a_pool_spreads_builds_and_dependents_get_their_dependency_from_the_other(
        second: str, tmp_path: Path) -> None:
    token = uuid.uuid4().hex[:10]
    leaves = [f"leaf{i}" for i in range(5)]
    images = {"base": f"FROM {BASE}\nRUN echo {token} > /base-token && sleep 1\n"}
    images |= {leaf: f"FROM base\nRUN cat /base-token > /{leaf} && sleep 1\n" for leaf in leaves}
    tags = {name: f"localhost:5000/pooltest/{name}:{token}" for name in images}
    write_pipeline(tmp_path, two_builders(second, 1), images, dict.fromkeys(leaves, "base"),
                   tags)
    code, out = finish(start(tmp_path))
    assert code == 0, out[-3000:]
    record = record_of(tmp_path)
    ran = {name: image["builder"] for name, image in record["images"].items()}
    assert set(ran.values()) == {"one", "two"}, ran
    assert record["builders"]["one"]["builds"] + record["builders"]["two"]["builds"] == 6
    hosts = {"one": None, "two": second}
    base_layers = json.loads(docker(hosts[ran["base"]], "image", "inspect", "--format",
                                    "{{json .RootFS.Layers}}", tags["base"]))
    elsewhere = [leaf for leaf in leaves if ran[leaf] != ran["base"]]
    assert elsewhere, ran  # max_parallel 1 each: some leaf ran on the other builder
    assert record["images"]["base"]["copied_to"] == [b for b in ("one", "two")
                                                     if b != ran["base"]]
    for leaf in leaves:
        host = hosts[ran[leaf]]
        layers = json.loads(docker(host, "image", "inspect", "--format",
                                   "{{json .RootFS.Layers}}", tags[leaf]))
        assert layers[:len(base_layers)] == base_layers, leaf  # built on this run's base
        assert record["images"][leaf]["argv"][:3] == (
            ["docker", "--host", second] if host else ["docker", "buildx", "build"])
    for host in (None, second):  # no run-scoped name left on either builder
        assert record["id"] not in docker(host, "image", "ls")
    assert " BUILDER " in out and "one" in out and "two" in out


def wait_for_a_run_step(folder: Path, host: str, image: str = "*",
                        seconds: float = 120) -> None:
    """Until the log of a build (of `image`) on the builder at `host` shows its RUN step
    running (logs are written line by line)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for log in folder.glob(f".buildorch/runs/*/{image}.log"):
            text = log.read_text(errors="replace")
            if f"--host {host}" in text.split("\n", 1)[0] and "] RUN echo" in text:
                return
        time.sleep(0.1)
    raise AssertionError(f"no RUN step started on {host}")


def kill_second_engine(how: signal.Signals = signal.SIGKILL) -> None:
    pid = subprocess.run([STACK, "pid", "dockerd2"], check=True, capture_output=True,
                         text=True).stdout.strip()
    os.kill(int(pid), how)


def sleepers(token: str, count: int) -> dict[str, str]:
    return {f"s{i}": f"FROM {BASE}\nRUN echo {token} {i} && sleep 8\n" for i in range(count)}


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])  # dies, or stops
def test_a_builder_killed_mid_run_its_builds_finish_on_the_other(
        restarts_second: str, tmp_path: Path, how: signal.Signals) -> None:
    token = uuid.uuid4().hex[:10]
    images = sleepers(token, 4) | {"dep": f"FROM base\nRUN echo {token} dep\n"}
    write_pipeline(tmp_path, two_builders(restarts_second, 2), images, {"dep": "s0"})
    child = start(tmp_path)
    wait_for_a_run_step(tmp_path, restarts_second)
    kill_second_engine(how)
    code, out = finish(child)
    assert code == 0, out[-3000:]
    record = record_of(tmp_path)
    assert record["outcome"] == "succeeded"
    assert record["builders"]["two"]["down"], record["builders"]
    lost = [n for n, i in record["images"].items() if i["lost_on"] == ["two"]]
    assert lost, record["images"]
    for name in lost:
        assert record["images"][name]["state"] == "succeeded"
        assert record["images"][name]["builder"] == "one"
        assert f"{name}: ran again after builder two stopped answering" in out
    assert "builder two stopped answering" in out
    assert record["id"] not in docker(None, "image", "ls")  # run-scoped names removed


def test_the_only_builder_killed_mid_run_fails_the_run(restarts_second: str,
                                                       tmp_path: Path) -> None:
    token = uuid.uuid4().hex[:10]
    images = sleepers(token, 2) | {"dep": f"FROM base\nRUN echo {token} dep\n"}
    builders = f"  - {{name: two, backend: docker, address: \"{restarts_second}\"}}"
    write_pipeline(tmp_path, builders, images, {"dep": "s0"})
    child = start(tmp_path)
    wait_for_a_run_step(tmp_path, restarts_second, "s0")  # dep waits for it
    kill_second_engine()
    code, out = finish(child)
    assert code == 1, out[-3000:]
    record = record_of(tmp_path)
    states = {n: i["state"] for n, i in record["images"].items()}
    assert record["outcome"] == "failed"
    # the first build to notice fails; fail-fast stops the other; dep never starts
    assert sorted((states["s0"], states["s1"])) in (["cancelled", "failed"], ["failed", "failed"])
    assert states["dep"] == "skipped", states
    assert "failed" in out and "record in .buildorch/runs/" in out


def test_an_image_no_answering_builder_fits_stops_the_run_before_it_starts(
        engine: str, tmp_path: Path) -> None:
    token = uuid.uuid4().hex[:10]
    gone = f"unix://{tmp_path}/no-such.sock"
    builders = ("  - {name: one, backend: docker}\n"
                f"  - {{name: gone, backend: docker, address: \"{gone}\"}}")
    write_pipeline(tmp_path, builders, {"a": f"FROM {BASE}\nRUN echo {token}\n",
                                        "b": f"FROM {BASE}\nRUN echo {token} b\n"})
    text = (tmp_path / "pipeline.yaml").read_text()
    (tmp_path / "pipeline.yaml").write_text(text.replace("  b: {", "  b: {builder: gone, "))
    code, out = finish(start(tmp_path))
    assert code == 2, out
    lines = [line for line in out.splitlines() if "cannot place" in line]
    assert len(lines) == 1 and "image b:" in lines[0] and "gone" in lines[0], out
    assert "builder gone does not answer" in out
    assert not (tmp_path / ".buildorch" / "runs").exists()  # nothing ran


def test_a_pool_goes_on_without_a_builder_that_does_not_answer(engine: str,
                                                              tmp_path: Path) -> None:
    token = uuid.uuid4().hex[:10]
    gone = f"unix://{tmp_path}/no-such.sock"
    builders = ("  - {name: one, backend: docker}\n"
                f"  - {{name: gone, backend: docker, address: \"{gone}\"}}")
    write_pipeline(tmp_path, builders, {"a": f"FROM {BASE}\nRUN echo {token}\n"})
    code, out = finish(start(tmp_path))
    assert code == 0, out
    assert "builder gone does not answer" in out
    record = record_of(tmp_path)
    assert record["images"]["a"]["builder"] == "one"
    assert record["builders"]["gone"]["down"] and record["builders"]["gone"]["builds"] == 0


def test_an_image_for_two_platforms_is_built_on_the_builder_of_each_and_joined(
        second: str, tmp_path: Path) -> None:
    token = uuid.uuid4().hex[:10]
    builders = ("  - {name: one, backend: docker, platforms: [linux/amd64]}\n"
                f"  - {{name: two, backend: docker, address: \"{second}\", "
                "platforms: [linux/386]}")
    write_pipeline(tmp_path, builders, {
        "app": f"FROM {BASE}\nARG TARGETPLATFORM\nRUN echo $TARGETPLATFORM {token} > /p\n"},
        tags={"app": f"localhost:5000/pooltest/app:{token}"})
    text = (tmp_path / "pipeline.yaml").read_text()
    (tmp_path / "pipeline.yaml").write_text(
        text.replace("  app: {", "  app: {platforms: [linux/amd64, linux/386], push: true, "))
    code, out = finish(start(tmp_path))
    assert code == 0, out[-3000:]
    record = record_of(tmp_path)
    app = record["images"]["app"]
    where = {p["platform"]: p["builder"] for p in app["platforms"]}
    assert where == {"linux/amd64": "one", "linux/386": "two"}
    assert {b: record["builders"][b]["builds"] for b in ("one", "two")} == {"one": 1, "two": 1}
    client = RegistryClient("localhost:5000")
    held = client.manifest("pooltest/app", token)
    assert held is not None and held.digest == app["digest"]  # the index, under the tag
    _, found = index_manifests(held.body)
    assert found == {p["platform"]: [p["digest"]] for p in app["platforms"]}
    for platform, arch in (("linux/amd64", "amd64"), ("linux/386", "386")):
        manifest = client.manifest("pooltest/app", found[platform][0])
        assert manifest is not None
        config = client.blob("pooltest/app", json.loads(manifest.body)["config"]["digest"])
        assert config is not None and json.loads(config)["architecture"] == arch
    for host in (None, second):  # no run-scoped name left on either builder
        assert record["id"] not in docker(host, "image", "ls")
    assert "app linux/386: built on two" in out


def test_platforms_no_one_builder_has_need_the_image_published(second: str,
                                                               tmp_path: Path) -> None:
    builders = ("  - {name: one, backend: docker, platforms: [linux/amd64]}\n"
                f"  - {{name: two, backend: docker, address: \"{second}\", "
                "platforms: [linux/386]}")
    write_pipeline(tmp_path, builders, {"app": f"FROM {BASE}\nRUN true\n"})
    text = (tmp_path / "pipeline.yaml").read_text()
    (tmp_path / "pipeline.yaml").write_text(
        text.replace("  app: {", "  app: {platforms: [linux/amd64, linux/386], "))
    code, out = finish(start(tmp_path))
    assert code == 2, out
    assert ("error: cannot place image app: no builder has both platforms linux/386, "
            "linux/amd64 (builders: one: linux/amd64; two: linux/386)") in out, out
    assert "per platform on the builders that have each when it is published" in out
    assert not (tmp_path / ".buildorch" / "runs").exists()


def test_an_unchanged_dependency_reaches_dependents_on_the_other_builder(
        second: str, tmp_path: Path) -> None:
    token = uuid.uuid4().hex[:10]
    leaves = [f"leaf{i}" for i in range(3)]
    images = {"base": f"FROM {BASE}\nRUN echo {token} > /base-token\n"}
    images |= {leaf: "FROM base\nRUN cat /base-token && sleep 1\n" for leaf in leaves}
    write_pipeline(tmp_path, two_builders(second, 1), images, dict.fromkeys(leaves, "base"),
                   {"base": f"localhost:5000/pooltest/base:{token}"})
    code, out = finish(start(tmp_path))
    assert code == 0, out[-3000:]
    for leaf in leaves:  # the leaves change, base does not
        (tmp_path / leaf / "Dockerfile").write_text(
            f"FROM base\nRUN cat /base-token && echo {leaf} && sleep 1\n")
    code, out = finish(start(tmp_path, "--skip-unchanged"))
    assert code == 0, out[-3000:]
    record = record_of(tmp_path)
    assert record["images"]["base"]["state"] == "unchanged", out[-3000:]
    ran = {leaf: record["images"][leaf]["builder"] for leaf in leaves}
    assert all(record["images"][leaf]["state"] == "succeeded" for leaf in leaves)
    assert set(ran.values()) == {"one", "two"}, ran  # some leaf on each builder
    assert record["images"]["base"]["copied_to"], record["images"]["base"]


def test_a_pool_run_in_process_spreads_and_says_where(
        second: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    token = uuid.uuid4().hex[:10]
    images = {"base": f"FROM {BASE}\nRUN echo {token} > /base-token\n"}
    images |= {f"leaf{i}": f"FROM base\nRUN cat /base-token && echo {i} && sleep 1\n"
               for i in range(2)}
    write_pipeline(tmp_path, two_builders(second, 1), images,
                   {"leaf0": "base", "leaf1": "base"})
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--progress", "plain", "--builder", "one",
                 "--builder", "two"]) == 0
    out = capsys.readouterr().out
    record = record_of(tmp_path)
    assert {i["builder"] for i in record["images"].values()} == {"one", "two"}
    assert set(record["builders"]) == {"one", "two"}
    assert " BUILDER " in out


def test_ctrl_c_stops_the_builds_on_every_builder(second: str, tmp_path: Path) -> None:
    marker = f"sleep-{uuid.uuid4().hex[:8]}"
    # `sleep 60` not last, or the shell would exec it and the marker would vanish from /proc
    images = {f"s{i}": f"FROM {BASE}\nRUN sleep 60; echo {marker}-{i}\n" for i in range(2)}
    write_pipeline(tmp_path, two_builders(second, 1), images)
    child = start(tmp_path)
    wait_for_processes(child, f"sleep 60; echo {marker}", 2, "a RUN step on each builder")
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    code, out = finish(child)
    assert time.monotonic() - sent < 15
    assert code == 130, out[-2000:]
    record = record_of(tmp_path)
    assert record["outcome"] == "interrupted"
    assert {i["state"] for i in record["images"].values()} == {"interrupted"}
    assert {i["builder"] for i in record["images"].values()} == {"one", "two"}
    time.sleep(1)
    assert not [p for p in build_processes(str(tmp_path)) if "buildx" in p]
    assert not build_processes(f"sleep 60; echo {marker}")  # gone on both engines
