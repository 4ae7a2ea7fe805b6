"""The pipeline's builders (pipeline/builders.py): TLS, platforms and labels checked alone
and against what the images ask, every error at once, each at its file, line and field;
and which builder an image goes to before a run places it."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildorch.errors import BuildorchError, ConfigErrors
from buildorch.pipeline.builders import builder_index, pool_of
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.pipeline.model import Builder
from tests.conftest import MakeProject

CERTS = {"certs/ca.pem": "ca\n", "certs/cert.pem": "cert\n", "certs/key.pem": "key\n"}

POOL = """\
version: 1
name: p
builders:
  - {name: local, backend: docker, platforms: [linux/amd64, linux/386], labels: [x86]}
  - name: arm-pool
    backend: buildctl
    address: tcp://buildkit.internal:1234
    tls: {ca: certs/ca.pem, cert: certs/cert.pem, key: certs/key.pem, server_name: buildkit}
    platforms: [linux/aarch64]
    labels: [arm, gpu]
    max_parallel: 8
images:
  a: {context: a, platforms: [linux/amd64, linux/arm64]}
  b: {context: a, platforms: [linux/arm64], builder_labels: [gpu]}
  c: {context: a, platforms: [linux/386], builder: local}
"""


def load(path: Path) -> LoadedPipeline:
    return load_pipeline(path, LoadOptions(env={}, state_root=None))


def errors(path: Path) -> list[str]:
    """Each error as `LINE: FIELD: MESSAGE`."""
    with pytest.raises(ConfigErrors) as err:
        load(path)
    prefix = f"{path}:"
    return [e.render().removeprefix(prefix) for e in err.value.errors]


def test_a_pool_with_tls_platforms_and_labels_loads(make_project: MakeProject) -> None:
    p = load(make_project(POOL, CERTS, contexts=("a",)))
    arm = p.model.builders[1]
    assert arm.tls is not None and arm.tls.server_name == "buildkit"
    assert arm.platforms == ["linux/aarch64"] and arm.labels == ["arm", "gpu"]
    assert p.images["b"].spec.builder_labels == ["gpu"]


def test_builder_strings_are_taken_as_written(make_project: MakeProject) -> None:
    path = make_project("version: 1\nname: p\nbuilders:\n  - {name: 1, labels: [yes, 3.10]}\n"
                        "defaults: {builder_labels: [yes]}\nimages:\n  a: {context: a}\n",
                        contexts=("a",))
    p = load(path)
    assert p.model.builders[0].name == "1" and p.model.builders[0].labels == ["yes", "3.10"]
    assert p.images["a"].spec.builder_labels == ["yes"]


def test_bad_input_is_one_line_each_and_all_at_once(make_project: MakeProject) -> None:
    """The issue's four, with what goes with them: two builders with one name, TLS files
    that do not exist, TLS where it cannot apply, a platform and a label nobody has."""
    path = make_project("""\
        version: 1
        name: p
        builders:
          - {name: one, backend: buildctl, platforms: [linux/amd64], labels: [x86]}
          - {name: one, backend: buildctl, platforms: [linux/arm64], labels: [arm]}
          - name: far
            backend: buildctl
            address: tcp://far:1234
            tls: {ca: certs/nope.pem, cert: ~/nope-cert.pem, key: certs/key.pem}
            platforms: [linux/arm/v7]
          - name: sock
            backend: buildctl
            address: unix:///run/buildkit/buildkitd.sock
            tls: {ca: certs/ca.pem}
            platforms: [linux/arm64]
        images:
          a: {context: a, platforms: [linux/s390x, linux/amd64]}
          b: {context: a, builder_labels: [gpu, arm]}
        """, {"certs/ca.pem": "ca\n", "certs/key.pem": "key\n"}, contexts=("a",))
    assert errors(path) == [
        "5: builders[1].name: duplicate builder name 'one'",
        "9: builders[2].tls.ca: TLS file not found: certs/nope.pem",
        "9: builders[2].tls.cert: TLS file not found: ~/nope-cert.pem",
        "14: builders[3].tls: TLS needs a tcp:// address (BuildKit and docker take TLS over "
        "TCP only): its address is 'unix:///run/buildkit/buildkitd.sock'",
        "17: images.a.platforms[0]: image 'a' is built for linux/s390x, which no builder "
        "builds (one: linux/amd64; one: linux/arm64; far: linux/arm/v7; sock: linux/arm64)",
        "18: images.b.builder_labels[0]: image 'b' asks for builder label 'gpu', which no "
        "builder has (labels: arm, x86)",
    ]


def test_a_builder_that_lists_no_platforms_builds_any(make_project: MakeProject) -> None:
    path = make_project("version: 1\nname: p\nbuilders:\n  - {name: arm, platforms: "
                        "[linux/arm64]}\n  - {name: any}\nimages:\n  a: {context: a, "
                        "platforms: [linux/s390x]}\n", contexts=("a",))
    assert load(path).images["a"].spec.platforms == ["linux/s390x"]
    no_builders = make_project("version: 1\nname: p\nimages:\n  a: {context: a, "
                               "platforms: [linux/riscv64]}\n", contexts=("a",))
    assert load(no_builders).images["a"].spec.platforms == ["linux/riscv64"]


def test_platforms_compare_normalised_and_per_platform(make_project: MakeProject) -> None:
    """`linux/aarch64` is `linux/arm64` (containerd's normalisation); a multi-platform image
    needs each platform on some builder, not all on one (it is built per platform)."""
    p = load(make_project(POOL, CERTS, contexts=("a",)))
    assert p.images["a"].spec.platforms == ["linux/amd64", "linux/arm64"]


def test_the_builders_an_image_may_go_to_decide_its_platforms(
        make_project: MakeProject) -> None:
    pool = POOL.replace("platforms: [linux/386], builder: local",
                        "platforms: [linux/arm64], builder: local")
    pool = pool.replace("platforms: [linux/arm64], builder_labels: [gpu]",
                        "platforms: [linux/amd64], builder_labels: [gpu]")
    path = make_project(pool, CERTS, contexts=("a",))
    assert errors(path) == [
        "14: images.b.platforms[0]: image 'b' is built for linux/amd64, which no builder "
        "with labels gpu builds (arm-pool: linux/arm64)",
        "15: images.c.platforms[0]: image 'c' is built for linux/arm64, which its builder "
        "'local' does not build (local: linux/386, linux/amd64)",
    ]


def test_labels_must_be_on_one_builder_and_on_the_named_one(make_project: MakeProject) -> None:
    path = make_project("""\
        version: 1
        name: p
        builders:
          - {name: x, labels: [gpu]}
          - {name: y, labels: [arm]}
        defaults:
          builder_labels: [gpu, arm]
        images:
          a: {context: a}
          b: {context: a, builder: y, builder_labels: [gpu]}
        """, contexts=("a",))
    assert errors(path) == [
        "7: defaults.builder_labels: image 'a': no builder has all of its builder labels "
        "gpu, arm (x: gpu; y: arm)",
        "10: images.b.builder_labels[0]: image 'b': its builder 'y' has no label 'gpu' "
        "(its labels: arm)",
    ]


def test_without_builders_no_label_can_be_had(make_project: MakeProject) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a: {context: a, builder_labels: "
                        "[gpu]}\n", contexts=("a",))
    assert errors(path) == ["4: images.a.builder_labels[0]: image 'a' asks for builder label "
                            "'gpu', which no builder has (labels: none)"]


def test_a_builders_platforms_parse_as_an_images_do(make_project: MakeProject) -> None:
    path = make_project("version: 1\nname: p\nbuilders:\n  - {name: b, platforms: "
                        "[linux/amd64/v9, 'bad//x']}\nimages:\n  a: {context: a}\n",
                        contexts=("a",))
    found = errors(path)
    assert [e.split(": ")[1] for e in found] == ["builders[0].platforms[0]",
                                                 "builders[0].platforms[1]"]
    assert "unknown variant 'v9' of amd64" in found[0]


@pytest.mark.parametrize(("backend", "tls", "field", "message"), [
    ("nerdctl", "", "builders[0].tls", "backend nerdctl: nerdctl build cannot use TLS"),
    ("finch", "", "builders[0].tls", "backend finch: finch build cannot use TLS"),
    ("auto", "", "builders[0].tls", "backend auto may pick nerdctl or finch, which cannot use "
                                    "TLS: name the backend (buildctl or docker)"),
    ("docker", ", server_name: bk", "builders[0].tls.server_name",
     "backend docker: docker has no flag for a TLS server name"),
])
def test_tls_only_where_the_backend_can_carry_it(make_project: MakeProject, backend: str,
                                                  tls: str, field: str, message: str) -> None:
    path = make_project(f"version: 1\nname: p\nbuilders:\n  - name: b\n    backend: {backend}\n"
                        f"    address: tcp://h:1234\n    tls: {{ca: certs/ca.pem{tls}}}\n"
                        "images:\n  a: {context: a}\n", CERTS, contexts=("a",))
    [error] = errors(path)
    assert error.startswith(f"7: {field}: {message}"), error


def test_tls_on_buildctl_and_docker_loads(make_project: MakeProject) -> None:
    for backend, tls in (("buildctl", ", server_name: bk"), ("docker", "")):
        path = make_project(f"version: 1\nname: p\nbuilders:\n  - {{name: b, backend: "
                            f"{backend}, address: 'tcp://h:1', tls: {{ca: certs/ca.pem{tls}}}}}\n"
                            "images:\n  a: {context: a}\n", CERTS, contexts=("a",))
        assert load(path).model.builders[0].tls is not None


def test_tls_needs_a_ca_and_a_whole_key_pair(make_project: MakeProject) -> None:
    path = make_project("version: 1\nname: p\nbuilders:\n  - {name: b, backend: buildctl, "
                        "address: 'tcp://h:1', tls: {cert: certs/cert.pem}}\n"
                        "images:\n  a: {context: a}\n", CERTS, contexts=("a",))
    found = errors(path)
    assert any("builders[0].tls.ca: required field is missing" in e for e in found), found
    path = make_project("version: 1\nname: p\nbuilders:\n  - {name: b, backend: buildctl, "
                        "address: 'tcp://h:1', tls: {ca: certs/ca.pem, key: certs/key.pem}}\n"
                        "images:\n  a: {context: a}\n", CERTS, contexts=("a",))
    assert errors(path) == ["4: builders[0].tls: 'cert' and 'key' go together: give both or "
                            "neither"]


def test_tls_files_expand_home_and_are_relative_to_the_pipeline(
        make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / ".buildkit").mkdir(parents=True)
    (home / ".buildkit" / "ca.pem").write_text("ca\n")
    monkeypatch.setenv("HOME", str(home))
    path = make_project("version: 1\nname: p\nbuilders:\n  - {name: b, backend: buildctl, "
                        "address: 'tcp://h:1', tls: {ca: ~/.buildkit/ca.pem, cert: "
                        "certs/cert.pem, key: certs/key.pem}}\nimages:\n  a: {context: a}\n",
                        CERTS, contexts=("a",))
    monkeypatch.chdir(tmp_path / "a")  # paths are the pipeline's, not the working folder's
    assert load(path).model.builders[0].tls is not None


@pytest.mark.parametrize(("given", "named", "index"), [
    (None, None, 0),  # the first builder
    (None, "b", 1),  # the image's own
    ("b", None, 1), ("b", "a", 1),  # --builder NAME wins
    ("tcp://b:1", "a", 1),  # --builder with a builder's address: that builder (its TLS)
    ("tcp://other:1", "a", None),  # another address, used as it is
    ("ci-builder", None, None),
])
def test_which_builder_builds_an_image(given: str | None, named: str | None,
                                       index: int | None) -> None:
    builders = [Builder(name="a"), Builder(name="b", address="tcp://b:1")]
    assert builder_index(builders, given, named) == index
    assert builder_index([], given, None) is None


def test_set_gives_builder_labels_as_a_list(make_project: MakeProject) -> None:
    path = make_project("version: 1\nname: p\nbuilders:\n  - {name: b, labels: [gpu, arm]}\n"
                        "images:\n  a: {context: a}\n", contexts=("a",))
    p = load_pipeline(path, LoadOptions(env={}, state_root=None,
                                        sets=("a.builder_labels=gpu,arm",)))
    assert p.images["a"].spec.builder_labels == ["gpu", "arm"]
    with pytest.raises(ConfigErrors, match="--set a.builder_labels=tpu: images.a.builder_labels"
                                           r"\[0\]: image 'a' asks for builder label 'tpu'"):
        load_pipeline(path, LoadOptions(env={}, state_root=None,
                                        sets=("a.builder_labels=tpu",)))


@pytest.mark.parametrize(("given", "pool"), [
    (None, (0, 1, 2)),  # several builders: the run places over all of them
    ("b", ()), ("tcp://b:1", ()), ("ci-builder", ()),  # one builder, as builder_index says
    ("c,a", (2, 0)), (" a , b ", (0, 1)), ("a,a,b", (0, 1)),
])
def test_which_builders_a_run_places_over(given: str | None, pool: tuple[int, ...]) -> None:
    builders = [Builder(name="a"), Builder(name="b", address="tcp://b:1"), Builder(name="c")]
    assert pool_of(builders, given) == pool
    assert pool_of(builders[:1], None) == ()  # one builder is no pool


def test_a_pool_names_builders_of_the_pipeline_only() -> None:
    builders = [Builder(name="a"), Builder(name="b")]
    with pytest.raises(BuildorchError, match=r"^--builder a,x: no builder named 'x' in the "
                                             r"pipeline \(builders: a, b\)$"):
        pool_of(builders, "a,x")
