"""A plan for people and programs: `plan --format json` and the text of `plan`."""

from __future__ import annotations

from buildorch.jsontypes import JsonObject
from buildorch.planning.graph import NearMiss
from buildorch.planning.plan import Plan, PlannedImage
from buildorch.proc import render_argv
from buildorch.text import plural

PLACEHOLDERS: JsonObject = {
    "{digest:NAME}": "the digest image NAME produces in this run",
    "{run_id}": "the id of the run",
}


def plan_json(plan: Plan) -> JsonObject:
    return {
        "pipeline": plan.pipeline,
        "file": plan.file,
        "backend": plan.backend,
        "selection": list(plan.selection),
        "nodes": [
            {
                "name": i.name,
                "context": i.request.context,
                "dockerfile": i.request.dockerfile,
                "target": i.request.target,
                "tags": list(i.request.tags),
                "stages": list(i.stages),
                "depends_on": list(i.depends_on),
                "estimated_seconds": i.estimate,
                "argv": list(i.shown_argv),
                "publish": list(i.publish),
                "near_misses": [_near_miss_json(m) for m in i.near_misses],
            }
            for i in plan.images
        ],
        "edges": [
            {"from": e.source, "to": e.target, "kind": e.kind,
             "declared_at": f"{e.file}:{e.line}" if e.line else e.file}
            for e in plan.edges
        ],
        "order": list(plan.order),
        "critical_path": {"images": list(plan.critical_path), "seconds": plan.critical_seconds},
        "placeholders": PLACEHOLDERS,
    }


def _near_miss_json(miss: NearMiss) -> JsonObject:
    return {"kind": miss.kind, "ref": miss.ref, "declared_at": f"{miss.file}:{miss.line}",
            "nearly": [{"image": image, "tag": tag} for image, tag in miss.nearly]}


def plan_text(plan: Plan) -> str:
    lines = [f"pipeline {plan.pipeline} ({plan.file}): {plural(len(plan.images), 'image')}",
             f"critical path: {' -> '.join(plan.critical_path)} (~{plan.critical_seconds:.0f}s)",
             ""]
    # images built on another pipeline image through a Dockerfile reference
    matched = {e.target for e in plan.edges if e.ref is not None}
    for step, image in enumerate(plan.images, 1):
        after = f" after {', '.join(image.depends_on)}" if image.depends_on else ""
        lines.append(f"{step:>3}. {image.name}{after}")
        if image.near_misses and image.name not in matched:
            lines.append(f"     ! {_all_missed(image)}")
        lines.append(f"     {render_argv(image.shown_argv)}")
    return "\n".join(lines)


def _all_missed(image: PlannedImage) -> str:
    nearly = dict.fromkeys(name for m in image.near_misses for name, _ in m.nearly)
    return (f"no reference of its Dockerfile matches a pipeline image (nearly: "
            f"{', '.join(nearly)}): it builds on what the registry holds, not on this run's "
            "build")
