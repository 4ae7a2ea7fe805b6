"""A plan for people and programs: `plan --format json` and the text of `plan`."""

from __future__ import annotations

from buildorch.jsontypes import JsonObject
from buildorch.planning.plan import Plan
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


def plan_text(plan: Plan) -> str:
    lines = [f"pipeline {plan.pipeline} ({plan.file}): {plural(len(plan.images), 'image')}",
             f"critical path: {' -> '.join(plan.critical_path)} (~{plan.critical_seconds:.0f}s)",
             ""]
    for step, image in enumerate(plan.images, 1):
        after = f" after {', '.join(image.depends_on)}" if image.depends_on else ""
        lines.append(f"{step:>3}. {image.name}{after}")
        lines.append(f"     {render_argv(image.shown_argv)}")
    return "\n".join(lines)
