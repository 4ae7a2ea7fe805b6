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
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.graph import build_graph
from buildorch.planning.plan import make_plan
from buildorch.planning.requests import PlanOptions
from tests.conftest import MakeProject

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
