"""`buildorch import compose|bake`: a pipeline that validates, from another tool's file."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from buildorch.cli.main import main
from tests.pipeline.test_from_compose import FILES

DOCKERFILE = "FROM localhost:5000/busybox:latest AS base\nFROM base AS dev\nRUN true\n"

# The shape of docker/example-voting-app's compose file, with build options added.
COMPOSE = """\
services:
  vote:
    build:
      context: ./vote
      target: dev
      args: {PY: 3.10, MODE: 0755}
      cache_from: ["type=registry,ref=localhost:5000/cache:vote"]
    image: localhost:5000/vote:dev
    depends_on:
      redis: {condition: service_healthy}
    ports: ["5000:80"]
  result:
    build: ./result
  worker:
    build:
      context: ./worker
      additional_contexts:
        base: service:vote
      secrets: [token]
      extra_hosts: ["db:10.0.0.2"]
  redis:
    image: redis:alpine
secrets:
  token:
    environment: TOKEN
"""

# What `docker buildx bake --print` writes (docker/buildx bake/bake.go Target's JSON names).
BAKE = {
    "group": {"default": {"targets": ["api", "docs"]}},
    "target": {
        "api": {"context": "api", "dockerfile": "Dockerfile", "target": "dev",
                "args": {"PY": "3.10"}, "tags": ["localhost:5000/api:1"],
                "platforms": ["linux/amd64"], "secret": ["id=tok,env=TOKEN"],
                "ssh": ["default"], "cache-from": ["type=gha"], "no-cache-filter": ["dev"],
                "output": ["type=docker"], "shm-size": "64m", "extra-hosts": {"db": "10.0.0.2"},
                "annotations": ["manifest:org.opencontainers.image.title=api"]},
        "docs": {"context": "docs", "contexts": {"api": "target:api"},
                 "output": ["type=local,dest=out/docs"], "description": "the docs"},
    },
}


def project(tmp_path: Path, folders: tuple[str, ...]) -> Path:
    for folder in folders:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "Dockerfile").write_text(DOCKERFILE)
    return tmp_path


def test_compose(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = project(tmp_path, ("vote", "result", "worker"))
    (folder / "compose.yaml").write_text(COMPOSE)
    assert main(["import", "compose", str(folder / "compose.yaml"), "--name", "vote"]) == 0
    out, err = capsys.readouterr()
    data = yaml.safe_load(out)
    assert set(data["images"]) == {"vote", "result", "worker"}  # redis is pulled, not built
    vote = data["images"]["vote"]
    assert vote["args"] == {"PY": "3.10", "MODE": "0755"}  # as written
    assert vote["tags"] == ["localhost:5000/vote:dev"] and vote["target"] == "dev"
    assert "depends_on" not in vote  # redis is run, not built
    worker = data["images"]["worker"]
    assert worker["contexts"] == {"base": {"image": "vote"}}
    assert worker["secrets"] == [{"id": "token", "env": "TOKEN"}]
    assert worker["tags"] == ["test_compose0-worker"]  # compose's: FOLDER-SERVICE
    where = folder / "compose.yaml"
    assert err.splitlines() == [
        f"buildorch: warning: {where}:7: services.vote.build.cache_from: no per-image cache "
        "refs here: write cache-config/registry.yaml with `type: registry` and `ref: "
        "localhost:5000/cache` (each image then uses localhost:5000/cache:<image>-<branch>) and "
        "set `cache: registry` on the image",
        f"buildorch: warning: {where}:9: services.vote.depends_on: redis is run, not built: no "
        "build to wait for (left out)"]
    (folder / "buildorch.yaml").write_text(out)
    assert main(["validate", "-f", str(folder / "buildorch.yaml")]) == 0


def test_bake_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = project(tmp_path, ("api", "docs"))
    (folder / "bake.json").write_text(json.dumps(BAKE))
    assert main(["import", "bake", str(folder / "bake.json")]) == 0
    out, err = capsys.readouterr()
    data = yaml.safe_load(out)
    api, docs = data["images"]["api"], data["images"]["docs"]
    assert api["secrets"] == [{"id": "tok", "env": "TOKEN"}] and api["ssh"] == ["default"]
    assert api["no_cache_filter"] == ["dev"] and api["shm_size"] == "64m"
    assert api["annotations"] == {"manifest:org.opencontainers.image.title": "api"}
    assert docs["contexts"] == {"api": {"image": "api"}} and docs["description"] == "the docs"
    assert data["groups"] == {"default": ["api", "docs"]}
    assert "cache-from left out" in err and "does not validate" not in err
    (folder / "buildorch.yaml").write_text(out)
    assert main(["validate", "-f", str(folder / "buildorch.yaml")]) == 0


def test_what_does_not_validate_is_said(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    build: ./nope\n")
    assert main(["import", "compose", str(tmp_path / "compose.yaml")]) == 0
    err = capsys.readouterr().err
    assert err == ("buildorch: warning: the pipeline does not validate yet: images.a.context: "
                   "build context folder not found: ./nope\n")


@pytest.mark.parametrize(("kind", "text", "message"), [
    ("compose", "services:\n  db:\n    image: postgres\n", "no service has a 'build' section"),
    ("compose", "[1, 2]\n", "a compose file is a mapping"),
    ("bake", '{"group": {}}', "no 'target' mapping"),
])
def test_files_that_are_not_what_they_say(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          kind: str, text: str, message: str) -> None:
    (tmp_path / "f").write_text(text)
    assert main(["import", kind, str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_import_as_a_subprocess(tmp_path: Path) -> None:
    folder = project(tmp_path, ("vote", "result", "worker"))
    (folder / "compose.yaml").write_text(COMPOSE)
    result = subprocess.run([sys.executable, "-m", "buildorch", "import", "compose",
                             str(folder / "compose.yaml")], capture_output=True, text=True,
                            check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["name"] == folder.name


@pytest.mark.parametrize(("kind", "text", "message"), [
    ("bake", '{"target": {"api": {"args": "x"}}}',
     ":1: target.api.args: expected a mapping or a list of KEY=VALUE"),
    ("bake", '{"target": {"api": {"labels": {"a": [1]}}}}',
     ":1: target.api.labels.a: expected a string, got list"),
    ("compose", "services:\n  web:\n    build:\n      context: .\n      args: 3\n",
     ":5: services.web.build.args: expected a mapping or a list of KEY=VALUE"),
    ("compose", "services:\n  web:\n    build: [1]\n",
     ":3: services.web.build: expected a path or a mapping"),
])
def test_a_conversion_error_names_the_target_or_service_and_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, text: str,
        message: str) -> None:
    (tmp_path / "f").write_text(text)
    assert main(["import", kind, str(tmp_path / "f")]) == 2
    assert capsys.readouterr().err == f"buildorch: error: {tmp_path / 'f'}{message}\n"


# What current buildx's --print writes: entries as objects (util/buildflags MarshalJSON).
BAKE_OBJECTS = {"target": {
    "api": {"context": "api", "tags": ["localhost:5000/api:1"],
            "output": [{"type": "registry"}], "secret": [{"id": "tok", "env": "TOK"}],
            "ssh": [{"id": "default"}, {"id": "gh", "paths": ["/k"]}],
            "attest": [{"type": "provenance", "mode": "max"}, {"type": "sbom"}],
            "cache-from": [{"type": "registry", "ref": "r/c"}]},
    "docs": {"context": "docs", "output": [{"type": "local", "dest": "out/docs"}]},
    "notes": "not a target",
}}


def test_bake_json_with_objects_validates(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    folder = project(tmp_path, ("api", "docs"))
    (folder / "bake.json").write_text(json.dumps(BAKE_OBJECTS, indent=2))
    assert main(["import", "bake", str(folder / "bake.json")]) == 0
    out, err = capsys.readouterr()
    api, docs = yaml.safe_load(out)["images"].values()
    assert api["push"] is True and "outputs" not in api
    assert api["secrets"] == [{"id": "tok", "env": "TOK"}]
    assert api["ssh"] == ["default", {"id": "gh", "paths": ["/k"]}]
    assert api["attest"] == ["type=provenance,mode=max", "type=sbom"]
    assert docs["outputs"] == ["type=local,dest=out/docs"]
    assert err.splitlines() == [
        "buildorch: warning: api: cache-from left out (use a cache profile, cache: NAME)",
        "buildorch: warning: api: output type=registry is `push: true` (tags are published "
        "once every image of the run has built, not as the build ends)",
        "buildorch: warning: notes: the target left out (a target is a mapping of fields, not "
        "str 'not a target')"]
    (folder / "buildorch.yaml").write_text(out)
    assert main(["validate", "-f", str(folder / "buildorch.yaml")]) == 0


def test_bake_json_without_a_usable_target_is_an_error(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "b.json").write_text('{"target": {"api": "x"}}')
    assert main(["import", "bake", str(tmp_path / "b.json")]) == 2
    assert capsys.readouterr().err == (f"buildorch: error: {tmp_path / 'b.json'}:1: target: no "
                                       "target is a mapping of fields: nothing to build\n")


def test_bake_json_piped_into_dev_stdin(tmp_path: Path) -> None:
    """`bake --print | buildorch import bake /dev/stdin`: no file to write a temporary one
    beside (/proc/PID/fd/), so it is validated in the current folder, and named after it."""
    folder = project(tmp_path, ("api", "docs"))
    result = subprocess.run([sys.executable, "-m", "buildorch", "import", "bake", "/dev/stdin"],
                            input=json.dumps(BAKE_OBJECTS), capture_output=True, text=True,
                            check=False, timeout=60, cwd=folder)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "does not validate" not in result.stderr
    data = yaml.safe_load(result.stdout)
    assert data["name"] == folder.name and set(data["images"]) == {"api", "docs"}
    # no temporary pipeline left behind (.buildorch/ is the state every command keeps here)
    assert sorted(p.name for p in folder.iterdir() if p.name != ".buildorch") == ["api", "docs"]


def test_a_folder_where_no_file_can_be_written_skips_validation_with_a_warning(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    def read_only(*args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied")

    folder = project(tmp_path, ("api", "docs"))
    (folder / "bake.json").write_text(json.dumps(BAKE))
    monkeypatch.setattr("tempfile.NamedTemporaryFile", read_only)
    assert main(["import", "bake", str(folder / "bake.json")]) == 0
    out, err = capsys.readouterr()
    assert set(yaml.safe_load(out)["images"]) == {"api", "docs"}
    assert err.splitlines()[-1] == (
        f"buildorch: warning: the pipeline was not validated: no temporary file can be written "
        f"in {folder} (Permission denied); run `buildorch validate -f FILE` once it is saved")


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="root writes into a read-only folder")
def test_a_read_only_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = project(tmp_path, ("api", "docs"))
    (folder / "bake.json").write_text(json.dumps(BAKE))
    folder.chmod(0o555)
    try:
        assert main(["import", "bake", str(folder / "bake.json")]) == 0
    finally:
        folder.chmod(0o755)
    assert "the pipeline was not validated" in capsys.readouterr().err


# A typical compose file: what runs the containers (ports, volumes, environment, ...) is no
# part of a build and is left out without a word; only what the build loses is said.
TYPICAL = """\
name: shop
services:
  web:
    build:
      context: ./vote
      target: dev
      args: [PY=3.10]
      isolation: process
    image: localhost:5000/shop/web:${TAG:-dev}
    ports: ["8080:80", "8443:443"]
    volumes: ["./vote:/app", "data:/data"]
    environment: {DEBUG: "1"}
    env_file: .env.web
    command: ["serve", "--reload"]
    networks: [front, back]
    healthcheck: {test: ["CMD", "true"], interval: 5s}
    restart: unless-stopped
    deploy: {replicas: 2}
    depends_on:
      db: {condition: service_healthy}
      worker: {condition: service_started}
  worker:
    build: ./worker
    volumes: ["./worker:/app"]
  db:
    image: postgres:16
    ports: ["5432:5432"]
    volumes: ["data:/var/lib/postgresql/data"]
