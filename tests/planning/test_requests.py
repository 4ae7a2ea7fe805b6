"""Named-context keys in every backend's argv are the keys BuildKit's Dockerfile frontend
looks up (moby/buildkit frontend/dockerui/config.go `NamedContext`: ParseNormalizedNamed,
FamiliarString, then `:latest` trimmed). docker buildx normalises `--build-context` keys
itself (docker/buildx util/buildflags/context.go); buildctl passes `--opt context:KEY=`
as written (moby/buildkit cmd/buildctl/build/opt.go) and nerdctl hands its
`--build-context KEY=VALUE` to buildctl unchanged (containerd/nerdctl
pkg/cmd/builder/build.go, `parseContextNames`), so the key must already be BuildKit's."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildorch.backends.flags import spec_text
from buildorch.backends.request import BuilderTls, BuildRequest
from buildorch.errors import ConfigError
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.graph import build_graph
from buildorch.planning.plan import Plan, make_plan
from buildorch.planning.requests import PlanOptions
from tests.conftest import MakeProject
from tests.git_repo import GitRepo

DIGEST = "sha256:" + "ab" * 32
# (image the Dockerfile names, pipeline tag of the image it names, key BuildKit asks for)
SPELLINGS = [
    ("bo-name", "bo-name", "bo-name"),
    ("bo-name:latest", "bo-name", "bo-name"),
    ("docker.io/bo-org/name:latest", "bo-org/name", "bo-org/name"),
    ("localhost:5000/bo/name:tag", "localhost:5000/bo/name:tag", "localhost:5000/bo/name:tag"),
    (f"localhost:5000/bo/name:tag@{DIGEST}", "localhost:5000/bo/name:tag",
     f"localhost:5000/bo/name:tag@{DIGEST}"),
    # Docker Hub's official-image forms: `docker.io/x` is `docker.io/library/x`
    # (distribution/reference normalize.go splitDockerDomain)
    ("docker.io/bo-name:v1", "bo-name:v1", "bo-name:v1"),
    ("index.docker.io/library/bo-name", "docker.io/bo-name", "bo-name"),
]
SITES = {
    "from": "FROM {ref}\nRUN true\n",
    "copy": "FROM scratch\nCOPY --from={ref} /marker /seen\n",
    "mount": "FROM localhost:5000/busybox:latest\nRUN --mount=from={ref},target=/m cat /m/marker\n",
}


def project(make_project: MakeProject, ref: str, tag: str, site: str) -> MakeProject:
    return make_project(
        f'version: 1\nname: keys\nimages:\n  base: {{context: base, tags: ["{tag}"]}}\n'
        "  dep: {context: dep}\n",
        files={"dep/Dockerfile": SITES[site].format(ref=ref)}, contexts=("base",))


def context_keys(argv: tuple[str, ...], backend: str) -> list[str]:
    if backend == "buildctl":
        values = [argv[i + 1] for i, a in enumerate(argv) if a == "--opt"]
        return [v.split("=", 1)[0].removeprefix("context:") for v in values
                if v.startswith("context:")]
    values = [argv[i + 1] for i, a in enumerate(argv) if a == "--build-context"]
    return [v.split("=", 1)[0] for v in values]


@pytest.mark.parametrize("backend", ["buildctl", "nerdctl", "finch", "docker"])
@pytest.mark.parametrize("site", sorted(SITES))
@pytest.mark.parametrize(("ref", "tag", "key"), SPELLINGS)
def test_each_spelling_gives_buildkits_lookup_key(
        make_project: MakeProject, backend: str, site: str, ref: str, tag: str,
        key: str) -> None:
    path = project(make_project, ref, tag, site)
    pipeline = load_pipeline(path, LoadOptions(env={}))
    plan = make_plan(pipeline, build_graph(pipeline), ["dep"], PlanOptions(backend=backend))
    assert plan.order == ("base", "dep")  # the spelling names the pipeline image
    dep = plan.images[1]
    assert context_keys(dep.argv, backend) == [key]


def test_explicit_context_keys_are_normalised_too(make_project: MakeProject) -> None:
    path = make_project(
        "version: 1\nname: keys\nimages:\n  base: {context: base}\n"
        "  dep:\n    context: dep\n    contexts:\n"
        "      docker.io/library/base:latest: {image: base}\n",
        files={"dep/Dockerfile": "FROM base\n"}, contexts=("base",))
    pipeline = load_pipeline(path, LoadOptions(env={}))
    plan = make_plan(pipeline, build_graph(pipeline), ["dep"], PlanOptions(backend="buildctl"))
    assert context_keys(plan.images[1].argv, "buildctl") == ["base"]


def test_output_dest_is_relative_to_the_pipeline(make_project: MakeProject) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: a\n"
                        "    outputs: ['type=local,dest=out/a', 'type=tar,dest=a.tar', "
                        "'type=image,compression=zstd']\n", contexts=("a",))
    pipeline = load_pipeline(path, LoadOptions(env={}))
    request = make_plan(pipeline, build_graph(pipeline), ["a"],
                        PlanOptions(backend="docker")).images[0].request
    local, tar = request.outputs
    assert local.type == "local" and Path(local.get("dest") or "").resolve() == (
        path.parent / "out" / "a")
    assert Path(tar.get("dest") or "").resolve() == path.parent / "a.tar"
    assert request.image_attrs == (("compression", "zstd"),)


@pytest.mark.parametrize(("backend", "push", "attest", "expected"), [
    ("docker", True, "", ()),  # buildx attaches provenance mode=min itself
    ("docker", False, "", ("type=provenance,disabled=true",)),
    ("buildctl", True, "", ("type=provenance,mode=min",)),
    ("buildctl", False, "", ()),
    ("buildctl", False, "[type=sbom]", ("type=sbom",)),
    ("docker", True, "[type=sbom, 'type=provenance,mode=max']",
     ("type=sbom", "type=provenance,mode=max")),
])
def test_attestations_default_as_buildx_for_published_images(
        make_project: MakeProject, backend: str, push: bool, attest: str,
        expected: tuple[str, ...]) -> None:
    path = make_project(f"version: 1\nname: p\nimages:\n  a:\n    context: a\n"
                        f"    tags: [r/a:1]\n    push: {str(push).lower()}\n"
                        + (f"    attest: {attest}\n" if attest else ""), contexts=("a",))
    pipeline = load_pipeline(path, LoadOptions(env={}))
    request = make_plan(pipeline, build_graph(pipeline), ["a"],
                        PlanOptions(backend=backend)).images[0].request
    assert tuple(spec_text(s) for s in request.attest) == expected


def test_nerdctl_adds_no_default_provenance(make_project: MakeProject) -> None:
    """nerdctl attaches none itself, and --attest needs nerdctl 2.0: a published image that
    asks for nothing keeps building with nerdctl 1.7 (Finch bundles it)."""
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: a\n"
                        "    tags: [r/a:1]\n    push: true\n", contexts=("a",))
    pipeline = load_pipeline(path, LoadOptions(env={}))
    for backend in ("nerdctl", "finch"):
        request = make_plan(pipeline, build_graph(pipeline), ["a"],
                            PlanOptions(backend=backend)).images[0].request
        assert request.attest == ()


# --- reproducible ----------------------------------------------------------------------------

REPRODUCIBLE = """\
version: 1
name: p
reproducible: true
images:
  base: {context: base, tags: [r/base:1]}
  app:
    context: app
    depends_on: [base]
    tags: [r/app:1]
    push: true
  files: {context: app, outputs: ["type=oci,dest=out/app.tar", "type=local,dest=out/app"]}
  pinned: {context: app, args: {SOURCE_DATE_EPOCH: "0"}, attest: ["type=provenance,mode=max"]}
  plain: {context: app, reproducible: false, tags: [r/plain:1], push: true}
