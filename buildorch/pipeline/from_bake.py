"""A bake file, as `docker buildx bake --print` writes it (JSON), as a pipeline (pure).

Field names as docker/buildx bake/bake.go's Target: context, contexts, dockerfile,
dockerfile-inline, args, labels, tags, target, platforms, secret, ssh, output, attest,
annotations, pull, no-cache, no-cache-filter, network, shm-size, ulimits, extra-hosts,
description; `--print` has already applied `inherits` and variables. `contexts` values
`target:NAME` are another target's image. HCL itself is not read: bake prints any of its
file formats as this JSON.

`output`, `attest`, `secret`, `ssh`, `cache-from` and `cache-to` entries are objects in
current buildx (util/buildflags: export.go, attests.go, secrets.go, ssh.go, cache.go) and
strings (`type=local,dest=out`, `id=tok,env=TOK`, `default=/k`) in older ones; both are
read as buildx reads them.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping

from buildorch.backends.flags import csv_join, go_bool
from buildorch.errors import shorten
from buildorch.pipeline.bake_values import IMAGE_ATTRS_OWNED, OUTPUT_TYPES
from buildorch.pipeline.imported import (
    ConversionError,
    Imported,
    given,
    key_values,
    name_of,
)
from buildorch.pipeline.yaml_source import Path_

RENAMED = {"context": "context", "dockerfile": "dockerfile",
           "dockerfile-inline": "dockerfile_inline", "target": "target",
           "platforms": "platforms", "tags": "tags", "pull": "pull", "no-cache": "no_cache",
           "no-cache-filter": "no_cache_filter", "network": "network", "shm-size": "shm_size",
           "ulimits": "ulimits", "description": "description"}
MAPS = {"args": "args", "labels": "labels", "extra-hosts": "extra_hosts"}
DROPPED = {"cache-from": "use a cache profile, cache: NAME",
           "cache-to": "use a cache profile, cache: NAME",
           "entitlements": "not a build option here", "call": "not a build option here",
           "matrix": "already expanded by --print", "inherits": "already merged by --print"}
ATTEST_TYPES = ("sbom", "provenance")
Entry = tuple[str, list[tuple[str, str]]]  # a type and its other attributes, in order


def from_bake(data: Mapping[str, object], name: str) -> Imported:
    targets = data.get("target")
    if not isinstance(targets, dict) or not targets:
        raise ConversionError((), "no 'target' mapping: not the JSON `docker buildx bake "
                                  "--print` writes")
    result = Imported(name)
    result.name_images([str(t) for t, spec in targets.items() if isinstance(spec, dict)],
                       "target")
    for target, spec in targets.items():
        image = result.image_of(str(target))
        if isinstance(spec, dict):
            result.images[image] = _fields(spec, result, image, ("target", str(target)))
        else:
            result.note(image, "the target", f"a target is a mapping of fields, not "
                                             f"{type(spec).__name__} {shorten(spec)!r}")
    if not result.images:
        raise ConversionError(("target",), "no target is a mapping of fields: nothing to build")
    groups = data.get("group")
    for group, spec in (groups.items() if isinstance(groups, dict) else ()):
        members = spec.get("targets") if isinstance(spec, dict) else None
        group_name = name_of(str(group))
        if not isinstance(members, list):
            result.note(group_name, "the group", "no list of targets")
        elif group_name in result.images or group_name in result.groups:
            result.note(group_name, "the group", "an image or group has its name")
        else:
            result.groups[group_name] = [result.image_of(str(m)) for m in members]
    return result


def _fields(spec: Mapping[str, object], result: Imported, image: str,
            path: Path_) -> dict[str, object]:
    fields: dict[str, object] = {"context": spec.get("context", ".")}
    for key, value in spec.items():
        where = (*path, key)
        if key in RENAMED:
            fields[RENAMED[key]] = value
        elif key in MAPS or key == "contexts":
            # bake.go toBuildOpt passes no value for a null arg or label: it stays unset
            values = given(key_values(value, where), result, image, key,
                           "null: bake leaves it unset")
            fields[MAPS.get(key, key)] = (values if key != "contexts"
                                          else {k: _context(v, result) for k, v in values.items()})
        elif key == "annotations":
            fields["annotations"] = _annotations(value, where)
        elif key == "secret":
            fields["secrets"] = [_secret(s, (*where, i), result, image)
                                 for i, s in enumerate(_entries(value, where))]
        elif key == "ssh":
            fields["ssh"] = [_ssh(s, (*where, i)) for i, s in enumerate(_entries(value, where))]
        elif key == "output":  # after the loop: it may add tags and push
            continue
        elif key == "attest":
            attests = [text for i, a in enumerate(_entries(value, where))
                       if (text := _attest(a, (*where, i), result, image))]
            if attests:
                fields["attest"] = attests
        else:
            result.note(image, key, DROPPED.get(key, "no pipeline field for it"))
    if "output" in spec:
        _outputs(_entries(spec["output"], (*path, "output")), (*path, "output"), fields,
                 result, image)
    return fields


def _entries(value: object, path: Path_) -> list[object]:
    """A list field's entries; each a string (older buildx) or an object (current)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConversionError(path, "expected a list")
    return value


