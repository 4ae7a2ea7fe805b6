"""Run records as the executor writes them, for tests that read records back."""

from __future__ import annotations

import json
from pathlib import Path

from buildorch.jsontypes import JsonObject

DIGEST = "sha256:" + "1a" * 32


def image(name: str, state: str, **fields: object) -> JsonObject:
    data: JsonObject = {"name": name, "state": state, "argv": ["docker", "buildx", "build"],
                        "started": 100.0, "ended": 102.5, "duration": 2.5, "digest": None,
                        "attempts": 1, "log": f".buildorch/runs/R/{name}.log", "reason": None,
                        "failure": None, "cached_steps": 0, "total_steps": 0,
                        "input_digest": None, "unchanged_from": None, "note": None,
                        "base_images": {}}
    data.update(fields)  # type: ignore[arg-type]
    return data


def record(run_id: str = "20261201T050000Z-abcdef", outcome: str = "failed",
           started: float = 1_000.0) -> JsonObject:
    return {
        "id": run_id, "pipeline": "shop", "file": "pipelines/shop.yaml", "backend": "docker",
        "builder": None, "started": started, "ended": started + 12.0, "outcome": outcome,
        "options": {"jobs": 4}, "selection": ["api"],
        "images": {
            "base": image("base", "succeeded", digest=DIGEST, cached_steps=2, total_steps=2),
            "api": image("api", "failed", cached_steps=1, total_steps=3, failure={
                "message": "exit code: 3", "dockerfile": "api/Dockerfile", "line": 3,
                "stage": "build", "step": "RUN exit 3", "tail": ["oops", "bad"],
                "transient": False}),
            "web": image("web", "skipped", started=None, ended=None, duration=None,
                         reason="api failed"),
            "old": image("old", "unchanged", digest=DIGEST, unchanged_from="R0",
                         started=None, ended=None, duration=None),
        },
        "published": [], "publish_error": None, "publish_wanted": True, "plan": {},
    }


def pooled_record(run_id: str, placed: dict[str, str | None],
                  down: dict[str, str] | None = None, pipeline: str = "shop") -> JsonObject:
    """A succeeded run over a pool of builders `one` and `two` (and any `down` names):
    `placed` is image -> the builder it ran on (None: not built, unchanged); `down` is
    builder -> why it went down."""
    down = down or {}
    images: JsonObject = {
        name: image(name, "succeeded" if builder else "unchanged", digest=DIGEST,
                    builder=builder, lost_on=[], copied_to=[])
        for name, builder in placed.items()}
    names = dict.fromkeys(["one", "two", *down])
    builders: JsonObject = {
        name: {"address": None if name == "one" else f"unix:///run/{name}.sock",
               "down": down.get(name), "max_parallel": 2,
               "builds": sum(1 for b in placed.values() if b == name)}
        for name in names}
    return {**record(run_id, "succeeded"), "pipeline": pipeline, "images": images,
            "builders": builders}


def write_run(root: Path, data: JsonObject) -> Path:
    folder = root / ".buildorch" / "runs" / str(data["id"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "record.json"
    path.write_text(json.dumps(data))
    return path


def write_sample_runs(root: Path) -> None:
    """Three runs, one a day from 2026-12-01, and a damaged record on 2026-12-04."""
    for n in range(3):
        write_run(root, record(f"2026120{n + 1}T100000Z-00000{n}", started=1000.0 + n))
    damaged = root / ".buildorch/runs/20261204T100000Z-000009"
    damaged.mkdir()
    (damaged / "record.json").write_text("{")
