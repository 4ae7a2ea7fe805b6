"""buildorch build on the real stack: parallelism, failures, all-or-nothing push, Ctrl-C."""

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
from buildorch.oci.reference import ImageRef
from buildorch.oci.registry import RegistryClient
from buildorch.workdir import RUNS
from tests.conftest import EXAMPLE, MakeProject

pytestmark = pytest.mark.engine

BASE = os.environ.get("BUILDORCH_BASE_IMAGE", "localhost:5000/busybox:latest")
REGISTRY = os.environ.get("BUILDORCH_REGISTRY", "localhost:5000")


def buildorch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "buildorch", *args], cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=600)


def latest_record(folder: Path) -> dict:  # type: ignore[type-arg]
    runs = sorted((folder / ".buildorch" / "runs").iterdir())
    return json.loads((runs[-1] / "record.json").read_text())  # type: ignore[no-any-return]


def docker_inspect(ref: str, fmt: str) -> str:
    return subprocess.run(["docker", "image", "inspect", "--format", fmt, ref], check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def ssh_agent() -> Iterator[None]:
    """The example forwards the SSH agent; start a real one for the build."""
    out = subprocess.run(["ssh-agent", "-s"], check=True, capture_output=True, text=True).stdout
    values = dict(part.split("=", 1) for part in out.replace(";", "\n").split()
                  if part.startswith(("SSH_AUTH_SOCK=", "SSH_AGENT_PID=")))
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    yield
    os.kill(int(values["SSH_AGENT_PID"]), signal.SIGTERM)
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def test_example_builds_and_services_sit_on_base_digest(
        engine: str, tmp_path: Path, ssh_agent: None) -> None:
    tag = uuid.uuid4().hex[:10]
    result = buildorch("build", "-f", str(EXAMPLE), "--backend", "docker", "ci",
                       "--var", f"TAG={tag}", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    record = latest_record(tmp_path)
    assert record["outcome"] == "succeeded"
    images = record["images"]
    assert {n for n, i in images.items() if i["state"] == "succeeded"} == {
        "base", "api", "api-test", "worker", "worker-test"}
    base_digest = images["base"]["digest"]
    base_ref = f"{REGISTRY}/shop/base:{tag}"
    assert docker_inspect(base_ref, "{{.Id}}") == base_digest
    base_layers = json.loads(docker_inspect(base_ref, "{{json .RootFS.Layers}}"))
    for service in ("api", "worker"):
        ref = f"{REGISTRY}/shop/{service}:{tag}"
        assert docker_inspect(ref, "{{.Id}}") == images[service]["digest"]
        layers = json.loads(docker_inspect(ref, "{{json .RootFS.Layers}}"))
        assert layers[: len(base_layers)] == base_layers
        assert len(layers) > len(base_layers)
    # the run-scoped local name of base is gone after the run
    run_tag = f"buildorch.local/shop/base:{record['id']}"
    gone = subprocess.run(["docker", "image", "inspect", run_tag], capture_output=True,
                          check=False)
    assert gone.returncode != 0


SLEEPERS = """\
version: 1
name: sleepers
images:
  s1: {context: s, args: {N: "1"}}
  s2: {context: s, args: {N: "2"}}
  s3: {context: s, args: {N: "3"}}
  s4: {context: s, args: {N: "4"}}
"""


@pytest.mark.parametrize("jobs", [4, 1])
def test_jobs_bound_parallel_builds(engine: str, make_project: MakeProject, jobs: int) -> None:
    token = uuid.uuid4().hex
    path = make_project(SLEEPERS, files={
        "s/Dockerfile": f"FROM {BASE}\nARG N\nRUN echo {token}-$N > /token && sleep 2\n"})
    result = buildorch("build", "-f", str(path), "--backend", "docker", "-j", str(jobs),
                       cwd=path.parent)
    assert result.returncode == 0, result.stdout[-3000:]
    images = latest_record(path.parent)["images"].values()
    spans = sorted((i["started"], i["ended"]) for i in images)
    assert all(end - start >= 2 for start, end in spans)
    if jobs == 4:
        assert max(s for s, _ in spans) < min(e for _, e in spans)  # all four at once
    else:
        assert all(spans[i][1] <= spans[i + 1][0] for i in range(3))  # one after another


FAILING = """\
version: 1
name: failing
images:
  ok: {context: ok}
  bad: {context: bad}
  child:
    context: child
    contexts: {bad: {image: bad}}
"""


def failing_project(make_project: MakeProject) -> Path:
    token = uuid.uuid4().hex
    return make_project(FAILING, files={
        "ok/Dockerfile": f"FROM {BASE}\nRUN echo {token} > /ok && sleep 1\n",
        "bad/Dockerfile": f"FROM {BASE}\nRUN echo {token}\nRUN echo about to fail; echo "
                          "last-words-xyz; exit 3\n",
        "child/Dockerfile": "FROM bad\nRUN true\n",
    })


def test_failing_run_fails_fast_with_exit_1(engine: str, make_project: MakeProject) -> None:
    path = failing_project(make_project)
    result = buildorch("build", "-f", str(path), "--backend", "docker", "-j", "1",
                       "bad", "child", cwd=path.parent)
    assert result.returncode == 1
    record = latest_record(path.parent)
    assert record["images"]["bad"]["state"] == "failed"
    assert record["images"]["child"]["state"] == "skipped"


def test_keep_going_builds_independent_images_and_names_the_failure(
        engine: str, make_project: MakeProject) -> None:
    path = failing_project(make_project)
    result = buildorch("build", "-f", str(path), "--backend", "docker", "--keep-going",
                       cwd=path.parent)
    assert result.returncode == 1
    states = {n: i["state"] for n, i in latest_record(path.parent)["images"].items()}
    assert states == {"ok": "succeeded", "bad": "failed", "child": "skipped"}
    out = result.stdout
    assert "bad/Dockerfile:3" in out  # the failing line
    assert "bad failed at bad/Dockerfile:3" in out
    assert "last-words-xyz" in out.split("bad failed at")[1]  # the log's last lines
    assert "child" in out and "skipped" in out


PUSHED = """\
version: 1
name: pushed
vars: {REPO: "%s/pushtest-%s"}
images:
  base: {context: base, tags: ["${REPO}/base:1"]}
  app:
    context: app
    contexts: {base: {image: base}}
    tags: ["${REPO}/app:1", "${REPO}/app:latest"]
  other: {context: other, tags: ["${REPO}/other:1"]}
"""


def registry_tags(repo_tag: str) -> list[str]:
    ref = ImageRef.parse(repo_tag)
    return sorted(RegistryClient(ref.host).tags(ref.repository))


@pytest.mark.parametrize("fail", [True, False])
def test_push_is_all_or_nothing(engine: str, make_project: MakeProject, fail: bool) -> None:
    run = uuid.uuid4().hex[:8]
    path = make_project(PUSHED % (REGISTRY, run), files={
        "base/Dockerfile": f"FROM {BASE}\nRUN echo {run} > /base\n",
        "app/Dockerfile": "FROM base\nRUN cat /base\n",
        "other/Dockerfile": f"FROM {BASE}\nRUN sleep 1; exit {3 if fail else 0}\n",
    })
    result = buildorch("build", "-f", str(path), "--backend", "docker", "--push", "--keep-going",
                       cwd=path.parent)
    repo = f"{REGISTRY}/pushtest-{run}"
    tags = {name: registry_tags(f"{repo}/{name}:x") for name in ("base", "app", "other")}
    record = latest_record(path.parent)
    if fail:
        assert result.returncode == 1
        assert record["images"]["base"]["state"] == "succeeded"  # built, but not published
        assert tags == {"base": [], "app": [], "other": []}
        assert "nothing was published" in result.stdout
    else:
        assert result.returncode == 0, result.stdout[-3000:]
        assert tags == {"base": ["1"], "app": ["1", "latest"], "other": ["1"]}
        ref = ImageRef.parse(f"{repo}/app:1")
        manifest = RegistryClient(ref.host).manifest(ref.repository, "1")
        assert manifest is not None and manifest.digest == record["images"]["app"]["digest"]
        assert sorted(record["published"]) == sorted(
            [f"{repo}/base:1", f"{repo}/app:1", f"{repo}/app:latest", f"{repo}/other:1"])


def build_processes(marker: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in text:
            found.append(text)
    return found


def wait_for_processes(child: subprocess.Popen[str], marker: str, count: int, what: str
                       ) -> None:
    """Until `count` processes whose command line holds `marker` run (a RUN step's shell);
    the test fails if `child` (a buildorch run) ends first or two minutes pass."""
    deadline = time.monotonic() + 120
    while len(build_processes(marker)) < count:
        if time.monotonic() > deadline or child.poll() is not None:
            child.kill()
            pytest.fail(f"{what} never started")
        time.sleep(0.2)


def test_sigint_stops_builds_and_records_interrupted(engine: str,
                                                     make_project: MakeProject) -> None:
    marker = f"sleep-{uuid.uuid4().hex[:8]}"
    path = make_project(
        "version: 1\nname: interrupted\nimages:\n  slow: {context: slow, args: {N: '1'}}\n"
        "  slow2: {context: slow, args: {N: '2'}}\n",
        # `sleep 60` not last, or the shell would exec it and the marker would vanish from
        # /proc; the ARG keeps BuildKit from merging the two identical steps into one.
        files={"slow/Dockerfile": f"FROM {BASE}\nARG N\nRUN sleep 60; echo {marker}-$N\n"})
    child = subprocess.Popen([sys.executable, "-m", "buildorch", "build", "-f", str(path),
                              "--backend", "docker"], cwd=path.parent,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Wait until both RUN steps are inside `sleep 60` (their shells show up in /proc).
    wait_for_processes(child, f"sleep 60; echo {marker}", 2, "the builds' RUN sleep steps")
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=60)
    assert time.monotonic() - sent < 15
    assert child.returncode == 130, out[-2000:]
    record = latest_record(path.parent)
    assert record["outcome"] == "interrupted"
    assert {i["state"] for i in record["images"].values()} == {"interrupted"}
    time.sleep(1)
    # no buildx client left, and the RUN step's `sleep 60` is gone from the machine too
    assert not [p for p in build_processes(str(path.parent)) if "buildx" in p]
    assert not build_processes(f"sleep 60; echo {marker}")


def test_dry_run_prints_commands_in_process(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["build", "-f", str(EXAMPLE), "--dry-run", "--push", "api"]) == 0
    out = capsys.readouterr().out
    # api's only dependency, base, feeds it through a named context: one builder session
    assert "# base -> api: one builder session" in out
    assert out.count("docker buildx bake") == 1 and out.count("-- base api\n") == 1
    assert "docker buildx build" not in out
    assert f"docker push {REGISTRY}/shop/api:" in out
    assert main(["build", "-f", str(EXAMPLE), "--dry-run", "--push", "--no-chains", "api"]) == 0
    out = capsys.readouterr().out
    assert out.count("docker buildx build") == 2 and "bake" not in out  # base and api
    assert not (tmp_path / RUNS).exists()  # nothing ran


def test_registry_down_is_retried_then_reported(engine: str, make_project: MakeProject) -> None:
    # Nothing listens on port 5999: pulling the base fails with "connection refused".
    path = make_project("version: 1\nname: down\nimages:\n  a: {context: a}\n",
                        files={"a/Dockerfile": "FROM localhost:5999/nothing:here\nRUN true\n"})
    result = buildorch("build", "-f", str(path), "--backend", "docker", "--retries", "2",
                       cwd=path.parent)
    assert result.returncode == 1
    image = latest_record(path.parent)["images"]["a"]
    assert image["attempts"] == 3
    assert image["failure"]["transient"] is True
    assert "connection refused" in image["failure"]["message"]
    assert result.stdout.count("transient failure") == 2


def test_a_failing_run_step_is_not_retried(engine: str, make_project: MakeProject) -> None:
    path = make_project("version: 1\nname: noretry\nimages:\n  a: {context: a}\n",
                        files={"a/Dockerfile": f"FROM {BASE}\nRUN echo {uuid.uuid4().hex}; "
                                               "echo connection refused; exit 7\n"})
    result = buildorch("build", "-f", str(path), "--backend", "docker", "--retries", "3",
                       cwd=path.parent)
    assert result.returncode == 1
    assert latest_record(path.parent)["images"]["a"]["attempts"] == 1


def test_auto_backend_picks_an_answering_backend_and_says_so(
        engine: str, make_project: MakeProject) -> None:
    path = make_project("version: 1\nname: auto\nimages:\n  a: {context: a}\n",
                        files={"a/Dockerfile": f"FROM {BASE}\nRUN echo {uuid.uuid4().hex}\n"})
    result = buildorch("build", "-f", str(path), cwd=path.parent)
    assert result.returncode == 0, result.stdout[-2000:]
    # nerdctl, finch and buildctl are not on this machine; docker buildx answers
    assert "buildorch: backend docker (auto; skipped nerdctl: 'nerdctl' not found" in result.stderr
    assert latest_record(path.parent)["backend"] == "docker"


def test_doctor_reports_docker_capabilities(engine: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "[ok] docker:" in out
    assert "cache export: gha, inline, local, registry" in out  # containerd image store
    assert "[--] nerdctl: not found" in out


def test_cache_the_backend_cannot_export_fails_before_any_build(
        engine: str, make_project: MakeProject) -> None:
    path = make_project(
        "version: 1\nname: nos3\nimages:\n  a:\n    context: a\n    cache: native\n"
        "    tags: [localhost:5000/nos3/a:1]\n",
        files={"a/Dockerfile": f"FROM {BASE}\n",
               "cache-config/native.yaml": "type: s3\nbucket: b\ntransport: native\n"})
    result = buildorch("build", "-f", str(path), "--backend", "docker", cwd=path.parent)
    assert result.returncode == 2
    assert result.stderr.startswith(f"buildorch: error: {path}:6: images.a.cache: cache profile "
                                    "'native' needs s3 cache export")
    assert "transport: sync" in result.stderr
    assert not (path.parent / RUNS).exists()
