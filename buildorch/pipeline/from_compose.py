"""A compose file's `build:` sections as a pipeline (pure).

Follows the compose specification's build section (compose-spec/compose-spec build.md and
schema/compose-spec.json, compose-spec/compose-go types/build.go) and what docker/compose
does with it (pkg/compose/build.go, build_bake.go). `build` is a context path or a mapping
of context, dockerfile, dockerfile_inline, args (mapping or `K=V` list), ssh, cache_from,
cache_to, additional_contexts (`service:NAME` is another service's image), extra_hosts,
network, target, secrets, labels, no_cache, no_cache_filter, pull, platforms, shm_size,
tags, ulimits, provenance, sbom, isolation, privileged and entitlements. Of the service:
`image` (else compose's own name, PROJECT-SERVICE) tags the result, `platform` is the
build's platform when `build.platforms` names none, `depends_on` on a built service is a
build edge, `profiles` become groups, `extends` in the same file is merged first.

What is left out, each with one warning naming file, line and field:
- `build` fields with no equivalent: cache_from/cache_to (a cache profile says where every
  image's cache lives; the warning names the profile to write), isolation, privileged,
  entitlements, fields compose does not know, a secret defined by neither file nor
  environment, an arg without a value;
- `depends_on` on services that are run, not built (one line per service's depends_on);
- `extends` naming another file, and `include` (neither file is read).
Fields about running a container (ports, volumes, environment, command, networks,
healthcheck, restart, deploy, ...) are no part of a build and are left out silently: a
typical compose file would otherwise warn of every port. `x-` extensions are ignored.

Variables (`${VAR:-default}`) become `${env.VAR:-default}` (compose_variables): the pipeline
reads the environment when it loads, as compose does. Paths stay relative to the compose
file: the pipeline is meant to be written beside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from buildorch.errors import shorten
from buildorch.pipeline.compose_cache import cache_advice
from buildorch.pipeline.compose_extends import with_extends
from buildorch.pipeline.compose_variables import TemplateError, translate
from buildorch.pipeline.imported import ConversionError, Imported, key_values, name_of
from buildorch.pipeline.yaml_source import Located, Path_

Scalar = str | int | float | bool
# build fields that carry over as they are (compose and pipeline spell them alike)
SCALARS = ("context", "dockerfile", "dockerfile_inline", "target", "network", "no_cache",
           "pull", "shm_size")
LISTS = ("platforms", "no_cache_filter", "tags")
WRITTEN = ("context", "dockerfile", "dockerfile_inline", "target", "network")  # strings
DROPPED = {  # build fields with no equivalent, and why; said only where set to do something
    "isolation": "a Windows container's isolation",
    "privileged": "BuildKit's security.insecure entitlement",
    "entitlements": "for network.host, write network: host",
}
ATTESTS = ("provenance", "sbom")
# a docker reference's path component (distribution/reference), for PROJECT-SERVICE
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_PROJECT_DROPPED = re.compile(r"[^a-z0-9_-]")


@dataclass(frozen=True)
class _Compose:
    """The file being converted, and what the conversion gathers."""

    result: Imported
    services: dict[str, dict[str, object]]  # each service, `extends` merged in
    built: frozenset[str]  # the services with a `build`
    secrets: Mapping[str, object]  # the top-level `secrets`
    project: str  # compose's project name (for PROJECT-SERVICE image names)
    included: bool  # services may come from `include`d files
    variables: dict[str, None] = field(default_factory=dict)  # read, in order

    def text(self, value: str, where: Path_) -> str:
        """A string as the pipeline writes it: compose variables as `${env.NAME}`."""
        try:
            translated = translate(value)
        except TemplateError as exc:
            raise ConversionError(where, str(exc)) from None
        self.variables.update(dict.fromkeys(translated.names))
        if translated.inexact:
            self.result.warn_at(where, f"{', '.join(map(shorten, translated.inexact))}: no "
                                       "${VAR:+...} here: written as if the variable were unset")
        return translated.text


def from_compose(source: Located, name: str, *, folder: str | None = None,
                 dotenv: bool = False) -> Imported:
    """`source.written` keeps args and labels as written (`3.10` stays `3.10`); `name`
    names the pipeline; the compose project is the file's `name`, else `folder` (the
    compose file's folder's name, as compose takes it), else `name`; `dotenv`: a `.env`
    file is beside the compose file (compose reads it, the pipeline does not)."""
    data = source.data
    if not isinstance(data, dict):
        raise ConversionError((), "a compose file is a mapping")
    services = data.get("services")
    if not isinstance(services, dict):
        raise ConversionError((), "no 'services' mapping: not a compose file")
    result = Imported(name, source=source)
    specs = with_extends(_as_written(services, source), lambda where: result.warn_at(
        where, "another file is not read: what its service would bring is missing"))
    built = [s for s, spec in specs.items() if "build" in spec]
    if not built:
        raise ConversionError((), "no service has a 'build' section: nothing to build")
    result.name_images(built, "service", under=("services",))
    top_secrets = data.get("secrets")
    compose = _Compose(result, specs, frozenset(built),
                       top_secrets if isinstance(top_secrets, dict) else {},
                       _project(data.get("name"), folder or name), "include" in data)
    for service in built:
        result.images[result.image_of(service)] = _image(compose, service, specs[service])
    result.groups.update(_groups(compose, built))
    if "include" in data:
        result.warn_at(("include",), "the included files are not read: import each of them "
                                     "as well")
    if dotenv and compose.variables:
        names = [f"${{{v}}}" for v in compose.variables]
        result.warn_at((), f"{_listed(names)} {'is' if len(names) == 1 else 'are'} read from "
                           "the environment (as ${env.NAME}); compose also reads .env beside "
                           "the file, buildorch does not: export what it sets, or write the "
                           "values in")
    return result


def _image(c: _Compose, service: str, spec: Mapping[str, object]) -> dict[str, object]:
    path: Path_ = ("services", service)
    build = spec["build"]
    if not isinstance(build, str | dict):
        raise ConversionError((*path, "build"), "expected a path or a mapping")
    fields = _build_fields(c, {"context": build} if isinstance(build, str) else build,
                           (*path, "build"))
    _platform(c, spec.get("platform"), (*path, "platform"), fields)
    tags = _tags(c, service, spec.get("image"), fields.pop("tags", []))
    if tags:
        fields["tags"] = tags
    edges = _depends_on(c, spec.get("depends_on"), (*path, "depends_on"))
    if edges:
        fields["depends_on"] = edges
    return fields


def _build_fields(c: _Compose, build: Mapping[str, object], path: Path_) -> dict[str, object]:
    fields: dict[str, object] = {"context": "."}
    for key, value in build.items():
        where = (*path, key)
        if key.startswith("x-") or value is None:  # an extension; a null is not set
            continue
        handler = _FIELDS.get(key)
        if handler is not None:
            handler(c, value, where, fields)
        elif key in ("cache_from", "cache_to"):
            c.result.warn_at(where, cache_advice(key, value))
        elif key not in DROPPED:
            c.result.warn_at(where, "not a compose build field: left out")
        elif _does_something(key, value):
            c.result.warn_at(where, f"no equivalent here ({DROPPED[key]}): left out")
    return fields


def _does_something(key: str, value: object) -> bool:
    """`privileged: false`, `entitlements: []` or `isolation: default` ask for nothing."""
    return value not in (None, False, "false", "", [], "default")


def _scalar_field(c: _Compose, value: object, where: Path_, fields: dict[str, object]) -> None:
    fields[str(where[-1])] = _value(c, value, where)


def _list_field(c: _Compose, value: object, where: Path_, fields: dict[str, object]) -> None:
    """A list of strings; compose's StringList takes one string too."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ConversionError(where, "expected a list of strings")
    fields[str(where[-1])] = [_value(c, v, (*where, i)) for i, v in enumerate(items)]


