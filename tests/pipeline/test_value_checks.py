"""Values the engine would refuse, caught at load."""

from __future__ import annotations

import pytest

from buildorch.backends.flags import is_remote_context
from buildorch.cli.main import main
from buildorch.pipeline.value_checks import remote_context_problem
from tests.conftest import MakeProject


@pytest.mark.parametrize(("fields", "message"), [
    ("    platforms: [linux/amd64/v9]\n", "'linux/amd64/v9': unknown variant 'v9' of amd64 "
                                         "(known: one of v2, v3, v4)"),
    ("    platforms: [linux/amd46]\n", "'linux/amd46': unknown architecture 'amd46'"),
    ("    platforms: [linx/amd64]\n", "'linx/amd64': unknown operating system 'linx'"),
    ("    platforms: [linux/386/v2]\n", "unknown variant 'v2' of 386 (known: none)"),
    ("    network: foo\n", "network 'foo': BuildKit takes default, host, none"),
    ("    push: true\n", "push: true needs at least one tag to publish"),
])
def test_refused_values(make_project: MakeProject, capsys: pytest.CaptureFixture[str],
                        fields: str, message: str) -> None:
    path = make_project(f"version: 1\nname: p\nimages:\n  a:\n    context: a\n{fields}",
                        contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


@pytest.mark.parametrize("platform", ["linux/arm/v6", "linux/arm64/v8", "linux/amd64/v3",
                                      "linux/riscv64", "linux/ppc64le/power9", "windows/amd64",
                                      "linux/arm64/v9.2"])
def test_known_platforms_pass(make_project: MakeProject, platform: str) -> None:
    path = make_project(f"version: 1\nname: p\nimages:\n  a:\n    context: a\n"
                        f"    platforms: [{platform}]\n", contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 0


@pytest.mark.parametrize(("context", "remote"), [
    ("https://github.com/org/repo.git#main:sub", True), ("git@github.com:org/repo.git", True),
    ("http://127.0.0.1:8000/ctx.tar.gz", True), ("git://host/repo", True),
    ("./folder", False), ("folder/https:x", False),
])
def test_remote_contexts(context: str, remote: bool) -> None:
    assert is_remote_context(context) is remote
    if remote:
        assert remote_context_problem(context) is None


def test_a_remote_context_skips_the_folder_check(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a:\n"
                        "    context: https://github.com/org/repo.git#v1:app\n"
                        "    dockerfile: build/Dockerfile\n")
    assert main(["plan", "-f", str(path), "--backend", "docker"]) == 0
    out = capsys.readouterr().out
    assert "--file build/Dockerfile" in out
    assert out.rstrip().endswith("https://github.com/org/repo.git#v1:app") or (
        "https://github.com/org/repo.git#v1:app" in out)


@pytest.mark.parametrize(("fields", "message"), [
    ("    context: https://\n", "images.a.context: 'https://': a remote context names a host"),
    ("    context: https://h/r.git\n    dockerfile_inline: FROM x\n",
     "images.a.dockerfile_inline: dockerfile_inline needs a local context folder"),
    ("    context: https://h/r.git\n    dockerfile: /abs/Dockerfile\n",
     "images.a.dockerfile: '/abs/Dockerfile': an absolute Dockerfile path with a remote context"),
])
def test_remote_context_mistakes(make_project: MakeProject, capsys: pytest.CaptureFixture[str],
                                 fields: str, message: str) -> None:
    path = make_project(f"version: 1\nname: p\nimages:\n  a:\n{fields}")
    assert main(["validate", "-f", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_a_remote_context_still_has_its_platforms_checked(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a:\n"
                        "    context: https://github.com/o/r.git\n"
                        "    platforms: [linux/arm64, linux/amd64/v9, linx/amd64]\n")
    assert main(["validate", "-f", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"buildorch: error: {path}:6: images.a.platforms[1]: 'linux/amd64/v9': unknown "
        "variant 'v9' of amd64 (known: one of v2, v3, v4)",
        f"buildorch: error: {path}:6: images.a.platforms[2]: 'linx/amd64': unknown operating "
        "system 'linx'"]


def test_a_relative_dockerfile_is_inside_a_remote_context(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: https://h/r.git\n"
                        "    dockerfile: sub/../Dockerfile.web\n")
    assert main(["validate", "-f", str(path)]) == 0, capsys.readouterr().err
