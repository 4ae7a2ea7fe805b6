"""argv contract for `docker buildx build`: every field of the request is mapped.

Syntax from docker/buildx docs/reference/buildx_build.md and the buildx 0.13 sources named at
each test (commands/build.go, build/opt.go, util/buildflags/attests.go and export.go)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from buildorch.backends.docker import DockerBackend, docker_argv, docker_capabilities
from buildorch.backends.request import AttrSpec, BuilderTls, BuildRequest, Ulimit, Unsupported
from tests.backends.sample_requests import FULL as BASE_FULL
from tests.backends.sample_requests import MINIMAL, pairs

FULL = dataclasses.replace(BASE_FULL, outputs=(AttrSpec.parse("type=oci,dest=out.tar"),))


def test_every_field_is_mapped() -> None:
    argv = docker_argv(FULL)
    assert argv[:5] == ["docker", "buildx", "build", "--builder", "mybuilder"]
    assert argv[-1] == "svc/api"
    assert pairs(argv, "--file") == ["svc/api/Dockerfile"]
    assert pairs(argv, "--target") == ["runtime"]
    assert pairs(argv, "--build-arg") == ["A=1", "B=x y"]
    assert pairs(argv, "--build-context") == ["base=docker-image://r/base@sha256:abc",
                                              "src=../src"]
    assert pairs(argv, "--secret") == ["id=tok,env=TOKEN", "id=netrc,src=/home/u/.netrc"]
    assert pairs(argv, "--ssh") == ["default", "github=/k1,/k2"]
    assert pairs(argv, "--platform") == ["linux/amd64,linux/arm64"]
    assert pairs(argv, "--label") == ["team=core"]
    assert pairs(argv, "--tag") == ["r/api:1", "r/api:latest"]
    assert pairs(argv, "--cache-from") == ["type=registry,ref=r/cache:api"]
    assert pairs(argv, "--cache-to") == ["type=registry,ref=r/cache:api,mode=max"]
    assert pairs(argv, "--attest") == ["type=sbom,generator=r/scanner:1",
                                       "type=provenance,mode=max"]
    assert pairs(argv, "--annotation") == ["org.opencontainers.image.title=API"]
    # image attributes: the push is spelled out as the image output it stands for
    assert pairs(argv, "--output") == ["type=oci,dest=out.tar",
                                       "type=image,push=true,compression=zstd,"
                                       "oci-mediatypes=true"]
    assert pairs(argv, "--network") == ["host"]
    assert pairs(argv, "--add-host") == ["db.internal:10.0.0.5"]
    assert pairs(argv, "--shm-size") == ["134217728"]
    assert pairs(argv, "--ulimit") == ["nofile=1024:2048"]
    assert pairs(argv, "--no-cache-filter") == ["deps"]
    assert pairs(argv, "--metadata-file") == ["meta.json"]
    assert "--pull" in argv and "--no-cache" in argv
    assert "--push" not in argv and "--load" not in argv


def test_minimal_request_has_no_optional_flags() -> None:
    argv = docker_argv(BuildRequest(name="a", context=".", dockerfile="Dockerfile"))
    assert argv == ["docker", "buildx", "build", "--progress", "plain",
                    "--file", "Dockerfile", "."]


def test_docker_host_address_goes_before_buildx() -> None:
    argv = docker_argv(BuildRequest(name="a", context=".", dockerfile="Dockerfile",
                                    builder="unix:///run/d.sock", load=True))
    assert argv[:4] == ["docker", "--host", "unix:///run/d.sock", "buildx"]
    assert "--builder" not in argv and "--load" in argv


# docker/cli cli/flags/options.go (at 3499669e) InstallFlags: the global flags `--host`,
# `--tls`, `--tlsverify`, `--tlscacert`, `--tlscert`, `--tlskey`, `--context`, ... A CLI
# plugin (buildx) parses the same global flags (docker/cli cli/cobra.go
# SetupPluginRootCommand -> setupCommonRootCommand -> InstallFlags).
DOCKER_GLOBAL = {"--config", "--context", "--debug", "--host", "--log-level", "--tls",
                 "--tlscacert", "--tlscert", "--tlskey", "--tlsverify"}
TLS = BuilderTls("certs/ca.pem", "certs/cert.pem", "certs/key.pem")
TLS_FLAGS = ["--tlsverify", "--tlscacert", "certs/ca.pem", "--tlscert", "certs/cert.pem",
             "--tlskey", "certs/key.pem"]
TCP = "tcp://docker.internal:2376"


def test_a_tls_docker_host_gets_the_global_tls_flags_before_buildx() -> None:
    req = dataclasses.replace(MINIMAL, builder=TCP, builder_tls=TLS, load=True)
    argv = docker_argv(req)
    split = argv.index("buildx")
    assert argv[:split] == ["docker", "--host", TCP, *TLS_FLAGS]
    assert {a for a in argv[:split] if a.startswith("--")} <= DOCKER_GLOBAL
    assert not any(a.startswith("--tls") for a in argv[split:])
    only_ca = docker_argv(dataclasses.replace(req, builder_tls=BuilderTls("ca.pem")))
    assert only_ca[:6] == ["docker", "--host", TCP, "--tlsverify", "--tlscacert", "ca.pem"]
    assert only_ca[6] == "buildx"


def test_every_call_to_a_tls_docker_host_carries_its_tls() -> None:
    backend = DockerBackend()
    head = ["docker", "--host", TCP, *TLS_FLAGS]
    assert backend.version_argv(TCP, TLS) == [*head, "buildx", "version"]
    assert backend.probe_argv(TCP, TLS) == [*head, "info", "--format", "{{json .}}"]
    assert backend.push_argv("r/a:1", TCP, TLS) == [*head, "push", "r/a:1"]
    assert backend.load_archive_argv("x.tar", TCP, TLS) == [*head, "load", "--input", "x.tar"]
    assert backend.inspect_argv(["r/a:1"], TCP, TLS) == [
        *head, "image", "inspect", "--format", "{{.Id}}", "r/a:1"]
    assert backend.untag_argv(["r/a:1"], TCP, TLS) == [*head, "image", "rm", "r/a:1"]
    assert backend.stored_argv(["sha256:1"], TCP, TLS) == [
        *head, "image", "inspect", "--format", "{{json .}}", "sha256:1"]
    assert backend.tag_argv("sha256:1", "r/a:1", TCP, TLS) == [*head, "tag", "sha256:1",
                                                                "r/a:1"]


def test_a_tls_server_name_is_refused_docker_has_no_flag_for_it() -> None:
    """docker checks the daemon's certificate against the host of `--host`; options.go has no
    server-name flag (DOCKER_GLOBAL), so the pipeline's name cannot be honoured."""
    named = BuilderTls("ca.pem", server_name="buildkit")
    assert "no flag for a TLS server name" in str(DockerBackend().tls_problem(named))
    assert DockerBackend().tls_problem(TLS) is None
    with pytest.raises(Unsupported, match="no flag for a TLS server name") as err:
        docker_argv(dataclasses.replace(MINIMAL, builder=TCP, builder_tls=named))
    assert err.value.field == ("builder",)


