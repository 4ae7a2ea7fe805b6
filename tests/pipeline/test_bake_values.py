"""The forms bake and compose users write, turned into one; wrong ones named."""

from __future__ import annotations

import pytest

from buildorch.cli.main import main
from buildorch.pipeline import bake_values
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
    ("1024", 1024), ("'1.5m'", int(1.5 * (1 << 20))), ("100B", 100), ("1.5m", 3 << 19),
    ("0.1k", 102), ("9223372036854775807", (1 << 63) - 1), ("'1024'", 1024),
])
def test_shm_size(make_project: MakeProject, written: str, size: int) -> None:
    assert load_image(make_project, f"    shm_size: {written}\n").shm_size == size  # type: ignore[attr-defined]


@pytest.mark.parametrize(("ip", "problem"), [
    ("'[::1]'", "is not an IP address: write it without brackets"),
    ("'[10.0.0.1]'", "is not an IP address: write it without brackets"),
    ("'[::1'", "is not an IP address: write it without brackets"),
    ("'fe80::1%eth0'", "is not an IP address: BuildKit takes no zone (%...)"),
    ("010.0.0.1", "is not an IP address"), ("'10.0.0.1 '", "is not an IP address"),
    ("10.0.0", "is not an IP address"),
])
def test_extra_hosts_take_what_go_net_parse_ip_takes(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str], ip: str,
        problem: str) -> None:
    message = error_of(make_project, capsys, f"    extra_hosts: {{db: {ip}}}\n")
    assert message.endswith(f"db: {ip.strip(chr(39))!r} {problem}"), message


@pytest.mark.parametrize("ip", ["10.0.0.1", "'::1'", "'::ffff:10.0.0.1'", "'fe80::1'",
                                "host-gateway", "'2001:db8::'"])
def test_extra_hosts_plain_addresses_pass(make_project: MakeProject, ip: str) -> None:
    hosts = load_image(make_project, f"    extra_hosts: {{db: {ip}}}\n").extra_hosts  # type: ignore[attr-defined]
    assert hosts == {"db": ip.strip("'")}


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
    "    ulimits: {nofile: '1024:2048', nproc: '+64'}\n",
])
def test_ulimits_as_compose_map_or_bake_list(make_project: MakeProject, fields: str) -> None:
    limits = load_image(make_project, fields).ulimits  # type: ignore[attr-defined]
    assert {n: (u.soft, u.hard) for n, u in limits.items()} == {
        "nofile": (1024, 2048), "nproc": (64, 64)}


@pytest.mark.parametrize(("fields", "message"), [
    ("    shm_size: lots\n", "'lots' is not a size"),
    ("    shm_size: 1.5\n", "'1.5' is not a whole number of bytes: give a unit (1.5m, 1.5g)"),
    ("    shm_size: '2.5b'\n", "'2.5b' is not a whole number of bytes"),
    ("    shm_size: 9223372036854775808\n", "'9223372036854775808' is more than the largest "
                                          "size, 9223372036854775807 bytes"),
    ("    shm_size: 8192p\n", "'8192p' is more than the largest size"),
    ("    extra_hosts: {db: nowhere}\n", "db: 'nowhere' is not an IP address"),
    ("    extra_hosts: [db]\n", "'db': expected 'host:ip' or 'host=ip'"),
    ("    ulimits: {files: 10}\n", "unknown ulimit 'files'"),
    ("    ulimits: ['nofile']\n", "'nofile': expected 'name=soft[:hard]'"),
    ("    outputs: [type=registry]\n", "type=registry pushes at once"),
    ("    outputs: [type=s3]\n", "unknown output type 's3'"),
    ("    outputs: [type=local]\n", "type=local needs dest="),
    ("    outputs: ['type=image,name=x']\n", "type=image takes no name= here"),
    ("    outputs: [dest=x]\n", "no type="),
    *((f"    outputs: ['type={kind},dest=-']\n", "dest=- writes to standard output, which "
       "buildorch keeps as the build log") for kind in ("tar", "oci", "docker", "local")),
    ("    outputs: ['type=local,dest=\"x']\n", "'type=local,dest=\"x': a quote inside a field "
     "that does not start with one (a field with a comma is quoted whole: \"dest=a,b\")"),
    ("    outputs: ['type=local,\"dest=x']\n", "a quoted field is not closed"),
    ("    outputs: ['type=local,\"dest=x\"y']\n", "a quoted field goes on after its closing"),
    ("    attest: ['type=sbom,\"generator=x']\n", "a quoted field is not closed"),
    ("    attest: [type=slsa]\n", "unknown attestation type 'slsa'"),
    ("    attest: ['type=provenance,mode=full']\n", "provenance mode 'full': use min or max"),
])
def test_wrong_values_are_named(make_project: MakeProject, capsys: pytest.CaptureFixture[str],
                                fields: str, message: str) -> None:
    assert message in error_of(make_project, capsys, fields)


