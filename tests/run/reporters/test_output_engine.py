"""What a run prints, on the real stack, for a success, a cached image, a failure at a known
Dockerfile line and its skipped dependent (--keep-going, exit 1): plain lines, GitHub
Actions groups, annotation and step summary, and JSON events valid against their schema.

buildorch runs as a subprocess: once to fill the cache, then with --progress plain, with
--progress plain under GITHUB_ACTIONS=true, and with --progress json. Run ids, durations,
digests and BuildKit's timings are normalised; everything else is compared whole.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from buildorch.run.event_schema import events_schema
from tests.run.reporters.workflow_commands import Command, commands

pytestmark = pytest.mark.engine

BASE = os.environ.get("BUILDORCH_BASE_IMAGE", "localhost:5000/busybox:latest")
IMAGES = ("fresh", "cached", "bad", "child")

PIPELINE = """\
version: 1
name: report
images:
  fresh: {context: fresh, args: {STAMP: "${STAMP}"}}
  cached: {context: cached}
  bad: {context: bad}
  child:
    context: child
    contexts: {bad: {image: bad}}
"""
# Ten output lines (all BuildKit quotes of a failed step), two of them workflow commands.
RUN = ('for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "line $i"; done; '
       'echo "::set-output name=x::evil"; echo "##[error]injected"; exit 3')
MESSAGE = ('process "/bin/sh -c ' + RUN.replace('"', '\\"')
           + '" did not complete successfully: exit code: 3')
OUTPUT = [f"line {n}" for n in range(5, 13)] + ["::set-output name=x::evil", "##[error]injected"]
TAIL = [
    f" > [2/2] RUN {RUN}:", *[f"T {line}" for line in OUTPUT], "------", "Dockerfile:3",
    "--------------------", f"   1 |     FROM {BASE}", "   2 |     # fails at line 3",
    f"   3 | >>> RUN {RUN}", "   4 |     ", "--------------------",
    f"ERROR: failed to solve: {MESSAGE}",
]


@dataclass(frozen=True)
class Run:
    result: subprocess.CompletedProcess[str]
    record: dict[str, Any]


@dataclass(frozen=True)
class Runs:
    folder: Path
    plain: Run
    github: Run
    json: Run
    summary: str  # the GitHub step summary file


def buildorch(folder: Path, *args: str, **env: str) -> Run:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    result = subprocess.run(
        [sys.executable, "-m", "buildorch", "build", "--backend", "docker", "--var",
         f"STAMP={uuid.uuid4().hex}", *args], cwd=folder, env={**base, **env},
        capture_output=True, text=True, check=False, timeout=600)
    runs = sorted((folder / ".buildorch" / "runs").iterdir())
    return Run(result, json.loads((runs[-1] / "record.json").read_text()))


@pytest.fixture(scope="module")
def runs(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    folder = tmp_path_factory.mktemp("report")
    token = uuid.uuid4().hex
    files = {
        "pipeline.yaml": PIPELINE,
        "fresh/Dockerfile": f"FROM {BASE}\nARG STAMP\nRUN echo $STAMP > /stamp\n",
        "cached/Dockerfile": f"FROM {BASE}\nRUN echo {token} > /cached\n",
        "bad/Dockerfile": f"FROM {BASE}\n# fails at line 3\nRUN {RUN}\n",
        "child/Dockerfile": "FROM bad\nRUN true\n",
    }
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    warm = buildorch(folder, "-f", "pipeline.yaml", "cached")
    assert warm.result.returncode == 0, warm.result.stdout + warm.result.stderr
    summary = folder / "step-summary.md"
    return Runs(
        folder,
        buildorch(folder, "--keep-going", "--progress", "plain"),
        buildorch(folder, "--keep-going", "--progress", "plain", GITHUB_ACTIONS="true",
                  GITHUB_STEP_SUMMARY=str(summary), GITHUB_WORKSPACE=str(folder)),
        buildorch(folder, "--keep-going", "--progress", "json"),
        summary.read_text() if summary.exists() else "",
    )


def normalise(line: str) -> str:
    line = re.sub(r"\d{8}T\d{6}(?:\.\d{3})?Z-[0-9a-f]{6}", "RUN", line)
    line = re.sub(r"sha256:[0-9a-f]{12,64}", "sha256:D", line)
    line = re.sub(r"\b\d+\.\d+s\b", "Ds", line)
    line = re.sub(r", about \d+s from earlier runs", "", line)
    return re.sub(r"^(\[bad\] |  \| )?\d+\.\d+ ", r"\1T ", line)  # BuildKit's timings


def by_image(lines: list[str]) -> dict[str, list[str]]:
    """Each image's lines (`==> image:`, `[image]`), and the rest under `run`."""
    found: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        match = re.match(r"^(?:==> (\S+): |\[(\S+)\] )", line)
        owner = (match.group(1) or match.group(2)) if match else "run"
        found[owner].append(line)
    return dict(found)


