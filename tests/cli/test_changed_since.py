"""`--changed-since REF` on a real repository of several commits: for every revision and
every kind of working-tree edit, the selection equals the set this test computes on its
own (which images own each changed file, by a table written here, and what is built on
them, by networkx); `plan` says why; an unknown ref or a folder outside git is exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import pytest

from buildorch.cli.main import main
from tests.git_repo import GIT_ENV, GitRepo

PIPELINE = """\
version: 1
name: shop
vars:
  REGISTRY: localhost:5000/shop
  TOOLS_VERSION: "1"
  SUFFIX: a
  TOOLS_LABEL: t-${SUFFIX}
defaults:
  outputs: [type=cacheonly]
images:
  _service:
    args: {SERVICE: "yes"}
  base:
    context: base
    tags: ["${REGISTRY}/base:1"]
  api:
    context: services/api
  worker:
    context: services/worker
    depends_on: [api]
  web:
    inherits: [_service]
    context: services/web
    contexts:
      shared: shared
      base: {image: base}
  tools:
    context: tools
    cache: reg
    args: {VERSION: "${TOOLS_VERSION}"}
    labels: {l: "${TOOLS_LABEL}"}
  lib:
    matrix: {py: ["3.11", "3.12"]}
    name: lib-${py}
    context: lib
    args: {PY: "${py}"}
