"""`buildorch repro` up to the engine: bad records, runs and images are one line and exit 2
(in-process and as a subprocess), and a damaged record never ends in a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buildorch.cli.main import main
from buildorch.errors import BuildorchError
from buildorch.jsontypes import Json, JsonObject
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.graph import build_graph
from buildorch.planning.input_sources import SourceReader
from buildorch.planning.plan import make_plan
from buildorch.planning.requests import PlanOptions
from buildorch.run.repro.record import image_facts
from tests.conftest import MakeProject
from tests.git_repo import GitRepo
from tests.run.record_samples import DIGEST, image, write_run

RUN_ID = "20261201T050000Z-abcdef"
PIPELINE = """\
version: 1
name: shop
images:
  base:
    context: base
    tags: ["localhost:5000/shop/base:dev"]
  app:
    context: app
    tags: ["localhost:5000/shop/app:dev"]
"""
FILES = {"base/Dockerfile": "FROM localhost:5000/busybox:latest\nRUN true\n",
         "app/Dockerfile": "FROM localhost:5000/shop/base:dev\nCOPY . /app\n",
         "app/app.py": "print(1)\n"}


class ReachedTheEngine(BuildorchError):
    """Stands in for asking the engine: the record was good enough to go on."""

    exit_code = 0


def record_for(root: Path) -> JsonObject:
    """A record as the executor writes it for the project at `root` (built, not run)."""
    pipeline = load_pipeline(root / "pipeline.yaml", LoadOptions(state_root=None))
    sources = SourceReader(pipeline, root).read(pipeline.images)
    plan = make_plan(pipeline, build_graph(pipeline), [], PlanOptions(sources=sources))
    images: JsonObject = {
        i.name: {**image(i.name, "succeeded", digest=DIGEST, input_digest=i.input_digest,
                         base_images={"localhost:5000/busybox:latest": DIGEST}),
                 **image_facts(i, None)} for i in plan.images}
    return {"id": RUN_ID, "pipeline": "shop", "file": "pipeline.yaml", "backend": "docker",
            "started": 1000.0, "ended": 1010.0, "outcome": "succeeded",
            "selection": ["base", "app"], "images": images, "published": [],
            "plan": {"nodes": [{"name": "app", "context": "app", "tags": []}]},
            "reproduces": None, "variables": {"GIT_BRANCH": "main"},
            "invocation": {"vars": {}, "sets": [], "cache": None, "push": False},
            "git": {"commit": None, "branch": "main", "dirty": False, "folder": None}}


@pytest.fixture
def project(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_project(PIPELINE, FILES).parent
    GitRepo(root).commit("init")
    monkeypatch.chdir(root)
    write_run(root, record_for(root))

    def engine(*_args: object) -> None:
        raise ReachedTheEngine("reached the engine")

    monkeypatch.setattr("buildorch.cli.repro.choose_backend", engine)
    return root


def errors(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines()
            if line.startswith("buildorch: error:")]


def test_a_good_record_goes_on_to_the_engine(project: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["repro", RUN_ID[:12], "app"]) == 0
    assert errors(capsys) == ["buildorch: error: reached the engine"]


@pytest.mark.parametrize(("argv", "message"), [
    (["repro", "2027"], "2027: no such run under "),
    (["repro", RUN_ID, "nope"], f"run {RUN_ID} has no image 'nope' (images: base, app)"),
    (["repro", "missing.json"], "missing.json: cannot read: No such file or directory"),
])
def test_a_bad_run_or_image_is_one_line_and_exit_2(
        project: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
        message: str) -> None:
    assert main(argv) == 2
    lines = errors(capsys)
    assert len(lines) == 1 and message in lines[0], lines


def change(project: Path, edit: JsonObject) -> Path:
    path = project / ".buildorch" / "runs" / RUN_ID / "record.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **edit}))
    return path


@pytest.mark.parametrize(("edit", "message"), [
    ({"images": {"base": image("base", "succeeded", base_images={"busybox": "x"})}},
     "images.base.base_images.busybox: 'x' is not a sha256 digest"),
    ({"git": {"folder": "services"}}, "git.folder: run 20261201T050000Z-abcdef ran in "
                                      "'services' of its repository; run repro there"),
    ({"selection": ["gone"], "images": {"gone": image("gone", "succeeded")}},
     "selection: image 'gone' of run 20261201T050000Z-abcdef is not in pipeline.yaml"),
    ({"images": {"app": image("app", "succeeded")}},
     "image 'base' is not in run 20261201T050000Z-abcdef (app depends on it)"),
    ({"started": "yesterday"}, "started: Input should be a valid number"),
    # what the record holds of the command line is not this command line's: name the record
    ({"invocation": {"cache": "ghost"}}, "invocation.cache: cache profile 'ghost' not found"),
    ({"invocation": {"sets": ["app.target=x", "noequals"]}},
     "invocation.sets.1: --set noequals: expected IMAGE.FIELD=VALUE"),
    ({"file": "ci/pipeline.yaml"}, "file: no pipeline file 'ci/pipeline.yaml' here"),
])
def test_a_bad_record_names_its_file_and_field(
        project: Path, capsys: pytest.CaptureFixture[str], edit: JsonObject,
        message: str) -> None:
    path = change(project, {**edit, "git": {"folder": "."}} if "git" not in edit else edit)
    assert main(["repro", str(path)]) == 2
    lines = errors(capsys)
    assert len(lines) == 1 and lines[0].startswith(f"buildorch: error: {path}: "), lines
    assert message in lines[0], lines


def test_a_bad_run_as_a_subprocess_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "buildorch", "repro", "2027"], cwd=tmp_path,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("buildorch: error: 2027: no such run under ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids,
                                                              max_size=4),
    max_leaves=12)
DAMAGED = ["variables", "invocation", "git", "selection", "file", "backend", "plan", "images",
           "images.base.inputs", "images.base.base_images", "images.base.cache_imports",
           "images.base.digest", "images.base.state", "images.app.inputs", "invocation.sets",
           "invocation.vars", "invocation.cache", "variables.GIT_BRANCH", "git.folder"]


def damaged(data: JsonObject, where: str, value: Json) -> JsonObject:
    """`data` with the field at the dotted path `where` replaced (its parents made)."""
    copy = json.loads(json.dumps(data))
    *parents, last = where.split(".")
    node = copy
    for key in parents:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[last] = value
    result: JsonObject = copy
    return result


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.sampled_from(DAMAGED), value=JSON_VALUES)
def test_a_damaged_record_goes_on_or_exits_2_in_one_line(
        project: Path, capsys: pytest.CaptureFixture[str], where: str, value: Json) -> None:
    path = project / "damaged.json"
    path.write_text(json.dumps(damaged(record_for(project), where, value)))
    capsys.readouterr()
    code = main(["repro", str(path)])
    lines = errors(capsys)
    assert code in (0, 2) and len(lines) == 1, (code, lines)
    assert code == 0 or lines[0] != "buildorch: error: reached the engine"