"""


def reproducible_plan(tmp_path: Path, backend: str, builder: str | None = None,
                      names: tuple[str, ...] = ("base", "app", "pinned", "plain")) -> Plan:
    repo = GitRepo(tmp_path / "repo")
    repo.write({"p.yaml": REPRODUCIBLE, "base/Dockerfile": "FROM scratch\n",
                "app/Dockerfile": "FROM scratch\n"})
    repo.commit("one")
    pipeline = load_pipeline(repo.root / "p.yaml", LoadOptions(env={}, state_root=None))
    return make_plan(pipeline, build_graph(pipeline), list(names),
                     PlanOptions(backend=backend, builder=builder))


def requests_of(plan: Plan) -> dict[str, BuildRequest]:
    return {image.name: image.request for image in plan.images}


@pytest.mark.parametrize("backend", ["docker", "nerdctl", "finch", "buildctl"])
def test_reproducible_images_get_the_commit_time_unless_their_args_give_one(
        tmp_path: Path, backend: str) -> None:
    requests = requests_of(reproducible_plan(tmp_path, backend))
    committed = GitRepo(tmp_path / "repo").git("log", "-1", "--format=%ct")
    for name in ("base", "app"):
        assert dict(requests[name].args)["SOURCE_DATE_EPOCH"] == committed
        assert requests[name].reproducible
    assert requests["pinned"].args == (("SOURCE_DATE_EPOCH", "0"),)
    assert "SOURCE_DATE_EPOCH" not in dict(requests["plain"].args)
    assert not requests["plain"].reproducible and not requests["plain"].rewrite_timestamp


@pytest.mark.parametrize(("backend", "builder", "rewrite"), [
    ("docker", None, True), ("docker", "unix:///run/docker.sock", True),
    ("docker", "ci-builder", True), ("nerdctl", None, True), ("finch", None, True),
    ("buildctl", None, True)])
def test_timestamps_are_rewritten_where_the_builder_can(
        tmp_path: Path, backend: str, builder: str | None, rewrite: bool) -> None:
    """Every builder by its address: the docker backend through a tarball it loads."""
    requests = requests_of(reproducible_plan(tmp_path, backend, builder))
    assert requests["base"].rewrite_timestamp == rewrite
    assert requests["app"].rewrite_timestamp == rewrite


@pytest.mark.parametrize("builder", [None, "unix:///run/docker.sock", "ci-builder"])
def test_docker_loads_reproducible_images_from_a_tarball_in_the_run_folder(
        tmp_path: Path, builder: str | None) -> None:
    """One per image in the run's folder, which the run loads and removes; only for what is
    loaded and reproducible."""
    requests = requests_of(reproducible_plan(tmp_path, "docker", builder,
                                             ("base", "app", "files", "plain")))
    for name in ("base", "app"):
        assert requests[name].load
        assert requests[name].load_archive == f".buildorch/runs/{{run_id}}/{name}.image.tar"
    assert requests["files"].load_archive is None  # nothing loaded: its own files only
    assert requests["plain"].load and requests["plain"].load_archive is None


@pytest.mark.parametrize("backend", ["nerdctl", "finch", "buildctl"])
def test_other_backends_load_no_tarball_of_buildorch(tmp_path: Path, backend: str) -> None:
    """nerdctl and finch import the tarball they write themselves; buildctl has no store."""
    requests = requests_of(reproducible_plan(tmp_path, backend))
    assert all(r.load_archive is None for r in requests.values())


def test_files_a_reproducible_image_writes_are_rewritten_too(tmp_path: Path) -> None:
    """The oci and docker exporters take rewrite-timestamp (README.md "OCI tarball"), also on
    the docker driver; local and tar exporters honour SOURCE_DATE_EPOCH by themselves
    (docs/build-repro.md)."""
    files = requests_of(reproducible_plan(tmp_path, "docker", names=("files",)))["files"]
    assert [(o.type, o.get("rewrite-timestamp")) for o in files.outputs] == [
        ("oci", "true"), ("local", None)]
    # buildctl keeps an unpushed dependency as an OCI layout: the digest dependents pin
    base = requests_of(reproducible_plan(tmp_path / "b", "buildctl"))["base"]
    assert [o.get("rewrite-timestamp") for o in base.outputs] == ["true"]


@pytest.mark.parametrize(("backend", "app", "plain"), [
    ("docker", ("type=provenance,disabled=true",), ()),
    ("buildctl", (), ("type=provenance,mode=min",))])
def test_reproducible_images_get_no_default_provenance(
        tmp_path: Path, backend: str, app: tuple[str, ...], plain: tuple[str, ...]) -> None:
    """BuildKit's provenance records buildStartedOn, buildFinishedOn and buildInvocationID
    (seen on Docker 26.1: two cold builds with SOURCE_DATE_EPOCH and rewritten timestamps
    give the same manifest but another index); one the pipeline asks for is kept."""
    requests = requests_of(reproducible_plan(tmp_path, backend))
    assert tuple(spec_text(s) for s in requests["app"].attest) == app
    assert tuple(spec_text(s) for s in requests["pinned"].attest) == ("type=provenance,mode=max",)
    # not reproducible and published: buildx's own default (nothing said), or buildorch's
    assert tuple(spec_text(s) for s in requests["plain"].attest) == plain


def test_outside_git_the_plan_fails_at_the_field(make_project: MakeProject) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: a\n"
                        "    reproducible: true\n", contexts=("a",))
    pipeline = load_pipeline(path, LoadOptions(env={}, state_root=None))
    with pytest.raises(ConfigError) as err:
        make_plan(pipeline, build_graph(pipeline), ["a"], PlanOptions(backend="docker"))
    assert err.value.render().startswith(f"{path}:6: images.a.reproducible: SOURCE_DATE_EPOCH")


POOL = """\
version: 1
name: pool
builders:
  - name: remote
    backend: buildctl
    address: tcp://buildkit.internal:1234
    tls: {ca: certs/ca.pem, cert: certs/cert.pem, key: certs/key.pem, server_name: buildkit}
  - {name: local, backend: buildctl, address: "unix:///run/buildkit/buildkitd.sock"}
