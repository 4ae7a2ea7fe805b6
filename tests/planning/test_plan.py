"""What a backend cannot carry out is a configuration error when planning (exit 2, with
the pipeline's file, line and field), never a traceback or an argv that fails later."""

from __future__ import annotations

import pytest

from buildorch.cli.main import main
from tests.conftest import MakeProject

PIPELINE = """\
version: 1
name: limits
images:
  a:
    context: a
    network: {network}
    contexts:
      {key}: {value}
    tags: [localhost:5000/limits/a:1]
"""


@pytest.mark.parametrize(("backend", "network", "key", "value", "field", "line", "problem"), [
    ("nerdctl", "host", "lib", "git://github.com/org/repo", "images.a.contexts.lib", 8,
     "git URL"),
    ("finch", "host", "lib", "oci-layout:///srv/oci@sha256:abc", "images.a.contexts.lib", 8,
     "without a digest"),
    ("buildctl", "host", "lib", "oci-layout:///srv/oci", "images.a.contexts.lib", 8,
     "needs the digest"),
    ("nerdctl", "host", "context", "../a", "images.a.contexts.context", 8, "clashes"),
])
def test_backend_limits_are_exit_2_at_validate_and_plan(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str], backend: str,
        network: str, key: str, value: str, field: str, line: int, problem: str) -> None:
    path = make_project(PIPELINE.format(network=network, key=key, value=value),
                        contexts=("a",))
    for command in ("validate", "plan"):
        assert main([command, "-f", str(path), "--backend", backend]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"buildorch: error: {path}:{line}: {field}: backend {backend}: ")
        assert problem in err and err.count("\n") == 1


@pytest.mark.parametrize("backend", ["docker", "nerdctl", "finch", "buildctl"])
def test_a_network_buildkit_does_not_know_is_refused_at_load(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str], backend: str) -> None:
    path = make_project(PIPELINE.format(network="bridge", key="lib", value="../a"),
                        contexts=("a",))
    assert main(["validate", "-f", str(path), "--backend", backend]) == 2
    err = capsys.readouterr().err
    assert err == (f"buildorch: error: {path}:6: images.a.network: network 'bridge': BuildKit "
                   "takes default, host, none (a build joins no named network)\n")


def test_a_target_context_is_refused_for_every_backend(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project(PIPELINE.format(network="host", key="lib", value="target:other"),
                        contexts=("a",))
    assert main(["validate", "-f", str(path), "--backend", "docker"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"buildorch: error: {path}:8: images.a.contexts.lib: BuildKit takes "
                          "no target: named context; for another image of this pipeline write "
                          "{image: other}")


def test_every_image_a_backend_cannot_build_is_listed_at_once(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: a\n"
                        "    shm_size: 64m\n  b:\n    context: a\n    ulimits: [nofile=1:2]\n"
                        "  c:\n    context: https://h/r.git\n", contexts=("a",))
    assert main(["validate", "-f", str(path), "--backend", "nerdctl"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines()
             if line.startswith("buildorch: error: ")]  # untagged images also get warnings
    assert [line.split(": ")[2:4] for line in lines] == [
        [f"{path}:6", "images.a.shm_size"], [f"{path}:9", "images.b.ulimits"],
        [f"{path}:11", "images.c.context"]]
    assert all(": backend nerdctl: " in line for line in lines)


@pytest.mark.parametrize("backend", ["docker", "buildctl", "nerdctl"])
def test_a_token_in_a_context_url_is_never_shown(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    token = "ghs_SecretToken12345"
    monkeypatch.setenv("GH_TOKEN", token)
    path = make_project("version: 1\nname: p\nimages:\n  a:\n"
                        "    context: https://x-access-token:${env.GH_TOKEN}@github.com/o/r.git\n"
                        "    tags: [r/a:1]\n")
    for args in (["plan"], ["plan", "--format", "json"], ["validate"]):
        main([*args, "-f", str(path), "--backend", backend])
        out, err = capsys.readouterr()
        assert token not in out + err
        if args[0] == "plan" or backend == "nerdctl":  # nerdctl refuses it, naming the URL
            assert "x-access-token:***@github.com" in out + err


@pytest.mark.parametrize(("fields", "refused"), [
    ("    annotations: {'index:k': v}\n", True),  # one platform, no attestation: no index
    ("    annotations: {'index:k': v}\n    platforms: [linux/amd64, linux/arm64]\n", False),
    ("    annotations: {'index:k': v}\n    attest: [type=sbom]\n", False),
    ("    annotations: {'index:k': v}\n    push: true\n", False),  # buildx adds provenance
    ("    annotations: {'manifest:k': v, plain: v}\n", False),
])
def test_an_index_annotation_needs_an_index(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str], fields: str,
        refused: bool) -> None:
    """moby/buildkit exporter/containerimage/export.go: "index annotations not supported for
    single platform export"."""
    path = make_project(f"version: 1\nname: p\nimages:\n  a:\n    context: a\n"
                        f"    tags: [r/a:1]\n{fields}", contexts=("a",))
    assert main(["validate", "-f", str(path), "--backend", "docker"]) == (2 if refused else 0)
    err = capsys.readouterr().err
    assert ("images.a.annotations: backend docker: an index: annotation needs an index"
            in err) is refused
