"""Matrix images (pure), as bake's `target.matrix` (docker/buildx `bake/bake.go`
Target.GetEvalContexts and GetName, `bake/hclparser/hclparser.go` resolveBlockNames,
docs/bake-reference.md "target.matrix").

An image entry with `matrix: {py: ["3.11", "3.12"], os: [alpine, debian]}` and a name
template `name: py-lib-${py}-${os}` stands for one image per combination of values, in the
order the axes and values are written (the first axis varies slowest), each named by the
template. A combination's values shadow `vars` in every string of the entry (`${py}`); a
value may be a mapping of strings, named `${axis.key}`. The entry's key stands for all its
images where a list of images is expected (groups, `depends_on`, the command line, `--set`),
as bake turns a matrix target's name into a group of the targets it generated.

Expansion happens on the file's data before `${...}` is expanded; the expanded images'
values are where the template's are (errors name the template's lines).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from buildorch.errors import ConfigError, Problems, shorten
from buildorch.pipeline.interpolation import InterpolationError, Lookup, VarResolver
from buildorch.pipeline.model import IMAGE_KEY_PATTERN, Pipeline
from buildorch.pipeline.yaml_source import Located, Path_, dotted

MAX_IMAGES = 10_000  # images all matrices of a pipeline expand to
# an axis is named as `${axis}`: a variable's name (`env.` is the environment's prefix)
AXIS_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_IMAGE_KEY = re.compile(IMAGE_KEY_PATTERN)
TEMPLATE_FIELDS = ("matrix", "name")  # the entry's, not its images'

MatrixValue = str | dict[str, str]
Combination = tuple[tuple[str, MatrixValue], ...]  # (axis, value), in the axes' order


@dataclass(frozen=True)
class Scope:
    """One combination's values, looked up as `${axis}` or `${axis.key}`."""

    values: Mapping[str, MatrixValue]

    def __call__(self, name: str) -> str | None:
        axis, dot, key = name.partition(".")
        if axis not in self.values:
            return None
        value = self.values[axis]
        if isinstance(value, str):
            if dot:
                raise InterpolationError(f"matrix axis '{axis}' holds strings, not mappings: "
                                         f"write ${{{axis}}}")
            return value
        if not dot:
            raise InterpolationError(f"matrix axis '{axis}' holds mappings: name a key, as "
                                     f"${{{axis}.{next(iter(value))}}}")
        if key not in value:
            keys = ", ".join(sorted(value))
            raise InterpolationError(f"no key '{shorten(key)}' in this value of matrix axis "
                                     f"'{axis}' (keys: {keys})")
        return value[key]


@dataclass(frozen=True)
class Expanded:
    """A pipeline's data with each matrix entry replaced by its images, in its place."""

    data: dict[str, object]
    source: Located  # the expanded images' values at their template's lines
    scopes: Mapping[str, Lookup] = field(default_factory=dict)  # an expanded image's values
    names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # key -> its images
    broken: frozenset[str] = frozenset()  # entries left out for errors (reported)

    @property
    def entry_of(self) -> dict[str, str]:
        """Each expanded image's entry (its key under `images`)."""
        return {name: key for key, names in self.names.items() for name in names}

    @property
    def aliases(self) -> dict[str, tuple[str, ...]]:
        """Keys that stand for their images (not an image of their own), broken ones for
        none: the images `--set KEY.FIELD=...` applies to."""
        found = {k: names for k, names in self.names.items() if names != (k,)}
        return found | dict.fromkeys(self.broken, ())


def expand_matrices(data: dict[str, object], source: Located, resolver: VarResolver,
                    problems: Problems) -> Expanded:
    """`data` with matrix entries expanded; errors go to `problems`, and an entry with one is
    left out (`broken`)."""
    images = data.get("images")
    if not isinstance(images, dict) or not any(_is_template(v) for v in images.values()):
        return Expanded(data, source)
    taken: dict[str, str] = {key: key for key in images}  # name -> the entry that has it
    expanded: dict[str, object] = {}
    scopes: dict[str, Lookup] = {}
    names: dict[str, tuple[str, ...]] = {}
    broken: set[str] = set()
    budget = MAX_IMAGES
    for key, entry in images.items():
        if not _is_template(entry):
            expanded[key] = entry
            continue
        assert isinstance(entry, dict)
        try:
            combos = _combinations(key, entry, source, budget)
            named = _names(key, entry, combos, source, resolver, taken)
        except ConfigError as exc:
            problems.add(exc)
            broken.add(key)
            continue
        budget -= len(named)
        own = {f: v for f, v in entry.items() if f not in TEMPLATE_FIELDS}
        for name, combo in named.items():
            expanded[name] = own
            scopes[name] = Scope(dict(combo))
            taken[name] = key
        names[key] = tuple(named)
    data = {**data, "images": expanded}
    return Expanded(data, _relocated(source, names), scopes, names, frozenset(broken))


