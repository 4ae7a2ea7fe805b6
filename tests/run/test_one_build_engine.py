"""A build's check of its dependencies on the real stack: one `docker image inspect` for
all of them, and a run-scoped name moved by someone else during the run fails the
dependent with which name holds what, not the digest this run built."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import MakeProject
from tests.run.test_executor import BASE, latest_record, wait_for_processes
from tests.run.test_skip_unchanged_engine import logging_docker

pytestmark = pytest.mark.engine


def test_a_moved_run_scoped_name_fails_the_dependent(
        engine: str, make_project: MakeProject, tmp_path_factory: pytest.TempPathFactory
        ) -> None:
    marker = f"sleep-{uuid.uuid4().hex[:8]}"
    path = make_project(
        "version: 1\nname: moved\nimages:\n"
        "  a: {context: a}\n  b: {context: b}\n  slow: {context: slow}\n"
        "  c: {context: c, contexts: {one: {image: a}, two: {image: b}}, depends_on: [slow],"
        " outputs: [type=cacheonly]}\n",
        files={"a/Dockerfile": f"FROM {BASE}\nRUN echo a-{marker} > /a\n",
               "b/Dockerfile": f"FROM {BASE}\nRUN echo b-{marker} > /b\n",
               "slow/Dockerfile": f"FROM {BASE}\nRUN sleep 8; echo {marker}\n",
               "c/Dockerfile": "FROM one\nCOPY --from=two /b /b\n"})
    env, log = logging_docker(tmp_path_factory.mktemp("docker"))
    child = subprocess.Popen([sys.executable, "-m", "buildorch", "build", "-f", str(path),
                              "--backend", "docker", "--no-chains", "--progress", "plain"],
                             cwd=path.parent, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env=env)
    wait_for_processes(child, f"sleep 8; echo {marker}", 1, "slow's RUN sleep step")
    deadline = time.monotonic() + 60
    runs = path.parent / ".buildorch/runs"
    run_id = next(runs.iterdir()).name
    name = f"buildorch.local/moved/a:{run_id}"
    while subprocess.run(["docker", "image", "inspect", name], capture_output=True,
                         check=False).returncode != 0:  # a is stored: c still waits for slow
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail("a was never stored")
        time.sleep(0.2)
    subprocess.run(["docker", "tag", BASE, name], check=True)  # someone moves the name
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 1, out[-2000:]
    images = latest_record(path.parent)["images"]
    assert images["c"]["state"] == "failed"
    message = images["c"]["failure"]["message"]
    assert message.startswith(f"{name} holds sha256:")
    assert message.endswith(f"not the {images['a']['digest']} that a was built as in this run")
    # one command checked both names; only then one per name, to say which one moved
    others = f"buildorch.local/moved/b:{run_id} buildorch.local/moved/slow:{run_id}"
    inspects = [line for line in log.read_text().splitlines()
                if line.startswith("image inspect --format {{.Id}}")]
    assert inspects[0] == f"image inspect --format {{{{.Id}}}} {name} {others}"
    assert inspects[1:] == [f"image inspect --format {{{{.Id}}}} {name}"]
    subprocess.run(["docker", "image", "rm", name], capture_output=True, check=False)


def test_buildx_runs_no_git_command_for_an_image_without_provenance(
        engine: str, make_project: MakeProject, tmp_path_factory: pytest.TempPathFactory
        ) -> None:
    path = make_project("version: 1\nname: nogit\nimages:\n  a: {context: a, tags: [nogit:1]}\n"
                        "  b: {context: a, tags: [nogit:2], args: {X: '1'}}\n",
                        files={"a/Dockerfile": f"FROM {BASE}\nARG X\nRUN echo {uuid.uuid4()}\n"})
    subprocess.run(["git", "init", "-q", str(path.parent)], check=True)
    real = shutil.which("git")
    folder = tmp_path_factory.mktemp("git")
    log = folder / "git.log"
    wrapper = folder / "git"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}
    for chains in ("--chains", "--no-chains"):
        log.unlink(missing_ok=True)
        done = subprocess.run([sys.executable, "-m", "buildorch", "build", "-f", str(path),
                               "--backend", "docker", chains], cwd=path.parent, env=env,
                              capture_output=True, text=True, check=False, timeout=300)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        calls = log.read_text().splitlines() if log.exists() else []
        # buildx asks git with `-c log.showSignature=false` (util/gitutil); buildorch's own
        # questions for the run record do not
        assert not [c for c in calls if "log.showSignature" in c], calls
        assert any("rev-parse" in c for c in calls)  # the wrapper does see git's callers
    subprocess.run(["docker", "image", "rm", "nogit:1", "nogit:2"], capture_output=True,
                   check=False)
