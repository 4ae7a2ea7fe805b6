"""`--skip-unchanged` on the real engine, with the example pipeline (issue 11's acceptance):
a second build with nothing changed starts no builder process and reports every image
unchanged; one changed file rebuilds exactly its service and what is built on it; an image
deleted from the local store builds again, and the summary says why.

A `docker` on PATH in front of the real one writes down every command buildorch runs, so
that "no builder process" is checked, not assumed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE
from tests.run.test_executor import latest_record, ssh_agent  # noqa: F401 (a fixture)

pytestmark = pytest.mark.engine

REPO = EXAMPLE.parent.parent
ALL = {"base", "api", "api-test", "worker", "worker-test"}


def make_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for folder in ("pipelines", "Dockerfile.examples", "cache-config"):
        shutil.copytree(REPO / folder, repo / folder)
    return repo


def logging_docker(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose `docker` logs each command line, then runs the real one."""
    real = shutil.which("docker")
    assert real is not None
    bin_dir, log = tmp_path / "bin", tmp_path / "docker-commands.log"
    bin_dir.mkdir()
    wrapper = bin_dir / "docker"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    return env, log


def build(repo: Path, env: dict[str, str], tag: str, *extra: str
          ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "buildorch", "build", "-f", "pipelines/example.yaml",
         "--backend", "docker", "--cache", "none", "--var", f"TAG={tag}", "ci", *extra],
        cwd=repo, env=env, capture_output=True, text=True, check=False, timeout=600)


def states(repo: Path) -> dict[str, str]:
    return {name: image["state"] for name, image in latest_record(repo)["images"].items()}


def builder_commands(log: Path) -> list[str]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [line for line in lines if "buildx build" in line or "buildx bake" in line
            or line.startswith("build ")]


def built_images(log: Path) -> list[str]:
    """The images the logged builder commands build: a build's by its metadata file, a
    builder session's (bake) by its targets, after `--`."""
    names = []
    for line in builder_commands(log):
        if "buildx bake" in line:
            names += line.split(" -- ", 1)[1].split()
        else:
            names += re.findall(r"/([^/ ]+)\.metadata\.json", line)
    return sorted(names)


def test_skip_unchanged_reuses_rebuilds_what_changed_and_what_was_deleted(
        engine: str, tmp_path: Path, ssh_agent: None) -> None:  # noqa: F811
    repo = make_repo(tmp_path)
    env, log = logging_docker(tmp_path)
    tag = uuid.uuid4().hex[:10]
    first = build(repo, env, tag)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    built = latest_record(repo)["images"]
    assert set(states(repo).values()) == {"succeeded"}
    assert built_images(log) == sorted(ALL)  # the wrapper sees what buildorch runs

    # nothing changed: no builder process, every image unchanged, from the first run;
    # asked by the pipeline this time (`skip_unchanged: true`), which is no input of an image
    pipeline = repo / "pipelines/example.yaml"
    pipeline.write_text(pipeline.read_text().replace("name: shop\n",
                                                     "name: shop\nskip_unchanged: true\n"))
    log.unlink()
    second = build(repo, env, tag)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert builder_commands(log) == []
    record = latest_record(repo)
    assert states(repo) == dict.fromkeys(ALL, "unchanged")
    first_id = json.loads((sorted((repo / ".buildorch/runs").iterdir())[0] / "record.json")
                          .read_text())["id"]
    for name, image in record["images"].items():
        assert image["unchanged_from"] == first_id
        assert image["digest"] == built[name]["digest"]
    assert "unchanged (run " in second.stdout + second.stderr

    # one file of worker's context changed: worker and its test build, nothing else
    script = repo / "Dockerfile.examples/worker/worker.sh"
    script.write_text(script.read_text() + "\n# changed\n")
    log.unlink(missing_ok=True)
    third = build(repo, env, tag, "--skip-unchanged")
    assert third.returncode == 0, third.stdout[-3000:] + third.stderr[-3000:]
    assert states(repo) == {"base": "unchanged", "api": "unchanged", "api-test": "unchanged",
                            "worker": "succeeded", "worker-test": "succeeded"}
    assert built_images(log) == ["worker", "worker-test"]
    worker = latest_record(repo)["images"]["worker"]
    assert worker["digest"] != built["worker"]["digest"]
    # the rebuilt worker still sits on the digest base was built as
    layers = subprocess.run(["docker", "image", "inspect", "--format",
                             "{{json .RootFS.Layers}}", worker["digest"], built["base"]["digest"]],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    worker_layers, base_layers = (json.loads(line) for line in layers)
    assert worker_layers[:len(base_layers)] == base_layers

    # api's image deleted from the local store: it builds again, and the summary says why
    subprocess.run(["docker", "image", "rm", "-f", built["api"]["digest"]], check=True,
                   capture_output=True)
    fourth = build(repo, env, tag, "--skip-unchanged")
    assert fourth.returncode == 0, fourth.stdout[-3000:] + fourth.stderr[-3000:]
    assert states(repo)["api"] == "succeeded"
    assert states(repo)["base"] == "unchanged"
    assert "no longer in the local image store" in fourth.stdout + fourth.stderr
    note = latest_record(repo)["images"]["api"]["note"]
    assert note and built["api"]["digest"][:19] in note

    # --no-skip-unchanged overrides the pipeline: every image goes to the builder again
    log.unlink()
    fifth = build(repo, env, tag, "--no-skip-unchanged")
    assert fifth.returncode == 0, fifth.stdout[-3000:] + fifth.stderr[-3000:]
    assert set(states(repo).values()) == {"succeeded"}
    assert built_images(log) == sorted(ALL)