def _annotations(value: object, path: Path_) -> dict[str, str]:
    """`["index:KEY=VALUE", ...]`; buildx refuses one without a value (export.go
    ParseAnnotations)."""
    values = key_values(value, path)
    for key, text in values.items():
        if text is None:
            where = (*path, value.index(key)) if isinstance(value, list) else (*path, key)
            raise ConversionError(where, f"annotation {shorten(key)!r}: expected KEY=VALUE")
    return {k: v for k, v in values.items() if v is not None}


def _context(value: str, result: Imported) -> object:
    if value.startswith("target:"):
        return {"image": result.image_of(value.removeprefix("target:"))}
    return value


def _fields_of(text: str, path: Path_, keep: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """CSV `key=value` fields, as buildx reads a flag's value: keys trimmed and lower-cased,
    except attribute keys buildx keeps as written (any not in `keep`, when given)."""
    pairs = []
    for field in next(csv.reader([text]), []):
        key, sep, value = field.partition("=")
        if not sep:
            raise ConversionError(path, f"{shorten(field)!r} is not key=value")
        lowered = key.strip().lower()
        pairs.append((lowered if not keep or lowered in keep else key, value))
    return pairs


def _object(value: Mapping[object, object], path: Path_,
            booleans: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """An entry's JSON object: every value a string (buildx reads map[string]string),
    except the named boolean fields."""
    pairs = []
    for key, item in value.items():
        if str(key) in booleans and isinstance(item, bool):
            pairs.append((str(key), "true" if item else "false"))
        elif isinstance(item, str):
            pairs.append((str(key), item))
        else:
            raise ConversionError((*path, str(key)), f"expected a string, got "
                                                     f"{type(item).__name__}")
    return pairs


def _typed(pairs: list[tuple[str, str]], path: Path_, what: str) -> Entry:
    kind = next((v for k, v in pairs if k == "type"), "")
    if not kind:
        raise ConversionError(path, f"{what} has no type")
    return kind, [(k, v) for k, v in pairs if k != "type"]


def _output(value: object, path: Path_) -> Entry:
    """util/buildflags/export.go ExportEntry: JSON `{"type", "dest", ATTR: ...}` (attributes
    flattened beside type and dest), or the flag's text; a text without `type=` that is
    one field is a folder (`local`), or `-` (`tar` to stdout)."""
    if isinstance(value, dict):
        return _typed(_object(value, path), path, "an output")
    if not isinstance(value, str):
        raise ConversionError(path, "expected a string or a mapping")
    fields = next(csv.reader([value]), [])
    if len(fields) == 1 and fields[0] == value and not value.startswith("type="):
        return ("tar" if value == "-" else "local"), [("dest", value)]
    return _typed(_fields_of(value, path), path, "an output")


def _outputs(values: list[object], path: Path_, fields: dict[str, object], result: Imported,
             image: str) -> None:
    """`registry`, and `image` with push=true, push at once in buildx: here that is `push:
    true` (published once every image of the run has built), and their `name=` are tags."""
    outputs: list[str] = []
    for i, value in enumerate(values):
        kind, attrs = _output(value, (*path, i))
        shown = f"output type={shorten(kind)}"
        if kind not in (*OUTPUT_TYPES, "registry"):
            result.note(image, shown, "a type buildorch does not export; "
                                      f"known: {', '.join(OUTPUT_TYPES)}, registry")
            continue
        if kind in ("image", "registry"):
            attrs = _image_attrs(kind, attrs, fields, result, image)
            if not attrs:  # nothing the image export is told besides names and pushing
                continue
            kind = "image"
        outputs.append(_csv([("type", kind), *attrs]))
    if outputs:
        fields["outputs"] = outputs


def _image_attrs(kind: str, attrs: list[tuple[str, str]], fields: dict[str, object],
                 result: Imported, image: str) -> list[tuple[str, str]]:
    """The attributes an image export keeps here; pushing and names become fields."""
    values = dict(attrs)
    pushes = kind == "registry" or go_bool(values.get("push", "")) is True
    if pushes:
        fields["push"] = True
        result.tell(image, f"output type={kind}{',push=true' if kind == 'image' else ''} "
                           "is `push: true` (tags are published once every image of the "
                           "run has built, not as the build ends)")
    names = [n for n in next(csv.reader([values.get("name", "")]), []) if n]
    tags = fields.get("tags", [])
    if names and isinstance(tags, list):
        fields["tags"] = [*tags, *(n for n in names if n not in tags)]
        result.tell(image, f"output type={kind} name= is in `tags`")
    for key, value in values.items():
        if key in IMAGE_ATTRS_OWNED and key != "name" and not (key == "push" and pushes):
            result.note(image, f"output type={kind} {key}={shorten(value)}",
                        "names come from `tags`, pushing from `push`")
    return [(k, v) for k, v in attrs if k not in IMAGE_ATTRS_OWNED]


def _attest(value: object, path: Path_, result: Imported, image: str) -> str | None:
    """util/buildflags/attests.go Attest: JSON `{"type", "disabled": bool, ATTR: ...}`
    (attributes flattened), or the flag's text (`type=provenance,mode=max`)."""
    if isinstance(value, dict):
        kind, attrs = _typed(_object(value, path, booleans=("disabled",)), path,
                             "an attestation")
    elif isinstance(value, str):
        kind, attrs = _typed(_fields_of(value, path, keep=("type", "disabled")), path,
                             "an attestation")
    else:
        raise ConversionError(path, "expected a string or a mapping")
    if kind not in ATTEST_TYPES:
        result.note(image, f"attest type={shorten(kind)}",
                    f"a type buildorch does not take; known: {', '.join(ATTEST_TYPES)}")
        return None
    # buildx reads disabled= with Go's strconv.ParseBool; here it is true or false
    attrs = [(k, _go_bool(v, (*path, k)) if k == "disabled" else v) for k, v in attrs]
    return _csv([("type", kind), *attrs])


def _go_bool(text: str, path: Path_) -> str:
    value = go_bool(text)
    if value is None:
        raise ConversionError(path, f"{shorten(text)!r} is not true or false")
    return "true" if value else "false"


def _secret(value: object, path: Path_, result: Imported, image: str) -> dict[str, object]:
    """util/buildflags/secrets.go Secret: JSON `{"id", "src", "env"}`, or the flag's text
    `id=x,src=path` / `id=x,env=VAR` (`source` for src; `type=env` makes src the variable).
    A string is one secret: never read per character."""
    if isinstance(value, dict):
        attrs = dict(_object(value, path))
        for key in attrs.keys() - {"id", "src", "env"}:
            result.note(image, f"secret {key}", "buildx's secret has id, src and env")
    elif isinstance(value, str):
        attrs = {}
        for key, text in _fields_of(value, path):
            if key not in ("type", "id", "src", "source", "env"):
                raise ConversionError(path, f"unexpected key {shorten(key)!r} in a secret")
            if key == "type" and text not in ("file", "env"):
                raise ConversionError(path, f"unsupported secret type {shorten(text)!r}")
            attrs["src" if key == "source" else key] = text
        if attrs.get("type") == "env" and not attrs.get("env"):
            attrs["env"], attrs["src"] = attrs.get("src", ""), ""
    else:
        raise ConversionError(path, "expected a string or a mapping")
    ident, src, env = attrs.get("id", ""), attrs.get("src", ""), attrs.get("env", "")
    if not ident:
        raise ConversionError(path, "a secret needs an id")
    if env:
        if src:  # BuildKit's secret store reads env when both are given
            result.note(image, f"secret {ident} src", "env is what BuildKit reads")
        return {"id": ident, "env": env}
    if not src:  # BuildKit reads the variable ID when it is set, else the file ID
        result.tell(image, f"secret {ident} gives no src or env: written as src: {ident} "
                           f"(BuildKit would read the variable {ident} when it is set)")
    return {"id": ident, "src": src or ident}


def _ssh(value: object, path: Path_) -> object:
    """util/buildflags/ssh.go SSH: JSON `{"id", "paths": [...]}`, or the flag's text `id`
    or `id=path[,path]`; `default` without paths is the agent."""
    if isinstance(value, dict):
        ident, paths = value.get("id"), value.get("paths") or []
        if not isinstance(ident, str) or not ident:
            raise ConversionError((*path, "id"), "expected the ssh id, a string")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise ConversionError((*path, "paths"), "expected a list of strings")
    elif isinstance(value, str):
        ident, sep, joined = value.partition("=")
        paths = joined.split(",") if sep else []
        if not ident:
            raise ConversionError(path, "an ssh entry needs an id")
    else:
        raise ConversionError(path, "expected a string or a mapping")
    return {"id": ident, "paths": paths} if paths else ident


def _csv(pairs: list[tuple[str, str]]) -> str:
    """`type=local,dest=out`, a field holding a comma or quote quoted as buildx reads it."""
    return csv_join(f"{k}={v}" for k, v in pairs)
