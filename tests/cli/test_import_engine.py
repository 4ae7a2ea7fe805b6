"""`import compose` on the real engine (issue 11's acceptance): a compose file with build
sections, ports and volumes, depends_on, a `service:` additional context, args and targets
becomes a pipeline that validates and builds through `buildorch build --backend docker`.

Each Dockerfile checks, in a RUN step, what the compose file gives it (an arg, the base
service's output reached through the named context), and has a stage after its target that
fails: the build passes only where the conversion kept each field.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.engine

BASE = os.environ.get("BUILDORCH_BASE_IMAGE", "localhost:5000/busybox:latest")


def compose_file(uid: str) -> str:
    return f"""\
name: bo-compose-{uid}
x-logging: &logging
  logging: {{driver: json-file}}
services:
  base:
    <<: *logging
    build:
      context: ./base
      target: final
      args: {{GREETING: hello-{uid}}}
  api:
    <<: *logging
    image: bo-test/compose-api-{uid}:dev
    build:
      context: ./api
      target: runtime
      args: {{VERSION: 3.10}}
      additional_contexts:
        base: service:base
      cache_from: [localhost:5000/bo-test/compose-cache:api]
    ports: ["8080:80"]
    volumes: ["./api:/app", "data:/data"]
    environment: {{DEBUG: "1"}}
    depends_on:
      base: {{condition: service_started}}
      db: {{condition: service_healthy}}
  worker:
    build: ./worker
    depends_on: [api, db]
    volumes: ["data:/data"]
  db:
    image: postgres:16
    ports: ["5432:5432"]
    volumes: ["db:/var/lib/postgresql/data"]
volumes:
  data: {{}}
  db: {{}}
"""


def dockerfiles(uid: str) -> dict[str, str]:
    return {
        "base/Dockerfile": f"""\
FROM {BASE} AS final
ARG GREETING
RUN test -n "$GREETING" && echo "$GREETING" > /greeting
FROM final AS never
RUN false
""",
        # `FROM base` is the named context compose's `service:base` gives
        "api/Dockerfile": f"""\
FROM base AS runtime
ARG VERSION
RUN test "$(cat /greeting)" = "hello-{uid}" && test "$VERSION" = "3.10"
RUN echo "$VERSION" > /version
FROM runtime AS never
RUN false
""",
        "worker/Dockerfile": f"FROM {BASE}\nRUN echo worker > /worker\n",
    }


def buildorch(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "buildorch", *args], cwd=folder,
                          capture_output=True, text=True, check=False, timeout=600)


def latest_record(folder: Path) -> dict[str, Any]:
    run = sorted((folder / ".buildorch" / "runs").iterdir())[-1]
    return dict(json.loads((run / "record.json").read_text()))


def test_an_imported_compose_file_validates_and_builds(engine: str, tmp_path: Path) -> None:
    uid = uuid.uuid4().hex[:10]
    for rel, text in dockerfiles(uid).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    (tmp_path / "docker-compose.yml").write_text(compose_file(uid))

    imported = buildorch(tmp_path, "import", "compose", "docker-compose.yml")
    assert imported.returncode == 0, imported.stderr
    assert imported.stderr.splitlines() == [
        "buildorch: warning: docker-compose.yml:20: services.api.build.cache_from: no "
        "per-image cache refs here: write cache-config/registry.yaml with `type: registry` and "
        "`ref: localhost:5000/bo-test/compose-cache` (each image then uses "
        "localhost:5000/bo-test/compose-cache:<image>-<branch>) and set `cache: registry` on "
        "the image",
        "buildorch: warning: docker-compose.yml:24: services.api.depends_on: db is run, not "
        "built: no build to wait for (left out)",
        "buildorch: warning: docker-compose.yml:29: services.worker.depends_on: db is run, not "
        "built: no build to wait for (left out)"]
    (tmp_path / "buildorch.yaml").write_text(imported.stdout)
    images = yaml.safe_load(imported.stdout)["images"]
    assert images["api"]["contexts"] == {"base": {"image": "base"}}
    assert images["worker"]["depends_on"] == ["api"]

    validated = buildorch(tmp_path, "validate")
    assert validated.returncode == 0, validated.stderr

    built = buildorch(tmp_path, "build", "--backend", "docker", "-j", "3")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    record = latest_record(tmp_path)
    runs = record["images"]
    assert {name: run["state"] for name, run in runs.items()} == {
        "base": "succeeded", "api": "succeeded", "worker": "succeeded"}
    # api is built on this run's base: in base's builder session, handed over through a
    # `target:` context (api's only dependency), and worker after api
    assert runs["api"]["argv"][-3:] == ["--", "base", "api"]
    session = json.loads((tmp_path / ".buildorch/runs" / record["id"] / "base.bake.json")
                         .read_text())
    assert session["target"]["api"]["contexts"] == {"base": "target:base"}
    assert runs["worker"]["started"] >= runs["api"]["ended"]
    # the tags compose would give: `image`, else PROJECT-SERVICE
    for tag in (f"bo-compose-{uid}-base", f"bo-test/compose-api-{uid}:dev",
                f"bo-compose-{uid}-worker"):
        inspected = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", tag],
                                   capture_output=True, text=True, check=False, timeout=60)
        assert inspected.returncode == 0, (tag, inspected.stderr)
