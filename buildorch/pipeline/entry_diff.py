"""Which images' pipeline entries differ between two versions of a pipeline file (pure).

An image's entry is what the loader builds it from, before `${...}` is expanded: its own
fields, what it `inherits` and `defaults`, merged as the loader merges them (scalars as
written), less the fields that change no build (`description`, `estimated_seconds`). The
entries are compared as written; a variable they (or the image's cache profile) refer to,
directly or through other variables, counts where its value in `vars` changed, and so do
the builder's backend and the pipeline's `reproducible` (where the entry says nothing). Git's
built-ins (GIT_SHA, ...) differ at every commit and do not count; `--var`, `--set` and
the environment are the same on both sides. A matrix template is one entry for all the
images it expands to. An entry that cannot be merged (a broken file at the revision)
counts as changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from buildorch.pipeline.as_written import as_written
from buildorch.pipeline.inherits import merge_fields
from buildorch.pipeline.yaml_source import Located

NO_BUILD_FIELDS = frozenset({"description", "estimated_seconds"})
ENTRY_CHANGED = "pipeline entry changed"
# `${NAME`, `${NAME:-...}` (not `${env.NAME}`); `$$` is a literal `$`
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
_ESCAPED = re.compile(r"\$\$")
_MAX_INHERITS = 100  # links on one chain: a longer one counts as broken (no recursion limit)
_ABSENT = object()

Fields = dict[str, object]


def entry_changes(old: Located, new: Located, entries: Mapping[str, str],
                  also_reads: Mapping[str, object] | None = None) -> dict[str, str]:
    """For each image (`entries`: image name -> the key of its entry under `images`) whose
    entry differs between `old` and `new`, why. `also_reads`: per image, more raw data whose
    variables count (its cache profile)."""
    old_data, new_data = _mapping(as_written(old)), _mapping(as_written(new))
    changed_vars = _changed_vars(old_data, new_data)
    builders = _builder_backends(old_data), _builder_backends(new_data)
    # the pipeline's own, for the entries that say nothing (nor their defaults)
    reproducible = old_data.get("reproducible"), new_data.get("reproducible")
    variables = _mapping(new_data.get("vars"))
    sides = _Side(old_data), _Side(new_data)
    reasons: dict[str, str] = {}
    for image, key in entries.items():
        before, after = sides[0].entry(key), sides[1].entry(key)
        if before is None or after is None or before != after:
            reasons[image] = ENTRY_CHANGED
            continue
        used = _variables(after, variables) | _variables((also_reads or {}).get(image),
                                                          variables)
        if hit := sorted(used & changed_vars.keys()):
            reasons[image] = f"variable {changed_vars[hit[0]]} changed"
        elif _backend(builders[0], after) != _backend(builders[1], after):
            reasons[image] = "its builder's backend changed"
        elif "reproducible" not in after and reproducible[0] != reproducible[1]:
            reasons[image] = "the pipeline's reproducible changed"
    return reasons


def _mapping(value: object) -> Fields:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


class _Side:
    """One version of the file: each entry merged once."""

    def __init__(self, data: Fields) -> None:
        self.images = _mapping(data.get("images"))
        self.defaults = _mapping(data.get("defaults"))
        self.merged: dict[str, Fields | None] = {}

    def entry(self, key: str) -> Fields | None:
        """The image's fields as the loader merges them, or None where they cannot be."""
        if key not in self.merged:
            self.merged[key] = self._merge(key)
        return self.merged[key]

    def _merge(self, key: str) -> Fields | None:
        if key not in self.images:
            return None
        try:
            fields = merge_fields(self.defaults, _chain(self.images, key))
        except (TypeError, ValueError, KeyError):  # a broken file: mappings that are not
            return None
        return {k: v for k, v in fields.items() if k not in NO_BUILD_FIELDS}


def _chain(images: Fields, key: str, active: tuple[str, ...] = ()) -> Fields:
    """`key`'s fields with those it inherits merged under them (raises on a broken chain:
    an unknown name, a cycle, a value of the wrong type)."""
    own = images.get(key)
    if not isinstance(own, dict) or key in active or len(active) > _MAX_INHERITS:
        raise ValueError(key)
    parents = own.get("inherits") or []
    if not isinstance(parents, list):
        raise ValueError(key)
    merged: Fields = {}
    for parent in parents:
        merged = merge_fields(merged, _chain(images, str(parent), (*active, key)))
    return merge_fields(merged, {k: v for k, v in own.items() if k != "inherits"})


def _changed_vars(old: Fields, new: Fields) -> dict[str, str]:
    """Variables whose value differs, and those that refer to them (to a fixed point), each
    with the one whose value differs; PIPELINE where the pipeline's name changed."""
    old_vars, new_vars = _mapping(old.get("vars")), _mapping(new.get("vars"))
    changed = {name: name for name in sorted({*old_vars, *new_vars})
               if old_vars.get(name, _ABSENT) != new_vars.get(name, _ABSENT)}
    if old.get("name") != new.get("name"):
        changed["PIPELINE"] = "PIPELINE"
    growing = True
    while growing:
        growing = False
        for name, value in new_vars.items():
            if name not in changed:
                hit = sorted(set(_references(value)) & changed.keys())
                if hit:
                    changed[name] = changed[hit[0]]
                    growing = True
    return changed


def _variables(value: object, variables: Fields) -> set[str]:
    """The variables `value` refers to, and those these refer to."""
    found: set[str] = set()
    todo = list(_references(value))
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(_references(variables.get(name)))
    return found


def _references(value: object) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield from _REFERENCE.findall(_ESCAPED.sub("", item))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _builder_backends(data: Fields) -> dict[str | None, object]:
    """Each builder's backend by name; None: the first builder (the one images use by
    default)."""
    builders = data.get("builders")
    found: dict[str | None, object] = {}
    for builder in builders if isinstance(builders, list) else []:
        if isinstance(builder, dict):
            backend = builder.get("backend", "auto")
            found.setdefault(None, backend)
            found.setdefault(str(builder.get("name")), backend)
    return found


def _backend(backends: Mapping[str | None, object], fields: Fields) -> object:
    name = fields.get("builder")
    return backends.get(str(name) if name is not None else None, "auto")
