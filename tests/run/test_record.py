from __future__ import annotations

import json
import re
import time
from pathlib import Path

from buildorch.cache.s3.download import DownloadStats
from buildorch.cache.s3.upload import UploadStats
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.graph import build_graph
from buildorch.planning.plan import make_plan
from buildorch.planning.requests import PlanOptions
from buildorch.run.failures import CacheProblem, Failure
from buildorch.run.record import (
    CacheDownload,
    CacheUpload,
    ImageRun,
    State,
    new_run_id,
    previous_durations,
    write_record,
)
from buildorch.workdir import run_folder
from tests.conftest import MakeProject


def record(tmp_path: Path, run_id: str, pipeline: str, images: dict[str, ImageRun]) -> None:
    write_record(run_folder(run_id, tmp_path), {
        "id": run_id, "pipeline": pipeline,
        "images": {n: r.to_json() for n, r in images.items()}})


def test_record_is_json_with_states_and_durations(tmp_path: Path) -> None:
    run = ImageRun("a", State.SUCCEEDED, started=10.0, ended=12.5, digest="sha256:x")
    record(tmp_path, "r1", "p", {"a": run})
    data = json.loads((tmp_path / ".buildorch/runs/r1/record.json").read_text())
    assert data["images"]["a"]["state"] == "succeeded"
    assert data["images"]["a"]["duration"] == 2.5
    assert not (tmp_path / ".buildorch/runs/r1/record.json.tmp").exists()


def test_previous_durations_take_the_latest_success_of_the_same_pipeline(tmp_path: Path) -> None:
    record(tmp_path, "20260101T000000Z-a", "p", {
        "a": ImageRun("a", State.SUCCEEDED, started=0, ended=5),
        "b": ImageRun("b", State.SUCCEEDED, started=0, ended=7)})
    record(tmp_path, "20260102T000000Z-a", "p", {
        "a": ImageRun("a", State.SUCCEEDED, started=0, ended=9),
        "b": ImageRun("b", State.FAILED, started=0, ended=1)})
    record(tmp_path, "20260103T000000Z-a", "other", {
        "a": ImageRun("a", State.SUCCEEDED, started=0, ended=100)})
    assert previous_durations("p", tmp_path) == {"a": 9.0, "b": 7.0}


def test_history_reorders_the_plan(make_project: MakeProject) -> None:
    path = make_project("version: 1\nname: p\nimages:\n  fast: {context: x}\n"
                        "  slow: {context: x}\n", contexts=("x",))
    pipeline = load_pipeline(path, LoadOptions(env={}))
    graph = build_graph(pipeline)
    assert make_plan(pipeline, graph, []).order == ("fast", "slow")  # equal estimates: by name
    plan = make_plan(pipeline, graph, [], PlanOptions(history={"slow": 60.0, "fast": 1.0}))
    assert plan.order == ("slow", "fast")
    assert plan.critical_path == ("slow",) and plan.critical_seconds == 60.0


def test_an_image_entry_keeps_the_record_format() -> None:
    run = ImageRun("a", State.FAILED, argv=["docker", "buildx"], started=1.0, ended=3.5,
                   attempts=2, log="a.log", reason="exit 3",
                   failure=Failure("exit 3", "a/Dockerfile", 3, "build", "RUN x", ("l1", "l2")),
                   input_digest="sha256:in", note="built again: gone",
                   base_images={"busybox:1": "sha256:b"}, builder="two", lost_on=["one"],
                   copied_to=["three"])
    run.cache.warnings.append("cache import from S3 failed: down")
    run.cache.downloads += [CacheDownload("feature-x", 0.25),
                            CacheDownload("main", 0.5, DownloadStats(3, 1, 10))]
    run.cache.upload = CacheUpload("feature-x", 0.75, UploadStats(3, 0, 0, True))
    assert json.loads(json.dumps(run.to_json())) == {
        "name": "a", "state": "failed", "argv": ["docker", "buildx"], "started": 1.0,
        "ended": 3.5, "digest": None, "attempts": 2, "log": "a.log", "reason": "exit 3",
        "failure": {"message": "exit 3", "dockerfile": "a/Dockerfile", "line": 3,
                    "stage": "build", "step": "RUN x", "tail": ["l1", "l2"],
                    "transient": False},
        "cached_steps": 0, "total_steps": 0,
        "cache": {
            "warnings": ["cache import from S3 failed: down"],
            "downloads": [
                {"scope": "feature-x", "found": False, "seconds": 0.25},
                {"scope": "main", "found": True, "seconds": 0.5, "blobs_referenced": 3,
                 "blobs_downloaded": 1, "bytes_downloaded": 10}],
            "upload": {"scope": "feature-x", "seconds": 0.75, "blobs_referenced": 3,
                       "blobs_uploaded": 0, "bytes_uploaded": 0, "already_covered": True},
        },
        "duration": 2.5, "input_digest": "sha256:in", "unchanged_from": None,
        "note": "built again: gone", "base_images": {"busybox:1": "sha256:b"},
        "builder": "two", "lost_on": ["one"], "copied_to": ["three"], "platforms": [],
    }
    reused = ImageRun("u", State.UNCHANGED, digest="sha256:d", unchanged_from="run1")
    assert reused.done and reused.to_json()["unchanged_from"] == "run1"
    assert reused.to_json()["state"] == "unchanged"
    done = ImageRun("b", State.SUCCEEDED)
    done.cache.log_problems = [CacheProblem("export", "exporting cache to r", "denied")]
    assert done.to_json()["cache"] == {"log_problems": [
        {"kind": "export", "source": "exporting cache to r", "message": "denied"}]}
    assert ImageRun("c").to_json()["cache"] == {}


def test_run_ids_started_within_one_second_sort_in_start_order() -> None:
    # a no-op run (every image unchanged) ends within a second: the next one must sort after
    ids = []
    for _ in range(5):
        ids.append(new_run_id())
        time.sleep(0.002)
    assert sorted(ids) == ids and len(set(ids)) == 5
    assert re.fullmatch(r"\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}", ids[0])
