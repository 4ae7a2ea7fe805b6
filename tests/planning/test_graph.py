from __future__ import annotations

import random

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildorch.cli.main import main
from buildorch.errors import ConfigError
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.graph import (
    Dag,
    build_graph,
    build_order,
    critical_path,
    expand_selection,
    remaining_path,
    with_dependencies,
)
from tests.conftest import EXAMPLE, MakeProject


def edges_of(path_or_graph: object) -> set[tuple[str, str, str]]:
    graph = build_graph(load_pipeline(path_or_graph, LoadOptions(env={})))  # type: ignore[arg-type]
    return {(e.source, e.target, e.kind) for e in graph.edges}


def test_example_edges() -> None:
    assert edges_of(EXAMPLE) == {
        ("base", "api", "context"),
        ("base", "api-test", "context"),
        ("base", "worker", "from"),
        ("base", "worker-test", "from"),
    }


def test_implicit_edges_from_copy_and_mount(make_project: MakeProject) -> None:
    path = make_project(
        """\
        version: 1
        name: p
        images:
          assets: {context: assets, tags: ["localhost:5000/p/assets:1"]}
          tools: {context: tools, tags: ["localhost:5000/p/tools"]}
          hub: {context: hub, tags: ["nginx"]}
          app: {context: app}
        """,
        files={
            "app/Dockerfile": """\
                FROM docker.io/library/nginx:latest AS web
                COPY --from=localhost:5000/p/assets:1 /a /a
                RUN --mount=type=bind,from=localhost:5000/p/tools:latest,target=/t true
                """,
        },
        contexts=("assets", "tools", "hub"),
    )
    assert edges_of(path) == {("assets", "app", "copy"), ("tools", "app", "mount"),
                              ("hub", "app", "from")}


def test_refs_in_stages_the_target_does_not_need_are_not_edges(
        make_project: MakeProject) -> None:
    path = make_project(
        """\
        version: 1
        name: p
        images:
          base: {context: base, tags: ["localhost:5000/p/base:1"]}
          app: {context: app, target: small}
        """,
        files={"app/Dockerfile": "FROM localhost:5000/p/base:1 AS big\n"
                                 "FROM localhost:5000/busybox:latest AS small\n"},
        contexts=("base",),
    )
    assert edges_of(path) == set()


def test_named_context_overrides_image_reference(make_project: MakeProject) -> None:
    path = make_project(
        """\
        version: 1
        name: p
        images:
          base: {context: base, tags: ["base"]}
          app:
            context: app
            contexts: {base: {image: base}}
        """,
        files={"app/Dockerfile": "FROM base\n"},
        contexts=("base",),
    )
    assert edges_of(path) == {("base", "app", "context")}


CYCLE = """\
version: 1
name: p
images:
  a: {context: a, depends_on: [c]}
  b: {context: b, depends_on: [a]}
  c: {context: c, depends_on: [b]}
"""


def test_cycle_names_the_whole_cycle_and_a_line(make_project: MakeProject) -> None:
    path = make_project(CYCLE, contexts=("a", "b", "c"))
    with pytest.raises(ConfigError) as err:
        build_graph(load_pipeline(path, LoadOptions(env={})))
    message = str(err.value)
    assert "dependency cycle:" in message
    chain = message.split("dependency cycle: ")[1].removesuffix(" (each depends on the next)")
    # a depends on c, c on b, b on a: the chain follows depends_on, whatever node it starts at.
    assert chain in ("a -> c -> b -> a", "c -> b -> a -> c", "b -> a -> c -> b")
    assert message.startswith(f"{path}:")


def test_cycle_through_a_dockerfile(make_project: MakeProject) -> None:
    path = make_project(
        """\
        version: 1
        name: p
        images:
          a: {context: a, tags: ["localhost:5000/a"], depends_on: [b]}
          b: {context: b, tags: ["localhost:5000/b"]}
        """,
        files={"b/Dockerfile": "FROM localhost:5000/a\n"},
        contexts=("a",),
    )
    with pytest.raises(ConfigError, match=r"dependency cycle: (a -> b -> a|b -> a -> b)"):
        build_graph(load_pipeline(path, LoadOptions(env={})))


