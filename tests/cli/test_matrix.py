"""Matrix images through the commands: `validate`, `plan`, `graph` and `build --dry-run` of
a matrix pipeline, selection by a matrix's key (bake's group of the targets a matrix
generated, docker/buildx `bake/bake.go` ParseFiles), and each matrix error: exit 2, one
line at the template, nothing run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from buildorch.cli.main import main
from buildorch.workdir import RUNS

PIPELINE = """\
version: 1
name: shop
images:
  base:
    matrix: {py: ["3.11", "3.12"]}
    name: base-${py}
    context: lib
    args: {PY: "${py}"}
    tags: ["localhost:5000/shop/base:${py}"]
  py-lib:
    matrix:
      py: ["3.11", "3.12"]
      os: [alpine, debian]
    name: py-lib-${py}-${os}
    context: lib
    depends_on: ["base-${py}"]
    args: {PY: "${py}", OS: "${os}"}
    tags: ["localhost:5000/shop/py-lib:${py}-${os}"]
  app:
    context: lib
    depends_on: [py-lib]
    tags: ["localhost:5000/shop/app:1"]
groups:
  default: [app]
  libs: [py-lib]
"""
LIBS = ["py-lib-3.11-alpine", "py-lib-3.11-debian", "py-lib-3.12-alpine", "py-lib-3.12-debian"]


def project(folder: Path, pipeline: str = PIPELINE) -> Path:
    (folder / "lib").mkdir(exist_ok=True)
    (folder / "lib" / "Dockerfile").write_text("ARG PY\nFROM scratch\n")
    (folder / "pipeline.yaml").write_text(pipeline)
    return folder / "pipeline.yaml"


def run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "buildorch", *args], cwd=folder,
                          capture_output=True, text=True, check=False)


def test_validate_counts_the_expanded_images(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = project(tmp_path)
    assert main(["validate", "-f", str(path)]) == 0
    # base-3.11 -> 2 libs, base-3.12 -> 2 libs, 4 libs -> app
    assert capsys.readouterr().out == f"{path}: ok (7 images, 8 dependencies)\n"


def test_plan_json_has_one_node_per_combination_with_its_values(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    project(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["plan", "-f", "pipeline.yaml", "--format", "json", "--backend", "docker"]) == 0
    plan = json.loads(capsys.readouterr().out)
    nodes = {n["name"]: n for n in plan["nodes"]}
    assert set(nodes) == {"base-3.11", "base-3.12", *LIBS, "app"}
    argv = nodes["py-lib-3.12-debian"]["argv"]
    assert "PY=3.12" in argv and "OS=debian" in argv
    assert sorted(nodes["app"]["depends_on"]) == LIBS
    assert nodes["py-lib-3.11-alpine"]["depends_on"] == ["base-3.11"]


def test_a_key_selects_all_its_images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    project(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["graph", "-f", "pipeline.yaml", "base"]) == 0
    assert capsys.readouterr().out.split() == ["base-3.11", "base-3.12"]
    assert main(["graph", "-f", "pipeline.yaml", "libs"]) == 0  # a group naming the key
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["base-3.11", "base-3.12", *LIBS]


def test_build_dry_run_of_one_combination(tmp_path: Path) -> None:
    project(tmp_path)
    result = run(tmp_path, "build", "-f", "pipeline.yaml", "--dry-run", "--backend", "docker",
                 "py-lib-3.12-alpine")
    assert result.returncode == 0, result.stderr
    assert "--build-arg PY=3.12 --build-arg OS=alpine" in result.stdout
    assert "base-3.11" not in result.stdout
    assert not (tmp_path / RUNS).exists()


def test_validate_as_a_subprocess(tmp_path: Path) -> None:
    project(tmp_path)
    result = run(tmp_path, "validate", "-f", "pipeline.yaml", "--set", "py-lib.args.X=1")
    assert (result.returncode, result.stdout, result.stderr) == (
        0, "pipeline.yaml: ok (7 images, 8 dependencies)\n", "")


Change = tuple[tuple[str, str], ...]  # text of PIPELINE replaced
ERRORS: list[tuple[str, Change, int, str, str]] = [
    ("empty-axis", (('py: ["3.11", "3.12"]', "py: []"),), 5, "images.base.matrix.py",
     "must not be empty"),
    ("axis-not-a-list", (('py: ["3.11", "3.12"]', 'py: "3.11"'),), 5, "images.base.matrix.py",
     "expected a list of values, got a string"),
    ("two-combinations-one-name", (("name: py-lib-${py}-${os}", "name: py-lib-${py}"),), 14,
     "images.py-lib.name", "both named 'py-lib-3.11'"),
    ("a-name-of-another-image", (('py: ["3.11", "3.12"]', 'py: [app, "3.12"]'),
                                 ("name: base-${py}", "name: ${py}"),
                                 ('depends_on: ["base-${py}"]', "depends_on: [base]")),
     6, "images.base.name", "'app' (py=app) is also the name of image 'app'"),
    ("invalid-generated-name", (("name: base-${py}", "name: base-${py}/x"),), 6,
     "images.base.name", "'base-3.11/x' (py=3.11) is not a valid image name"),
    ("no-name", (("    name: base-${py}\n", ""),), 4, "images.base.name",
     "needs a name template"),
    ("undefined-axis", (("name: base-${py}", "name: base-${pv}"),), 6, "images.base.name",
     "undefined variable 'pv'"),
    ("bad-axis-name", (('py: ["3.11", "3.12"]', 'py-v: ["3.11"]'),), 5,
     "images.base.matrix.py-v", "invalid axis name"),
    ("name-without-matrix", (("    depends_on: [py-lib]\n",
                              "    depends_on: [py-lib]\n    name: x\n"),), 22,
     "images.app.name", "a name template needs a matrix"),
    ("bad-field-in-template", (('args: {PY: "${py}"}', 'args: {PY: "${py}"}\n    pull: maybe'),),
     9, "images.base-3.11.pull", "expected true or false"),
]


@pytest.mark.parametrize(("change", "line", "field", "message"),
                         [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
@pytest.mark.parametrize("command", ["validate", "plan", "graph"])
def test_each_matrix_error_exits_2_with_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        command: str, change: Change, line: int, field: str, message: str) -> None:
    pipeline = PIPELINE
    for old, new in change:
        assert old in pipeline
        pipeline = pipeline.replace(old, new, 1)
    project(tmp_path, pipeline)
    monkeypatch.chdir(tmp_path)
    code = main([command, "-f", "pipeline.yaml"])
    out, err = capsys.readouterr()
    lines = err.splitlines()
    if field == "images.base-3.11.pull":  # one error per combination, each at the template
        assert lines[1] == lines[0].replace("base-3.11", "base-3.12")
        lines = lines[:1]
    assert (code, out, len(lines)) == (2, "", 1), err
    assert lines[0].startswith(f"buildorch: error: pipeline.yaml:{line}: {field}: "), err
    assert message in lines[0]
    assert not (tmp_path / RUNS).exists()


def test_a_matrix_error_as_a_subprocess(tmp_path: Path) -> None:
    project(tmp_path, PIPELINE.replace('py: ["3.11", "3.12"]', "py: []", 1))
    result = run(tmp_path, "build", "-f", "pipeline.yaml")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("buildorch: error: pipeline.yaml:5: images.base.matrix.py: must "
                             "not be empty: an axis without values gives no image\n")
    assert not (tmp_path / RUNS).exists()
