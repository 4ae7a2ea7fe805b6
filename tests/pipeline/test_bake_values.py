"""The forms bake and compose users write, turned into one; wrong ones named."""

from __future__ import annotations

import pytest

from buildorch.cli.main import main
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from tests.conftest import MakeProject


def load_image(make_project: MakeProject, fields: str) -> object:
    path = make_project(f"version: 1\nname: p\nimages:\n  a:\n    context: a\n{fields}",
                        contexts=("a",))
    return load_pipeline(path, LoadOptions(env={})).images["a"].spec


def error_of(make_project: MakeProject, capsys: pytest.CaptureFixture[str], fields: str) -> str:
    path = make_project(f"version: 1\nname: p\nimages:\n  a:\n    context: a\n{fields}",
                        contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err.split(": ", 3)[-1].strip()


@pytest.mark.parametrize(("written", "size"), [
    ("64m", 64 << 20), ("1g", 1 << 30), ("2GiB", 2 << 30), ("512kb", 512 << 10),
    ("1024", 1024), ("'1.5m'", int(1.5 * (1 << 20))), ("100B", 100),
])
def test_shm_size(make_project: MakeProject, written: str, size: int) -> None:
    assert load_image(make_project, f"    shm_size: {written}\n").shm_size == size  # type: ignore[attr-defined]


@pytest.mark.parametrize("fields", [
    "    extra_hosts: {db: 10.0.0.5, v6: '::1'}\n",
    "    extra_hosts: ['db:10.0.0.5', 'v6=::1']\n",
])
def test_extra_hosts_as_map_or_compose_list(make_project: MakeProject, fields: str) -> None:
    assert load_image(make_project, fields).extra_hosts == {  # type: ignore[attr-defined]
        "db": "10.0.0.5", "v6": "::1"}


@pytest.mark.parametrize("fields", [
    "    ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 64}\n",
    "    ulimits: ['nofile=1024:2048', 'nproc=64']\n",
])
def test_ulimits_as_compose_map_or_bake_list(make_project: MakeProject, fields: str) -> None:
    limits = load_image(make_project, fields).ulimits  # type: ignore[attr-defined]
    assert {n: (u.soft, u.hard) for n, u in limits.items()} == {
        "nofile": (1024, 2048), "nproc": (64, 64)}


@pytest.mark.parametrize(("fields", "message"), [
    ("    shm_size: lots\n", "'lots' is not a size"),
    ("    extra_hosts: {db: nowhere}\n", "db: 'nowhere' is not an IP address"),
    ("    extra_hosts: [db]\n", "'db': expected 'host:ip' or 'host=ip'"),
    ("    ulimits: {files: 10}\n", "unknown ulimit 'files'"),
    ("    ulimits: ['nofile']\n", "'nofile': expected 'name=soft[:hard]'"),
    ("    outputs: [type=registry]\n", "type=registry pushes at once"),
    ("    outputs: [type=s3]\n", "unknown output type 's3'"),
    ("    outputs: [type=local]\n", "type=local needs dest="),
    ("    outputs: ['type=image,name=x']\n", "type=image takes no name= here"),
    ("    outputs: [dest=x]\n", "no type="),
    ("    attest: [type=slsa]\n", "unknown attestation type 'slsa'"),
    ("    attest: ['type=provenance,mode=full']\n", "provenance mode 'full': use min or max"),
])
def test_wrong_values_are_named(make_project: MakeProject, capsys: pytest.CaptureFixture[str],
                                fields: str, message: str) -> None:
    assert message in error_of(make_project, capsys, fields)


def test_outputs_and_attest_are_kept_as_written(make_project: MakeProject) -> None:
    spec = load_image(make_project, "    outputs: ['type=local,dest=out/', type=cacheonly]\n"
                                    "    attest: [type=sbom, 'type=provenance,mode=max']\n")
    assert spec.outputs == ["type=local,dest=out/", "type=cacheonly"]  # type: ignore[attr-defined]
    assert spec.attest == ["type=sbom", "type=provenance,mode=max"]  # type: ignore[attr-defined]
