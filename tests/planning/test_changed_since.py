"""The images a set of changed paths selects, and why (pure): files of a folder as its
ignore file filters them, ignore files, Dockerfiles, cache profiles, entries, and
everything built on a changed image."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from buildorch.planning.changed_since import (
    ChangedPaths,
    Folder,
    Watched,
    direct_reasons,
    with_dependents,
)
from buildorch.planning.graph import BuildGraph, Dag


@dataclass(frozen=True)
class Globs:
    """A stand-in ignore matcher: fnmatch globs on the path relative to the folder."""

    patterns: tuple[str, ...] = ()

    def excluded(self, rel_path: str, is_dir: bool) -> bool:
        return any(fnmatch.fnmatchcase(rel_path, p) for p in self.patterns)


def folder(path: str, *patterns: str, ignore_files: tuple[str, ...] = ()) -> Folder:
    return Folder(path, Globs(patterns), ignore_files or (f"{path}/.dockerignore".lstrip("/"),))


WATCHED = {
    "base": Watched((folder("base"),), (("base/Dockerfile", "Dockerfile changed"),)),
    "api": Watched((folder("services/api", "*.md", "tmp/*",
                           ignore_files=("services/api/Dockerfile.dockerignore",
                                         "services/api/.dockerignore")),
                    folder("shared/proto")),
                   (("services/api/Dockerfile", "Dockerfile changed"),
                    ("cache-config/reg.yaml", "cache profile reg changed"))),
    "root": Watched((folder("", "services/*", "base/*", "shared/*", "cache-config/*"),)),
    "remote": Watched((), (("cache-config/reg.yaml", "cache profile reg changed"),)),
}


def reasons(*paths: str, entries: dict[str, str] | None = None, base: str = "",
            watched: dict[str, Watched] | None = None) -> dict[str, list[str]]:
    return direct_reasons(watched or WATCHED, ChangedPaths(frozenset(paths)), entries or {},
                          base)


def test_a_file_in_a_context_counts_unless_its_ignore_file_leaves_it_out() -> None:
    assert reasons("services/api/app.py") == {"api": ["changed: services/api/app.py"]}
    assert reasons("services/api/README.md", "services/api/tmp/x") == {}
    assert reasons("services/apix/app.py") == {}  # a sibling folder of the same prefix
    assert reasons("services/api/a", "services/api/b", "services/api/c") == {
        "api": ["changed: services/api/a (+2 more)"]}


def test_a_named_context_counts_like_the_context() -> None:
    assert reasons("shared/proto/x.proto") == {"api": ["changed: shared/proto/x.proto"]}


def test_the_context_at_the_top_sees_everything_it_does_not_ignore() -> None:
    assert reasons("pipeline.yaml", "base/x") == {"root": ["changed: pipeline.yaml"],
                                                  "base": ["changed: base/x"]}


def test_ignore_files_dockerfiles_and_cache_profiles_count_even_when_ignored() -> None:
    found = reasons("services/api/Dockerfile.dockerignore", "services/api/Dockerfile",
                    "cache-config/reg.yaml")
    assert found["api"] == ["Dockerfile changed", "cache profile reg changed",
                            "ignore file changed: services/api/Dockerfile.dockerignore",
                            "changed: services/api/Dockerfile (+1 more)"]
    assert found["remote"] == ["cache profile reg changed"]
    assert set(found) == {"api", "remote"}


def test_entries_and_inputs_outside_the_repository() -> None:
    far = {**WATCHED, "far": Watched((), (), "its context is outside the repository")}
    assert reasons(entries={"remote": "pipeline entry changed"}, watched=far) == {
        "remote": ["pipeline entry changed"], "far": ["its context is outside the repository"]}


def test_paths_are_shown_relative_to_the_pipeline_s_folder() -> None:
    found = reasons("services/api/app.py", "services/api/.dockerignore", base="services")
    assert found == {"api": ["ignore file changed: api/.dockerignore",
                             "changed: api/.dockerignore (+1 more)"]}


def graph(*edges: tuple[str, str]) -> BuildGraph:
    return BuildGraph(Dag(["base", "api", "worker", "tool", "app"], edges), ())


def test_what_is_built_on_a_changed_image_is_selected_and_names_it() -> None:
    g = graph(("base", "api"), ("base", "worker"), ("api", "app"), ("worker", "app"))
    assert with_dependents(g, {"base": ["Dockerfile changed"]}) == {
        "base": "Dockerfile changed", "api": "built on base", "worker": "built on base",
        "app": "built on api, worker"}
    assert with_dependents(g, {"worker": ["x"], "app": ["y"]}) == {
        "worker": "x", "app": "y; built on worker"}
    assert with_dependents(g, {}) == {}


_NAMES = ["a", "b", "c", "d", "e", "f"]


@settings(max_examples=200, deadline=None)
@given(edges=st.sets(st.tuples(st.sampled_from(_NAMES), st.sampled_from(_NAMES))),
       changed=st.sets(st.sampled_from(_NAMES)))
def test_the_selection_is_the_changed_images_and_their_descendants(
        edges: set[tuple[str, str]], changed: set[str]) -> None:
    acyclic = [(u, v) for u, v in edges if u < v]  # sorted names: no cycle
    g = BuildGraph(Dag(_NAMES, acyclic), ())
    selected = with_dependents(g, {n: ["x"] for n in changed})
    reach = set(changed)
    for _ in _NAMES:  # a fixed point, as far as any path is long
        reach |= {v for u, v in acyclic if u in reach}
    assert set(selected) == reach
    for name, why in selected.items():
        on = sorted(u for u, v in acyclic if v == name and u in reach)
        assert ("built on" in why) == bool(on)
        assert (why.startswith("x")) == (name in changed)
