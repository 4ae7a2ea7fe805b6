"""`--set IMAGE.FIELD=VALUE`: fields, keys of mappings, and bake's forms."""

from __future__ import annotations

import pytest

from buildorch.errors import ConfigError
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.pipeline.overrides import parse_set
from tests.conftest import MakeProject


def limits_of(make_project: MakeProject, fields: str, *sets: str) -> dict[str, tuple[int, int]]:
    path = make_project(f"version: 1\nname: p\nimages:\n  a:\n    context: a\n{fields}",
                        contexts=("a",))
    spec = load_pipeline(path, LoadOptions(env={}, sets=sets)).images["a"].spec
    return {name: (u.soft, u.hard) for name, u in spec.ulimits.items()}


@pytest.mark.parametrize("item", ["a.ulimits.nofile=1024:2048", "a.ulimits=nofile=1024:2048"])
def test_set_takes_a_ulimit_by_name_or_as_bake_writes_it(make_project: MakeProject,
                                                         item: str) -> None:
    assert limits_of(make_project, "", item) == {"nofile": (1024, 2048)}
    assert limits_of(make_project, "    ulimits: {nproc: 5}\n", item) == {
        "nproc": (5, 5), "nofile": (1024, 2048)}


def test_set_adds_to_a_list_written_in_the_file(make_project: MakeProject) -> None:
    assert limits_of(make_project, "    ulimits: ['nproc=5', 'nofile=1']\n",
                     "a.ulimits.nofile=-1") == {"nproc": (5, 5), "nofile": (-1, -1)}
    path = make_project("version: 1\nname: p\nimages:\n  a:\n    context: a\n"
                        "    extra_hosts: ['db:10.0.0.1']\n", contexts=("a",))
    spec = load_pipeline(path, LoadOptions(env={}, sets=("a.extra_hosts.gw=10.0.0.2",))
                         ).images["a"].spec
    assert spec.extra_hosts == {"db": "10.0.0.1", "gw": "10.0.0.2"}


def test_a_wrong_ulimit_is_reported_against_the_set(make_project: MakeProject) -> None:
    with pytest.raises(ConfigError) as err:
        limits_of(make_project, "", "a.ulimits.nproc=5:3")
    assert str(err.value) == ("--set a.ulimits.nproc=5:3: images.a.ulimits.nproc: soft limit 5 "
                              "is above hard limit 3")


@pytest.mark.parametrize("item", ["a.ulimits=1024", "a.ulimits="])
def test_a_ulimit_needs_a_name(item: str) -> None:
    with pytest.raises(ConfigError, match="'ulimits' needs a key"):
        parse_set(item)


@pytest.mark.parametrize(("item", "pattern", "path"), [
    ("py-lib-3.11.args.X=1", "py-lib-3.11", ("args", "X")),  # a matrix image's name
    ("py-lib-3.1*.target=t", "py-lib-3.1*", ("target",)),
    ("a.labels.org.opencontainers.image.title=t", "a",  # bake: SplitN(key, ".", 3)
     ("labels", "org.opencontainers.image.title")),
    ("a.ulimits=nofile=1:2", "a", ("ulimits", "nofile")),
    ("a.b.target=x", "a.b", ("target",)),
    ("a.bogus=1", "a", ("bogus",)),  # no field named: the first part is the image
])
def test_image_names_and_keys_may_hold_dots(item: str, pattern: str,
                                            path: tuple[str, ...]) -> None:
    parsed = parse_set(item)
    assert (parsed.pattern, parsed.path) == (pattern, path)


@pytest.mark.parametrize("item", ["a.matrix=x", "a.name=x"])
def test_a_matrix_entry_s_own_fields_cannot_be_set(item: str) -> None:
    with pytest.raises(ConfigError, match="is expanded before --set applies"):
        parse_set(item)