def _args(c: _Compose, value: object, where: Path_, fields: dict[str, object]) -> None:
    # compose-spec build.md, args: "Value can be omitted when specifying a build argument,
    # in which case its value at build time MUST be obtained by user interaction, otherwise
    # build arg won't be set" (docker compose takes it from its environment). Neither ''
    # nor ${env.NAME:-} (which sets it, to '') is that.
    args: dict[str, str] = {}
    for key, text in _key_values(c, value, where).items():
        if text is None:
            c.result.warn_at((*where, key), "no value: compose takes it from the environment, "
                                            "or leaves the ARG unset; give it here or with --set")
        else:
            args[key] = text
    fields["args"] = args


def _labels(c: _Compose, value: object, where: Path_, fields: dict[str, object]) -> None:
    # a label without a value is an empty one (build.md labels)
    fields["labels"] = {k: v or "" for k, v in _key_values(c, value, where).items()}


def _key_values(c: _Compose, value: object, where: Path_) -> dict[str, str | None]:
    """A mapping or `K=V` list, values as the pipeline writes them. compose expands a
    variable in a list entry's key too; the pipeline takes keys as written, so that is said."""
    out: dict[str, str | None] = {}
    for key, text in key_values(value, where).items():
        if "$" in key and isinstance(value, list):
            c.result.warn_at((*where, key), "a variable in a name is taken as written here")
        out[key] = None if text is None else c.text(text, (*where, key))
    return out


