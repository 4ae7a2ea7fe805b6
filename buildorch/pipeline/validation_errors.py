"""Turn pydantic validation errors into one-line messages with file:line and field."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from pydantic import BaseModel, ValidationError

from buildorch.errors import ConfigError
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
}


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
        close = difflib.get_close_matches(name, list(allowed), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown field '{name}'{hint}"
    if kind == "literal_error":
        return f"must be one of {error['ctx']['expected']}"  # type: ignore[index]
    if kind == "too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return ("invalid name: use letters, digits, '.', '_' and '-', "
                "starting with a letter or digit")
    if kind in _MESSAGES:
        value = error.get("input")
        got = f", got {type(value).__name__} {value!r}" if kind != "missing" else ""
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


def config_error_from(
    exc: ValidationError, model: type[BaseModel], source: Located,
    origins: Origins | None = None,
) -> ConfigError:
    """The first error (by line) of `exc` as a ConfigError naming file, line and field."""
    models = {m.__name__ for m in _model_classes(model)}
    best: ConfigError | None = None
    best_key: tuple[int, int] = (1 << 30, 0)
    for index, error in enumerate(exc.errors()):
        path = _clean_loc(error["loc"], models)
        file, line = locate(path, source, origins or {})
        key = (line or 0, index)
        if best is None or key < best_key:
            text = _message(dict(error), path, _allowed_fields(model, path))
            best, best_key = ConfigError(text, file=file, line=line, field=dotted(path)), key
    count = len(exc.errors())
    assert best is not None
    if count > 1:
        best.message += f" (and {count - 1} more error{'s' if count > 2 else ''})"
        best.args = (best.render(),)
    return best


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
