"""The JSON Schema of `--progress json` lines, made from the event dataclasses themselves
(so a field added to an event is in the schema); `buildorch schema --events` prints it,
and `schemas/events.schema.json` is a copy kept equal to it by a test.

Every line is one event object: `event` (its kind), `time` (unix seconds) and each of the
event's fields, always present (null where a field has no value).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from buildorch.jsontypes import Json, JsonObject
from buildorch.run import events
from buildorch.run.failures import Failure
from buildorch.run.record import State

FIXED_KINDS: tuple[type[Any], ...] = (
    events.RunStarted, events.ImageQueued, events.ImageStarted, events.Step,
    events.StepCached, events.CacheMiss, events.LogLine, events.Note, events.Published,
    events.RunFinished,
)
# An image's end: its kind follows its state (`finished` for succeeded and unchanged).
FINISH_STATES = tuple(s.value for s in State if s not in (State.PENDING, State.RUNNING))
ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("note", "level"): ("info", "warning"),
    ("run_finished", "outcome"): ("succeeded", "failed", "interrupted"),
}

KINDS = {
    "run_started": "The run begins: what it will build, and how long earlier runs took.",
    "queued": "An image waits for its dependencies (and a free build slot).",
    "started": "An attempt at building an image begins (attempt 2 and on: retries).",
    "step": "A BuildKit step of the image's build began.",
    "cached": "A BuildKit step was served from cache.",
    "cache_miss": "A cache import found nothing (normal for a new branch): a note, not an "
                  "error.",
    "log": "A line of the image's BuildKit log, redacted (only with --verbose).",
    "note": "A warning or remark, about an image or (image null) the run.",
    "published": "A tag was published.",
    "finished": "An image succeeded: built, or unchanged since an earlier run.",
    "failed": "An image's build failed.",
    "skipped": "An image was not built: a dependency failed, or the run stopped first.",
    "cancelled": "An image's build was stopped because another build failed.",
    "interrupted": "An image's build was stopped by Ctrl-C or SIGTERM.",
    "run_finished": "The run ended.",
}

FIELDS = {
    "event": "The kind of event.",
    "time": "When the event was reported, in seconds since the Unix epoch.",
    "run_id": "The run's id (its folder under .buildorch/runs).",
    "pipeline": "The pipeline's name.",
    "backend": "The backend that builds (docker, buildctl, nerdctl, ...).",
    "images": "The plan's images, in plan order.",
    "jobs": "How many builds may run at once.",
    "estimate": "Seconds the run may take, from earlier runs' durations; null without any.",
    "durations": "Each image's duration in earlier runs, in seconds.",
    "image": "The image's name in the pipeline.",
    "note.image": "The image the note is about; null: the run.",
    "waiting_for": "The dependencies the image waits for.",
    "attempt": "The attempt's number, from 1.",
    "vertex": "The step's number in BuildKit's progress (#N).",
    "name": "The step as BuildKit names it (`[stage 2/4] RUN make`).",
    "source": "Where the cache was looked for.",
    "line": "The log line, without its newline.",
    "text": "The note.",
    "level": "info or warning.",
    "tag": "The published reference.",
    "state": "How the image ended.",
    "duration": "Seconds it took; null where it did not run.",
    "digest": "The built image's digest; null where it wrote none.",
    "cached_steps": "Steps served from cache.",
    "total_steps": "Steps run or served from cache.",
    "reason": "Why it was skipped, failed or cancelled, or which run it is unchanged from.",
    "failure": "Where and why the build failed; null where it did not fail.",
    "log": "The image's log file, relative to the folder buildorch ran in.",
    "outcome": "succeeded, failed or interrupted.",
    "counts": "How many images ended in each state.",
    "record": "The run's record file, relative to the folder buildorch ran in.",
    "summary": "The end-of-run summary, as printed.",
}

FAILURE_FIELDS = {
    "message": "The final error line, or the last line of output.",
    "dockerfile": "The Dockerfile, as the pipeline names it.",
    "line": "The failing instruction's line in the Dockerfile.",
    "stage": "The failing stage.",
    "step": "The instruction that failed, as BuildKit shows it.",
    "tail": "The failing step's last output lines.",
    "transient": "Whether the failure looked like one a retry may get past.",
}


def events_schema() -> JsonObject:
    defs: JsonObject = {}
    for cls in FIXED_KINDS:
        kind = cls.__dataclass_fields__["kind"].default
        defs[kind] = _event_schema(cls, kind, {})
    for kind, states in _finish_kinds().items():
        state: Json = {"const": states[0]} if len(states) == 1 else {"enum": list(states)}
        defs[kind] = _event_schema(events.ImageFinished, kind, {"state": state})
    defs["failure"] = _object(Failure, FAILURE_FIELDS, {})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "buildorch build --progress json",
        "description": "One JSON object per line on stdout: an event of the run.",
        "oneOf": [{"$ref": f"#/$defs/{kind}"} for kind in defs if kind != "failure"],
        "$defs": defs,
    }


def event_kinds() -> list[str]:
    """Every kind of event a run reports."""
    fixed = [cls.__dataclass_fields__["kind"].default for cls in FIXED_KINDS]
    return fixed + list(_finish_kinds())


def _finish_kinds() -> dict[str, tuple[str, ...]]:
    kinds: dict[str, tuple[str, ...]] = {}
    for state in FINISH_STATES:
        kind = events.ImageFinished("", state).kind
        kinds[kind] = (*kinds.get(kind, ()), state)
    return kinds


def _event_schema(cls: type[Any], kind: str, fixed: dict[str, Json]) -> JsonObject:
    head: dict[str, Json] = {"event": {"description": FIELDS["event"], "const": kind},
                             "time": {"description": FIELDS["time"], "type": "number"}}
    enums: dict[str, Json] = {field: {"enum": list(values)}
                              for (owner, field), values in ENUMS.items() if owner == kind}
    schema = _object(cls, FIELDS, {**enums, **fixed}, head, kind)
    return {"description": KINDS[kind], **schema}


def _object(cls: type[Any], descriptions: dict[str, str], fixed: dict[str, Json],
            head: dict[str, Json] | None = None, kind: str = "") -> JsonObject:
    """`descriptions`: by field name, or `kind.field` where one kind's field differs."""
    hints = typing.get_type_hints(cls)
    properties: dict[str, Json] = dict(head or {})
    for field in dataclasses.fields(cls):
        if field.name == "kind":
            continue
        shape = fixed.get(field.name) or _type(hints[field.name])
        assert isinstance(shape, dict)
        text = descriptions.get(f"{kind}.{field.name}", descriptions[field.name])
        properties[field.name] = {"description": text, **shape}
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False}


_SCALARS: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _type(hint: Any) -> JsonObject:
    """The JSON Schema of a field's type, as `dataclasses.asdict` and `json` write it."""
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return {"$ref": f"#/$defs/{hint.__name__.lower()}"}
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union) and type(None) in args:
        (inner,) = (a for a in args if a is not type(None))
        shape = _type(inner)
        if "type" in shape and isinstance(shape["type"], str):
            return {**shape, "type": [shape["type"], "null"]}
        return {"anyOf": [shape, {"type": "null"}]}
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return {"type": "array", "items": _type(args[0])}
    if origin is dict and args[0] is str:
        return {"type": "object", "additionalProperties": _type(args[1])}
    raise TypeError(f"no JSON Schema for {hint!r}")