def _contexts(c: _Compose, value: object, where: Path_, fields: dict[str, object]) -> None:
    contexts: dict[str, object] = {}
    for key, text in key_values(value, where).items():
        if text is None:
            c.result.warn_at((*where, key), "no value: left out")
        elif (context := _context(c, text, (*where, key))) is not None:
            contexts[key] = context
    fields["contexts"] = contexts


def _context(c: _Compose, value: str, where: Path_) -> object:
    """`service:NAME` is the image another service builds (docker/compose build_bake.go
    additionalContexts: a bake `target:`); a service that is only run is its `image`."""
    if not value.startswith("service:"):
        return c.text(value, where)
    name = value.removeprefix("service:")
    if name in c.built:
        return {"image": c.result.image_of(name)}
    image = c.services.get(name, {}).get("image")
    if isinstance(image, str):
        reference = f"docker-image://{c.text(image, where)}"
        c.result.warn_at(where, f"{shorten(name)} is run, not built: written as {reference}")
        return reference
    if name not in c.services and c.included:
        c.result.warn_at(where, f"no service {shorten(name)!r} in this file (include: is not "
                                "read): left out")
        return None
    raise ConversionError(where, f"no service {shorten(name)!r} that is built or has an image")


def _ssh(c: _Compose, value: object, where: Path_, fields: dict[str, object]) -> None:
    """compose-spec: `default` (the agent) or `ID=path` entries, in a list or a mapping
    (schema: list_or_dict, "default|<id>[=<socket>|<key>[,<key>]]"); a single string is
    one entry, never one per character."""
    entries = key_values([value] if isinstance(value, str) else value, where)
    out: list[object] = []
    for ident, paths in entries.items():
        if not ident:
            raise ConversionError(where, "an ssh entry needs an id (default, or ID=path)")
        text = c.text(paths, (*where, ident)) if paths else ""
        out.append({"id": ident, "paths": text.split(",")} if text else ident)
    fields["ssh"] = out


def _secrets(c: _Compose, value: object, where: Path_, fields: dict[str, object]) -> None:
    if not isinstance(value, list):
        raise ConversionError(where, "expected a list of secrets")
    secrets = [s for i, entry in enumerate(value) if (s := _secret(c, entry, (*where, i)))]
    if secrets:
        fields["secrets"] = secrets


def _secret(c: _Compose, entry: object, where: Path_) -> dict[str, object] | None:
    """Its id is the target, else the source (build_bake.go toBakeSecrets); its value the
    top-level secret's `file` or `environment`."""
    source = entry.get("source") if isinstance(entry, dict) else entry
    target = entry.get("target") if isinstance(entry, dict) else None
    if not isinstance(source, str) or not source:
        raise ConversionError(where, "expected a secret's name, or {source: NAME}")
    if target is not None and not isinstance(target, str):
        raise ConversionError((*where, "target"), "expected a string")
    if isinstance(entry, dict) and (extra := [str(k) for k in entry if k not in
                                              ("source", "target") and not k.startswith("x-")]):
        c.result.warn_at(where, f"{', '.join(extra)}: no equivalent (a RUN "
                                "--mount=type=secret sets its own uid, gid and mode)")
    definition = c.secrets.get(source)
    secret_id = target or source
    if isinstance(definition, dict):
        if isinstance(definition.get("file"), str):
            return {"id": secret_id, "src": c.text(definition["file"], ("secrets", source,
                                                                        "file"))}
        if isinstance(definition.get("environment"), str):
            return {"id": secret_id, "env": definition["environment"]}
    why = ("defines neither file nor environment" if isinstance(definition, dict)
           else "is not defined")
    c.result.warn_at(where, f"the top-level secret {shorten(source)!r} {why}: left out; "
                            f"add {{id: {shorten(secret_id)}, src: FILE}} or {{..., env: VAR}}")
    return None


