"""A plan for people and programs: `plan --format json`, the text of `plan`, and the publish
steps that `build --dry-run` prints too."""

from __future__ import annotations

from collections.abc import Mapping

from buildorch.backends.flags import spec_text
from buildorch.backends.request import BuildRequest
from buildorch.jsontypes import Json, JsonObject
from buildorch.planning.graph import NearMiss
from buildorch.planning.plan import Plan, PlannedImage, PublishStep
from buildorch.proc import render_argv
from buildorch.text import plural

UNKNOWN_INPUTS = "unknown (a remote context, or built on an image with one)"
UNCHANGED = "a dependency of the selection (its inputs did not change)"
PLACEHOLDERS: JsonObject = {
    "{digest:NAME}": "the digest image NAME produces in this run",
    "{run_id}": "the id of the run",
}


def _node_json(image: PlannedImage) -> JsonObject:
    shown = image.request.redacted()  # no credential a context URL or cache spec carries
    return {
        "name": image.name,
        "description": image.description,
        "context": shown.context,
        "dockerfile": shown.dockerfile,
        "target": shown.target,
        "tags": list(shown.tags),
        "stages": list(image.stages),
        "depends_on": list(image.depends_on),
        "estimated_seconds": image.estimate,
        "argv": list(image.shown_argv),
        "outputs": _outputs_json(shown),
        "publish": list(image.publish),
        "near_misses": [_near_miss_json(m) for m in image.near_misses],
        "input_digest": image.input_digest,
        "session_after": image.session_after,
    }


def _why(why: Mapping[str, list[str]] | None, name: str) -> JsonObject:
    if not why or name not in why:
        return {}
    lines: list[Json] = list(why[name])
    return {"why": lines}


def plan_json(plan: Plan, why: Mapping[str, list[str]] | None = None) -> JsonObject:
    """`why`: each image's explanation (`plan --explain`), added to its node."""
    nodes: list[Json] = [{**_node_json(i), **_selected_because(plan, i.name),
                          **_why(why, i.name)} for i in plan.images]
    return {
        "pipeline": plan.pipeline,
        "file": plan.file,
        "backend": plan.backend,
        "selection": list(plan.selection),
        "nodes": nodes,
        "edges": [
            {"from": e.source, "to": e.target, "kind": e.kind,
             "declared_at": f"{e.file}:{e.line}" if e.line else e.file}
            for e in plan.edges
        ],
        "order": list(plan.order),
        "critical_path": {"images": list(plan.critical_path), "seconds": plan.critical_seconds},
        "publish": [{"image": s.image, "tag": s.tag,
                     "argv": list(s.argv) if s.argv is not None else None}
                    for s in plan.publish],
        "placeholders": PLACEHOLDERS,
    }


def _selected_because(plan: Plan, name: str) -> JsonObject:
    """With --changed-since: why the image is selected (null: the selection needs it)."""
    return {"selected_because": plan.reasons.get(name)} if plan.reasons else {}


def _outputs_json(request: BuildRequest) -> JsonObject:
    return {"tags": list(request.tags), "load": request.load, "push": request.push,
            "push_by_digest": request.push_by_digest, "load_archive": request.load_archive,
            "exports": [spec_text(spec) for spec in request.outputs]}


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
        about = f": {' '.join(image.description.split())}" if image.description else ""
        lines.append(f"{step:>3}. {image.name}{after}{about}")
        if plan.reasons:  # --changed-since
            lines.append(f"     selected because: {plan.reasons.get(image.name, UNCHANGED)}")
        if image.near_misses and image.name not in matched:
            lines.append(f"     ! {_all_missed(image)}")
        lines.append(f"     {render_argv(image.shown_argv)}")
        if image.session_after:
            lines.append(f"     in one builder session after {image.session_after} (given "
                         "its result through a target: context, not the command above)")
        lines.append(f"     outputs: {outputs_text(image.request.redacted())}")
        lines.append(f"     input digest: {image.input_digest or UNKNOWN_INPUTS}")
    lines += ["", "publish, once every build has succeeded:" if plan.publish
              else "publish: nothing (publish tags with --push or push: true)"]
    lines += [f"  {line}" for line in publish_lines(plan.publish)]
    return "\n".join(lines)


def _all_missed(image: PlannedImage) -> str:
    nearly = dict.fromkeys(name for m in image.near_misses for name, _ in m.nearly)
    return (f"no reference of its Dockerfile matches a pipeline image (nearly: "
            f"{', '.join(nearly)}): it builds on what the registry holds, not on this run's "
            "build")


def outputs_text(request: BuildRequest) -> str:
    """Where a build's result goes: `load T1, T2` (`through FILE` where the run loads a tarball
    the build writes), `push by digest R`, `push T`, or an image `T (neither loaded nor
    pushed)`, then each export as its spec."""
    parts = []
    tags = ", ".join(request.tags)
    if request.load:
        through = f" through {request.load_archive}" if request.load_archive else ""
        parts.append(f"load {tags}{through}")
    elif request.push:
        parts.append(f"push by digest {tags}" if request.push_by_digest else f"push {tags}")
    elif request.tags:
        parts.append(f"image {tags} (neither loaded nor pushed)")
    parts += [spec_text(spec) for spec in request.outputs]
    return "; ".join(parts) or "none: no tag or output keeps the result"


def publish_lines(steps: tuple[PublishStep, ...]) -> list[str]:
    """Each publish step as a command, or as the registry call that sets the tag."""
    return [render_argv(step.argv) if step.argv is not None
            else f"# registry: tag {step.tag} -> {{digest:{step.image}}}" for step in steps]
