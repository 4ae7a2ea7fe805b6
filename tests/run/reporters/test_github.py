"""GitHub Actions output: the plain lines, each image's log as a group when it ends, an
error annotation on a failing Dockerfile line, the markdown summary appended to
$GITHUB_STEP_SUMMARY; and no text a build printed can issue a workflow command.

The runner's reading of the output is simulated (workflow_commands.py). Escapes follow
actions/toolkit packages/core/src/command.ts.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildorch.run.events import (
    ImageFinished,
    ImageStarted,
    LogLine,
    Note,
    RunFinished,
    RunStarted,
)
from buildorch.run.failures import Failure
from buildorch.run.recorded import read_record
from buildorch.run.reporters import github
from buildorch.run.reporters.choose import reporter_for
from buildorch.run.reporters.github import (
    GitHubReporter,
    command,
    escape_data,
    escape_property,
    group_title,
    last_lines,
)
from buildorch.run.reporters.plain import PlainReporter
from buildorch.run.reporters.step_summary import markdown_summary
from tests.run.reporters.event_strategies import image_finished, names, texts
from tests.run.reporters.workflow_commands import Command, commands

DIGEST = "sha256:" + "1a" * 32
FAILURE = Failure('process "/bin/sh -c exit 3" did not complete successfully: exit code: 3',
                  "bad/Dockerfile", 3, None, "[2/2] RUN exit 3", ("about to fail",))
BAD_LOG = ["$ docker buildx build bad", "#5 [2/2] RUN exit 3", "::set-output name=x::evil",
           "#5 0.2 ##[error]not an annotation", "ERROR: failed to solve"]


def normalise(out: str) -> str:
    """Each stop-commands token as TOKEN."""
    for token in set(re.findall(r"::stop-commands::([0-9a-f]{32})", out)):
        out = out.replace(token, "TOKEN")
    return out


def record(root: Path, outcome: str = "failed") -> str:
    """A run record under `root`, as the executor writes it; its path relative to root."""
    path = root / ".buildorch" / "runs" / "R1" / "record.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "id": "R1", "pipeline": "shop", "backend": "docker", "started": 100.0,
        "ended": 104.5, "outcome": outcome, "images": {
            "ok": {"name": "ok", "state": "succeeded", "duration": 1.25, "digest": DIGEST,
                   "cached_steps": 1, "total_steps": 2},
            "bad": {"name": "bad", "state": "failed", "duration": 0.5, "cached_steps": 0,
                    "total_steps": 1, "log": ".buildorch/runs/R1/bad.log",
                    "failure": {"message": FAILURE.message, "dockerfile": "bad/Dockerfile",
                                "line": 3, "step": FAILURE.step, "tail": FAILURE.tail}}}}))
    return ".buildorch/runs/R1/record.json"


def write_log(root: Path, name: str, lines: Sequence[str]) -> str:
    path = root / ".buildorch" / "runs" / "R1" / f"{name}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))
    return f".buildorch/runs/R1/{name}.log"


def run(tmp_path: Path, env: dict[str, str] | None = None, verbose: bool = False) -> str:
    out = io.StringIO()
    reporter = GitHubReporter(out, verbose, env or {"GITHUB_ACTIONS": "true"}, tmp_path)
    reporter.started(RunStarted("R1", "shop", "docker", ("ok", "cached", "bad", "child"), 4))
    for name in ("ok", "cached", "bad"):
        reporter.started(ImageStarted(name, 1))
    reporter.update(LogLine("bad", "::set-output name=x::evil"))
    ok = write_log(tmp_path, "ok", ["$ docker buildx build ok", "#5 [2/2] RUN make", "#5 DONE"])
    reporter.finished(ImageFinished("ok", "succeeded", 1.25, DIGEST, 1, 2, log=ok))
    cached = write_log(tmp_path, "cached", ["$ docker buildx build cached", "#5 CACHED"])
    reporter.finished(ImageFinished("cached", "succeeded", 0.5, DIGEST, 1, 1, log=cached))
    bad = write_log(tmp_path, "bad", BAD_LOG)
    reporter.finished(ImageFinished("bad", "failed", 0.5, None, 0, 1, FAILURE.message,
                                    FAILURE, bad))
    reporter.finished(ImageFinished("child", "skipped", reason="bad failed"))
    reporter.finished(RunFinished("R1", "failed", 4.5, {}, record(tmp_path), "SUMMARY"))
    return out.getvalue()


def test_state_lines_then_a_group_per_image_and_an_annotation_for_the_failure(
        tmp_path: Path) -> None:
    assert normalise(run(tmp_path)).splitlines() == [
        "run R1: 4 images, backend docker, up to 4 at once",
        "==> ok: started",
        "==> cached: started",
        "==> bad: started",
        "==> ok: done in 1.2s, 1/2 cached, sha256:1a1a1a1a1a1a",
        "::group::ok (done in 1.2s)",
        "::stop-commands::TOKEN",
        "$ docker buildx build ok", "#5 [2/2] RUN make", "#5 DONE",
        "::TOKEN::",
        "::endgroup::",
        "==> cached: cached in 0.5s, 1/1 cached, sha256:1a1a1a1a1a1a",
        "::group::cached (cached in 0.5s)",
        "::stop-commands::TOKEN",
        "$ docker buildx build cached", "#5 CACHED",
        "::TOKEN::",
        "::endgroup::",
        '==> bad: failed (bad/Dockerfile:3) process "/bin/sh -c exit 3" did not complete '
        "successfully: exit code: 3",
        "::group::bad (failed in 0.5s)",
        "::stop-commands::TOKEN",
        *BAD_LOG,
        "::TOKEN::",
        "::endgroup::",
        "::error file=bad/Dockerfile,line=3,title=bad failed::process \"/bin/sh -c exit 3\" did "
        "not complete successfully: exit code: 3",
        "==> child: skipped (bad failed)",
        "SUMMARY",
    ]


def test_each_fence_has_its_own_token(tmp_path: Path) -> None:
    tokens = re.findall(r"::stop-commands::([0-9a-f]{32})", run(tmp_path))
    assert len(tokens) == len(set(tokens)) == 3


def test_the_summary_is_appended_to_the_step_summary_file(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("an earlier step's summary\n")
    run(tmp_path, {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    expected = markdown_summary(read_record(tmp_path / record(tmp_path)))
    assert summary.read_text() == "an earlier step's summary\n" + expected
    assert "| bad | failed | 0.5s | 0/1 (0%) | - |" in expected


def test_without_its_record_the_summary_is_the_text_one(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    reporter = GitHubReporter(io.StringIO(), env={"GITHUB_STEP_SUMMARY": str(summary)},
                              root=tmp_path)
    reporter.finished(RunFinished("R1", "failed", 1.0, {}, "gone/record.json", "a `summary`"))
    assert summary.read_text() == ("buildorch: gone/record.json: cannot read: No such file or "
                                   "directory\n\n```text\na `summary`\n```\n")


def test_a_step_summary_that_cannot_be_written_is_a_warning(tmp_path: Path) -> None:
    out = io.StringIO()
    reporter = GitHubReporter(out, env={"GITHUB_STEP_SUMMARY": str(tmp_path / "no" / "f")},
                              root=tmp_path)
    reporter.finished(RunFinished("R1", "failed", 1.0, {}, record(tmp_path), "SUMMARY"))
    assert out.getvalue().splitlines()[-1].startswith(
        f"warning: cannot write the step summary to {tmp_path / 'no' / 'f'}: ")


def annotation(tmp_path: Path, root: Path, workspace: Path | None, dockerfile: str,
               line: int | None = 3) -> str:
    out = io.StringIO()
    env = {"GITHUB_WORKSPACE": str(workspace)} if workspace else {}
    reporter = GitHubReporter(out, env=env, root=root)
    reporter.finished(ImageFinished("api", "failed", 1.0, failure=Failure(
        "exit code: 3", dockerfile, line)))
    return out.getvalue().splitlines()[-1]


def test_the_annotation_names_the_file_from_the_repositorys_root(tmp_path: Path) -> None:
    ci = tmp_path / "ci"
    ci.mkdir()
    assert annotation(tmp_path, tmp_path, None, "api/Dockerfile") == (
        "::error file=api/Dockerfile,line=3,title=api failed::exit code: 3")
    assert annotation(tmp_path, ci, tmp_path, "api/Dockerfile") == (
        "::error file=ci/api/Dockerfile,line=3,title=api failed::exit code: 3")
    assert annotation(tmp_path, ci, tmp_path, "../api/Dockerfile") == (
        "::error file=api/Dockerfile,line=3,title=api failed::exit code: 3")


def test_no_file_outside_the_repository_for_a_written_dockerfile_or_without_a_line(
        tmp_path: Path) -> None:
    ci = tmp_path / "ci"
    ci.mkdir()
    plain = "::error title=api failed::exit code: 3"
    assert annotation(tmp_path, ci, ci, "../api/Dockerfile") == plain
    assert annotation(tmp_path, ci, tmp_path, ".buildorch/runs/R1/api.Dockerfile") == plain
    assert annotation(tmp_path, tmp_path, None, ".buildorch/runs/R1/api.Dockerfile") == plain
    assert annotation(tmp_path, tmp_path, None, "api/Dockerfile", None) == plain


def test_values_are_escaped_as_the_toolkit_does() -> None:
    assert escape_data("50% done\r\nnext: a, b") == "50%25 done%0D%0Anext: a, b"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert command("error", "m::x", file="a,b.txt", line="3", title="t: x") == (
        "::error file=a%2Cb.txt,line=3,title=t%3A x::m::x")
    assert command("endgroup", "") == "::endgroup::"


def test_only_the_last_lines_of_a_long_log_go_in_its_group(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(github, "GROUP_LINES", 3)
    log = write_log(tmp_path, "api", [f"line {n}" for n in range(10)])
    out = io.StringIO()
    GitHubReporter(out, env={}, root=tmp_path).finished(
        ImageFinished("api", "succeeded", 1.0, DIGEST, log=log))
    assert normalise(out.getvalue()).splitlines()[1:-1] == [
        "::group::api (done in 1.0s)", "::stop-commands::TOKEN",
        f"(7 earlier lines in {log})", "line 7", "line 8", "line 9", "::TOKEN::"]
    assert last_lines(tmp_path / "missing.log", 3) == ([], 0)


def test_without_a_log_file_the_group_holds_the_lines_kept(tmp_path: Path) -> None:
    out = io.StringIO()
    reporter = GitHubReporter(out, env={}, root=tmp_path)
    reporter.started(ImageStarted("api", 1))
    reporter.update(LogLine("api", "kept"))
    reporter.finished(ImageFinished("api", "failed", 1.0, failure=Failure("boom"),
                                    log="missing.log"))
    assert normalise(out.getvalue()).splitlines()[2:6] == [
        "::group::api (failed in 1.0s)", "::stop-commands::TOKEN", "kept", "::TOKEN::"]


def test_verbose_prints_log_lines_as_they_come_prefixed(tmp_path: Path) -> None:
    out = run(tmp_path, verbose=True)
    assert "[bad] ::set-output name=x::evil" in normalise(out).splitlines()
    assert commands(out).stopped is None


def test_plain_progress_under_github_actions_gets_this_reporter() -> None:
    env = {"GITHUB_ACTIONS": "true"}
    assert isinstance(reporter_for("plain", stream=io.StringIO(), env=env), GitHubReporter)
    assert isinstance(reporter_for("auto", stream=io.StringIO(), env=env), GitHubReporter)
    assert type(reporter_for("plain", stream=io.StringIO(), env={})) is PlainReporter


def test_the_simulated_runner_sees_injected_commands_where_nothing_fences_them() -> None:
    """The check below can fail: unfenced, a build's line is a command to the runner."""
    seen = commands("::set-output name=x::1\nlog ##[add-mask]secret\n  ::error::x")
    assert [c.name for c in seen.processed] == ["set-output", "add-mask", "error"]
    assert commands("::stop-commands::T\n::error::x\n::t::\n::warning::y").processed == [
        Command("warning", {}, "y")]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(image_finished, st.lists(texts, max_size=3), texts), max_size=4),
       st.booleans(), names)