volumes:
  data: {}
networks:
  front: {}
  back: {}
"""


def test_a_typical_compose_file_warns_only_of_what_the_build_loses(tmp_path: Path) -> None:
    folder = project(tmp_path, ("vote", "worker"))
    (folder / "docker-compose.yml").write_text(TYPICAL)
    result = subprocess.run([sys.executable, "-m", "buildorch", "import", "compose",
                             "docker-compose.yml"], capture_output=True, text=True,
                            check=False, timeout=60, cwd=folder)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "buildorch: warning: docker-compose.yml:8: services.web.build.isolation: no "
        "equivalent here (a Windows container's isolation): left out",
        "buildorch: warning: docker-compose.yml:19: services.web.depends_on: db is run, not "
        "built: no build to wait for (left out)"]
    data = yaml.safe_load(result.stdout)
    assert data["images"] == {
        "web": {"context": "./vote", "target": "dev", "args": {"PY": "3.10"},
                "tags": ["localhost:5000/shop/web:${env.TAG:-dev}"], "depends_on": ["worker"]},
        "worker": {"context": "./worker", "tags": ["shop-worker"]}}


def test_a_dot_env_beside_the_file_is_said_once(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    folder = project(tmp_path, ("vote",))
    (folder / "compose.yaml").write_text("services:\n  web:\n    build: ./vote\n"
                                         "    image: r/web:${TAG:-dev}\n")
    assert main(["import", "compose", str(folder / "compose.yaml")]) == 0
    assert capsys.readouterr().err == ""
    (folder / ".env").write_text("TAG=1\n")
    assert main(["import", "compose", str(folder / "compose.yaml")]) == 0
    assert capsys.readouterr().err == (
        f"buildorch: warning: {folder / 'compose.yaml'}: ${{TAG}} is read from the environment "
        "(as ${env.NAME}); compose also reads .env beside the file, buildorch does not: export "
        "what it sets, or write the values in\n")


def test_a_variable_compose_refuses_is_an_error_at_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "c.yaml").write_text("services:\n  web:\n    build:\n      context: .\n"
                                     "      args: {PRICE: cost $5}\n")
    assert main(["import", "compose", str(tmp_path / "c.yaml")]) == 2
    assert capsys.readouterr().err == (
        f"buildorch: error: {tmp_path / 'c.yaml'}:5: services.web.build.args.PRICE: invalid "
        "variable reference in 'cost $5' (write $$ for a literal $)\n")


def run_import(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["import", "compose", str(path)])
    return code, out.getvalue(), err.getvalue()


RAW = st.sampled_from([
    "x-b: &b {context: ./x, args: {A: 1}}\nservices:\n  a: {build: *b}\n",
    "x-b: &b {context: ./x}\nservices:\n  a:\n    build:\n      <<: *b\n      target: t\n",
    "services:\n  a: {build: ./x, <<: {image: r/a}}\n",
    "services:\n  a: {build: ./x, profiles: !!str dev}\n",
    "services:\n  a: &a {build: ./x}\n  b: *a\n",
    "services:\n  a: {build: ./x, extends: a}\n",
    "services: !!binary aGVsbG8=\n",
    "services:\n  a: {build: {context: ./x, args: !!set {A, B}}}\n",
    "services:\n  a: {build: {context: ./x, ports: !reset []}}\n",
    "services:\n  a: {build: ./x, image: !reset null}\n",
])


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.one_of(FILES.map(yaml.safe_dump), RAW))
def test_any_compose_file_ends_in_exit_0_or_one_error_line(tmp_path: Path, text: str) -> None:
    (tmp_path / "x").mkdir(exist_ok=True)
    (tmp_path / "x" / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "compose.yaml").write_text(text)
    code, out, err = run_import(tmp_path / "compose.yaml")
    event(f"exit {code}")
    lines = err.splitlines()
    warnings = [line for line in lines if line.startswith("buildorch: warning: ")]
    if code == 0:
        assert warnings == lines
        assert yaml.safe_load(out)["images"]
    else:
        assert code == 2 and out == ""
        assert lines == [*warnings, lines[-1]] and lines[-1].startswith("buildorch: error: ")
