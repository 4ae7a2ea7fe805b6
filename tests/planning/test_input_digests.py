"""Input digests (pure): what changes an image's digest, what does not, and `differences`."""

from __future__ import annotations

from dataclasses import replace

import pytest

from buildorch.backends.request import AttrSpec, BuildRequest, SecretRef, SshRef, Ulimit
from buildorch.planning.input_digests import (
    ImageSources,
    InputManifest,
    Tree,
    differences,
    manifest_of,
)
from tests.backends.sample_requests import FULL

TREE = Tree("sha256:tree1", (("app.py", "sha256:aa 644"), ("run.sh", "sha256:bb 755")))
SOURCES = ImageSources("sha256:dockerfile1", TREE, {})
DEPS = {"base": "sha256:base1"}
REQUEST = replace(FULL, named_contexts=(("base", "docker-image://buildorch.local/x/base:{run_id}"),
                                        ("src", "../src")))
NAMED_IMAGES = {"base": "base"}


def manifest(request: BuildRequest = REQUEST, sources: ImageSources = SOURCES,
             backend: str = "docker", deps: dict[str, str] | None = None) -> InputManifest:
    found = manifest_of(request, sources, backend, DEPS if deps is None else deps, NAMED_IMAGES)
    assert found is not None
    return found


@pytest.mark.parametrize("change", [
    {"target": "test"}, {"args": (("A", "2"), ("B", "x y"))}, {"platforms": ("linux/amd64",)},
    {"labels": (("team", "edge"),)}, {"secrets": (SecretRef("other", env="TOKEN"),)},
    {"ssh": (SshRef("gitlab"),)}, {"annotations": ()},
    {"attest": (AttrSpec.parse("type=sbom"),)}, {"image_attrs": ()},
    {"outputs": (AttrSpec.parse("type=tar,dest=other.tar"),)}, {"network": "none"},
    {"extra_hosts": ()}, {"shm_size": 1024}, {"ulimits": (Ulimit("nofile", 1, 2),)},
    {"no_cache_filter": ("base",)}, {"dockerfile_inline": "FROM scratch\n"},
    {"named_contexts": (*REQUEST.named_contexts, ("extra", "docker-image://alpine:3"))},
])
def test_what_shapes_the_result_changes_the_digest(change: dict[str, object]) -> None:
    assert manifest(replace(REQUEST, **change)).digest != manifest().digest  # type: ignore[arg-type]


@pytest.mark.parametrize("change", [
    {"tags": ("elsewhere/api:2",)}, {"cache_from": ()}, {"cache_to": ()}, {"push": False},
    {"push_by_digest": True}, {"load": True}, {"metadata_file": "other.json"},
    {"load_archive": ".buildorch/runs/{run_id}/api.image.tar"},  # how it is loaded
    {"builder": "tcp://elsewhere:1234"}, {"context": "moved/api"},
    {"dockerfile": "moved/Dockerfile"}, {"secrets": (SecretRef("tok", src="/other/file"),
                                                     SecretRef("netrc", env="NETRC"))},
])
def test_what_does_not_shape_the_result_leaves_it(change: dict[str, object]) -> None:
    assert manifest(replace(REQUEST, **change)).digest == manifest().digest  # type: ignore[arg-type]


def test_a_secret_value_never_enters_the_manifest() -> None:
    text = str(manifest().to_json())
    assert "TOKEN" not in text and "/home/u/.netrc" not in text and "tok" in text


def test_files_dockerfile_backend_and_dependencies_change_the_digest() -> None:
    base = manifest().digest
    other_tree = Tree("sha256:tree2", (("app.py", "sha256:cc 644"),))
    assert manifest(sources=ImageSources("sha256:dockerfile1", other_tree, {})).digest != base
    assert manifest(sources=ImageSources("sha256:dockerfile2", TREE, {})).digest != base
    assert manifest(backend="nerdctl").digest != base
    assert manifest(deps={"base": "sha256:base2"}).digest != base


def test_a_local_named_context_counts_by_its_files() -> None:
    one = ImageSources("sha256:d", TREE, {"src": Tree("sha256:src1", ())})
    two = ImageSources("sha256:d", TREE, {"src": Tree("sha256:src2", ())})
    assert manifest(sources=one).digest != manifest(sources=two).digest


def test_unknown_inputs_give_no_manifest() -> None:
    remote = ImageSources(None, None, {})
    assert manifest_of(REQUEST, remote, "docker", DEPS, NAMED_IMAGES) is None
    # a named context on a dependency whose digest is unknown
    assert manifest_of(REQUEST, SOURCES, "docker", {}, NAMED_IMAGES) is None


def test_the_manifest_survives_json() -> None:
    import json

    original = manifest()
    again = InputManifest.from_json(json.loads(json.dumps(original.to_json())))
    assert again == original and again is not None and again.digest == original.digest
    assert InputManifest.from_json({"version": 0}) is None
    assert InputManifest.from_json({"version": 1, "context": "x"}) is None


def test_differences_name_each_changed_input() -> None:
    old = manifest()
    tree = Tree("sha256:t", (("app.py", "sha256:zz 644"), ("new.txt", "sha256:nn 644")))
    new = manifest(replace(REQUEST, args=(("A", "2"), ("B", "x y")), target=None),
                   ImageSources("sha256:dockerfile2", tree, {}), deps={"base": "sha256:b2"})
    assert differences(old, new) == [
        "Dockerfile changed",
        "file app.py: changed", "file new.txt: added", "file run.sh: removed",
        "arg:A: '1' -> '2'", "target: 'runtime' -> (unset)",
        "dependency base: input digest changed",
    ]
    assert differences(old, old) == []


def test_reproducible_and_rewritten_timestamps_are_inputs() -> None:
    """Both change the image; SOURCE_DATE_EPOCH is one of the args, so a new commit time is a
    changed input like any arg."""
    plain = manifest()
    asked = manifest(replace(REQUEST, reproducible=True,
                             args=(*REQUEST.args, ("SOURCE_DATE_EPOCH", "1700000000"))))
    rewritten = manifest(replace(REQUEST, reproducible=True, rewrite_timestamp=True,
                                 args=(*REQUEST.args, ("SOURCE_DATE_EPOCH", "1700000000"))))
    assert len({plain.digest, asked.digest, rewritten.digest}) == 3
    assert differences(plain, rewritten) == [
        "arg:SOURCE_DATE_EPOCH: (unset) -> '1700000000'", "reproducible: (unset) -> 'true'",
        "rewrite-timestamp: (unset) -> 'true'"]
