"""Linked images built in one builder session (`docker buildx bake`) on the real stack:
each member's digest, log, steps and failure as if built alone; a failure in the middle;
Ctrl-C; and cache keys that do not change when the session has to build again the
images a member is linked after (an earlier build serves them)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import MakeProject
from tests.run.test_executor import (
    BASE,
    build_processes,
    buildorch,
    docker_inspect,
    latest_record,
    wait_for_processes,
)

pytestmark = pytest.mark.engine

PIPELINE = """\
version: 1
name: linked
images:
  a: {{context: a, tags: ["linked-a:{tag}"]}}
  b: {{context: b, tags: ["linked-b:{tag}"], contexts: {{dep: {{image: a}}}}}}
  c: {{context: c, tags: ["linked-c:{tag}"], contexts: {{dep: {{image: b}}}}}}
  d: {{context: d, contexts: {{dep: {{image: c}}}}, outputs: [type=cacheonly]}}
"""


def project(make_project: MakeProject, c_last: str = "RUN cat /a /b > /c") -> tuple[Path, str]:
    tag = uuid.uuid4().hex[:10]
    path = make_project(PIPELINE.format(tag=tag), files={
        "a/Dockerfile": f"FROM {BASE}\nRUN echo a-{tag} > /a\n",
        "b/Dockerfile": f"FROM dep\nRUN echo b-{tag} > /b\n",
        "c/Dockerfile": f"FROM dep\nRUN echo c-{tag} > /c-first\n{c_last}\n",
        "d/Dockerfile": "FROM dep\nRUN test -s /c\n",
    })
    return path, tag


def build(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return buildorch("build", "-f", str(path), "--backend", "docker", *extra, cwd=path.parent)


def remove(tag: str) -> None:
    subprocess.run(["docker", "image", "rm", *(f"linked-{n}:{tag}" for n in "abc")],
                   capture_output=True, check=False)


def test_a_chain_is_one_session_and_each_member_a_build_of_its_own(
        engine: str, make_project: MakeProject) -> None:
    path, tag = project(make_project)
    try:
        result = build(path)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        record = latest_record(path.parent)
        folder = path.parent / ".buildorch/runs" / record["id"]
        images = record["images"]
        assert {n: i["state"] for n, i in images.items()} == dict.fromkeys("abcd", "succeeded")
        assert sorted(p.name for p in folder.glob("*.bake.json")) == ["a.bake.json"]
        assert all("buildx bake" in " ".join(i["argv"]) for i in images.values())
        for name in "abc":
            assert docker_inspect(f"linked-{name}:{tag}", "{{.Id}}") == images[name]["digest"]
            log = (folder / f"{name}.log").read_text()
            assert f"RUN echo {name}-{tag}" in log  # its own step, named as buildx build does
            assert not any(f"RUN echo {o}-{tag}" in log for o in "abc" if o != name)
            assert f"[{name} " not in log and f"[{name}]" not in log
        assert images["c"]["total_steps"] == 2 and images["a"]["total_steps"] == 1
        out = subprocess.run(["docker", "run", "--rm", f"linked-c:{tag}", "cat", "/c"],
                             capture_output=True, text=True, check=True).stdout
        assert out == f"a-{tag}\nb-{tag}\n"  # c got b's and a's results in-session
        # the run-scoped names are gone
        assert not subprocess.run(["docker", "image", "ls", "-q", "buildorch.local/linked/*"],
                                  capture_output=True, text=True).stdout.strip()

        again = build(path)
        assert again.returncode == 0, again.stdout[-3000:]
        cached = latest_record(path.parent)["images"]
        assert {n: (i["cached_steps"], i["total_steps"]) for n, i in cached.items()} == {
            "a": (1, 1), "b": (1, 1), "c": (2, 2), "d": (1, 1)}
        assert {n: i["digest"] for n, i in cached.items() if n != "d"} == {
            n: i["digest"] for n, i in images.items() if n != "d"}
    finally:
        remove(tag)


def test_a_failing_link_fails_alone_and_what_follows_is_skipped(
        engine: str, make_project: MakeProject) -> None:
    path, tag = project(make_project, c_last="RUN echo broken; exit 3")
    try:
        result = build(path, "--keep-going")
        assert result.returncode == 1
        images = latest_record(path.parent)["images"]
        assert {n: i["state"] for n, i in images.items()} == {
            "a": "succeeded", "b": "succeeded", "c": "failed", "d": "skipped"}
        failure = images["c"]["failure"]
        assert failure["line"] == 3 and "exit code: 3" in failure["message"]
        assert images["d"]["reason"] == "c failed"
        assert images["b"]["digest"] == docker_inspect(f"linked-b:{tag}", "{{.Id}}")
        assert "c/Dockerfile:3" in result.stdout + result.stderr
    finally:
        remove(tag)


def member_events(stdout: str) -> dict[str, list[dict[str, object]]]:
    events: dict[str, list[dict[str, object]]] = {}
    for line in stdout.splitlines():
        event = json.loads(line)
        if "image" in event and event["event"] != "log":
            events.setdefault(str(event["image"]), []).append(event)
    return events


def test_every_member_reports_its_start_then_all_its_steps_cold_and_cached(
        engine: str, make_project: MakeProject) -> None:
    # A later member's first steps run (or, cached, are solved) before the member before
    # it is stored: they used to be dropped, so its events missed steps and its start.
    path, tag = project(make_project)
    try:
        for run in ("cold", "cached"):
            result = build(path, "--progress", "json", "--no-skip-unchanged")
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
            for name, events in member_events(result.stdout).items():
                kinds = [e["event"] for e in events]
                assert kinds[kinds.index("queued") + 1] == "started", (run, name, kinds)
                finished = events[kinds.index("finished")]
                steps = [e for e in events if e["event"] == "step"
                         and " FROM " not in f" {str(e['name']).split('] ', 1)[-1]}"]
                assert len(steps) == finished["total_steps"], (run, name, kinds)
                cached = kinds.count("cached")
                assert cached == finished["cached_steps"], (run, name, kinds)
                if run == "cached":
                    assert cached == finished["total_steps"] > 0, (run, name, kinds)
    finally:
        remove(tag)


def test_a_session_that_builds_again_what_an_earlier_build_serves_keeps_the_cache_keys(
        engine: str, make_project: MakeProject) -> None:
    path, tag = project(make_project)
    try:
        assert build(path).returncode == 0
        # c's last step changes: a and b are served by the first run; c's session builds
        # them again from cache, so c's first step keeps its cache key
        dockerfile = path.parent / "c/Dockerfile"
        dockerfile.write_text(dockerfile.read_text().replace("> /c\n", "> /c; echo x\n"))
        result = build(path, "--skip-unchanged")
        assert result.returncode == 0, result.stdout[-3000:]
        record = latest_record(path.parent)
        images = record["images"]
        assert images["a"]["state"] == images["b"]["state"] == "unchanged"
        assert images["c"]["state"] == images["d"]["state"] == "succeeded"
        assert (images["c"]["cached_steps"], images["c"]["total_steps"]) == (1, 2)
        bake = json.loads((path.parent / ".buildorch/runs" / record["id"] / "c.bake.json")
                          .read_text())
        assert sorted(bake["target"]) == ["a", "b", "c", "d"]
        assert bake["target"]["b"]["tags"] == [
            f"buildorch.local/linked/b:{record['id']}-replay"]
        assert not subprocess.run(["docker", "image", "ls", "-q", "buildorch.local/linked/*"],
                                  capture_output=True, text=True).stdout.strip()
    finally:
        remove(tag)


def test_without_chains_each_image_has_a_builder_process(
        engine: str, make_project: MakeProject) -> None:
    path, tag = project(make_project)
    try:
        result = build(path, "--no-chains")
        assert result.returncode == 0, result.stdout[-3000:]
        record = latest_record(path.parent)
        assert all("buildx build" in " ".join(i["argv"]) for i in record["images"].values())
        assert not list((path.parent / ".buildorch/runs" / record["id"]).glob("*.bake.json"))
    finally:
        remove(tag)


def test_ctrl_c_stops_the_session(engine: str, make_project: MakeProject) -> None:
    marker = f"sleep-{uuid.uuid4().hex[:8]}"
    path, tag = project(make_project, c_last=f"RUN sleep 60; echo {marker}")
    child = subprocess.Popen([sys.executable, "-m", "buildorch", "build", "-f", str(path),
                              "--backend", "docker"], cwd=path.parent,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_processes(child, f"sleep 60; echo {marker}", 1, "c's RUN sleep step")
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 130, out[-2000:]
        images = latest_record(path.parent)["images"]
        assert {n: i["state"] for n, i in images.items()} == {
            "a": "succeeded", "b": "succeeded", "c": "interrupted", "d": "skipped"}
        time.sleep(1)
        assert not [p for p in build_processes(str(path.parent)) if "buildx" in p]
        assert not build_processes(f"sleep 60; echo {marker}")
    finally:
        remove(tag)