def test_push_and_load_without_image_attributes_stay_shorthands() -> None:
    plain = dataclasses.replace(FULL, image_attrs=(), load=True)
    argv = docker_argv(plain)
    assert "--push" in argv and "--load" in argv
    assert pairs(argv, "--output") == ["type=oci,dest=out.tar"]


def test_image_attributes_replace_load_and_push_by_the_outputs_they_stand_for() -> None:
    """commands/build.go: `--load` is "Shorthand for --output=type=docker", `--push` for
    `type=registry` (= `type=image,push=true`); build/opt.go fills `name` of image, oci and
    docker exports from `--tag`."""
    attrs = (("compression", "zstd"), ("force-compression", "true"))
    load = dataclasses.replace(MINIMAL, tags=("r/a:1",), load=True, image_attrs=attrs)
    argv = docker_argv(load)
    assert pairs(argv, "--output") == ["type=docker,compression=zstd,force-compression=true"]
    assert pairs(argv, "--tag") == ["r/a:1"] and "--load" not in argv
    both = docker_argv(dataclasses.replace(load, push=True))
    assert pairs(both, "--output") == [
        "type=image,push=true,compression=zstd,force-compression=true",
        "type=docker,compression=zstd,force-compression=true"]
    # neither loaded nor pushed: the image output the pipeline asked for still carries them
    alone = docker_argv(dataclasses.replace(load, load=False))
    assert pairs(alone, "--output") == ["type=image,compression=zstd,force-compression=true"]


def test_image_attributes_never_name_or_push() -> None:
    with pytest.raises(Unsupported) as err:
        docker_argv(dataclasses.replace(MINIMAL, image_attrs=(("push", "false"),)))
    assert err.value.field == ("outputs",)


