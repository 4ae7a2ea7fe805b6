"""What a record keeps for `repro`: variables as resolved, the command line, git, inputs,
and paths relative to the run's root."""

from __future__ import annotations

import json
from pathlib import Path

from buildorch.jsontypes import JsonObject
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.graph import build_graph
from buildorch.planning.input_sources import SourceReader
from buildorch.planning.plan import make_plan
from buildorch.planning.requests import PlanOptions
from buildorch.run.recorded import parse_record
from buildorch.run.repro.record import (
    Invocation,
    config_digest,
    git_state,
    image_facts,
    relative,
    relative_paths,
    resolved_variables,
    run_facts,
)
from tests.git_repo import GitRepo
from tests.run.record_samples import record

PIPELINE = """\
version: 1
name: shop
vars:
  REGISTRY: ${env.SHOP_REGISTRY:-localhost:5000}
  TAG: ${GIT_SHORT_SHA:-dev}-${SUFFIX}
  SUFFIX: x
images:
  api:
    context: api
    args: {VERSION: "${TAG}", TOKEN: "${env.SHOP_TOKEN:-none}"}
    tags: ["${REGISTRY}/api:${INPUT_DIGEST_SHORT}"]
"""


def repo_with_pipeline(root: Path) -> GitRepo:
    repo = GitRepo(root)
    repo.commit("init", {"pipeline.yaml": PIPELINE, "api/Dockerfile": "FROM scratch\n",
                         "api/app.py": "print(1)\n", ".gitignore": "/ignored\n"})
    return repo


def test_git_state_names_head_branch_folder_and_a_dirty_tree(tmp_path: Path) -> None:
    repo = repo_with_pipeline(tmp_path / "r")
    head = repo.git("rev-parse", "HEAD")
    clean = git_state(repo.root)
    assert clean.to_json() == {"commit": head, "branch": "main", "dirty": False, "folder": "."}
    (repo.root / ".buildorch" / "runs").mkdir(parents=True)  # buildorch's own: not dirty
    (repo.root / ".buildorch" / "runs" / "x").write_text("x")
    assert git_state(repo.root).dirty is False
    (repo.root / "api" / "new.txt").write_text("new")
    state = git_state(repo.root / "api", branch="from-ci")
    assert (state.dirty, state.folder, state.branch) == (True, "api", "from-ci")
    repo.git("checkout", "-q", "--detach")
    assert git_state(repo.root).branch is None


def test_git_state_outside_a_repository_knows_nothing(tmp_path: Path) -> None:
    assert git_state(tmp_path, "b").to_json() == {"commit": None, "branch": "b",
                                                  "dirty": None, "folder": None}


def test_the_variables_used_are_recorded_with_secrets_redacted(tmp_path: Path) -> None:
    repo = repo_with_pipeline(tmp_path / "r")
    env = {"SHOP_TOKEN": "s3cr3t-value", "SHOP_REGISTRY": "ci.example:5000"}
    pipeline = load_pipeline(repo.root / "pipeline.yaml",
                             LoadOptions(variables={"SUFFIX": "cli"}, env=env, state_root=None))
    variables = resolved_variables(pipeline)
    short = repo.git("rev-parse", "HEAD")[:7]
    assert variables == {"GIT_SHORT_SHA": short, "REGISTRY": "ci.example:5000",
                         "SUFFIX": "cli", "TAG": f"{short}-cli"}  # no INPUT_DIGEST token
    facts = run_facts(pipeline, Invocation(variables=(("SUFFIX", "cli"),), sets=(
        "api.args.X=s3cr3t-value",), cache_config=str(repo.root / "profiles")),
        repo.root, ("s3cr3t-value",))
    invocation = facts["invocation"]
    assert isinstance(invocation, dict)
    assert invocation["sets"] == ["api.args.X=***"]
    assert invocation["vars"] == {"SUFFIX": "cli"}
    assert invocation["cache_config"] == "profiles"
    assert "s3cr3t-value" not in json.dumps(facts)
    git = facts["git"]
    assert isinstance(git, dict) and git["branch"] == "main"


