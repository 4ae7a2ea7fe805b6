"""`buildorch schema --events`: the JSON Schema of `build --progress json` lines, in
process and as a command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from buildorch.cli.main import main
from buildorch.run.event_schema import events_schema
from tests.conftest import REPO


def test_schema_events_prints_the_events_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--events"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == events_schema()
    assert printed == json.loads((REPO / "schemas" / "events.schema.json").read_text())


def test_schema_without_events_is_still_the_files_schema(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"pipeline", "cache_profile"}


def test_schema_events_as_a_command() -> None:
    done = subprocess.run([sys.executable, "-m", "buildorch", "schema", "--events"],
                          capture_output=True, text=True, check=False, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["title"] == "buildorch build --progress json"