def test_nothing_a_build_prints_issues_a_workflow_command(
        tmp_path_factory: pytest.TempPathFactory,
        ends: list[tuple[ImageFinished, list[str], str]], verbose: bool, note: str) -> None:
    root = tmp_path_factory.mktemp("gh")
    out = io.StringIO()
    reporter = GitHubReporter(out, verbose, {"GITHUB_ACTIONS": "true"}, root)
    reporter.started(RunStarted(note, note, "docker", (note,), 2))
    reporter.update(Note(note, note))
    for event, log_lines, live in ends:
        reporter.started(ImageStarted(event.image, 1))
        reporter.update(LogLine(event.image, live))
        if log_lines:
            write_log(root, "image", log_lines)
            event = dataclasses.replace(event, log=".buildorch/runs/R1/image.log")
        reporter.finished(event)
    reporter.finished(RunFinished(note, "failed", 1.0, {}, note, note))
    runner = commands(out.getvalue())
    assert runner.stopped is None  # every fence closed
    failed = [event for event, _, _ in ends if event.failure is not None]
    errors = [c for c in runner.processed if c.name == "error"]
    assert [(c.data, c.properties["title"]) for c in errors] == [
        (e.failure.message, f"{e.image} failed") for e in failed if e.failure is not None]
    groups = [c for c in runner.processed if c.name == "group"]
    assert [c.name for c in runner.processed if c.name != "error"] == [
        "group", "endgroup"] * len(groups)
    assert {g.data for g in groups} <= {group_title(e) for e, _, _ in ends}