images:
  a: {context: a, tags: [r/a:1], push: true}
  b: {context: a, tags: [r/b:1], builder: local}
"""
CERTS = {"certs/ca.pem": "ca\n", "certs/cert.pem": "cert\n", "certs/key.pem": "key\n"}


def pool_plan(make_project: MakeProject, backend: str = "buildctl",
              builder: str | None = None) -> Plan:
    pipeline = load_pipeline(make_project(POOL, CERTS, contexts=("a",)),
                             LoadOptions(env={}, state_root=None))
    return make_plan(pipeline, build_graph(pipeline), [],
                     PlanOptions(backend=backend, builder=builder))


def test_a_builders_tls_reaches_the_request_and_the_argv(
        make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths relative to the pipeline's folder, given to the tool from here (as secret files);
    an image that names no builder goes to the first."""
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    plan = pool_plan(make_project)
    images = {i.name: i for i in plan.images}
    a = images["a"].request
    assert a.builder == "tcp://buildkit.internal:1234"
    assert a.builder_tls == BuilderTls("../certs/ca.pem", "../certs/cert.pem",
                                       "../certs/key.pem", "buildkit")
    assert list(images["a"].argv[:12]) == [
        "buildctl", "--addr", "tcp://buildkit.internal:1234", "--tlscacert", "../certs/ca.pem",
        "--tlscert", "../certs/cert.pem", "--tlskey", "../certs/key.pem", "--tlsservername",
        "buildkit", "build"]
    b = images["b"].request
    assert b.builder == "unix:///run/buildkit/buildkitd.sock" and b.builder_tls is None


