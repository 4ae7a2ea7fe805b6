from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from buildorch.cli.main import main
from tests.conftest import MakeProject


@pytest.mark.parametrize(("images", "summary"), [
    ("  a: {context: a, tags: [localhost:5000/p/a:1]}\n", "(1 image, 0 dependencies)"),
    ("  a: {context: a, tags: [localhost:5000/p/a:1]}\n"
     "  b: {context: a, depends_on: [a], tags: [localhost:5000/p/b:1]}\n",
     "(2 images, 1 dependency)"),
])
def test_validate_counts_in_the_singular_and_the_plural(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str], images: str,
        summary: str) -> None:
    path = make_project("version: 1\nname: p\nimages:\n" + images, contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: ok {summary}\n"


# Jupyter's docker-stacks as a pipeline: each Dockerfile builds FROM its parent's repository
# without a tag (so `latest`), while the pipeline tags every image with a date.
STACKS = {
    "docker-stacks-foundation": None, "base-notebook": "docker-stacks-foundation",
    "minimal-notebook": "base-notebook", "scipy-notebook": "minimal-notebook",
    "r-notebook": "minimal-notebook", "julia-notebook": "minimal-notebook",
    "repo2docker": "minimal-notebook", "tensorflow-notebook": "scipy-notebook",
    "pytorch-notebook": "scipy-notebook", "datascience-notebook": "scipy-notebook",
    "pyspark-notebook": "scipy-notebook", "all-spark-notebook": "pyspark-notebook",
    "tensorflow-cuda": "tensorflow-notebook", "pytorch-cuda": "pytorch-notebook",
}
STACK_DOCKERFILE = """\
ARG REGISTRY=localhost:5000
ARG OWNER=jupyter
ARG BASE_IMAGE=$REGISTRY/$OWNER/{parent}
FROM $BASE_IMAGE
RUN true
"""


def stacks(make_project: MakeProject) -> Path:
    images = "".join(f"  {name}:\n    context: {name}\n"
                     f"    tags: [localhost:5000/jupyter/{name}:2024-06]\n" for name in STACKS)
    files = {f"{name}/Dockerfile": STACK_DOCKERFILE.format(parent=parent)
             for name, parent in STACKS.items() if parent}
    files["docker-stacks-foundation/Dockerfile"] = "FROM localhost:5000/busybox:latest\n"
    return make_project("version: 1\nname: stacks\nimages:\n" + images, files=files)


def stack_hint(path: Path, name: str) -> str:
    parent = STACKS[name]
    line = 4 + 3 * list(STACKS).index(name)
    return (f"{path}:{line}: images.{name}: {name}/Dockerfile:4: FROM "
            f"localhost:5000/jupyter/{parent} nearly names pipeline image '{parent}' (tagged "
            f"localhost:5000/jupyter/{parent}:2024-06): no dependency; use its tag, or "
            "depends_on plus a named context")


def test_fourteen_images_missing_their_bases_by_tag_get_one_warning_each(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = stacks(make_project)
    monkeypatch.chdir(path.parent)
    assert main(["validate", "-f", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == f"{path}: ok (14 images, 0 dependencies)\n"
    assert err.splitlines() == [f"buildorch: warning: {stack_hint(path, name)}"
                                for name, parent in STACKS.items() if parent]


def test_strict_makes_near_misses_errors(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = stacks(make_project)
    monkeypatch.chdir(path.parent)
    assert main(["validate", "-f", str(path), "--strict"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [f"buildorch: error: {stack_hint(path, name)}"
                                for name, parent in STACKS.items() if parent]


def test_strict_lists_hints_with_the_backends_errors(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project(
        "version: 1\nname: p\nimages:\n"
        "  base: {context: base, tags: [localhost:5000/p/base:1]}\n"
        "  app:\n    context: app\n    tags: [localhost:5000/p/app:1]\n"
        "    contexts: {lib: 'git://github.com/org/repo'}\n"
        "  test: {context: base}\n",
        files={"app/Dockerfile": "FROM localhost:5000/p/base:2\n"}, contexts=("base",))
    assert main(["validate", "-f", str(path), "--backend", "nerdctl"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[:3] for line in err] == [
        ["buildorch", "warning", f"{path}:5"],  # app: FROM misses base by tag
        ["buildorch", "warning", f"{path}:9"],  # test: its result is not kept
        ["buildorch", "error", f"{path}:8"],  # nerdctl takes no git URL context
    ]
    assert main(["validate", "-f", str(path), "--backend", "nerdctl", "--strict"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[:4] for line in err] == [
        ["buildorch", "error", f"{path}:5", "images.app"],
        ["buildorch", "error", f"{path}:8", "images.app.contexts.lib"],
        ["buildorch", "error", f"{path}:9", "images.test"],
    ]


def test_strict_as_a_subprocess_exits_2(make_project: MakeProject) -> None:
    path = stacks(make_project)
    result = subprocess.run([sys.executable, "-m", "buildorch", "validate", "-f", path.name,
                             "--strict"], cwd=path.parent, capture_output=True, text=True,
                            check=False)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[0] == (
        f"buildorch: error: {stack_hint(Path(path.name), 'base-notebook')}")
    assert len(result.stderr.splitlines()) == 13


TLS_POOL = """\
version: 1
name: p
builders:
  - name: remote
    backend: buildctl
    address: tcp://buildkit.internal:1234
    tls: {ca: certs/ca.pem, cert: certs/cert.pem, key: certs/key.pem}
images:
  a: {context: a, tags: [localhost:5000/p/a:1]}
  b: {context: a, tags: [localhost:5000/p/b:1]}
"""
CERTS = {"certs/ca.pem": "", "certs/cert.pem": "", "certs/key.pem": ""}


def test_tls_builder_validates_for_its_backend_and_not_for_one_without_tls(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    """What the pipeline's builder can reach over TLS, `--backend finch` cannot: exit 2, one
    line at the builder's tls however many images it builds, nothing run."""
    path = make_project(TLS_POOL, CERTS, contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 0
    assert main(["validate", "-f", str(path), "--backend", "docker"]) == 0
    capsys.readouterr()
    assert main(["validate", "-f", str(path), "--backend", "finch"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"buildorch: error: {path}:7: builders[0].tls: backend finch: "
                            "finch build cannot use TLS: it runs `buildctl --addr=HOST` without "
                            "TLS flags (containerd/nerdctl pkg/buildkitutil/buildkitutil.go), "
                            "and buildctl reads them from no environment variable; use backend "
                            "buildctl (or docker)\n")
