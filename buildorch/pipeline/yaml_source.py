"""YAML loading that keeps the line of every value, so errors can name file:line.

Bounded: aliases that refer to themselves, or that expand a small file into millions of
values, and scalars a tag cannot construct (`!!float abc`) are configuration errors, not
crashes. Merge keys follow YAML: `<<: *base` then `target: x` overrides the merged
`target`; a key written twice in one mapping is an error.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from buildorch.digestcache import DigestCache, source_digest
from buildorch.errors import ConfigError, shorten
from buildorch.textfile import read_text

try:  # libyaml makes composing a 2,000-image pipeline several times faster
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path_ = tuple[str | int, ...]
MAX_VALUES = 1_000_000  # scalars, lists and mappings after expanding aliases
MERGE_TAG = "tag:yaml.org,2002:merge"
# a node to build, its path, the ids of the nodes holding it, and where its value goes
_Task = tuple[yaml.Node, "Path_", tuple[int, ...], "dict[str, object] | list[object]", "str | int"]


@dataclass(frozen=True)
class Located:
    """A YAML document as plain data, plus the 1-based line of each value by its path."""

    file: str
    data: object  # plain dicts, lists and scalars
    lines: dict[Path_, int]
    # The text of each plain scalar that YAML read as something other than a string
    # (`3.10`, `0755`, `yes`, `~`), so that string fields can take it as written.
    written: dict[Path_, str] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


_constructor = yaml.SafeLoader(stream="")  # only used to turn scalar nodes into values


def dotted(path: Path_) -> str:
    """`('images', 'api', 'tags', 0)` -> `images.api.tags[0]`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Builder:
    """Turns a composed node graph into plain data without recursion (deep nesting) and
    with a bound on what aliases expand to."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[Path_, int] = {}
        self.written: dict[Path_, str] = {}
        self.count = 0

    def build(self, root: yaml.Node) -> object:
        holder: list[object] = [None]
        stack: list[_Task] = [(root, (), (), holder, 0)]
        while stack:
            node, path, ancestors, parent, key = stack.pop()
            parent[key] = self._value(node, path, ancestors, stack)  # type: ignore[index]
        return holder[0]

    def _value(self, node: yaml.Node, path: Path_, ancestors: tuple[int, ...],
               stack: list[_Task]) -> object:
        self.count += 1
        line = node.start_mark.line + 1
        if self.count > MAX_VALUES:
            raise self._error(f"the document expands to more than {MAX_VALUES:,} values "
                              "(aliases of aliases?)", line, path)
        if id(node) in ancestors:
            raise self._error("an alias refers to the value that holds it", line, path)
        self.lines.setdefault(path, line)
        inner = (*ancestors, id(node))
        if isinstance(node, yaml.MappingNode):
            pairs = list(self._pairs(node, path))
            result: dict[str, object] = dict.fromkeys(key for key, _, _ in pairs)  # in order
            # pushed in reverse, so that children are built (and counted) in order
            for key, child, child_path in reversed(pairs):
                stack.append((child, child_path, inner, result, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            items: list[object] = [None] * len(node.value)
            for i, child in reversed(list(enumerate(node.value))):
                stack.append((child, (*path, i), inner, items, i))
            return items
        return self._scalar(node, path)  # type: ignore[arg-type]

    def _pairs(self, node: yaml.MappingNode,
               path: Path_) -> Iterator[tuple[str, yaml.Node, Path_]]:
        own = {id(k) for k, _ in node.value if k.tag != MERGE_TAG}
        try:
            _constructor.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        except yaml.constructor.ConstructorError as exc:
            mark = exc.problem_mark
            raise self._error(f"YAML error: {exc.problem}", mark.line + 1 if mark else None,
                              path) from None
        seen: dict[str, bool] = {}  # key -> written in this mapping (not merged)
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise self._error("mapping keys must be scalars", line, path)
            # Keys stay as written: `3.12:` or `on:` are names here, not numbers or booleans.
            key = str(key_node.value)
            written = id(key_node) in own
            if key in seen and seen[key] and written:
                raise self._error(f"duplicate key '{shorten(key)}'", line, (*path, key))
            seen[key] = seen.get(key, False) or written
            child_path = (*path, key)
            self.lines[child_path] = line  # a field is where its key is
            yield key, value_node, child_path

    def _scalar(self, node: yaml.ScalarNode, path: Path_) -> object:
        # Call the tag's constructor directly: construct_object would cache every node.
        construct = _constructor.yaml_constructors.get(node.tag)
        if construct is None:
            construct = type(_constructor).construct_undefined
        try:
            value = construct(_constructor, node)
        except yaml.constructor.ConstructorError as exc:
            message = f"YAML error: {exc.problem}"
        except (ValueError, KeyError, IndexError, TypeError, AttributeError, OverflowError):
            message = f"{shorten(node.value)} is not a valid {node.tag.rsplit(':', 1)[-1]}"
        else:
            if not node.style and not isinstance(value, str):  # plain: None or ""
                self.written[path] = node.value
            return value
        raise self._error(message, node.start_mark.line + 1, path)

    def _error(self, message: str, line: int | None, path: Path_) -> ConfigError:
        return ConfigError(message, file=self.file, line=line, field=dotted(path) or None)


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
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        raise ConfigError(f"YAML cannot hold the character U+{exc.character:04X}", file=file,
                          line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {shorten(str(exc))}", file=file) from None
    if node is None:
        return Located(file, None, {})
    builder = _Builder(file)
    data = builder.build(node)
    return Located(file, data, builder.lines, builder.written)


def load_yaml(path: Path, display: str, known: DigestCache | None = None) -> Located:
    """The document at `path`; with `known`, its parse is kept by the sha256 of its text
    (one of a large pipeline takes most of loading it, once the Dockerfile analyses are
    kept too). Errors are not kept: a document with one is parsed again each time."""
    text = read_text(path, display)
    if known is None:
        return parse_yaml(text, display)
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    kept = known.get(key)
    if isinstance(kept, tuple) and len(kept) == 3:
        data, lines, written = kept
        if isinstance(lines, dict) and isinstance(written, dict):
            return Located(display, data, lines, written)
    located = parse_yaml(text, display)
    known.put(key, (located.data, located.lines, located.written))  # not if a date is in it
    return located


@lru_cache(maxsize=1)
def code_version() -> bytes:
    """sha256 naming the code a kept parse comes from: this module, PyYAML and libyaml."""
    libyaml = yaml.__with_libyaml__ and getattr(yaml, "_yaml", None)
    libyaml_version = libyaml.get_version_string() if libyaml else "none"
    return source_digest(
        f"{sys.version}\0{marshal.version}\0{yaml.__version__}\0{libyaml_version}".encode(),
        Path(__file__))
