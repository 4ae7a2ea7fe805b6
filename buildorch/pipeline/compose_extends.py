"""compose's `extends` within one file: each service with the fields of the service it
extends merged under its own (pure).

compose-spec/compose-spec 05-services.md (extends) and 13-merge.md: mappings merge key by
key, sequences append, other values are replaced by the extending service's. Before
merging, the short forms compose normalises are made long, so that a `build: ./dir` and a
`build: {args: ...}` merge: `build` a path -> `{context: path}`, `args`/`labels` as
`K=V` lists -> mappings, `depends_on` a list -> a mapping. `extends` naming another file
(`file:`) is not followed: what it would bring is missing, and `on_file` is told.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from buildorch.errors import shorten
from buildorch.pipeline.imported import ConversionError
from buildorch.pipeline.yaml_source import Path_

OnFile = Callable[[Path_], None]  # told the path of each `extends.file` not followed


def with_extends(services: Mapping[str, object], on_file: OnFile) -> dict[str, dict[str, object]]:
    """Every service that is a mapping, with what it extends merged in (in file order)."""
    bases: dict[str, str | None] = {}  # each service -> the one it extends in this file
    done: dict[str, dict[str, object]] = {}
    for name, spec in services.items():
        if isinstance(spec, dict):
            for step in reversed(_chain(str(name), services, bases, done, on_file)):
                own = {k: v for k, v in _spec(services, step).items() if k != "extends"}
                base = bases[step]
                done[step] = own if base is None else _merged(normal(done[base]), normal(own))
    return {str(n): done[str(n)] for n, spec in services.items() if isinstance(spec, dict)}


def _chain(name: str, services: Mapping[str, object], bases: dict[str, str | None],
           done: Mapping[str, object], on_file: OnFile) -> list[str]:
    """`name` and the services it extends, up to one already merged or one extending
    none; iterative, so that no chain is too long."""
    chain: dict[str, None] = {}  # in order, and quick to ask
    current: str | None = name
    while current is not None and current not in done:
        if current in chain:
            names = list(chain)
            loop = " -> ".join([*names[names.index(current):], current])
            raise ConversionError(("services", names[-1], "extends"),
                                  f"extends goes round in a loop: {shorten(loop, 200)}")
        chain[current] = None
        spec = _spec(services, current)
        base = _base(current, spec["extends"], on_file) if "extends" in spec else None
        if base is not None and not isinstance(services.get(base), dict):
            raise ConversionError(("services", current, "extends"),
                                  f"no service {shorten(base)!r} in this file to extend")
        bases[current] = base
        current = base
    return list(chain)


def _spec(services: Mapping[str, object], name: str) -> dict[str, object]:
    spec = services[name]
    assert isinstance(spec, dict)
    return spec


def _base(name: str, value: object, on_file: OnFile) -> str | None:
    """The service `extends` names in this file; None when it names another file."""
    where: Path_ = ("services", name, "extends")
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("service"), str):
        if value.get("file") is not None:
            on_file((*where, "file"))
            return None
        return str(value["service"])
    raise ConversionError(where, "expected a service name, or {service: NAME[, file: FILE]}")


def normal(spec: dict[str, object]) -> dict[str, object]:
    """A service's short forms made long, as compose does before merging."""
    out = dict(spec)
    build = out.get("build")
    if isinstance(build, str):
        build = {"context": build}
    if isinstance(build, dict):
        out["build"] = {k: _mapping_of(v) if k in ("args", "labels") else v
                        for k, v in build.items()}
    depends = out.get("depends_on")
    if isinstance(depends, list) and all(isinstance(d, str) for d in depends):
        out["depends_on"] = {d: {"condition": "service_started"} for d in depends}
    return out


def _mapping_of(value: object) -> object:
    """compose's `K=V` list as a mapping (a bare `K` is a null value); anything else as is."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return value
    pairs = [str(v).partition("=") for v in value]
    return {key: text if sep else None for key, sep, text in pairs}


MERGE_DEPTH = 3  # service -> build -> args: deeper values are replaced, never recursed into


def _merged(base: dict[str, object], own: dict[str, object]) -> dict[str, object]:
    out = merged(base, own)
    assert isinstance(out, dict)
    return out


def merged(base: object, own: object, depth: int = 0) -> object:
    """13-merge.md: mappings key by key, sequences appended (an entry already there is not
    repeated), anything else replaced."""
    if isinstance(base, dict) and isinstance(own, dict) and depth < MERGE_DEPTH:
        out = dict(base)
        for key, value in own.items():
            out[key] = merged(base[key], value, depth + 1) if key in base else value
        return out
    if isinstance(base, list) and isinstance(own, list):
        return [*base, *(item for item in own if item not in base)]
    return own
