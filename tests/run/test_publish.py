"""The end of a run: run-scoped names removed in one command per builder, each with the
builder's TLS (a TLS docker daemon cannot run here: the commands are read, not run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildorch import proc
from buildorch.backends.catalog import get_backend
from buildorch.backends.request import BuilderTls
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.graph import build_graph
from buildorch.planning.plan import make_plan
from buildorch.planning.requests import PlanOptions
from buildorch.run import publish
from buildorch.run.state import RunState
from tests.conftest import MakeProject

PIPELINE = """\
version: 1
name: p
builders:
  - {name: local, backend: docker}
  - name: remote
    backend: docker
    address: tcp://remote:2376
    tls: {ca: ca.pem, cert: cert.pem, key: key.pem}
images:
  a: {context: a}
  b: {context: a, contexts: {dep: {image: a}}}
  c: {context: a, builder: remote}
  d: {context: a, builder: remote, contexts: {dep: {image: c}}}
"""


def test_run_names_go_in_one_command_per_builder_with_its_tls(
        make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_project(PIPELINE, files={"a/Dockerfile": "FROM busybox\nRUN true\n",
                                         "ca.pem": "x", "cert.pem": "x", "key.pem": "x"})
    pipeline = load_pipeline(path, LoadOptions(env={}))
    plan = make_plan(pipeline, build_graph(pipeline), [],
                     PlanOptions(backend="docker", chains=False))
    state = RunState("r1", path.parent, path.parent / ".buildorch/runs/r1", plan, ())
    state.digests.update(dict.fromkeys("abcd", "sha256:" + "0" * 64))
    tls = state.image("c").request.builder_tls
    assert isinstance(tls, BuilderTls) and tls.ca.endswith("ca.pem")
    state.extra_tags.add(("tcp://remote:2376", tls, "buildorch.local/p/x:r1-replay"))
    ran: list[list[str]] = []
    monkeypatch.setattr(proc, "run", lambda argv, **_: ran.append(list(argv)))
    publish.remove_run_tags(state, get_backend("docker"))
    assert sorted(ran) == sorted([
        ["docker", "image", "rm", "buildorch.local/p/a:r1"],
        ["docker", "--host", "tcp://remote:2376", "--tlsverify", "--tlscacert",
         tls.ca, "--tlscert", tls.cert, "--tlskey", tls.key, "image", "rm",
         "buildorch.local/p/c:r1", "buildorch.local/p/x:r1-replay"]])


def test_nothing_to_remove_runs_nothing(make_project: MakeProject,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a: {context: a}\n", contexts=("a",))
    pipeline = load_pipeline(path, LoadOptions(env={}))
    plan = make_plan(pipeline, build_graph(pipeline), [], PlanOptions(backend="docker"))
    state = RunState("r1", Path(path.parent), path.parent / "runs", plan, ())
    state.digests["a"] = "sha256:" + "0" * 64  # no dependent: no run-scoped name
    ran: list[list[str]] = []
    monkeypatch.setattr(proc, "run", lambda argv, **_: ran.append(list(argv)))
    publish.remove_run_tags(state, get_backend("docker"))
    assert ran == []
