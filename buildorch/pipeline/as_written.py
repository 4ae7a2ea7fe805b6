"""String fields take each value exactly as written (pure).

YAML reads a plain `3.10` as the float 3.1, `0755` as 493 and `yes` as true; build args,
labels and annotations are strings, and the user meant the text. The YAML loader keeps
the text of every plain scalar that did not read as a string (`Located.written`); this
puts it back wherever the model wants a string.
"""

from __future__ import annotations

from buildorch.pipeline.yaml_source import Located, Path_

# Mappings of strings (and `vars`): every value as written, even `~` and `null`.
STRING_MAPS = frozenset({"args", "labels", "annotations", "extra_hosts"})
# Strings and lists of strings: a null stays null (the field is unset), others as written.
STRINGS = frozenset({"context", "dockerfile", "dockerfile_inline", "target", "description",
                     "cache", "network", "builder", "shm_size"})
STRING_LISTS = frozenset({"tags", "platforms", "no_cache_filter", "outputs", "attest",
                          "inherits", "depends_on", "builder_labels"})
# A builder's strings: `labels` is a list there, and `tls` a mapping of paths and a name.
BUILDER_STRINGS = frozenset({"name", "address"})
BUILDER_LISTS = frozenset({"platforms", "labels"})


def as_written(source: Located) -> object:
    """`source.data` with string fields of `vars`, `defaults` and each image as written."""
    data = source.data
    if not isinstance(data, dict) or not source.written:
        return data
    result = dict(data)
    if isinstance(data.get("vars"), dict):
        result["vars"] = _map(data["vars"], ("vars",), source, keep_null=True)
    if isinstance(data.get("defaults"), dict):
        result["defaults"] = _fields(data["defaults"], ("defaults",), source)
    images = data.get("images")
    if isinstance(images, dict):
        result["images"] = {name: _fields(image, ("images", name), source)
                            if isinstance(image, dict) else image
                            for name, image in images.items()}
    builders = data.get("builders")
    if isinstance(builders, list):
        result["builders"] = [_builder(b, ("builders", i), source) if isinstance(b, dict) else b
                              for i, b in enumerate(builders)]
    return result


def _builder(fields: dict[str, object], path: Path_, source: Located) -> dict[str, object]:
    out = dict(fields)
    for key, value in fields.items():
        where = (*path, key)
        if key in BUILDER_LISTS and isinstance(value, list):
            out[key] = [_one(v, (*where, i), source) for i, v in enumerate(value)]
        elif key in BUILDER_STRINGS:
            out[key] = _one(value, where, source)
        elif key == "tls" and isinstance(value, dict):
            out[key] = {k: _one(v, (*where, k), source) for k, v in value.items()}
    return out


def _fields(fields: dict[str, object], path: Path_, source: Located) -> dict[str, object]:
    out = dict(fields)
    for key, value in fields.items():
        where = (*path, key)
        if key in STRING_MAPS and isinstance(value, dict):
            out[key] = _map(value, where, source, keep_null=True)
        elif key in STRING_LISTS and isinstance(value, list):
            out[key] = [_one(v, (*where, i), source) for i, v in enumerate(value)]
        elif key in STRINGS:
            out[key] = _one(value, where, source)
    return out


def _map(values: dict[str, object], path: Path_, source: Located,
         keep_null: bool) -> dict[str, object]:
    return {k: _one(v, (*path, k), source, keep_null) for k, v in values.items()}


def _one(value: object, path: Path_, source: Located, keep_null: bool = False) -> object:
    if isinstance(value, str) or (value is None and not keep_null):
        return value
    return source.written.get(path, value)
