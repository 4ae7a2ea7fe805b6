"""A bake file, as `docker buildx bake --print` writes it (JSON), as a pipeline (pure).

Field names as docker/buildx bake/bake.go's Target: context, contexts, dockerfile,
dockerfile-inline, args, labels, tags, target, platforms, secret (`id=..,src=..|env=..`),
ssh, output, attest, annotations, pull, no-cache, no-cache-filter, network, shm-size,
ulimits, extra-hosts, description; `--print` has already applied `inherits` and
variables. `contexts` values `target:NAME` are another target's image. HCL itself is not
read: bake prints any of its file formats as this JSON.
"""

from __future__ import annotations

from collections.abc import Mapping

from buildorch.pipeline.imported import ConversionError, Imported, key_values, name_of
from buildorch.pipeline.yaml_source import Path_

RENAMED = {"context": "context", "dockerfile": "dockerfile",
           "dockerfile-inline": "dockerfile_inline", "target": "target",
           "platforms": "platforms", "tags": "tags", "output": "outputs", "attest": "attest",
           "pull": "pull", "no-cache": "no_cache", "no-cache-filter": "no_cache_filter",
           "network": "network", "shm-size": "shm_size", "ulimits": "ulimits",
           "description": "description"}
MAPS = {"args": "args", "labels": "labels", "extra-hosts": "extra_hosts"}
DROPPED = {"cache-from": "use a cache profile, cache: NAME",
           "cache-to": "use a cache profile, cache: NAME",
           "entitlements": "not a build option here", "call": "not a build option here",
           "matrix": "already expanded by --print", "inherits": "already merged by --print"}


def from_bake(data: Mapping[str, object], name: str) -> Imported:
    targets = data.get("target")
    if not isinstance(targets, dict) or not targets:
        raise ConversionError((), "no 'target' mapping: not the JSON `docker buildx bake "
                                  "--print` writes")
    result = Imported(name)
    for target, spec in targets.items():
        if isinstance(spec, dict):
            result.images[name_of(str(target))] = _fields(spec, result, name_of(str(target)),
                                                          ("target", str(target)))
    groups = data.get("group")
    for group, spec in (groups.items() if isinstance(groups, dict) else ()):
        members = spec.get("targets") if isinstance(spec, dict) else None
        if isinstance(members, list) and name_of(str(group)) not in result.images:
            result.groups[name_of(str(group))] = [name_of(str(m)) for m in members]
    return result


def _fields(spec: Mapping[str, object], result: Imported, image: str,
            path: Path_) -> dict[str, object]:
    fields: dict[str, object] = {"context": spec.get("context", ".")}
    for key, value in spec.items():
        if key in RENAMED:
            fields[RENAMED[key]] = value
        elif key in MAPS:
            fields[MAPS[key]] = key_values(value, (*path, key))
        elif key == "annotations":
            fields["annotations"] = key_values(value, (*path, key))
        elif key == "contexts":
            fields["contexts"] = {k: _context(v)
                                  for k, v in key_values(value, (*path, key)).items()}
        elif key == "secret":
            fields["secrets"] = [_secret(str(s)) for s in value or []]  # type: ignore[attr-defined]
        elif key == "ssh":
            fields["ssh"] = [_ssh(str(s)) for s in value or []]  # type: ignore[attr-defined]
        else:
            result.note(image, key, DROPPED.get(key, "no pipeline field for it"))
    return fields


def _context(value: str) -> object:
    if value.startswith("target:"):
        return {"image": name_of(value.removeprefix("target:"))}
    return value


def _secret(text: str) -> dict[str, object]:
    """`id=x,src=path` / `id=x,env=VAR` (also `type=file|env`)."""
    attrs = dict(part.partition("=")[::2] for part in text.split(","))
    secret: dict[str, object] = {"id": attrs.get("id", "")}
    if "env" in attrs or attrs.get("type") == "env":
        secret["env"] = attrs.get("env") or attrs.get("id", "")
    else:
        secret["src"] = attrs.get("src") or attrs.get("source") or attrs.get("id", "")
    return secret


def _ssh(text: str) -> object:
    ident, _, paths = text.partition("=")
    return {"id": ident, "paths": paths.split(",")} if paths else ident
