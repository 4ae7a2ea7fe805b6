"""Turn pydantic validation errors into one-line messages with file:line and field."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import NamedTuple

from pydantic import BaseModel, ValidationError

from buildorch.errors import ConfigError, Problems
from buildorch.pipeline.model import NO_EQUALS, ImageFields, Pipeline
from buildorch.pipeline.yaml_source import Located, Path_, dotted

Origins = dict[Path_, tuple[str, int | None]]  # where `--set` gave a value

_MESSAGES = {
    "missing": "required field is missing",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "float_parsing": "expected a number",
    "string_too_short": "must not be empty",
}
_WITHOUT_INPUT = ("missing", "string_too_short")  # the input says nothing more


# Compose sections whose fields are an image's own here.
_COMPOSE_SECTIONS = ("build",)

# What compose and bake call some fields (bake's HCL names use `-`; `cache_from`/`cache_to`
# are one cache profile here).
_ALIASES = {
    "build_args": "args", "build-args": "args", "arg": "args",
    "additional_contexts": "contexts", "additional-contexts": "contexts",
    "cache_from": "cache",
    "cache-from": "cache",
    "cache_to": "cache",
    "cache-to": "cache",
    "platform": "platforms", "tag": "tags", "image": "tags", "label": "labels",
    "output": "outputs", "secret": "secrets", "annotation": "annotations",
    "dockerfile-inline": "dockerfile_inline", "no-cache": "no_cache",
    "no-cache-filter": "no_cache_filter", "extra-hosts": "extra_hosts",
    "shm-size": "shm_size", "network_mode": "network", "depends-on": "depends_on",
    "ulimit": "ulimits", "inherit": "inherits", "group": "groups", "target_stage": "target",
}


def did_you_mean(name: str, allowed: Iterable[str]) -> str:
    """` (did you mean 'args'?)` for a compose or bake name or a near miss, else ``."""
    known = list(allowed)
    if name in _COMPOSE_SECTIONS and "context" in known:
        return (f" (compose's {name}: section: its fields, such as context, dockerfile, args "
                "and target, go on the image itself)")
    meant = _meant(name, known)
    if meant is None:
        return ""
    note = ", a cache profile in cache-config/" if _ALIASES.get(name) == "cache" else ""
    return f" (did you mean '{meant}'{note}?)"


def _meant(name: str, known: Iterable[str]) -> str | None:
    """The field a compose or bake name, or a near miss, stands for."""
    known = list(known)
    alias = _ALIASES.get(name)
    if alias in known:
        return alias
    close = difflib.get_close_matches(name, known, n=1)
    return close[0] if close else None


def _clean_loc(loc: Iterable[str | int], models: set[str]) -> Path_:
    # Unions add the member's name (`str`, `ImageContext`, `function-after[...]`) to loc.
    return tuple(
        part for part in loc
        if not (isinstance(part, str) and (part in models or part in {"str", "int", "float"}
                                           or "[" in part))
    )


def _message(error: dict[str, object], path: Path_, allowed: Iterable[str]) -> str:
    kind = str(error["type"])
    if kind == "extra_forbidden":
        name = str(path[-1])
        return f"unknown field '{name}'{did_you_mean(name, allowed)}"
    if kind == "literal_error":
        return f"must be one of {error['ctx']['expected']}"  # type: ignore[index]
    if kind == "too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        ctx = error.get("ctx")
        if isinstance(ctx, dict) and ctx.get("pattern") == NO_EQUALS:
            return "a name must not hold '=': it goes on as NAME=VALUE"
        return ("invalid name: use letters, digits, '.', '_' and '-', "
                "starting with a letter or digit")
    if kind in _MESSAGES:
        value = error.get("input")
        got = f", got {type(value).__name__} {value!r}" if kind not in _WITHOUT_INPUT else ""
        return _MESSAGES[kind] + got[:80]
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _allowed_fields(model: type[BaseModel], path: Path_) -> list[str]:
    """The field names valid where `path` ends, for 'did you mean' hints."""
    current = model
    for part in path[:-1]:
        info = current.model_fields.get(part) if isinstance(part, str) else None
        if info is None:
            continue  # a mapping key such as an image's name
        nested = _models_in(info.annotation)
        if not nested:
            return []
        current = nested[0]
    return list(current.model_fields)


def config_errors_from(
    exc: ValidationError, model: type[BaseModel], source: Located,
    origins: Origins | None = None,
) -> list[ConfigError]:
    """Every error of `exc` as a ConfigError naming file, line and field."""
    models = {m.__name__ for m in _model_classes(model)}
    found: list[ConfigError] = []
    for error in exc.errors():
        path = _clean_loc(error["loc"], models)
        file, line = locate(path, source, origins or {})
        text = _message(dict(error), path, _allowed_fields(model, path))
        if "[key]" in error["loc"] and error["type"] == "string_too_short":
            path, text = path[:-1], "a key must not be empty"  # `extra_hosts.` named nothing
        found.append(ConfigError(text, file=file, line=line, field=dotted(path)))
    return found


def locate(path: Path_, source: Located, origins: Origins) -> tuple[str, int | None]:
    """File and line of `path`: the `--set` that gave it, else where the file has it."""
    for end in range(len(path), 0, -1):
        if path[:end] in origins:
            return origins[path[:end]]
    return source.file, source.line_of(path)


def _model_classes(model: type[BaseModel]) -> set[type[BaseModel]]:
    seen: set[type[BaseModel]] = set()
    stack = [model]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        for info in current.model_fields.values():
            stack.extend(_models_in(info.annotation))
    return seen


def _models_in(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()):
        found.extend(_models_in(arg))
    return found


class Validated(NamedTuple):
    model: Pipeline | None  # None: an error outside images, groups and defaults
    broken: frozenset[str]  # images (and templates) left out for errors of their own
    unsure: frozenset[str]  # fields of `defaults` left out for errors: their values unknown


def validate_model(
    data: dict[str, object], source: Located, origins: Origins, problems: Problems,
) -> Validated:
    """The model, with every validation error recorded. Images with errors are left out so
    that the others are checked further (`broken`), and so are the fields of `defaults` with
    errors (`unsure`: the fields they may have meant, whose merged value is unknown where an
    image takes it from `defaults`); `groups` with errors are left out; errors elsewhere
    stop here (no model)."""
    try:
        return Validated(Pipeline.model_validate(data), frozenset(), frozenset())
    except ValidationError as exc:
        for error in config_errors_from(exc, Pipeline, source, origins):
            problems.add(error)
        locs = [error["loc"] for error in exc.errors()]
    broken = frozenset(str(loc[1]) for loc in locs if len(loc) > 2 and loc[0] == "images")
    rest = dict(data)
    unsure: set[str] = set()
    for loc in locs:
        if loc[0] == "groups":
            rest.pop("groups", None)
        elif loc[0] == "defaults":
            unsure |= _left_out_of_defaults(rest, loc)
        elif loc[0] != "images" or len(loc) <= 2:
            return Validated(None, broken, frozenset(unsure))
    images = data.get("images")
    assert isinstance(images, dict)
    rest["images"] = {k: v for k, v in images.items() if k not in broken}
    try:
        return Validated(Pipeline.model_validate(rest), broken, frozenset(unsure))
    except ValidationError:  # no image left
        return Validated(None, broken, frozenset(unsure))


_IMAGE_FIELDS = frozenset(ImageFields.model_fields)


def _left_out_of_defaults(rest: dict[str, object], loc: tuple[str | int, ...]) -> set[str]:
    """Leave out the field of `defaults` that `loc` is in (all of `defaults` where it is no
    mapping); the fields whose value that leaves unknown."""
    defaults = rest.get("defaults")
    if len(loc) < 2 or not isinstance(defaults, dict):
        rest.pop("defaults", None)
        return set(_IMAGE_FIELDS)
    key = str(loc[1])
    rest["defaults"] = {k: v for k, v in defaults.items() if k != key}
    if key in _IMAGE_FIELDS:
        return {key}
    if key in _COMPOSE_SECTIONS:  # its fields are ours under another roof: any of them
        return set(_IMAGE_FIELDS)
    meant = _meant(key, _IMAGE_FIELDS)  # an unknown key may have meant a field
    return {meant} if meant else set()