def _is_template(entry: object) -> bool:
    return isinstance(entry, dict) and any(f in entry for f in TEMPLATE_FIELDS)


def _combinations(key: str, entry: dict[str, object], source: Located,
                  budget: int) -> list[Combination]:
    where: Path_ = ("images", key, "matrix")
    if "matrix" not in entry:
        raise _error(source, "a name template needs a matrix (bake: name requires matrix)",
                     ("images", key, "name"))
    axes = list(_axes(entry["matrix"], where, source))
    count = math.prod(len(values) for _, values in axes)
    if count > budget:
        raise _error(source, f"the matrices expand to more than {MAX_IMAGES:,} images", where)
    return [tuple(zip((axis for axis, _ in axes), combo, strict=True))
            for combo in itertools.product(*(values for _, values in axes))]


def _axes(raw: object, where: Path_,
          source: Located) -> Iterator[tuple[str, list[MatrixValue]]]:
    if not isinstance(raw, dict):
        raise _error(source, "expected a mapping of axes to lists of values, as "
                     f"{{py: ['3.11', '3.12']}}, got {_kind(raw)}", where)
    if not raw:
        raise _error(source, "must not be empty: name at least one axis", where)
    for axis, values in raw.items():
        at = (*where, axis)
        if not AXIS_PATTERN.match(axis):
            raise _error(source, "invalid axis name: use letters, digits and '_', not starting "
                         "with a digit (values are named as ${axis})", at)
        if axis == "env":
            raise _error(source, "the axis name 'env' is reserved: ${env.NAME} is the "
                         "environment", at)
        if not isinstance(values, list):
            raise _error(source, f"expected a list of values, got {_kind(values)}", at)
        if not values:
            raise _error(source, "must not be empty: an axis without values gives no image", at)
        yield axis, [_value(v, (*at, i), source) for i, v in enumerate(values)]


def _value(raw: object, where: Path_, source: Located) -> MatrixValue:
    """A string (a plain scalar as written: `3.10` stays `3.10`), or a mapping of them."""
    if not isinstance(raw, dict):
        return _text(raw, where, source, "a matrix value must be a string or a mapping of "
                     "strings")
    if not raw:
        raise _error(source, "must not be empty", where)
    found: dict[str, str] = {}
    for key, value in raw.items():
        at = (*where, key)
        if not AXIS_PATTERN.match(key):
            raise _error(source, "invalid key: use letters, digits and '_', not starting with "
                         "a digit (it is named as ${axis.key})", at)
        found[key] = _text(value, at, source, "expected a string")
    return found


def _text(raw: object, where: Path_, source: Located, wanted: str) -> str:
    if isinstance(raw, str):
        return raw
    if raw is None or isinstance(raw, dict | list):
        raise _error(source, f"{wanted}, got {_kind(raw)}", where)
    return source.written.get(where, str(raw))


def _names(key: str, entry: dict[str, object], combos: list[Combination], source: Located,
           resolver: VarResolver, taken: Mapping[str, str]) -> dict[str, Combination]:
    """Each combination by the name the template gives it (the key itself where there is no
    template, which only one combination may use, as in bake)."""
    where: Path_ = ("images", key, "name")
    if "name" not in entry:
        if len(combos) > 1:
            raise _error(source, f"required field is missing: a matrix of {len(combos)} "
                         f"combinations needs a name template, as {key}-${{{combos[0][0][0]}}}",
                         where)
        return {key: combos[0]}
    template = _text(entry["name"], where, source, "expected a string")
    named: dict[str, Combination] = {}
    for combo in combos:
        try:
            name = resolver.expand_in(template, Scope(dict(combo)))
        except InterpolationError as exc:
            raise _error(source, str(exc), where) from None
        _check_name(source, key, name, combo, where)
        if name in named:
            raise _error(source, f"combinations {_shown(named[name])} and {_shown(combo)} are "
                         f"both named '{shorten(name)}': use every axis in the name", where)
        owner = taken.get(name)
        if owner is not None and (owner != key or len(combos) > 1):
            what = f"image '{name}'" if owner == name else f"an image of matrix '{owner}'"
            raise _error(source, f"'{shorten(name)}' ({_shown(combo)}) is also the name of "
                         f"{what}", where)
        named[name] = combo
    return named