def test_selection_groups_nest_and_default() -> None:
    groups = {"default": ["api"], "ci": ["default", "test"], "all": ["ci", "all"]}
    images = ["api", "test", "base"]
    assert expand_selection([], images, groups) == ["api"]
    assert expand_selection(["all"], images, groups) == ["api", "test"]
    assert expand_selection([], images, {}) == images
    with pytest.raises(ConfigError, match="unknown image or group 'nope'"):
        expand_selection(["nope"], images, groups)


def test_selection_pulls_in_dependencies() -> None:
    pipeline = load_pipeline(EXAMPLE, LoadOptions(env={}))
    graph = build_graph(pipeline)
    assert set(with_dependencies(graph, ["api"]).nodes) == {"api", "base"}


def diamond() -> Dag:
    return Dag(edges=[("base", "a"), ("base", "b"), ("a", "c"), ("b", "c"), ("x", "y")])


def test_critical_path_uses_estimates() -> None:
    estimates = {"base": 10.0, "a": 5.0, "b": 50.0, "c": 1.0, "x": 30.0, "y": 30.0}
    assert critical_path(diamond(), estimates) == (["base", "b", "c"], 61.0)
    estimates["x"] = 40.0
    assert critical_path(diamond(), estimates) == (["x", "y"], 70.0)


def test_order_is_topological_and_longest_path_first() -> None:
    estimates = {"base": 10.0, "a": 5.0, "b": 50.0, "c": 1.0, "x": 30.0, "y": 30.0}
    order = build_order(diamond(), estimates)
    assert order == ["base", "x", "b", "y", "a", "c"]