@pytest.mark.parametrize(("given", "address", "tls"), [
    ("remote", "tcp://buildkit.internal:1234", True),  # a builder's name
    ("tcp://buildkit.internal:1234", "tcp://buildkit.internal:1234", True),  # its address
    ("local", "unix:///run/buildkit/buildkitd.sock", False),
    ("tcp://other:1234", "tcp://other:1234", False),  # another address, as it is
])
def test_builder_option_names_a_builder_or_an_address(
        make_project: MakeProject, given: str, address: str, tls: bool) -> None:
    for image in pool_plan(make_project, builder=given).images:
        assert image.request.builder == address
        assert (image.request.builder_tls is not None) == tls


def test_a_backend_without_tls_is_an_error_at_the_builder(make_project: MakeProject) -> None:
    """`--backend nerdctl` (or finch) for a pipeline whose builder has TLS: one line at the
    builder's tls, whichever images go there."""
    with pytest.raises(ConfigError) as err:
        pool_plan(make_project, backend="nerdctl", builder="remote")
    lines = str(err.value).splitlines()
    assert len(lines) == 1
    assert ":7: builders[0].tls: backend nerdctl: nerdctl build cannot use TLS" in lines[0]


def test_a_tls_docker_host_publishes_through_its_tls(make_project: MakeProject) -> None:
    pipeline = load_pipeline(make_project(
        "version: 1\nname: p\nbuilders:\n  - {name: d, backend: docker, address: "
        "'tcp://docker.internal:2376', tls: {ca: certs/ca.pem}}\n"
        "images:\n  a: {context: a, tags: [r/a:1], push: true}\n", CERTS, contexts=("a",)),
        LoadOptions(env={}, state_root=None))
    plan = make_plan(pipeline, build_graph(pipeline), [], PlanOptions(backend="docker"))
    ca = plan.images[0].request.builder_tls
    assert ca is not None
    [step] = plan.publish
    assert step.argv == ("docker", "--host", "tcp://docker.internal:2376", "--tlsverify",
                         "--tlscacert", ca.ca, "push", "r/a:1")