def summary_lines(lines: list[str]) -> list[str]:
    """The text summary with its table's rows sorted and their spacing made single (the
    plan's order follows earlier runs' durations, the widths the values)."""
    start = next(i for i, line in enumerate(lines) if line.startswith("IMAGE "))
    end = lines.index("", start)
    table = [" ".join(line.split()) for line in lines[start:end]]
    return lines[:start] + table[:1] + sorted(table[1:]) + lines[end:]


SUMMARY = [
    "",
    "IMAGE STATE DURATION CACHED DIGEST",
    "bad failed Ds 0/1 -",
    "cached cached Ds 1/1 sha256:D",
    "child skipped - - -",
    "fresh done Ds 0/1 sha256:D",
    "",
    f"bad failed at bad/Dockerfile:3: {MESSAGE}",
    f"  command: RUN {RUN}",
    "  log: .buildorch/runs/RUN/bad.log",
    *[f"  | T {line}" for line in OUTPUT],
    "run RUN failed in Ds, 33% of steps cached: record in .buildorch/runs/RUN/record.json",
]


def test_plain_lines_per_image_and_the_summary(runs: Runs) -> None:
    run = runs.plain
    assert run.result.returncode == 1, run.result.stdout + run.result.stderr
    lines = by_image([normalise(line) for line in run.result.stdout.splitlines()])
    assert lines["fresh"] == ["==> fresh: started",
                              "==> fresh: done in Ds, 0/1 cached, sha256:D"]
    assert lines["cached"] == ["==> cached: started",
                               "==> cached: cached in Ds, 1/1 cached, sha256:D"]
    assert lines["bad"] == ["==> bad: started",
                            f"==> bad: failed (bad/Dockerfile:3) {MESSAGE}",
                            *[f"[bad] {line}" for line in TAIL]]
    assert lines["child"] == ["==> child: skipped (bad failed)"]
    assert lines["run"][0] == "run RUN: 4 images, backend docker, up to 4 at once"
    assert summary_lines(lines["run"][1:]) == SUMMARY
    states = {name: image["state"] for name, image in run.record["images"].items()}
    assert states == {"fresh": "succeeded", "cached": "succeeded", "bad": "failed",
                      "child": "skipped"}


def github_blocks(out: str, folder: Path, record: dict[str, Any]) -> list[str]:
    """The output's lines with each fence's token as TOKEN and each group's log, once
    checked equal to the image's log file, as `<log of IMAGE>`."""
    lines = out.splitlines()
    shown: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        group = re.match(r"^::group::(\S+) \(", line)
        if group:
            name = group.group(1)
            end = lines.index("::endgroup::", i)
            stop, *body, resume = lines[i + 1:end]
            token = stop.removeprefix("::stop-commands::")
            assert resume == f"::{token}::"
            log = folder / record["images"][name]["log"]
            assert body == log.read_text().splitlines()
            shown += [normalise(line), "::stop-commands::TOKEN", f"<log of {name}>",
                      "::TOKEN::", "::endgroup::"]
            i = end + 1
            continue
        shown.append(normalise(re.sub(r"^::(stop-commands::)?[0-9a-f]{32}(::)?$",
                                      lambda m: f"::{m.group(1) or ''}TOKEN{m.group(2) or ''}",
                                      line)))
        i += 1
    return shown