@pytest.mark.parametrize("seed", range(20))
def test_order_and_paths_are_networkxs(seed: int) -> None:
    # The plan's graph is plain dicts sorted by graphlib (networkx costs 0.1-0.2 s of
    # start-up); what it computes is what networkx computed before.
    rng = random.Random(seed)
    names = [f"i{n}" for n in range(rng.randint(1, 40))]
    rng.shuffle(names)  # a random topological order
    edges = [(names[j], names[i]) for i in range(len(names)) for j in range(i)
             if rng.random() < 0.15]
    rng.shuffle(edges)
    dag, reference = Dag(names, edges), nx.DiGraph()
    reference.add_nodes_from(names)
    reference.add_edges_from(edges)
    estimates = {n: float(rng.choice([1, 5, 30, 30, 120])) for n in names}
    longest = remaining_path(dag, estimates)
    expected = {}
    for node in reversed(list(nx.topological_sort(reference))):
        expected[node] = estimates[node] + max(
            (expected[s] for s in reference.successors(node)), default=0.0)
    assert longest == expected
    assert build_order(dag, estimates) == list(nx.lexicographical_topological_sort(
        reference, key=lambda n: (-longest[n], n)))
    assert [list(dag.predecessors(n)) for n in dag] == [
        list(reference.predecessors(n)) for n in reference]
    assert [list(dag.successors(n)) for n in dag] == [
        list(reference.successors(n)) for n in reference]
    assert dag.number_of_edges() == reference.number_of_edges()
    # networkx lists a subgraph of less than half the nodes in set order; this one keeps
    # the graph's order
    keep = rng.sample(names, k=len(names) // 2)
    sub, reference_sub = dag.subgraph(keep), reference.subgraph(keep)
    assert list(sub) == [n for n in names if n in keep]
    assert {(s, t) for s in sub for t in sub.successors(s)} == set(reference_sub.edges)


PLATFORM_PIPELINE = """\
version: 1
name: plat
images:
  base-arm64: {context: base, tags: ["localhost:5000/org/base-arm64:1"]}
  base-amd64: {context: base, tags: ["localhost:5000/org/base-amd64:1"]}
  app:
    context: app
    platforms: [linux/arm64]
"""
APP = """\
FROM localhost:5000/org/base-${TARGETARCH}:1 AS bin-linux
FROM scratch AS bin-windows
FROM bin-$TARGETOS AS bin
"""


def test_platform_args_select_stages_and_image_edges(make_project: MakeProject) -> None:
    path = make_project(PLATFORM_PIPELINE, files={"app/Dockerfile": APP}, contexts=("base",))
    pipeline = load_pipeline(path, LoadOptions(env={}))
    graph = build_graph(pipeline)
    assert sorted(graph.graph.predecessors("app")) == ["base-arm64"]
    both = load_pipeline(path, LoadOptions(env={}, sets=("app.platforms=linux/amd64,linux/arm64",)))
    assert sorted(build_graph(both).graph.predecessors("app")) == ["base-amd64", "base-arm64"]


def test_graph_stages_for_two_platforms(make_project: MakeProject,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project(PLATFORM_PIPELINE, files={"app/Dockerfile": APP}, contexts=("base",))
    shown = {}
    for platform in ("linux/arm64", "windows/amd64"):
        assert main(["graph", "-f", str(path), "--stages", "--set",
                     f"app.platforms={platform}", "app"]) == 0
        shown[platform] = capsys.readouterr().out.splitlines()
    assert shown["linux/arm64"][-3:] == [
        "app  <- base-arm64", "  bin-linux (FROM localhost:5000/org/base-arm64:1)",
        "  bin (FROM bin-linux)  <- bin-linux"]
    assert shown["windows/amd64"][-3:] == [
        "app", "  bin-windows (FROM scratch)", "  bin (FROM bin-windows)  <- bin-windows"]


def test_a_stage_replaced_by_a_named_context_does_not_reach_for_its_base(
        make_project: MakeProject) -> None:
    # moby/buildkit dockerfile2llb/convert.go: a stage whose name has a named context is
    # that context; its own FROM is never resolved
    path = make_project(
        "version: 1\nname: r\nimages:\n"
        "  old: {context: base, tags: ['localhost:5000/org/base:dev']}\n"
        "  new: {context: base}\n"
        "  app:\n    context: app\n    contexts: {base: {image: new}}\n",
        files={"app/Dockerfile": "FROM localhost:5000/org/base:dev AS base\nFROM base\n"},
        contexts=("base",))
    graph = build_graph(load_pipeline(path, LoadOptions(env={})))
    assert sorted(graph.graph.predecessors("app")) == ["new"]


# -- near misses: a pipeline image's repository under another tag or registry ------------


def near_misses_of(path: object) -> set[tuple[str, str, str, int, tuple[tuple[str, str], ...]]]:
    graph = build_graph(load_pipeline(path, LoadOptions(env={})))  # type: ignore[arg-type]
    return {(m.image, m.kind, m.ref, m.line, m.nearly) for m in graph.near_misses}


NEAR = """\
version: 1
name: p
images:
  base: {context: base, tags: ["localhost:5000/jupyter/base-notebook:2024"]}
  app: {context: app}
"""


@pytest.mark.parametrize(("dockerfile", "kind", "ref"), [
    ("FROM localhost:5000/jupyter/base-notebook:latest\n", "from",
     "localhost:5000/jupyter/base-notebook:latest"),
    ("FROM localhost:5000/jupyter/base-notebook\n", "from",
     "localhost:5000/jupyter/base-notebook"),  # no tag is latest, not 2024
    ("FROM jupyter/base-notebook:2024\n", "from", "jupyter/base-notebook:2024"),  # no registry
    ("FROM jupyter/base-notebook:latest\n", "from", "jupyter/base-notebook:latest"),  # neither
    ("FROM scratch\nCOPY --from=localhost:5000/jupyter/base-notebook:2023 /a /a\n", "copy",
     "localhost:5000/jupyter/base-notebook:2023"),
    ("FROM scratch\nRUN --mount=type=bind,from=jupyter/base-notebook:2024,target=/b true\n",
     "mount", "jupyter/base-notebook:2024"),
])
def test_a_reference_to_a_pipeline_images_repository_is_a_near_miss(
        make_project: MakeProject, dockerfile: str, kind: str, ref: str) -> None:
    path = make_project(NEAR, files={"app/Dockerfile": dockerfile}, contexts=("base",))
    line = dockerfile.count("\n")
    assert near_misses_of(path) == {
        ("app", kind, ref, line, (("base", "localhost:5000/jupyter/base-notebook:2024"),))}
    assert edges_of(path) == set()


def test_a_registry_the_reference_has_and_the_tag_lacks_is_a_near_miss(
        make_project: MakeProject) -> None:
    dockerfile = "FROM localhost:5000/jupyter/base-notebook:2024\n"
    path = make_project(NEAR.replace("localhost:5000/jupyter/base-notebook:2024",
                                     "jupyter/base-notebook:2024"),
                        files={"app/Dockerfile": dockerfile}, contexts=("base",))
    assert near_misses_of(path) == {("app", "from", "localhost:5000/jupyter/base-notebook:2024",
                                     1, (("base", "jupyter/base-notebook:2024"),))}


def test_docker_hubs_library_path_compares_as_docker_shows_it(
        make_project: MakeProject) -> None:
    path = make_project(NEAR.replace("localhost:5000/jupyter/base-notebook:2024",
                                     "localhost:5000/python:3.12-patched"),
                        files={"app/Dockerfile": "FROM docker.io/library/python:3.12\n"},
                        contexts=("base",))
    assert near_misses_of(path) == {("app", "from", "docker.io/library/python:3.12", 1,
                                     (("base", "localhost:5000/python:3.12-patched"),))}


def test_an_exact_match_of_another_image_is_no_near_miss(make_project: MakeProject) -> None:
    path = make_project(
        NEAR + '  legacy: {context: base, tags: ["localhost:5000/jupyter/base-notebook:legacy"]}\n',
        files={"app/Dockerfile": "FROM localhost:5000/jupyter/base-notebook:legacy\n"},
        contexts=("base",))
    assert near_misses_of(path) == set()
    assert edges_of(path) == {("legacy", "app", "from")}


def test_an_images_own_repository_is_no_near_miss(make_project: MakeProject) -> None:
    # building on the previous release of itself is what the registry holds, on purpose
    path = make_project(
        "version: 1\nname: p\nimages:\n"
        "  app: {context: app, tags: ['localhost:5000/p/app:2']}\n",
        files={"app/Dockerfile": "FROM localhost:5000/p/app:1\n"})
    assert near_misses_of(path) == set()


def test_references_a_named_context_replaces_are_no_near_misses(
        make_project: MakeProject) -> None:
    path = make_project(
        NEAR.replace("  app: {context: app}\n", "")
        + "  app:\n    context: app\n    contexts:\n"
          "      localhost:5000/jupyter/base-notebook: {image: base}\n"
          "      old: {image: base}\n",
        files={"app/Dockerfile": "FROM localhost:5000/jupyter/base-notebook:latest\n"
                                 "FROM jupyter/base-notebook:1 AS old\n"
                                 "FROM scratch\nCOPY --from=old /a /a\n"},
        contexts=("base",))
    assert near_misses_of(path) == set()


def test_several_images_of_one_repository_are_all_named(make_project: MakeProject) -> None:
    path = make_project(
        "version: 1\nname: p\nimages:\n"
        "  lib-311: {context: base, tags: ['localhost:5000/p/lib:1-py3.11']}\n"
        "  lib-312: {context: base, tags: ['localhost:5000/p/lib:1-py3.12', "
        "'localhost:5000/p/lib:1']}\n"
        "  app: {context: app}\n",
        files={"app/Dockerfile": "FROM localhost:5000/p/lib:latest\n"}, contexts=("base",))
    assert near_misses_of(path) == {("app", "from", "localhost:5000/p/lib:latest", 1, (
        ("lib-311", "localhost:5000/p/lib:1-py3.11"),
        ("lib-312", "localhost:5000/p/lib:1-py3.12")))}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=40))
def test_descendants_and_ancestors_are_networkxs(pairs: list[tuple[int, int]]) -> None:
    edges = [(f"n{a}", f"n{b}") for a, b in pairs if a < b]  # acyclic: low to high
    nodes = [f"n{i}" for i in range(13)]
    dag, oracle = Dag(nodes, edges), nx.DiGraph(edges)
    oracle.add_nodes_from(nodes)
    for node in nodes:
        assert dag.descendants(node) == nx.descendants(oracle, node)
        assert dag.ancestors(node) == nx.ancestors(oracle, node)