def test_image_facts_hold_the_input_manifest_cache_imports_and_config(tmp_path: Path) -> None:
    repo = repo_with_pipeline(tmp_path / "r")
    pipeline = load_pipeline(repo.root / "pipeline.yaml", LoadOptions(state_root=None))
    graph = build_graph(pipeline)
    sources = SourceReader(pipeline, repo.root).read(["api"])
    plan = make_plan(pipeline, graph, [], PlanOptions(sources=sources))
    metadata = tmp_path / "api.metadata.json"
    metadata.write_text(json.dumps({"containerimage.config.digest": "sha256:" + "c" * 64}))
    facts = image_facts(plan.images[0], metadata)
    inputs = facts["inputs"]
    assert isinstance(inputs, dict) and inputs["digest"] == plan.images[0].input_digest
    assert isinstance(inputs["context"], dict) and "app.py" in str(inputs["context"]["files"])
    assert facts["config_digest"] == "sha256:" + "c" * 64
    assert image_facts(plan.images[0], None)["config_digest"] is None


def test_config_digest_of_a_missing_or_broken_metadata_file_is_none(tmp_path: Path) -> None:
    assert config_digest(tmp_path / "none.json") is None
    (tmp_path / "bad.json").write_text("[1")
    assert config_digest(tmp_path / "bad.json") is None
    (tmp_path / "list.json").write_text("[1]")
    assert config_digest(tmp_path / "list.json") is None


def test_paths_under_the_root_become_relative(tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    record: JsonObject = {"file": f"{root}/pipelines/shop.yaml", "plan": {"edges": [
        {"declared_at": f"{root}/pipelines/shop.yaml:12"}]},
        "argv": ["--file", "api/Dockerfile", f"{root}x/elsewhere", "/etc/hosts"], "n": 3}
    assert relative_paths(record, root) == {
        "file": "pipelines/shop.yaml", "plan": {"edges": [
            {"declared_at": "pipelines/shop.yaml:12"}]},
        "argv": ["--file", "api/Dockerfile", f"{root}x/elsewhere", "/etc/hosts"], "n": 3}
    assert relative(str(root), root) == "."
    assert relative(f"{root}/cache-config", root) == "cache-config"
    assert relative("cache-config", root) == "cache-config"
    assert relative("/elsewhere/cache", root) == "/elsewhere/cache"


def test_the_repro_fields_read_back_and_an_older_or_foreign_manifest_is_none(
        tmp_path: Path) -> None:
    repo = repo_with_pipeline(tmp_path / "r")
    pipeline = load_pipeline(repo.root / "pipeline.yaml", LoadOptions(state_root=None))
    sources = SourceReader(pipeline, repo.root).read(["api"])
    planned = make_plan(pipeline, build_graph(pipeline), [], PlanOptions(sources=sources))
    data = record()
    data.update({"reproduces": "R0", "variables": {"TAG": "x", "NONE": None},
                 "invocation": {"vars": {"TAG": "x"}, "sets": ["api.target=t"],
                                "cache": "none", "push": True},
                 "git": {"commit": "c", "branch": "main", "dirty": True, "folder": "."},
                 "plan": {"nodes": [{"name": "api", "context": "api", "publish": ["r/a:1"]}]}})
    images = data["images"]
    assert isinstance(images, dict) and isinstance(images["api"], dict)
    images["api"].update(image_facts(planned.images[0], None))
    run = parse_record(json.loads(json.dumps(data)), "r")
    assert run.reproduces == "R0" and run.variables == {"TAG": "x", "NONE": None}
    assert run.invocation is not None and run.invocation.push and run.git is not None
    node = run.node("api")
    assert node is not None and node.publish == ("r/a:1",) and run.node("web") is None
    assert run.images["api"].manifest == planned.images[0].inputs
    assert run.images["base"].manifest is None  # an older record: nothing recorded
    images["api"]["inputs"] = {"version": 99, "context": {}}
    assert parse_record(data, "r").images["api"].manifest is None


def test_a_plan_node_that_does_not_fit_is_none() -> None:
    data = record()
    data["plan"] = {"nodes": ["x", {"name": "api", "tags": 3}, {"name": "web"}]}
    run = parse_record(data, "r")
    assert run.node("api") is None and run.node("base") is None
    node = run.node("web")
    assert node is not None and node.publish == ()