def test_disabled_provenance_is_passed_on_to_turn_off_buildx_default() -> None:
    """build/opt.go adds `attest:provenance=mode=min,inline-only=true` unless the request has a
    provenance attestation; util/buildflags/attests.go reads `disabled=true` as "none"."""
    req = dataclasses.replace(MINIMAL, attest=(AttrSpec.parse("type=provenance,disabled=true"),))
    assert pairs(docker_argv(req), "--attest") == ["type=provenance,disabled=true"]


def test_annotation_key_with_a_colon_gets_the_manifest_type() -> None:
    """util/buildflags/export.go ParseAnnotations reads `TYPE[,TYPE]:KEY=VALUE`; the manifest
    is the default level, so `manifest:` changes nothing but keeps the colon in the key."""
    req = dataclasses.replace(MINIMAL, annotations=(("com.example:build", "7"), ("k", "a=b,c")))
    assert pairs(docker_argv(req), "--annotation") == ["manifest:com.example:build=7",
                                                       "k=a=b,c"]
    with pytest.raises(Unsupported) as err:
        docker_argv(dataclasses.replace(MINIMAL, annotations=(("a b", "x"),)))
    assert err.value.field == ("annotations",)


def test_annotation_written_with_a_buildx_level_goes_as_written() -> None:
    """bake's `index:KEY` (and `manifest[PLATFORM]:`, `index,manifest:` ...) names the level,
    as buildx ParseAnnotations reads it: seen on the engine, `index:` lands on the pushed
    index, where `manifest:index:KEY` put a key `index:KEY` on the manifest."""
    req = dataclasses.replace(MINIMAL, annotations=(
        ("index:org.example.a", "1"), ("manifest[linux/amd64]:b", "2"),
        ("index,manifest-descriptor:c", "3"), ("manifest:d:e", "4"), ("indexx:f", "5")))
    assert pairs(docker_argv(req), "--annotation") == [
        "index:org.example.a=1", "manifest[linux/amd64]:b=2", "index,manifest-descriptor:c=3",
        "manifest:d:e=4", "manifest:indexx:f=5"]


def test_run_limits_follow_buildx_flag_syntax() -> None:
    """build/utils.go toBuildkitExtraHosts (0.13) cuts `host:ip` at the first colon, so an
    IPv6 address goes bare; `--ulimit` is docker's UlimitOpt (`name=soft:hard`)."""
    req = dataclasses.replace(MINIMAL, extra_hosts=(("a", "10.0.0.1"), ("b", "fd00::1")),
                              ulimits=(Ulimit("nofile", 1024, 2048), Ulimit("nproc", 64, 64)),
                              no_cache_filter=("deps", "test"), shm_size=0)
    argv = docker_argv(req)
    assert pairs(argv, "--add-host") == ["a:10.0.0.1", "b:fd00::1"]
    assert pairs(argv, "--ulimit") == ["nofile=1024:2048", "nproc=64:64"]
    assert pairs(argv, "--no-cache-filter") == ["deps", "test"]
    assert pairs(argv, "--shm-size") == ["0"]
    assert "--pull" not in argv


def test_user_outputs_go_as_written() -> None:
    """Several `--output`s (BuildKit >= 0.13); `type=cacheonly` is buildx's own "fake exporter
    to opt out of default behaviors" (build/opt.go)."""
    outputs = tuple(AttrSpec.parse(t) for t in (
        "type=local,dest=out", "type=tar,dest=o.tar", "type=oci,dest=o.oci", "type=docker",
        "type=cacheonly"))
    argv = docker_argv(dataclasses.replace(MINIMAL, outputs=outputs))
    assert pairs(argv, "--output") == ["type=local,dest=out", "type=tar,dest=o.tar",
                                       "type=oci,dest=o.oci", "type=docker", "type=cacheonly"]


def test_remote_context_is_the_positional_argument() -> None:
    """buildx_build.md: `docker buildx build [OPTIONS] PATH | URL | -`; with a URL, a relative
    `--file` names a file inside it (build/opt.go loadInputs sets `filename` to it)."""
    for context in ("https://github.com/org/repo.git#main:svc", "https://host/ctx.tar.gz",
                    "git@github.com:org/repo.git#v1", "ssh://git@host/org/repo.git",
                    "git://host/org/repo.git"):
        req = dataclasses.replace(MINIMAL, context=context, dockerfile="docker/Dockerfile")
        argv = docker_argv(req)
        assert argv[-1] == context and pairs(argv, "--file") == ["docker/Dockerfile"]