def github_by_image(lines: list[str]) -> dict[str, list[str]]:
    """Each image's lines, a fence's markers going with the text they fence."""
    owners = (r"^==> (\S+): ", r"^::group::(\S+) \(", r"^<log of (\S+)>$",
              r"^::error .*title=(\S+) failed::")
    found: dict[str, list[str]] = defaultdict(list)
    pending: list[str] = []
    last = "run"
    for line in lines:
        if line == "::stop-commands::TOKEN":
            pending.append(line)
            continue
        if line in ("::TOKEN::", "::endgroup::"):
            found[last].append(line)
            continue
        match = next((m for m in (re.match(p, line) for p in owners) if m), None)
        last = match.group(1) if match else "run"
        found[last] += [*pending, line]
        pending = []
    return dict(found)


def test_github_groups_annotation_and_nothing_injected(runs: Runs) -> None:
    run = runs.github
    assert run.result.returncode == 1, run.result.stdout + run.result.stderr
    lines = github_by_image(github_blocks(run.result.stdout, runs.folder, run.record))

    def group(name: str, title: str) -> list[str]:
        return [f"::group::{name} ({title} in Ds)", "::stop-commands::TOKEN",
                f"<log of {name}>", "::TOKEN::", "::endgroup::"]

    assert lines["fresh"] == ["==> fresh: started",
                              "==> fresh: done in Ds, 0/1 cached, sha256:D",
                              *group("fresh", "done")]
    assert lines["cached"] == ["==> cached: started",
                               "==> cached: cached in Ds, 1/1 cached, sha256:D",
                               *group("cached", "cached")]
    assert lines["bad"] == [
        "==> bad: started",
        "::stop-commands::TOKEN", f"==> bad: failed (bad/Dockerfile:3) {MESSAGE}", "::TOKEN::",
        *group("bad", "failed"),
        f"::error file=bad/Dockerfile,line=3,title=bad failed::{MESSAGE}"]
    assert lines["child"] == ["==> child: skipped (bad failed)"]
    assert lines["run"][0] == "run RUN: 4 images, backend docker, up to 4 at once"
    assert lines["run"][1] == "::stop-commands::TOKEN"  # the summary quotes the build
    assert summary_lines(lines["run"][2:-1]) == SUMMARY
    assert lines["run"][-1] == "::TOKEN::"
    runner = commands(run.result.stdout)
    assert runner.stopped is None
    assert [c.name for c in runner.processed if c.name != "error"] == [
        "group", "endgroup"] * 3
    assert [c for c in runner.processed if c.name == "error"] == [
        Command("error", {"file": "bad/Dockerfile", "line": "3", "title": "bad failed"},
                MESSAGE)]


def test_github_step_summary(runs: Runs) -> None:
    summary = [normalise(line) for line in runs.summary.splitlines()]
    table = summary.index("| Image | State | Duration | Cached steps | Digest |")
    escaped = MESSAGE
    for char in "\\$#[]":  # what markdown would act on, escaped (backslash first)
        escaped = escaped.replace(char, "\\" + char)
    assert summary[:table] == [
        "### buildorch run `RUN`: failed", "",
        "**failed** in Ds; images: 1 done, 1 cached, 1 failed, 1 skipped; "
        "1/3 steps cached (33%)", ""]
    assert summary[table + 1] == "|---|---|---|---|---|"
    assert sorted(summary[table + 2:table + 6]) == [
        "| bad | failed | Ds | 0/1 (0%) | - |",
        "| cached | cached | Ds | 1/1 (100%) | `sha256:D` |",
        "| child | skipped | - | - | - |",
        "| fresh | done | Ds | 0/1 (0%) | `sha256:D` |",
    ]
    assert summary[table + 6:] == [
        "",
        "#### bad failed at `bad/Dockerfile:3`",
        "",
        f"Error: {escaped}",
        "",
        f"Command: `RUN {RUN}`",
        "",
        "Log: `.buildorch/runs/RUN/bad.log`",
        "",
        "<details><summary>Last lines of the log</summary>",
        "",
        "```text",
        *[f"T {line}" for line in OUTPUT],
        "```",
        "",
        "</details>",
    ]