@pytest.mark.parametrize(("fields", "message"), [
    ("    ulimits: {nproc: {soft: 5, hard: 3}}\n", "soft limit 5 is above hard limit 3"),
    ("    ulimits: ['nproc=5:3']\n", "soft limit 5 is above hard limit 3"),
    ("    ulimits: {nproc: '-1:3'}\n", "soft limit -1 (unlimited) is above hard limit 3"),
    ("    ulimits: {nofile: true}\n", "expected a number (-1: unlimited) or "
                                      "'soft:hard', got true"),
    ("    ulimits: {nofile: {soft: 1, hard: false}}\n", "expected a number"),
    ("    ulimits: {nofile: 1.5}\n", "expected a number"),
    ("    ulimits: {nofile: 9223372036854775808}\n",
     "9223372036854775808 is above the largest limit, 9223372036854775807"),
    ("    ulimits: ['nofile=1:9223372036854775808']\n", "is above the largest limit"),
    ("    ulimits: ['nofile=1024:']\n", "'' is not a number"),
    ("    ulimits: ['nofile=1:2:3']\n", "'1:2:3': expected 'soft[:hard]'"),
    ("    ulimits: {nofile: -2}\n", "-2 is no limit"),
    ("    ulimits: {nofile: '1_000'}\n", "'1_000' is not a number"),
])
def test_ulimits_go_units_refuses(make_project: MakeProject,
                                  capsys: pytest.CaptureFixture[str], fields: str,
                                  message: str) -> None:
    assert message in error_of(make_project, capsys, fields)


def test_a_wrong_ulimit_is_named_at_its_line(make_project: MakeProject,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: a\n    ulimits:\n"
                        "      nofile: 10\n      nproc: '5:3'\n", contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 2
    assert capsys.readouterr().err == (f"buildorch: error: {path}:8: images.a.ulimits.nproc: "
                                       "soft limit 5 is above hard limit 3\n")


@pytest.mark.parametrize(("written", "limits"), [
    ("{nproc: {soft: 5, hard: -1}}", (5, -1)), ("{nproc: -1}", (-1, -1)),
    ("['nproc=9223372036854775807']", ((1 << 63) - 1, (1 << 63) - 1)),
    ("{nproc: {soft: 0, hard: 0}}", (0, 0)),
])
def test_ulimits_within_limits(make_project: MakeProject, written: str,
                               limits: tuple[int, int]) -> None:
    nproc = load_image(make_project, f"    ulimits: {written}\n").ulimits["nproc"]  # type: ignore[attr-defined]
    assert (nproc.soft, nproc.hard) == limits


def test_quoted_fields_as_go_reads_them(make_project: MakeProject) -> None:
    spec = load_image(make_project, "    outputs: ['type=local,\"dest=a,b\"', "
                                    "'type=tar,\"dest=x\"\"y\"']\n")
    assert spec.outputs == ['type=local,"dest=a,b"', 'type=tar,"dest=x""y"']  # type: ignore[attr-defined]


def test_outputs_and_attest_are_kept_as_written(make_project: MakeProject) -> None:
    spec = load_image(make_project, "    outputs: ['type=local,dest=out/', type=cacheonly]\n"
                                    "    attest: [type=sbom, 'type=provenance,mode=max']\n")
    assert spec.outputs == ["type=local,dest=out/", "type=cacheonly"]  # type: ignore[attr-defined]
    assert spec.attest == ["type=sbom", "type=provenance,mode=max"]  # type: ignore[attr-defined]


def test_a_float_size_is_refused_whatever_reaches_the_validator() -> None:
    with pytest.raises(ValueError, match=r"'1\.5' is not a whole number of bytes"):
        bake_values.byte_size(1.5)
    assert bake_values.byte_size(True) is True  # pydantic names the type


def test_compose_list_form_may_bracket_an_ipv6_address(make_project: MakeProject) -> None:
    """compose-spec services.md extra_hosts: `myhostv6=[::1]`; the brackets are stripped."""
    spec = load_image(make_project, "    extra_hosts: ['v6=[::1]', 'v4:10.0.0.1']\n")
    assert spec.extra_hosts == {"v6": "::1", "v4": "10.0.0.1"}  # type: ignore[attr-defined]
