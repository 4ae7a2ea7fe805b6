from __future__ import annotations

import pytest

from buildorch.cli.main import main
from buildorch.preflight.cache_support import cache_type_needed
from tests.conftest import MakeProject

DOCKER_CONTAINERD = frozenset({"registry", "local", "inline", "gha"})


def test_s3_through_sync_needs_only_local_export() -> None:
    assert cache_type_needed("s3", "sync", DOCKER_CONTAINERD) == "local"
    assert cache_type_needed("s3", "auto", DOCKER_CONTAINERD) == "local"
    assert cache_type_needed("s3", "native", DOCKER_CONTAINERD) == "s3"


def test_native_s3_where_supported() -> None:
    assert cache_type_needed("s3", "auto", frozenset({"s3", "local"})) == "s3"


def test_other_types_need_themselves() -> None:
    assert cache_type_needed("registry", "auto", frozenset({"inline"})) == "registry"


def test_gha_without_its_variables_is_a_warning_or_with_strict_an_error(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ACTIONS_CACHE_URL", "ACTIONS_RESULTS_URL", "ACTIONS_RUNTIME_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    path = make_project("version: 1\nname: g\nimages:\n  a: {context: a, cache: gh}\n",
                        files={"cache-config/gh.yaml": "type: gha\n"}, contexts=("a",))
    assert main(["plan", "-f", str(path), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert "cache profile 'gh' (gha) needs ACTIONS_CACHE_URL and ACTIONS_RUNTIME_TOKEN" in err
    assert "type=gha" not in out
    assert main(["plan", "-f", str(path), "--cache-strict"]) == 2
    assert "building without it" not in capsys.readouterr().err
    monkeypatch.setenv("ACTIONS_CACHE_URL", "https://cache.example/")
    monkeypatch.setenv("ACTIONS_RUNTIME_TOKEN", "runtime-token-1")
    assert main(["plan", "-f", str(path), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert "type=gha,scope=g-a-" in out and "needs" not in err


def test_gha_variables_do_not_reach_finchs_vm(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # runfinch/finch cmd/finch/nerdctl_remote.go `passedEnvs`: no ACTIONS_* variable
    monkeypatch.setenv("ACTIONS_CACHE_URL", "https://cache.example/")
    monkeypatch.setenv("ACTIONS_RUNTIME_TOKEN", "runtime-token-1")
    # tagged: a warning about an unkept result would name the folder, which says "gha"
    path = make_project("version: 1\nname: g\nimages:\n"
                        "  a: {context: a, cache: gh, tags: [localhost:5000/g/a:1]}\n",
                        files={"cache-config/gh.yaml": "type: gha\n"}, contexts=("a",))
    monkeypatch.setattr("platform.system", lambda: "Darwin")
    assert main(["plan", "-f", str(path), "--format", "json", "--backend", "finch"]) == 0
    out, err = capsys.readouterr()
    assert ("cache profile 'gh' (gha) needs ACTIONS_CACHE_URL and ACTIONS_RUNTIME_TOKEN, "
            "which Finch's VM does not receive; building without it") in err
    assert "type=gha" not in out
    monkeypatch.setattr("platform.system", lambda: "Linux")  # finch runs nerdctl on the host
    assert main(["plan", "-f", str(path), "--format", "json", "--backend", "finch"]) == 0
    out, err = capsys.readouterr()
    assert "type=gha" in out and "gha" not in err
