"""YAML loading that keeps the line of every value, so errors can name file:line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from buildorch.errors import ConfigError

try:  # libyaml makes composing a 2,000-image pipeline several times faster
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Located:
    """A YAML document as plain data, plus the 1-based line of each value by its path."""

    file: str
    data: object  # plain dicts, lists and scalars
    lines: dict[Path_, int]

    def line_of(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


_constructor = yaml.SafeLoader(stream="")  # only used to turn scalar nodes into values


def _scalar(node: yaml.ScalarNode) -> Any:
    # Call the tag's constructor directly: construct_object would cache every node.
    construct = _constructor.yaml_constructors.get(node.tag)
    if construct is None:
        construct = type(_constructor).construct_undefined
    return construct(_constructor, node)


def _to_data(node: yaml.Node, path: Path_, lines: dict[Path_, int], file: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        _constructor.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError("mapping keys must be scalars", file=file,
                                  line=key_node.start_mark.line + 1, field=dotted(path))
            # Keys stay as written: `3.12:` or `on:` are names here, not numbers or booleans.
            key: str = key_node.value
            if key in result:
                raise ConfigError(f"duplicate key '{key}'", file=file,
                                  line=key_node.start_mark.line + 1, field=dotted((*path, key)))
            child = (*path, key)
            result[key] = _to_data(value_node, child, lines, file)
            lines[child] = key_node.start_mark.line + 1  # a field is where its key is
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_data(item, (*path, i), lines, file) for i, item in enumerate(node.value)]
    return _scalar(node)  # type: ignore[arg-type]


def dotted(path: Path_) -> str:
    """`('images', 'api', 'tags', 0)` -> `images.api.tags[0]`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_yaml(text: str, file: str) -> Located:
    """Parse one YAML document, raising ConfigError with file:line on bad syntax."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.context_mark and exc.problem_mark and (
                exc.context_mark.line != exc.problem_mark.line):
            problem += f" ({exc.context} on line {exc.context_mark.line + 1})"
        raise ConfigError(f"YAML syntax error: {problem}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", file=file) from None
    if node is None:
        return Located(file, None, {})
    lines: dict[Path_, int] = {}
    try:
        data = _to_data(node, (), lines, file)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise ConfigError(f"YAML error: {exc.problem}", file=file,
                          line=mark.line + 1 if mark else None) from None
    return Located(file, data, lines)


def load_yaml(path: Path, display: str) -> Located:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("file not found", file=display) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read file: {exc}", file=display) from None
    return parse_yaml(text, display)