def _extra_hosts(c: _Compose, value: object, where: Path_, fields: dict[str, object]) -> None:
    """`["host:ip", "host=ip"]` or `{host: ip}` (the pipeline reads both)."""
    if isinstance(value, list):
        fields["extra_hosts"] = [_value(c, v, (*where, i)) for i, v in enumerate(value)]
    elif isinstance(value, dict):
        fields["extra_hosts"] = {k: _value(c, v, (*where, k)) for k, v in value.items()}
    else:
        raise ConversionError(where, "expected a list of host:ip or a mapping of host: ip")


def _ulimits(c: _Compose, value: object, where: Path_, fields: dict[str, object]) -> None:
    """`{nofile: 1024}`, `{nofile: "1024:2048"}` or `{nofile: {soft: 1024, hard: 2048}}`."""
    if not isinstance(value, dict):
        raise ConversionError(where, "expected a mapping of limits")
    limits: dict[str, object] = {}
    for name, limit in value.items():
        at = (*where, name)
        if isinstance(limit, dict):
            limits[name] = {k: _value(c, v, (*at, k)) for k, v in limit.items()}
        else:
            limits[name] = _value(c, limit, at)
    fields["ulimits"] = limits


def _attest(c: _Compose, value: object, where: Path_, fields: dict[str, object]) -> None:
    """build_bake.go appendAttest: "true" -> `type=KIND`, "false" -> disabled, any other
    text is the attestation's attributes."""
    scalar = _value(c, value, where)
    text = str(scalar).lower() if isinstance(scalar, bool) else str(scalar)
    kind = str(where[-1])
    entry = {"true": f"type={kind}", "false": f"type={kind},disabled=true"}.get(
        text, f"type={kind},{text}")
    attest = fields.setdefault("attest", [])
    assert isinstance(attest, list)
    attest.append(entry)


def _value(c: _Compose, value: object, where: Path_) -> Scalar:
    """A scalar, a string's variables as the pipeline writes them; anything else is refused
    (compose's schema takes no list or mapping there)."""
    if not isinstance(value, Scalar):
        raise ConversionError(where, f"expected a string, got {type(value).__name__}")
    return c.text(value, where) if isinstance(value, str) else value


Handler = Callable[[_Compose, object, Path_, dict[str, object]], None]
_FIELDS: dict[str, Handler] = {
    **dict.fromkeys(SCALARS, _scalar_field), **dict.fromkeys(LISTS, _list_field),
    **dict.fromkeys(ATTESTS, _attest),
    "args": _args, "labels": _labels, "additional_contexts": _contexts, "ssh": _ssh,
    "secrets": _secrets, "extra_hosts": _extra_hosts, "ulimits": _ulimits,
}


def _platform(c: _Compose, value: object, where: Path_, fields: dict[str, object]) -> None:
    """The service's `platform` is the build's when `build.platforms` names none; compose
    refuses one that is not among them (build.go useDockerDefaultOrServicePlatform)."""
    if value is None:
        return
    platform = str(_value(c, value, where))
    platforms = fields.get("platforms")
    if not platforms:
        fields["platforms"] = [platform]
    elif isinstance(platforms, list) and platform not in platforms:
        raise ConversionError(where, f"{shorten(platform)!r} is not among build.platforms "
                                     "(compose refuses it)")


def _tags(c: _Compose, service: str, image: object, extra: object) -> list[str]:
    """`image`, else the name compose gives the image (api.GetImageNameOrDefault:
    PROJECT-SERVICE), then `build.tags`."""
    where: Path_ = ("services", service, "image")
    tags = [t for t in extra if isinstance(t, str)] if isinstance(extra, list) else []
    if isinstance(image, str):
        return list(dict.fromkeys([c.text(image, where), *tags]))
    if image is not None:
        raise ConversionError(where, "expected an image reference")
    default = f"{c.project}-{service}"
    if c.project and _COMPONENT.match(default):
        return list(dict.fromkeys([default, *tags]))
    if not tags:
        c.result.warn_at(("services", service), f"no image, and compose's name for it "
                                                 f"({shorten(default)}) is no image "
                                                 "reference: no tag")
    return tags