def test_json_events_validate_and_tell_each_images_story(runs: Runs) -> None:
    run = runs.json
    assert run.result.returncode == 1, run.result.stdout + run.result.stderr
    validator = jsonschema.Draft202012Validator(events_schema())
    events = [json.loads(line) for line in run.result.stdout.splitlines()]
    for event in events:
        validator.validate(event)
    assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"
    assert sorted(events[0]["images"]) == sorted(IMAGES)
    assert events[-1]["outcome"] == "failed"
    assert events[-1]["counts"] == {"succeeded": 2, "failed": 1, "skipped": 1}
    kinds: dict[str, list[str]] = defaultdict(list)
    for event in events[1:-1]:
        if event["event"] not in ("step", "cached"):
            kinds[event["image"]].append(event["event"])
    assert kinds == {"fresh": ["queued", "started", "finished"],
                     "cached": ["queued", "started", "finished"],
                     "bad": ["queued", "started", "failed"],
                     "child": ["queued", "skipped"]}
    # BuildKit numbers steps oddly (`[1/3] FROM`, `[2/2] RUN`): the names without it
    steps = {(e["image"], e["event"], re.sub(r"^\[\d+/\d+\] ", "", e["name"].split("@")[0]))
             for e in events if e["event"] in ("step", "cached")}
    stamp = next(a for a in run.record["images"]["fresh"]["argv"] if a.startswith("STAMP="))[6:]
    assert steps == {
        ("fresh", "step", f"FROM {BASE}"), ("fresh", "step", f"RUN echo {stamp} > /stamp"),
        ("cached", "step", f"FROM {BASE}"),
        ("cached", "step", f"RUN echo {cached_token(runs)} > /cached"),
        ("cached", "cached", f"RUN echo {cached_token(runs)} > /cached"),
        ("bad", "step", f"FROM {BASE}"), ("bad", "step", f"RUN {RUN}"),
    }
    failed = next(e for e in events if e["event"] == "failed")
    assert failed["failure"]["dockerfile"] == "bad/Dockerfile"
    assert failed["failure"]["line"] == 3
    assert failed["failure"]["message"] == MESSAGE
    assert "buildorch: backend docker" in run.result.stderr  # not on stdout


def cached_token(runs: Runs) -> str:
    return (runs.folder / "cached" / "Dockerfile").read_text().split()[-3]


def test_a_run_whose_reader_goes_away_still_builds_records_and_says_how_it_ended(
        engine: str, tmp_path: Path) -> None:
    """`buildorch build | head -1`: after the first line nobody reads stdout. The run used
    to stop in the thread that wrote next, unrecorded, and exit 0 with nothing built."""
    (tmp_path / "pipeline.yaml").write_text(
        "version: 1\nname: gone\nimages:\n  a: {context: a, outputs: [type=cacheonly]}\n")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "Dockerfile").write_text(f"FROM {BASE}\nRUN echo {uuid.uuid4().hex}\n")
    base = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    for progress in ("plain", "json"):
        child = subprocess.Popen(
            [sys.executable, "-m", "buildorch", "build", "--backend", "docker",
             "--progress", progress], cwd=tmp_path, env=base, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stderr is not None
        assert child.stdout.readline()
        child.stdout.close()
        assert child.wait(timeout=600) == 0
        errors = child.stderr.read()
        assert "Traceback" not in errors and "Exception ignored" not in errors, errors
        runs = sorted((tmp_path / ".buildorch" / "runs").iterdir())
        record = json.loads((runs[-1] / "record.json").read_text())
        assert record["outcome"] == "succeeded"
        assert record["images"]["a"]["state"] == "succeeded"