"""

FILES = {
    ".gitignore": "*.log\n",
    "pipeline.yaml": PIPELINE,
    "cache-config/reg.yaml": "type: local\ndir: .buildorch/cache\n",
    "base/Dockerfile": "FROM busybox AS base-stage\nCOPY . /base\n",
    "base/setup.sh": "echo base\n",
    "services/api/Dockerfile": "FROM localhost:5000/shop/base:1\nCOPY . /app\n",
    "services/api/.dockerignore": "*.md\ntests/\n",
    "services/api/app.py": "print('api')\n",
    "services/api/README.md": "# api\n",
    "services/api/tests/test_app.py": "pass\n",
    "services/worker/Dockerfile": "FROM busybox\nCOPY . /w\n",
    "services/worker/Dockerfile.dockerignore": "docs\n",
    "services/worker/.dockerignore": "# not in effect: Dockerfile.dockerignore wins\n*.py\n",
    "services/worker/main.py": "print('worker')\n",
    "services/worker/docs/guide.txt": "guide\n",
    "services/web/Dockerfile": "FROM busybox\nCOPY --from=shared . /shared\nCOPY . /web\n",
    "services/web/index.html": "<p>web</p>\n",
    "shared/lib.txt": "lib\n",
    "shared/.dockerignore": "*.tmp\n",
    "tools/Dockerfile": "FROM busybox\n",
    "lib/Dockerfile": "FROM busybox\nCOPY . /lib\n",
    "lib/lib.py": "pass\n",
    "docs/notes.txt": "in no context\n",
}

# Written here, not read from buildorch: the edges of the pipeline above.
EDGES = [("base", "api"), ("api", "worker"), ("base", "web")]
IMAGES = ["base", "api", "worker", "web", "tools", "lib-3.11", "lib-3.12"]


@dataclass(frozen=True)
class Edit:
    """A change, and the images whose build sees it (this test's own table)."""

    name: str
    files: dict[str, str | None]  # path -> new text, None: deleted
    owners: frozenset[str]
    stage: bool = False  # `git add` it (in the working tree only)
    pipeline: tuple[str, str] | None = field(default=None)  # replace in pipeline.yaml


def edit(name: str, owners: str, files: dict[str, str | None] | None = None,
         pipeline: tuple[str, str] | None = None, stage: bool = False) -> Edit:
    return Edit(name, files or {}, frozenset(owners.split()), stage, pipeline)


# Each commit after the first; their paths are distinct, so each differs from every
# revision before it.
COMMITS = [
    edit("api code", "api", {"services/api/app.py": "print('api 2')\n"}),
    edit("ignored by .dockerignore", "", {"services/api/README.md": "# api 2\n",
                                          "services/api/tests/test_new.py": "pass\n",
                                          "shared/scratch.tmp": "x"}),
    edit("cache profile", "tools", {"cache-config/reg.yaml": "type: local\ndir: .cache2\n"}),
    edit("pipeline entry", "web", pipeline=("SERVICE: \"yes\"", "SERVICE: \"no\"")),
    edit("nowhere", "", {"docs/notes.txt": "still in no context\n"}),
]

WORKING_TREE = [
    edit("nothing", ""),
    edit("modified", "base", {"base/setup.sh": "echo base 2\n"}),
    edit("staged", "worker", {"services/worker/main.py": "print(2)\n"}, stage=True),
    edit("added, untracked", "worker", {"services/worker/new.txt": "new\n"}),
    edit("deleted", "web", {"shared/lib.txt": None}),
    edit("ignored by git", "", {"services/api/debug.log": "log\n"}),
    edit("ignored by Dockerfile.dockerignore", "", {"services/worker/docs/guide.txt": "v2\n"}),
    edit("ignored by the named context's .dockerignore", "", {"shared/more.tmp": "t"}),
    # Dockerfile.dockerignore is in effect: .dockerignore is one more file of the context
    edit("the .dockerignore not in effect", "worker",
         {"services/worker/.dockerignore": "*.txt\n"}),
    edit("ignore file", "api", {"services/api/.dockerignore": "*.md\n"}),
    edit("Dockerfile", "tools", {"tools/Dockerfile": "FROM busybox\nRUN true\n"}),
    edit("pipeline entry", "base",
         pipeline=("context: base\n", "context: base\n    target: base-stage\n")),
    edit("variable", "tools", pipeline=('TOOLS_VERSION: "1"', 'TOOLS_VERSION: "2"')),
    edit("variable through another", "tools", pipeline=("SUFFIX: a", "SUFFIX: b")),
    edit("defaults", " ".join(IMAGES), pipeline=("defaults:\n", "defaults:\n  no_cache: true\n")),
    edit("description only", "", pipeline=("  tools:\n", "  tools:\n    description: tools\n")),
    edit("cache profile", "tools", {"cache-config/reg.yaml": "type: local\ndir: .cache3\n"}),
    edit("a cache profile no image uses", "", {"cache-config/other.yaml": "type: inline\n"}),
    edit("a matrix's context", "lib-3.11 lib-3.12", {"lib/lib.py": "pass  # 2\n"}),
    edit("a matrix entry", "lib-3.11 lib-3.12", pipeline=('{PY: "${py}"}', '{PY: "py${py}"}')),
]


def apply(repo: GitRepo, change: Edit) -> None:
    repo.write(change.files)
    if change.pipeline is not None:
        path = repo.root / "pipeline.yaml"
        old, new = change.pipeline
        text = path.read_text()
        assert old in text, change.name
        path.write_text(text.replace(old, new, 1))
    if change.stage:
        repo.git("add", *change.files)


def expected(owners: set[str]) -> set[str]:
    graph = nx.DiGraph(EDGES)
    graph.add_nodes_from(IMAGES)
    return owners | {d for o in owners for d in nx.descendants(graph, o)}


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[GitRepo, list[str]]:
    """The repository and its commits, oldest first."""
    for key in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM"):
        monkeypatch.setenv(key, GIT_ENV[key])
    repo = GitRepo(tmp_path / "repo")
    commits = [repo.commit("first", FILES)]
    for change in COMMITS:
        apply(repo, change)
        commits.append(repo.commit(change.name))
    monkeypatch.chdir(repo.root)
    return repo, commits


def selected(capsys: pytest.CaptureFixture[str], ref: str) -> set[str]:
    code = main(["plan", "-f", "pipeline.yaml", "--format", "json", "--changed-since", ref])
    out = capsys.readouterr().out
    assert code == 0
    if out.startswith("nothing changed since"):
        return set()
    plan = json.loads(out)
    why = {node["name"]: node["selected_because"] for node in plan["nodes"]}
    assert all(why[name] for name in plan["selection"])  # each selected image says why
    return set(plan["selection"])


@pytest.mark.parametrize("work", WORKING_TREE, ids=[w.name for w in WORKING_TREE])
def test_the_selection_equals_the_affected_set_for_every_revision(
        history: tuple[GitRepo, list[str]], work: Edit,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo, commits = history
    apply(repo, work)
    for i, commit in enumerate(commits):
        owners = set(work.owners).union(*(c.owners for c in COMMITS[i:]))
        want = expected(owners)
        assert selected(capsys, commit) == want, (work.name, f"HEAD~{len(commits) - 1 - i}")
    assert selected(capsys, "main") == expected(set(work.owners))


def reasons_in_text(out: str) -> dict[str, str]:
    """`plan`'s text: each image's name on its numbered line, the reason a few lines on."""
    found: dict[str, str] = {}
    name = ""
    for line in out.splitlines():
        if line[:4].strip().rstrip(".").isdigit():
            name = line.split(".", 1)[1].split()[0]
        elif line.startswith("     selected because: "):
            found[name] = line.removeprefix("     selected because: ")
    return found


def test_plan_says_why_each_image_is_selected(history: tuple[GitRepo, list[str]],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    repo, commits = history
    apply(repo, edit("", "", {"base/setup.sh": "2", "base/extra.sh": "3", "tools/new": "n"},
                     pipeline=('TOOLS_VERSION: "1"', 'TOOLS_VERSION: "2"')))
    want = {"base": "changed: base/extra.sh (+1 more)",
            "tools": "variable TOOLS_VERSION changed; changed: tools/new",
            "api": "built on base", "web": "built on base", "worker": "built on api"}
    assert main(["plan", "-f", "pipeline.yaml", "--changed-since", "HEAD"]) == 0
    assert reasons_in_text(capsys.readouterr().out) == want
    assert main(["plan", "-f", "pipeline.yaml", "--format", "json", "--changed-since",
                 commits[-2]]) == 0
    nodes = json.loads(capsys.readouterr().out)["nodes"]
    assert {n["name"]: n["selected_because"] for n in nodes} == want


def test_names_narrow_the_selection_and_dependencies_come_as_usual(
        history: tuple[GitRepo, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    repo, _ = history
    apply(repo, WORKING_TREE[1])  # base
    assert main(["plan", "-f", "pipeline.yaml", "--format", "json", "--changed-since", "HEAD",
                 "worker", "tools"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["selection"] == ["worker"]
    assert plan["order"] == ["base", "api", "worker"]
    assert {n["name"]: n["selected_because"] for n in plan["nodes"]} == {
        "base": "changed: base/setup.sh", "api": "built on base", "worker": "built on api"}
    assert main(["plan", "-f", "pipeline.yaml", "--changed-since", "HEAD", "tools"]) == 0
    assert capsys.readouterr().out == "nothing changed since HEAD\n"


def test_build_and_graph_with_nothing_changed_start_nothing(
        history: tuple[GitRepo, list[str]], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import buildorch.cli.build as build

    def no_engine(*_: object) -> None:
        raise AssertionError("a backend was chosen")

    monkeypatch.setattr(build, "choose_backend", no_engine)
    for command in ("build", "graph"):
        assert main([command, "-f", "pipeline.yaml", "--changed-since", "HEAD"]) == 0
        assert capsys.readouterr().out == "nothing changed since HEAD\n"


def test_build_dry_run_and_graph_take_the_selection(
        history: tuple[GitRepo, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    repo, _ = history
    apply(repo, WORKING_TREE[3])  # worker
    assert main(["build", "-f", "pipeline.yaml", "--dry-run", "--backend", "docker",
                 "--changed-since", "HEAD"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# 3 builds,")  # worker, and api and base it is built on
    assert main(["graph", "-f", "pipeline.yaml", "--changed-since", "HEAD"]) == 0
    drawn = capsys.readouterr().out
    assert "worker" in drawn and "tools" not in drawn and "web" not in drawn


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("command", ["build", "plan", "graph"])
def test_an_unknown_ref_is_exit_2_one_line_nothing_run(
        history: tuple[GitRepo, list[str]], capsys: pytest.CaptureFixture[str],
        command: str) -> None:
    assert main([command, "-f", "pipeline.yaml", "--changed-since", "no-such-ref"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert one_error_line(err).startswith(
        "buildorch: error: --changed-since no-such-ref: no such commit in ")


def test_as_a_subprocess(history: tuple[GitRepo, list[str]]) -> None:
    repo, commits = history
    apply(repo, WORKING_TREE[4])  # web

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "buildorch", *args], cwd=repo.root,
                              env=GIT_ENV, capture_output=True, text=True, check=False)

    result = run("plan", "-f", "pipeline.yaml", "--format", "json", "--changed-since",
                 commits[-1])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["selection"] == ["web"]
    result = run("build", "-f", "pipeline.yaml", "--changed-since", "v9")
    assert result.returncode == 2 and result.stdout == ""
    assert one_error_line(result.stderr).startswith("buildorch: error: --changed-since v9: ")


def test_outside_a_git_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "Dockerfile").write_text("FROM busybox\n")
    (tmp_path / "p.yaml").write_text("version: 1\nname: p\nimages:\n  a: {context: a}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert main(["plan", "-f", "p.yaml", "--changed-since", "main"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert one_error_line(err) == (f"buildorch: error: --changed-since main: {tmp_path} is "
                                   "not inside a git repository")


def test_a_pipeline_file_new_since_the_revision_or_broken_there_selects_every_image(
        history: tuple[GitRepo, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    repo, _ = history
    repo.commit("broken", {"broken.yaml": "images: [\n"})
    repo.write({"new.yaml": PIPELINE, "broken.yaml": PIPELINE})
    for name, why in (("new.yaml", "the pipeline file is not in HEAD"),
                      ("broken.yaml", "the pipeline file at HEAD is no YAML")):
        assert main(["plan", "-f", name, "--format", "json", "--changed-since", "HEAD"]) == 0
        plan = json.loads(capsys.readouterr().out)
        assert plan["selection"] == IMAGES
        assert {n["name"]: n["selected_because"] for n in plan["nodes"]}["worker"] == (
            f"{why}; built on api")
