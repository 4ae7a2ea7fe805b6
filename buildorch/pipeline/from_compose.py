"""A compose file's `build:` sections as a pipeline (pure).

Follows the compose specification's build section (compose-spec/compose-spec build.md):
`build` is a context path or a mapping of context, dockerfile, dockerfile_inline, args
(mapping or `K=V` list), ssh, cache_from/cache_to, additional_contexts (`service:NAME` is
another service's image), extra_hosts, network, target, secrets, labels, no_cache, pull,
platforms, shm_size, tags and ulimits; the service's `image` names the result. Services
without `build` are run, not built, and are left out. Paths stay relative to the compose
file: the pipeline is meant to be written beside it.
"""

from __future__ import annotations

from collections.abc import Mapping

from buildorch.pipeline.imported import ConversionError, Imported, given, key_values
from buildorch.pipeline.yaml_source import Located, Path_

# Fields whose value carries over unchanged (compose and pipeline spell them alike).
SAME = ("context", "dockerfile", "dockerfile_inline", "target", "network", "labels",
        "no_cache", "pull", "platforms", "shm_size", "ulimits", "extra_hosts")
DROPPED = {"cache_from": "use a cache profile, cache: NAME",
           "cache_to": "use a cache profile, cache: NAME",
           "isolation": "Windows containers only", "privileged": "not a build option here",
           "entitlements": "not a build option here"}


def from_compose(source: Located, name: str) -> Imported:
    """`source.written` keeps args and labels as written (`3.10` stays `3.10`)."""
    data = source.data
    if not isinstance(data, dict):
        raise ConversionError((), "a compose file is a mapping")
    result = Imported(name)
    services = data.get("services")
    if not isinstance(services, dict):
        raise ConversionError((), "no 'services' mapping: not a compose file")
    top_secrets = data.get("secrets") if isinstance(data.get("secrets"), dict) else {}
    assert isinstance(top_secrets, dict)
    result.name_images([str(s) for s, spec in services.items()
                        if isinstance(spec, dict) and "build" in spec], "service")
    for service, spec in services.items():
        if not isinstance(spec, dict) or "build" not in spec:
            continue
        image_name = result.image_of(str(service))
        build = spec["build"]
        if isinstance(build, dict):
            build = {k: _as_written(v, ("services", service, "build", k), source)
                     if k in ("args", "labels") else v for k, v in build.items()}
        fields = _build_fields({"context": build} if isinstance(build, str) else build,
                               top_secrets, result, image_name, ("services", service, "build"))
        extra_tags = fields.get("tags")
        if isinstance(spec.get("image"), str):
            fields["tags"] = [spec["image"], *(extra_tags if isinstance(extra_tags, list) else [])]
        result.images[image_name] = fields
    if not result.images:
        raise ConversionError((), "no service has a 'build' section: nothing to build")
    return result


def _build_fields(build: object, secrets: Mapping[str, object], result: Imported,
                  image: str, path: Path_) -> dict[str, object]:
    if not isinstance(build, dict):
        raise ConversionError(path, "expected a path or a mapping")
    fields: dict[str, object] = {"context": "."}
    for key, value in build.items():
        if key == "labels":  # a label without a value is an empty one (build.md labels)
            fields[key] = {k: v or "" for k, v in key_values(value, (*path, key)).items()}
        elif key in SAME:
            fields[key] = value
        elif key == "args":
            # compose-spec build.md, args: "Value can be omitted when specifying a build
            # argument, in which case its value at build time MUST be obtained by user
            # interaction, otherwise build arg won't be set" (docker compose takes it from
            # its environment). Neither '' nor ${env.NAME} (an error when unset) is that.
            fields["args"] = given(key_values(value, (*path, key)), result, image, key,
                                   "no value: compose takes it from the environment, or "
                                   "leaves the ARG unset; give it here or with --set")
        elif key == "tags":
            fields["tags"] = list(value) if isinstance(value, list) else [value]
        elif key == "additional_contexts":
            values = given(key_values(value, (*path, key)), result, image, key, "no value")
            fields["contexts"] = {k: _context(v, result) for k, v in values.items()}
        elif key == "ssh":
            fields["ssh"] = _ssh(value, (*path, key))
        elif key == "secrets":
            if not isinstance(value, list):
                raise ConversionError((*path, key), "expected a list of secrets")
            fields["secrets"] = [_secret(s, secrets, result, image, (*path, key, i))
                                 for i, s in enumerate(value)]
        else:
            result.note(image, key, DROPPED.get(key, "no pipeline field for it"))
    return fields


def _as_written(value: object, path: Path_, source: Located) -> object:
    """Values as written (`3.10`, `0755`); a null (`~`, `null`, nothing) stays None: no
    value given, never the text `~`."""
    if isinstance(value, dict):
        return {k: v if v is None else source.written.get((*path, k), v)
                for k, v in value.items()}
    return value


def _context(value: str, result: Imported) -> object:
    """`service:NAME` is the image another service builds."""
    if value.startswith("service:"):
        return {"image": result.image_of(value.removeprefix("service:"))}
    return value


def _ssh(value: object, path: Path_) -> list[object]:
    """compose-spec: `default` (the agent) or `ID=path` entries, in a list or a mapping
    (schema: list_or_dict, "default|<id>[=<socket>|<key>[,<key>]]"); a single string is
    one entry, never one per character."""
    entries = key_values([value] if isinstance(value, str) else value, path)
    out: list[object] = []
    for ident, paths in entries.items():
        if not ident:
            raise ConversionError(path, "an ssh entry needs an id (default, or ID=path)")
        out.append({"id": ident, "paths": paths.split(",")} if paths else ident)
    return out


def _secret(entry: object, top: Mapping[str, object], result: Imported, image: str,
            path: Path_) -> dict[str, object]:
    source = entry.get("source") if isinstance(entry, dict) else entry
    target = entry.get("target") if isinstance(entry, dict) else None
    if not isinstance(source, str) or not source:
        raise ConversionError(path, "expected a secret's name, or {source: NAME}")
    definition = top.get(str(source))
    secret_id = str(target or source)
    if isinstance(definition, dict) and "file" in definition:
        return {"id": secret_id, "src": definition["file"]}
    if isinstance(definition, dict) and "environment" in definition:
        return {"id": secret_id, "env": definition["environment"]}
    result.note(image, f"secrets.{source}", "no file or environment in the top-level "
                                            "'secrets': give its src or env by hand")
    return {"id": secret_id, "env": str(source).upper()}
