from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from buildorch.cli.main import main
from buildorch.errors import ConfigError
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from tests.conftest import EXAMPLE, MakeProject

BASIC = """\
version: 1
name: shop
vars:
  REGISTRY: localhost:5000/shop
  TAG: ${TAG_FROM_CLI:-dev}
defaults:
  platforms: [linux/amd64]
  args: {COMMON: "1", SHARED: from-defaults}
  labels: {team: core}
images:
  base:
    context: base
    tags: ["${REGISTRY}/base:${TAG}"]
  api:
    context: api
    args: {SHARED: from-image, VERSION: 3.12}
    platforms: [linux/arm64]
"""


def test_example_pipeline_loads() -> None:
    pipeline = load_pipeline(EXAMPLE, LoadOptions(env={}))
    assert set(pipeline.images) == {"base", "api", "api-test", "worker", "worker-test"}
    assert pipeline.images["api"].spec.target == "runtime"
    assert pipeline.images["api"].cache is not None
    assert pipeline.images["api"].cache.type == "registry"


def test_defaults_merge_under_images(make_project: MakeProject) -> None:
    pipeline = load_pipeline(make_project(BASIC, contexts=("base", "api")), LoadOptions(env={}))
    api = pipeline.images["api"].spec
    assert api.args == {"COMMON": "1", "SHARED": "from-image", "VERSION": "3.12"}
    assert api.platforms == ["linux/arm64"]  # lists are replaced, not merged
    assert api.labels == {"team": "core"}
    assert pipeline.images["base"].spec.platforms == ["linux/amd64"]


def test_variables_and_cli_vars(make_project: MakeProject) -> None:
    path = make_project(BASIC, contexts=("base", "api"))
    assert load_pipeline(path, LoadOptions(env={})).images["base"].spec.tags == [
        "localhost:5000/shop/base:dev"]
    loaded = load_pipeline(path, LoadOptions(variables={"TAG_FROM_CLI": "v2"}, env={}))
    assert loaded.images["base"].spec.tags == ["localhost:5000/shop/base:v2"]
    loaded = load_pipeline(path, LoadOptions(variables={"REGISTRY": "r.example"}, env={}))
    assert loaded.images["base"].spec.tags == ["r.example/base:dev"]


def test_env_variables(make_project: MakeProject) -> None:
    text = BASIC.replace("localhost:5000/shop", "${env.REG:-nowhere}")
    path = make_project(text, contexts=("base", "api"))
    assert load_pipeline(path, LoadOptions(env={"REG": "here"})).images["base"].spec.tags == [
        "here/base:dev"]
    assert load_pipeline(path, LoadOptions(env={})).images["base"].spec.tags == [
        "nowhere/base:dev"]


def test_git_builtins(make_project: MakeProject) -> None:
    path = make_project(BASIC.replace("${TAG_FROM_CLI:-dev}", "${GIT_SHORT_SHA}-${GIT_BRANCH}"),
                        contexts=("base", "api"))
    folder = path.parent
    for args in (["init", "-q", "-b", "trunk"], ["add", "."],
                 ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(folder), *args], check=True)
    sha = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], check=True,
                         capture_output=True, text=True).stdout.strip()
    tags = load_pipeline(path, LoadOptions(env={})).images["base"].spec.tags
    assert tags == [f"localhost:5000/shop/base:{sha[:7]}-trunk"]
    # CI checks out a detached HEAD and names the branch in its environment.
    tags = load_pipeline(path, LoadOptions(env={"GITHUB_REF_NAME": "main"})).images[
        "base"].spec.tags
    assert tags == [f"localhost:5000/shop/base:{sha[:7]}-main"]


def test_set_overrides_fields(make_project: MakeProject) -> None:
    path = make_project(BASIC, contexts=("base", "api"))
    sets = ("api.args.VERSION=3.13", "*.platforms=linux/amd64,linux/arm64", "base.push=true")
    options = LoadOptions(env={}, sets=sets)
    pipeline = load_pipeline(path, options)
    assert pipeline.images["api"].spec.args["VERSION"] == "3.13"
    assert pipeline.images["api"].spec.platforms == ["linux/amd64", "linux/arm64"]
    assert pipeline.images["base"].spec.push is True


def test_bad_set_value_is_reported_against_the_set(make_project: MakeProject) -> None:
    path = make_project(BASIC, contexts=("base", "api"))
    with pytest.raises(ConfigError) as err:
        load_pipeline(path, LoadOptions(env={}, sets=("base.push=maybe",)))
    assert str(err.value).startswith("--set base.push=maybe: images.base.push:")