def test_inline_dockerfile_with_a_remote_context_is_an_absolute_local_file() -> None:
    """build/opt.go loadInputs: with a remote context, an absolute `--file` is read from this
    machine (`dockerfilekey=dockerfile`); checked with buildx 0.13.1."""
    req = dataclasses.replace(MINIMAL, context="https://host/org/repo.git",
                              dockerfile=".buildorch/run/api.Dockerfile",
                              dockerfile_inline="FROM scratch\n")
    [dockerfile] = pairs(docker_argv(req), "--file")
    assert Path(dockerfile).is_absolute()
    assert dockerfile.endswith("/.buildorch/run/api.Dockerfile")
    local = dataclasses.replace(req, context="svc")
    assert pairs(docker_argv(local), "--file") == [".buildorch/run/api.Dockerfile"]


def test_other_schemes_are_no_context() -> None:
    req = dataclasses.replace(MINIMAL, context="docker-image://alpine")
    with pytest.raises(Unsupported) as err:
        docker_argv(req)
    assert err.value.field == ("context",)


# --- reproducible: rewrite-timestamp on the image kept --------------------------------------

def test_rewritten_timestamps_ride_on_the_outputs_load_and_push_stand_for() -> None:
    """`rewrite-timestamp=true` is an attribute of the image and docker exporters (moby/buildkit
    README.md "Image/Registry", BuildKit 0.13), so `--load`/`--push` are spelled out as the
    outputs they stand for (commands/build.go), after the pipeline's own attributes."""
    load = dataclasses.replace(MINIMAL, tags=("r/a:1",), load=True, rewrite_timestamp=True)
    argv = docker_argv(load)
    assert pairs(argv, "--output") == ["type=docker,rewrite-timestamp=true"]
    assert "--load" not in argv
    both = dataclasses.replace(load, push=True, image_attrs=(("compression", "zstd"),))
    assert pairs(docker_argv(both), "--output") == [
        "type=image,push=true,compression=zstd,rewrite-timestamp=true",
        "type=docker,compression=zstd,rewrite-timestamp=true"]
    # the pipeline's own `rewrite-timestamp` attribute is not repeated, nor overruled
    own = dataclasses.replace(load, image_attrs=(("rewrite-timestamp", "false"),))
    assert pairs(docker_argv(own), "--output") == ["type=docker,rewrite-timestamp=false"]


def test_without_rewriting_load_and_push_stay_shorthands() -> None:
    argv = docker_argv(dataclasses.replace(MINIMAL, tags=("r/a:1",), load=True, push=True,
                                           reproducible=True))
    assert "--output" not in argv and "--load" in argv and "--push" in argv


def test_nothing_kept_no_image_output_just_to_rewrite() -> None:
    """An image neither loaded nor pushed (`type=cacheonly`, or files only) gets no image
    output of its own; its file outputs carry what planning gave them."""
    oci = AttrSpec.parse("type=oci,dest=o.tar,rewrite-timestamp=true")
    req = dataclasses.replace(MINIMAL, outputs=(oci,), rewrite_timestamp=True)
    assert pairs(docker_argv(req), "--output") == ["type=oci,dest=o.tar,rewrite-timestamp=true"]


ARCHIVE = ".buildorch/runs/{run_id}/a.image.tar"
REPRODUCIBLE_LOAD = dataclasses.replace(MINIMAL, tags=("r/a:1", "buildorch.local/p/a:{run_id}"),
                                        load=True, rewrite_timestamp=True, load_archive=ARCHIVE)


def test_a_reproducible_load_is_a_tarball_the_run_loads() -> None:
    """Docker's engine forces `unpack=true` on what it loads (moby builder/builder-next/exporter/
    overrides/wrapper.go), which BuildKit refuses with rewrite-timestamp (moby/buildkit#4230,
    seen on Docker 26.1). The docker exporter with a `dest` writes a tarball instead, and
    rewrites (docker/docs#23418); buildx names it from every --tag (build/opt.go "fill in image
    exporter names from tags"), so no `name=` of buildorch's."""
    argv = docker_argv(REPRODUCIBLE_LOAD)
    assert pairs(argv, "--output") == [f"type=docker,dest={ARCHIVE},rewrite-timestamp=true"]
    assert "--load" not in argv
    assert pairs(argv, "--tag") == ["r/a:1", "buildorch.local/p/a:{run_id}"]
    # the pipeline's image attributes ride on it, and a push keeps its own output
    both = dataclasses.replace(REPRODUCIBLE_LOAD, push=True,
                               image_attrs=(("compression", "zstd"),))
    assert pairs(docker_argv(both), "--output") == [
        "type=image,push=true,compression=zstd,rewrite-timestamp=true",
        f"type=docker,dest={ARCHIVE},compression=zstd,rewrite-timestamp=true"]
    # a tarball only for an image that is loaded
    assert "--output" not in docker_argv(dataclasses.replace(
        REPRODUCIBLE_LOAD, load=False, rewrite_timestamp=False))


