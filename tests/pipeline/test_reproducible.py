"""`reproducible`: the pipeline's field, an image's own (or inherited, or in `defaults`)
winning; SOURCE_DATE_EPOCH from the image's args, `--var`, `vars`, the environment (as docker
buildx reads it: commands/build.go, a value that is not empty), else HEAD's commit time; and
one-line errors at the field where there is none or it is no Unix time."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buildorch.errors import ConfigError
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.pipeline.reproducible import (
    is_reproducible,
    reproducible_path,
    source_date_epoch,
)
from tests.git_repo import GitRepo

PIPELINE = """\
version: 1
name: p
reproducible: true
defaults:
  platforms: [linux/amd64]
images:
  _quiet: {reproducible: false}
  a: {context: a}
  b: {context: a, reproducible: false}
  c: {context: a, inherits: [_quiet]}
"""
DOCKERFILE = "FROM localhost:5000/busybox:latest\n"


def write(folder: Path, pipeline: str = PIPELINE) -> Path:
    (folder / "a").mkdir(parents=True, exist_ok=True)
    (folder / "a" / "Dockerfile").write_text(DOCKERFILE)
    path = folder / "pipeline.yaml"
    path.write_text(pipeline)
    return path


def load(path: Path, variables: dict[str, str] | None = None,
         env: dict[str, str] | None = None) -> LoadedPipeline:
    return load_pipeline(path, LoadOptions(variables=variables or {}, env=env or {},
                                           state_root=None))


def test_an_images_own_setting_or_what_it_inherits_wins(tmp_path: Path) -> None:
    p = load(write(tmp_path))
    assert [is_reproducible(p, n) for n in ("a", "b", "c")] == [True, False, False]
    assert reproducible_path(p, "a") == ("reproducible",)
    assert reproducible_path(p, "b") == ("images", "b", "reproducible")
    assert reproducible_path(p, "c") == ("images", "_quiet", "reproducible")


def test_defaults_stand_between_the_pipeline_and_the_image(tmp_path: Path) -> None:
    p = load(write(tmp_path, "version: 1\nname: p\ndefaults: {reproducible: true}\nimages:\n"
                             "  a: {context: a}\n  b: {context: a, reproducible: false}\n"))
    assert not p.model.reproducible
    assert is_reproducible(p, "a") and not is_reproducible(p, "b")
    assert reproducible_path(p, "a") == ("defaults", "reproducible")


def test_off_unless_asked(tmp_path: Path) -> None:
    p = load(write(tmp_path, "version: 1\nname: p\nimages:\n  a: {context: a}\n"))
    assert not is_reproducible(p, "a")


def test_the_field_is_a_boolean(tmp_path: Path) -> None:
    path = write(tmp_path, PIPELINE.replace("reproducible: true", "reproducible: maybe"))
    with pytest.raises(ConfigError) as err:
        load(path)
    assert f"{path}:3: reproducible:" in str(err.value)


def test_epoch_is_the_commit_time_of_head(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    path = write(repo.root / "sub")
    repo.commit("one")
    committed = repo.git("log", "-1", "--format=%ct")
    assert committed.isdigit()
    assert source_date_epoch(load(path), "a") == committed


def test_the_environment_then_vars_then_var_then_args_win(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    path = write(repo.root)
    repo.commit("one")
    env = {"SOURCE_DATE_EPOCH": "100"}
    assert source_date_epoch(load(path, env=env), "a") == "100"
    assert source_date_epoch(load(path, env={"SOURCE_DATE_EPOCH": ""}), "a") == \
        repo.git("log", "-1", "--format=%ct")  # empty: unset, as buildx reads it
    with_vars = PIPELINE.replace("defaults:", "vars: {SOURCE_DATE_EPOCH: '200'}\ndefaults:")
    path.write_text(with_vars)
    assert source_date_epoch(load(path, env=env), "a") == "200"
    assert source_date_epoch(load(path, {"SOURCE_DATE_EPOCH": "300"}, env), "a") == "300"


@pytest.mark.parametrize(("pipeline", "line", "field"), [
    (PIPELINE, 3, "reproducible"),
    ("version: 1\nname: p\nimages:\n  a:\n    context: a\n    reproducible: true\n", 6,
     "images.a.reproducible"),
    ("version: 1\nname: p\ndefaults:\n  reproducible: true\nimages:\n  a: {context: a}\n", 4,
     "defaults.reproducible"),
])
def test_outside_git_the_error_names_the_field(tmp_path: Path, pipeline: str, line: int,
                                               field: str) -> None:
    path = write(tmp_path, pipeline)
    with pytest.raises(ConfigError) as err:
        source_date_epoch(load(path), "a")
    text = err.value.render()
    assert text.startswith(f"{path}:{line}: {field}: ") and "\n" not in text
    assert "no git repository with a commit" in text and "--var SOURCE_DATE_EPOCH" in text


def test_a_repository_without_a_commit_has_no_time(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    with pytest.raises(ConfigError, match="no git repository with a commit"):
        source_date_epoch(load(write(repo.root)), "a")


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
@given(value=st.text(alphabet=string.digits + string.ascii_letters + " -+.\n", max_size=24))
def test_any_given_value_is_a_unix_time_or_one_clean_error(tmp_path: Path, value: str) -> None:
    path = write(tmp_path)
    try:
        found = source_date_epoch(load(path, {"SOURCE_DATE_EPOCH": value}), "a")
    except ConfigError as exc:
        assert "\n" not in exc.render() and exc.line == 3
        assert not (value.isascii() and value.isdigit() and len(value) <= 18)
    else:
        assert found == value and value.isdigit() and int(value) < 2**63
