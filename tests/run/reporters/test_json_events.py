"""`--progress json`: one JSON object per line per event, each valid against the events'
schema; log lines only with --verbose; whole lines even from many threads at once."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import threading

import jsonschema
from hypothesis import given, settings

from buildorch.run.event_schema import events_schema
from buildorch.run.events import (
    CacheMiss,
    ImageFinished,
    ImageQueued,
    ImageStarted,
    LogLine,
    Note,
    Published,
    RunFinished,
    RunStarted,
    Step,
    StepCached,
)
from buildorch.run.failures import Failure
from buildorch.run.reporters.choose import reporter_for
from buildorch.run.reporters.json_events import Event, JsonReporter, event_line
from tests.run.reporters.event_strategies import any_event

DIGEST = "sha256:" + "1a" * 32
VALIDATOR = jsonschema.Draft202012Validator(events_schema())


def feed(reporter: JsonReporter) -> None:
    reporter.started(RunStarted("R1", "shop", "docker", ("base", "api"), 2, 3.0, {"base": 1.5}))
    reporter.update(ImageQueued("api", ("base",)))
    reporter.started(ImageStarted("base", 1))
    reporter.update(Step("base", 5, "[1/2] RUN make"))
    reporter.update(StepCached("base", 5, "[1/2] RUN make"))
    reporter.update(CacheMiss("base", "reg/cache:base"))
    reporter.update(LogLine("base", "#5 CACHED"))
    reporter.update(Note("slow", "base", "warning"))
    reporter.finished(ImageFinished("base", "succeeded", 1.25, DIGEST, 1, 1, log="base.log"))
    reporter.finished(ImageFinished("api", "failed", 2.0, failure=Failure(
        "exit code: 3", "api/Dockerfile", 3, "build", "RUN exit 3", ("boom",))))
    reporter.update(Published("base", "reg/base:1"))
    reporter.finished(RunFinished("R1", "failed", 4.0, {"succeeded": 1, "failed": 1},
                                  ".buildorch/runs/R1/record.json", "SUMMARY"))


def test_every_event_is_one_line_with_its_kind_time_and_fields() -> None:
    out = io.StringIO()
    feed(JsonReporter(out, clock=lambda: 1.5))
    lines = out.getvalue().splitlines()
    assert lines[:2] == [
        '{"event":"run_started","time":1.5,"run_id":"R1","pipeline":"shop","backend":"docker",'
        '"images":["base","api"],"jobs":2,"estimate":3.0,"durations":{"base":1.5}}',
        '{"event":"queued","time":1.5,"image":"api","waiting_for":["base"]}',
    ]
    assert [json.loads(line)["event"] for line in lines] == [
        "run_started", "queued", "started", "step", "cached", "cache_miss", "note",
        "finished", "failed", "published", "run_finished"]
    failed = json.loads(lines[8])
    assert failed == {
        "event": "failed", "time": 1.5, "image": "api", "state": "failed", "duration": 2.0,
        "digest": None, "cached_steps": 0, "total_steps": 0, "reason": None,
        "failure": {"message": "exit code: 3", "dockerfile": "api/Dockerfile", "line": 3,
                    "stage": "build", "step": "RUN exit 3", "tail": ["boom"],
                    "transient": False},
        "log": None}
    for line in lines:
        VALIDATOR.validate(json.loads(line))


def test_log_lines_only_with_verbose() -> None:
    quiet, verbose = io.StringIO(), io.StringIO()
    feed(JsonReporter(quiet))
    feed(JsonReporter(verbose, verbose=True))
    logs = [json.loads(line) for line in verbose.getvalue().splitlines()
            if json.loads(line)["event"] == "log"]
    assert [(e["image"], e["line"]) for e in logs] == [("base", "#5 CACHED")]
    assert '"log"' not in "".join(
        json.loads(line)["event"] for line in quiet.getvalue().splitlines())
    assert len(verbose.getvalue().splitlines()) == len(quiet.getvalue().splitlines()) + 1
    VALIDATOR.validate(logs[0])


def test_lines_stay_whole_when_many_threads_report_at_once() -> None:
    out = io.StringIO()
    reporter = JsonReporter(out, verbose=True)

    def report(n: int) -> None:
        for i in range(200):
            reporter.update(LogLine(f"image-{n}", f"line {i} " + "x" * 500))

    threads = [threading.Thread(target=report, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = out.getvalue().splitlines()
    assert len(lines) == 1600
    assert {json.loads(line)["image"] for line in lines} == {f"image-{n}" for n in range(8)}


def test_json_progress_gets_the_json_reporter() -> None:
    assert isinstance(reporter_for("json", stream=io.StringIO(), env={}), JsonReporter)
    assert isinstance(reporter_for("json", stream=io.StringIO(), env={"GITHUB_ACTIONS": "true"}),
                      JsonReporter)


@settings(max_examples=400, deadline=None)
@given(any_event)
def test_any_event_is_one_ascii_line_that_reads_back_and_fits_the_schema(event: Event) -> None:
    line = event_line(event, 12.5)
    assert "\n" not in line and "\r" not in line and line.isascii()
    assert len(line.splitlines()) == 1
    data = json.loads(line)
    assert (data["event"], data["time"]) == (event.kind, 12.5)
    for field in dataclasses.fields(event):  # text comes back as it was, whatever it holds
        value = getattr(event, field.name)
        if field.name != "kind" and isinstance(value, (str, tuple)):
            assert data[field.name] == (list(value) if isinstance(value, tuple) else value)
    VALIDATOR.validate(data)


def test_a_closed_output_does_not_end_the_run() -> None:
    read, write = os.pipe()
    os.close(read)  # the reader went away
    with os.fdopen(write, "w", encoding="utf-8") as stream:
        reporter = JsonReporter(stream)
        feed(reporter)  # no BrokenPipeError into the build threads