@pytest.mark.parametrize("change", [
    {"platforms": ("linux/amd64", "linux/arm64")},
    {"attest": (AttrSpec.parse("type=provenance,mode=min"),)}])
def test_an_index_is_loaded_from_an_oci_tarball(change: dict[str, object]) -> None:
    """BuildKit's docker exporter refuses an index ("docker exporter does not support exporting
    manifest lists, use the oci exporter instead", seen on Docker 26.1 with an attestation);
    `docker load` of the OCI tarball stores the index under the digest the build reported."""
    req = dataclasses.replace(REPRODUCIBLE_LOAD, **change)  # type: ignore[arg-type]
    assert pairs(docker_argv(req), "--output") == [
        f"type=oci,dest={ARCHIVE},rewrite-timestamp=true"]
    disabled = dataclasses.replace(REPRODUCIBLE_LOAD,
                                   attest=(AttrSpec.parse("type=provenance,disabled=true"),))
    assert pairs(docker_argv(disabled), "--output")[0].startswith("type=docker,")


@pytest.mark.parametrize(("address", "host"), [
    (None, []), ("unix:///run/other.sock", ["--host", "unix:///run/other.sock"]),
    ("tcp://10.0.0.2:2376", ["--host", "tcp://10.0.0.2:2376"]), ("default", []),
    ("ci-builder", [])])
def test_every_docker_builder_rewrites_through_a_tarball_docker_loads(
        address: str | None, host: list[str]) -> None:
    """Whatever the builder: the docker driver cannot load with rewritten timestamps, and a
    builder with its own BuildKit loads through `docker load` anyway (buildx build/build.go),
    into the daemon the docker host names, or the current context's for a builder name."""
    backend = DockerBackend()
    assert backend.loads_archives
    assert backend.rewrite_timestamp_problem(address) is None
    assert backend.load_archive_argv("x.tar", address) == [
        "docker", *host, "load", "--input", "x.tar"]


@pytest.mark.parametrize(("probe", "can"), [
    ('{"DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]]}', True),
    ('{"DriverStatus": [["Backing Filesystem", "extfs"]]}', True),
    ("Name: ci\nDriver: docker-container\nNodes:\nBuildKit version: v0.13.2\n", True),
    ("Name: ci\nDriver: docker-container\nNodes:\nBuildKit version: v0.12.5\n", False),
    ("Name: ctx\nDriver: docker\nNodes:\nBuildKit version: v0.0.0+unknown\n", True),
    ("Name: remote\nDriver: remote\n", True),  # no version shown: taken to be able
])
def test_doctor_learns_from_the_probe_whether_timestamps_can_be_rewritten(
        probe: str, can: bool) -> None:
    """Through the tarball and `docker load`, unless the builder's own BuildKit predates
    rewrite-timestamp (0.13). The docker driver's BuildKit is Docker's own, which buildx shows
    as v0.0.0+unknown (Docker 26.1 on the stack)."""
    caps = docker_capabilities(probe)
    assert (caps.rewrite_timestamp is None) == can
    assert caps.rewrite_timestamp_via == "tarball + docker load"
    if "v0.12.5" in probe:
        assert caps.rewrite_timestamp is not None and "0.13" in caps.rewrite_timestamp


def test_run_scoped_names_are_removed_in_one_call_on_the_builders_daemon() -> None:
    # `docker image rm [OPTIONS] IMAGE [IMAGE...]` (docker/cli cli/command/image/remove.go)
    refs = ["buildorch.local/p/a:r", "buildorch.local/p/b:r"]
    assert DockerBackend().untag_argv(refs, None) == ["docker", "image", "rm", *refs]
    assert DockerBackend().untag_argv(refs, "tcp://h:2376") == [
        "docker", "--host", "tcp://h:2376", "image", "rm", *refs]