def _check_name(source: Located, key: str, name: str, combo: Combination,
                where: Path_) -> None:
    if not _IMAGE_KEY.match(name):
        raise _error(source, f"'{shorten(name)}' ({_shown(combo)}) is not a valid image name: "
                     "use letters, digits, '.', '_' and '-', starting with a letter or digit",
                     where)
    if name.startswith("_") != key.startswith("_"):
        kind = "a template (its name starts with '_')" if name.startswith("_") else "an image"
        entry = "a template" if key.startswith("_") else "an image"
        raise _error(source, f"'{shorten(name)}' ({_shown(combo)}) would be {kind}, but the "
                     f"entry is {entry}: start the names with '_' where the key does", where)


def refer_to_expansions(data: dict[str, object], expanded: Expanded, source: Located,
                        problems: Problems) -> dict[str, object]:
    """A matrix entry's key, named in `depends_on` (of an image or `defaults`) or on the
    command line, stands for all its images: in `depends_on` it is replaced by them, and a
    group of that name lists them (bake's group of the targets a matrix generated)."""
    aliases = {k: v for k, v in expanded.aliases.items() if v and not k.startswith("_")}
    if not aliases:
        return data
    data = dict(data)
    images = data.get("images")
    if isinstance(images, dict):
        data["images"] = {name: _depending(entry, aliases) for name, entry in images.items()}
    if isinstance(data.get("defaults"), dict):
        data["defaults"] = _depending(data["defaults"], aliases)
    groups = data.get("groups", {})
    if isinstance(groups, dict):
        for key, names in aliases.items():
            if key in groups:
                problems.add(_error(source, f"group '{key}' has the name of a matrix entry, "
                                    "which stands for its images", ("groups", key)))
                continue
            groups = {**groups, key: list(names)}
        data["groups"] = groups
    return data


def _depending(entry: object, aliases: Mapping[str, tuple[str, ...]]) -> object:
    """`depends_on` with each matrix key replaced by its first image in place (later entries
    keep their index, so that errors name their lines) and the others at the end."""
    if not isinstance(entry, dict) or not isinstance(entry.get("depends_on"), list):
        return entry
    deps: list[object] = []
    extra: list[object] = []
    for dep in entry["depends_on"]:
        names = aliases.get(dep) if isinstance(dep, str) else None
        if names:
            deps.append(names[0])
            extra.extend(names[1:])
        else:
            deps.append(dep)
    return {**entry, "depends_on": deps + extra} if extra or deps != entry["depends_on"] \
        else entry


def unexpanded_names(expanded: Expanded, model: Pipeline) -> frozenset[str]:
    """The images, templates and groups named in `model` that none is called, where a
    matrix entry is broken: any of them may be one of its images, unknown until it is
    fixed, so naming them is no error of its own (its error is told)."""
    if not expanded.broken:
        return frozenset()
    named = {n for members in model.groups.values() for n in members}
    for fields in (model.defaults, *model.images.values()):
        named.update(fields.depends_on, fields.inherits)
        named.update(c.image for c in fields.contexts.values() if not isinstance(c, str))
    return frozenset(named - {*model.images, *model.groups})


def _relocated(source: Located, names: Mapping[str, tuple[str, ...]]) -> Located:
    """`source` where each expanded image's values (and the group of a key) are at the
    lines of its template's."""
    below: dict[str, list[tuple[Path_, int]]] = {key: [] for key in names}
    for path, line in source.lines.items():
        if len(path) >= 2 and path[0] == "images" and path[1] in below and not (
                len(path) > 2 and path[2] in TEMPLATE_FIELDS):  # not the images' own
            below[str(path[1])].append((path[2:], line))
    lines = dict(source.lines)
    for key, expanded in names.items():
        for name in expanded:
            lines.update({("images", name, *rest): line for rest, line in below[key]})
        key_line = source.lines.get(("images", key))
        if key_line is not None and expanded != (key,):
            lines.setdefault(("groups", key), key_line)  # a group of its own is an error there
    return Located(source.file, source.data, lines, source.written)


def _shown(combo: Combination) -> str:
    return ", ".join(f"{axis}={shorten(v) if isinstance(v, str) else _mapping(v)}"
                     for axis, v in combo)


def _mapping(value: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {shorten(v, 20)}" for k, v in value.items()) + "}"


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict | list | str):
        return {dict: "a mapping", list: "a list", str: "a string"}[type(value)]
    return type(value).__name__


def _error(source: Located, message: str, path: Path_) -> ConfigError:
    return ConfigError(message, file=source.file, line=source.line_of(path), field=dotted(path))