def _depends_on(c: _Compose, value: object, where: Path_) -> list[str]:
    """The built services among `depends_on` (a list, or a mapping of service: {condition,
    required, restart}): compose orders containers by it, buildorch builds. A service
    that is only run has nothing to build first: left out, with one warning."""
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        names = [str(v) for v in value]
    elif isinstance(value, dict) and all(v is None or isinstance(v, dict)
                                         for v in value.values()):
        names = [str(k) for k in value]
    else:
        raise ConversionError(where, "expected a list of services, or a mapping of service: "
                                     "{condition: ...}")
    edges, run_only, elsewhere = [], [], []
    for name in dict.fromkeys(names):
        if name in c.built:
            edges.append(c.result.image_of(name))
        elif name in c.services:
            run_only.append(name)
        elif c.included:
            elsewhere.append(name)
        else:
            raise ConversionError(where, f"no service {shorten(name)!r}")
    if run_only:
        c.result.warn_at(where, f"{_listed(run_only)} {'is' if len(run_only) == 1 else 'are'} "
                                "run, not built: no build to wait for (left out)")
    if elsewhere:
        c.result.warn_at(where, f"{_listed(elsewhere)} not in this file (include: is not "
                                "read): left out")
    return edges


def _listed(names: list[str]) -> str:
    shown = ", ".join(shorten(n) for n in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _groups(c: _Compose, built: list[str]) -> dict[str, list[str]]:
    """compose builds the services of no profile unless a profile is asked for
    (15-profiles.md): they are group `default`, and each profile a group of them plus its
    own services. Nothing when no built service has a profile."""
    plain: list[str] = []
    by_profile: dict[str, list[str]] = {}  # each profile's services
    for service in built:
        profiles = c.services[service].get("profiles")
        if not profiles:
            plain.append(c.result.image_of(service))
        elif isinstance(profiles, list) and all(isinstance(p, str) for p in profiles):
            for profile in profiles:
                by_profile.setdefault(str(profile), []).append(service)
        else:
            raise ConversionError(("services", service, "profiles"),
                                  "expected a list of profile names")
    if not by_profile:
        return {}
    groups = {"default": plain} if plain else {}
    for profile, services in by_profile.items():
        if name_of(profile) != profile or profile in c.result.images or profile in groups:
            c.result.warn_at(("services", services[0], "profiles"),
                             f"profile {shorten(profile)!r} cannot be a group here (not a "
                             "name, or an image's or group's): no group for it")
            continue
        groups[profile] = [*(["default"] if plain else []),
                           *(c.result.image_of(s) for s in services)]
    return groups


def _project(declared: object, name: str) -> str:
    """compose-go loader.NormalizeProjectName of the file's `name`, else of `name`:
    lower case, only [a-z0-9_-], no leading `_` or `-`."""
    text = declared if isinstance(declared, str) and "$" not in declared else name
    return _PROJECT_DROPPED.sub("", text.lower()).lstrip("_-")


def _as_written(services: Mapping[str, object], source: Located) -> dict[str, object]:
    """Each build's string values as written (`3.10`, `0755`), looked up where they are
    before `extends` moves them; a null (`~`, nothing) stays None: no value given."""
    out: dict[str, object] = {}
    for name, spec in services.items():
        build = spec.get("build") if isinstance(spec, dict) else None
        if isinstance(spec, dict) and isinstance(build, dict):
            where = ("services", name, "build")
            spec = {**spec, "build": {k: _written(v, (*where, k), source)
                                      for k, v in build.items()}}
        out[str(name)] = spec
    return out


def _written(value: object, path: Path_, source: Located) -> object:
    key = path[-1]
    if key in ("args", "labels") and isinstance(value, dict):
        return {k: v if v is None else source.written.get((*path, k), v)
                for k, v in value.items()}
    if key in LISTS and isinstance(value, list):
        return [v if v is None else source.written.get((*path, i), v)
                for i, v in enumerate(value)]
    if key in WRITTEN and value is not None:
        return source.written.get(path, value)
    return value