def test_run_scoped_names_are_checked_in_one_call() -> None:
    # `docker image inspect [OPTIONS] IMAGE [IMAGE...]` (docker/cli cli/command/image/inspect.go)
    refs = ["buildorch.local/p/a:r", "buildorch.local/p/b:r"]
    assert DockerBackend().inspect_argv(refs, None) == [
        "docker", "image", "inspect", "--format", "{{.Id}}", *refs]


def test_no_git_info_where_no_provenance_is_made() -> None:
    # docker/buildx build/git.go getGitAttributes: BUILDX_GIT_INFO=false skips every git call
    off = dataclasses.replace(MINIMAL, attest=(AttrSpec("provenance", (("disabled", "true"),)),))
    on = dataclasses.replace(MINIMAL, attest=(AttrSpec("provenance", (("mode", "max"),)),))
    assert DockerBackend().build_env([off]) == {"BUILDX_GIT_INFO": "false"}
    assert DockerBackend().build_env([off, on]) == {}  # a session: one provenance needs it
    assert DockerBackend().build_env([MINIMAL]) == {}  # buildx's default provenance


# `docker buildx inspect` as buildx 0.13.1 prints it for the stack's engine (docker driver)
INSPECT_DEFAULT = """Name:          default
Driver:        docker
Last Activity: 2026-12-01 13:31:20 +0000 UTC

Nodes:
Name:             default
Endpoint:         default
Status:           running
BuildKit version: v0.0.0+unknown
Platforms:        linux/amd64, linux/amd64/v2, linux/amd64/v3, linux/amd64/v4
Labels:
 org.mobyproject.buildkit.worker.executor:             containerd
"""


def test_the_platforms_buildx_inspect_lists_every_node_configured_ones_unmarked() -> None:
    """docker/buildx commands/inspect.go prints each node's `Platforms:` as
    util/platformutil FormatInGroups(configured, reported): the configured ones first, each
    marked `*`, joined with ", "; a node that does not answer prints `Error:` instead."""
    backend = DockerBackend()
    assert backend.engine_platforms(INSPECT_DEFAULT) == (
        "linux/amd64", "linux/amd64/v2", "linux/amd64/v3", "linux/amd64/v4")
    two_nodes = ("Name: multi\nDriver: docker-container\n\nNodes:\nName: multi0\n"
                 "Platforms: linux/amd64*, linux/arm64*, linux/386\n\nName: multi1\n"
                 "Error: Cannot connect\n\nName: multi2\nPlatforms: linux/arm64, linux/arm/v7\n")
    assert backend.engine_platforms(two_nodes) == (
        "linux/amd64", "linux/arm64", "linux/386", "linux/arm/v7")
    down = "Name: default\nDriver: \nError: Cannot connect to the Docker daemon\n"
    assert backend.engine_platforms(down) is None
    assert backend.engine_platforms('{"Architecture": "x86_64", "OSType": "linux"}') is None


def test_platforms_are_asked_of_the_builder_a_build_uses() -> None:
    """`docker [--host ADDR TLS...] buildx inspect`: no name, so the builder a build without
    `--builder` uses on that daemon; a buildx builder's probe already inspected it."""
    backend = DockerBackend()
    assert backend.platforms_argv(None) == ["docker", "buildx", "inspect"]
    assert backend.platforms_argv(TCP, TLS) == ["docker", "--host", TCP, *TLS_FLAGS,
                                                "buildx", "inspect"]
    assert backend.probe_argv("ci-builder")[:3] == ["docker", "buildx", "inspect"]
    assert backend.platforms_argv("ci-builder") is None


def test_save_writes_the_named_images_to_a_file_on_the_builders_daemon() -> None:
    """docker/cli cli/command/image/save.go (0adaf6be): `save [OPTIONS] IMAGE [IMAGE...]`,
    `--output`/`-o` writes to a file instead of stdout; aliases `docker image save`, `docker
    save`. The run's copy of a dependency to another builder (run/pool) loads it back with
    `docker load --input`."""
    backend = DockerBackend()
    assert backend.save_argv(["a:1", "b:1"], "/r/x.tar", None) == [
        "docker", "image", "save", "--output", "/r/x.tar", "a:1", "b:1"]
    tls = BuilderTls("ca.pem", "cert.pem", "key.pem")
    assert backend.save_argv(["a:1"], "x.tar", "tcp://h:2376", tls) == [
        "docker", "--host", "tcp://h:2376", "--tlsverify", "--tlscacert", "ca.pem",
        "--tlscert", "cert.pem", "--tlskey", "key.pem", "image", "save", "--output", "x.tar",
        "a:1"]
