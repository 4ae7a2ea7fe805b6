"""`doctor -f`: the local paths a pipeline's builds read (for Finch's VM on macOS)."""

from __future__ import annotations

from pathlib import Path

from buildorch.cli.doctor import pipeline_paths
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from tests.conftest import MakeProject


def test_pipeline_paths_are_contexts_dockerfiles_secrets_and_keys(
        make_project: MakeProject, tmp_path: Path) -> None:
    key = tmp_path / "elsewhere" / "id_ed25519"
    path = make_project(
        "version: 1\nname: p\nimages:\n  a:\n    context: a\n"
        "    contexts: {lib: lib, img: 'docker-image://r/x'}\n"
        "    secrets: [{id: t, src: creds/token}]\n"
        f"    ssh: [{{id: gh, paths: ['{key}']}}]\n", contexts=("a", "lib"))
    pipeline = load_pipeline(path, LoadOptions(env={}))
    folder = path.parent
    assert list(pipeline_paths(pipeline)) == [
        folder, folder / "a", folder / "a" / "Dockerfile", folder / "lib",
        folder / "creds" / "token", key]


def test_doctor_says_whether_reproducible_images_get_identical_digests() -> None:
    from buildorch.backends.capabilities import Capabilities
    from buildorch.backends.docker import docker_capabilities
    from buildorch.cli.doctor import reproducible_line

    assert reproducible_line(Capabilities()) == (
        "reproducible: yes (SOURCE_DATE_EPOCH, rewrite-timestamp: BuildKit 0.13 or later)")
    docker = docker_capabilities('{"DriverStatus": [["driver-type", '
                                 '"io.containerd.snapshotter.v1"]]}')
    assert reproducible_line(docker) == (
        "reproducible: yes (tarball + docker load: rewrite-timestamp)")
    old = docker_capabilities("Name: ci\nDriver: docker-container\nBuildKit version: v0.12.5\n")
    assert reproducible_line(old) == (
        "reproducible: no: BuildKit v0.12.5 has no rewrite-timestamp (0.13 or later has)")