def test_paths_are_relative_to_the_pipeline_folder(make_project: MakeProject,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    path = make_project(BASIC, contexts=("base", "api"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    pipeline = load_pipeline(path, LoadOptions(env={}))
    assert pipeline.images["api"].context_dir == tmp_path / "api"
    assert pipeline.images["api"].dockerfile == tmp_path / "api" / "Dockerfile"


def test_dockerfile_relative_to_context_and_build_args_reach_from(
        make_project: MakeProject) -> None:
    path = make_project(
        """\
        version: 1
        name: p
        images:
          app:
            context: app
            dockerfile: docker/App.Dockerfile
            args: {BASE: "localhost:5000/other:1"}
        """,
        files={"app/docker/App.Dockerfile": "ARG BASE=busybox\nFROM ${BASE} AS x\n"},
    )
    info = load_pipeline(path, LoadOptions(env={})).images["app"].info
    assert info.stages[0].base == "localhost:5000/other:1"


def test_cache_profile_found_in_parent_folder(make_project: MakeProject,
                                              tmp_path: Path) -> None:
    path = make_project(BASIC.replace("images:", "images:\n  x:\n    context: base\n"
                                      "    cache: mine\n", 1),
                        files={"cache-config/mine.yaml": "type: local\ndir: /tmp/c\n"},
                        contexts=("base", "api"))
    nested = tmp_path / "pipelines"
    nested.mkdir()
    moved = nested / "p.yaml"
    moved.write_text(path.read_text().replace("context: ", "context: ../"))
    (tmp_path / ".git").mkdir()  # the search stops at the repository root
    cache = load_pipeline(moved, LoadOptions(env={})).images["x"].cache
    assert cache is not None and cache.type == "local" and cache.dir == "/tmp/c"


def test_dockerfile_inline_is_analysed_and_named(make_project: MakeProject) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: a\n"
                        "    target: two\n    no_cache_filter: [One]\n"
                        "    dockerfile_inline: |\n      FROM scratch AS one\n"
                        "      FROM one AS two\n", contexts=("a",))
    image = load_pipeline(path, LoadOptions(env={})).images["a"]
    assert image.dockerfile is None and image.info is not None
    assert image.info.stage_names() == ("one", "two")
    assert image.dockerfile_display == f"{path}:images.a.dockerfile_inline"


def test_no_cache_filter_names_stages(make_project: MakeProject) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: a\n"
                        "    no_cache_filter: [nope]\n", contexts=("a",))
    with pytest.raises(ConfigError, match=r":6: images.a.no_cache_filter\[0\]: no stage 'nope'"):
        load_pipeline(path, LoadOptions(env={}))


def test_set_takes_bake_fields(make_project: MakeProject) -> None:
    """Specs stay whole (`type=local,dest=out`), as bake's `--set *.output=...` takes them;
    plain lists split on commas; mappings take a key."""
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: a\n",
                        files={"a/Dockerfile": "FROM scratch AS x\nFROM x AS y\n"})
    sets = ("a.outputs=type=local,dest=out", "a.attest=type=provenance,mode=max",
            "a.no_cache_filter=x,y", "a.annotations.k=0755", "a.extra_hosts.db=10.0.0.1",
            "a.shm_size=64m", "a.pull=true")
    spec = load_pipeline(path, LoadOptions(env={}, sets=sets)).images["a"].spec
    assert spec.outputs == ["type=local,dest=out"]
    assert spec.attest == ["type=provenance,mode=max"]
    assert spec.no_cache_filter == ["x", "y"]
    assert spec.annotations == {"k": "0755"} and spec.extra_hosts == {"db": "10.0.0.1"}
    assert spec.shm_size == 64 << 20 and spec.pull


def test_a_missing_context_hides_no_other_error_of_the_image(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: nothere\n"
                        "    network: foo\n    push: true\n    platforms: [linux/amd64/v9]\n"
                        "    secrets: [{id: s, src: '~nosuchuser-bo/x'}]\n    cache: nosuch\n")
    assert main(["validate", "-f", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[2:4] for line in err] == [
        [f"{path}:5", "images.a.context"], [f"{path}:6", "images.a.network"],
        [f"{path}:7", "images.a.push"], [f"{path}:8", "images.a.platforms[0]"],
        [f"{path}:9", "images.a.secrets[0]"], [f"{path}:10", "images.a.cache"]], err


def test_a_pipeline_of_templates_only_builds_nothing(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  _t: {context: a}\n", contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 2
    assert capsys.readouterr().err == (f"buildorch: error: {path}:3: images: no image to build: "
                                       "names starting with _ are templates\n")


INLINE = """\
version: 1
name: p
images:
  _t:
    target: t
    dockerfile_inline: |  # the Dockerfile
      FROM scratch AS t
      RUN x

      BOGUS y
  a:
    inherits: [_t]
    context: a
"""


def test_an_inline_dockerfile_error_is_at_its_pipeline_line(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project(INLINE, contexts=("a",))
    assert main(["validate", "-f", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"buildorch: error: {path}:10: images._t.dockerfile_inline: line 4: unknown "
        "instruction: BOGUS\n")


@pytest.mark.parametrize(("written", "sets", "where"), [
    ('"FROM scratch\\nBOGUS y\\n"', (), "6"),  # quoted: no line of the file is line 2
    ("|\n      FROM scratch\n", ("a.dockerfile_inline=FROM scratch\nBOGUS y",), None),
])
def test_an_inline_dockerfile_error_elsewhere_is_at_its_key(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str], written: str,
        sets: tuple[str, ...], where: str | None) -> None:
    path = make_project(f"version: 1\nname: p\nimages:\n  a:\n    context: a\n"
                        f"    dockerfile_inline: {written}\n", contexts=("a",))
    assert main(["validate", "-f", str(path), *(f"--set={s}" for s in sets)]) == 2
    err = capsys.readouterr().err
    shown = f"{path}:{where}" if where else "--set a.dockerfile_inline=FROM scratch\\nBOGUS y"
    assert err == (f"buildorch: error: {shown}: images.a.dockerfile_inline: line 2: unknown "
                   "instruction: BOGUS\n")


def test_a_dockerfile_error_is_not_the_target_s(
        make_project: MakeProject, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: a\n    target: t\n",
                        files={"a/Dockerfile": "FROM scratch AS t\nBOGUS y\n"})
    monkeypatch.chdir(path.parent)
    assert main(["validate", "-f", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"buildorch: error: {path}:5: images.a.context: a/Dockerfile:2: unknown instruction: "
        "BOGUS\n")
