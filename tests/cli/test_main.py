from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from buildorch.cli.main import main
from tests.conftest import EXAMPLE, REPO

# the example's registry comes from the environment (the local stack's), like its tags
REGISTRY = os.environ.get("BUILDORCH_REGISTRY", "localhost:5000")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "buildorch", *args], cwd=REPO,
                          capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})})


def test_help_imports_nothing_heavy() -> None:
    code = ("import sys; from buildorch.cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('pydantic', 'networkx', 'boto3', 'yaml', 'rich', 'dockerfile')"
            " if m in sys.modules]\nprint('HEAVY=' + ','.join(heavy))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.splitlines()[-1] == "HEAVY="


@pytest.mark.parametrize("args", [
    ["validate", "-f", "pipelines/example.yaml"],
    ["plan", "-f", "pipelines/example.yaml", "--format", "json", "--cache", "s3"],
    ["graph", "-f", "pipelines/example.yaml", "--stages"],
])
def test_validate_plan_and_graph_import_only_what_they_use(args: list[str]) -> None:
    # networkx (0.1-0.2 s to import) serves a run and the explanation of a cycle; boto3 a
    # run's S3 transfers and `cache` on S3; rich nothing these commands print.
    code = ("import sys; from buildorch.cli.main import main\n"
            f"code = main({args!r})\n"
            "unused = [m for m in ('networkx', 'boto3', 'botocore', 'rich') if m in sys.modules]\n"
            "print(f'CODE={code} UNUSED=' + ','.join(unused))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, check=True)
    assert result.stdout.splitlines()[-1] == "CODE=0 UNUSED="


def test_validate_example_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-f", str(EXAMPLE)]) == 0
    assert "ok (5 images, 4 dependencies)" in capsys.readouterr().out


def test_validate_example_as_subprocess() -> None:
    result = run_cli("validate", "-f", "pipelines/example.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("pipelines/example.yaml: ok")


def test_plan_json_lists_every_image_with_edges_and_argv() -> None:
    result = run_cli("plan", "-f", "pipelines/example.yaml", "--format", "json", "ci",
                     "--var", "TAG=t1", env={"PIP_TOKEN": "value-not-shown"})
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    names = [n["name"] for n in plan["nodes"]]
    assert sorted(names) == ["api", "api-test", "base", "worker", "worker-test"]
    assert plan["order"][0] == "base"
    assert {(e["from"], e["to"], e["kind"]) for e in plan["edges"]} == {
        ("base", "api", "context"), ("base", "api-test", "context"),
        ("base", "worker", "from"), ("base", "worker-test", "from")}
    nodes = {n["name"]: n for n in plan["nodes"]}
    api = nodes["api"]["argv"]
    assert api[:4] == ["docker", "buildx", "build", "--progress"]
    assert api[-1] == "Dockerfile.examples/api"
    # the docker driver reaches base under a local name only this run creates
    pinned = "base=docker-image://buildorch.local/shop/base:{run_id}"
    assert api[api.index("--build-context") + 1] == pinned
    base = nodes["base"]["argv"]
    assert [base[i + 1] for i, a in enumerate(base) if a == "--tag"] == [
        f"{REGISTRY}/shop/base:t1", "buildorch.local/shop/base:{run_id}"]
    assert api[api.index("--target") + 1] == "runtime"
    assert api[api.index("--secret") + 1] == "id=pip_token,env=PIP_TOKEN"
    assert api[api.index("--tag") + 1] == f"{REGISTRY}/shop/api:t1"
    worker = nodes["worker"]["argv"]
    assert worker[worker.index("--build-context") + 1] == (
        f"{REGISTRY}/shop/base:t1=docker-image://buildorch.local/shop/base:{{run_id}}")
    assert worker[worker.index("--ssh") + 1] == "default"
    assert nodes["api-test"]["stages"] == ["build", "test"]
    assert plan["critical_path"]["images"][0] == "base"
    assert "value-not-shown" not in result.stdout


def test_optional_secret_without_a_source_is_not_passed() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PIP_TOKEN"}
    result = subprocess.run([sys.executable, "-m", "buildorch", "plan", "-f",
                             "pipelines/example.yaml", "--format", "json", "api"], cwd=REPO,
                            capture_output=True, text=True, check=True, env=env)
    api = next(n for n in json.loads(result.stdout)["nodes"] if n["name"] == "api")
    assert "--secret" not in api["argv"]


def test_plan_selection_pulls_dependencies(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "-f", str(EXAMPLE), "--format", "json", "api"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["order"] == ["base", "api"]


def test_plan_text_shows_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "-f", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "docker buildx build" in out and "api after base" in out


def test_graph_stages_text_shows_stages_and_image_edges() -> None:
    result = run_cli("graph", "-f", "pipelines/example.yaml", "--stages", "ci")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "api  <- base" in lines
    assert "  runtime (FROM base)  <- build" in lines
    assert "  test (FROM build)  <- build" in lines


def test_graph_dot_has_clusters_and_cross_image_edges(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "-f", str(EXAMPLE), "--stages", "--format", "dot", "ci"]) == 0
    out = capsys.readouterr().out
    assert out.startswith('digraph "shop" {')
    assert out.count("subgraph cluster_") == 5
    # base's only stage feeds api's build stage through the named context
    assert '[label="context"]' in out and '[label="from"]' in out and '[label="copy"]' in out


def test_graph_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "-f", str(EXAMPLE), "--format", "mermaid"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "flowchart LR"
    assert "-->|context|" in out and "-->|from|" in out


def test_schema_has_both_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "images" in schema["pipeline"]["properties"]
    assert schema["cache_profile"]["properties"]["type"]["enum"] == [
        "registry", "s3", "local", "inline", "gha"]


def test_unknown_selection_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "-f", str(EXAMPLE), "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("buildorch: error: unknown image or group 'nope'")


def test_missing_pipeline_file_is_exit_2() -> None:
    result = run_cli("validate", "-f", "does-not-exist.yaml")
    assert result.returncode == 2
    assert result.stderr == "buildorch: error: does-not-exist.yaml: file not found\n"


def test_usage_error_is_exit_2() -> None:
    assert run_cli("plan", "--format", "xml").returncode == 2
