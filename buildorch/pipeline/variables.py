"""A pipeline's variables at load time: the resolver (vars, --var, git built-ins, the
environment), and `${...}` expanded in every string of a document."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path

from buildorch.errors import ConfigError, Problems
from buildorch.pipeline import digest_tags
from buildorch.pipeline.gitinfo import git_builtins
from buildorch.pipeline.interpolation import InterpolationError, Lookup, VarResolver
from buildorch.pipeline.yaml_source import Located, Path_, dotted


def pipeline_resolver(
    data: dict[str, object], source: Located, folder: Path, variables: Mapping[str, str],
    env: Mapping[str, str],
) -> VarResolver:
    """`vars`, `--var` values, git built-ins and the environment; every variable checked."""
    raw = data.get("vars") or {}
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping", file=source.file,
                          line=source.line_of(("vars",)), field="vars")
    for name, value in raw.items():
        if isinstance(value, dict | list):
            raise ConfigError("a variable's value must be a string", file=source.file,
                              line=source.line_of(("vars", name)), field=f"vars.{name}")
    pipeline_vars = {str(k): "" if v is None else str(v) for k, v in raw.items()}
    name = data.get("name")
    builtins: dict[str, Callable[[], str | None]] = {
        **git_builtins(folder, env), "PIPELINE": lambda: str(name) if name else None,
        # tokens the plan replaces with each image's input digest (tags only)
        **{k: functools.partial(str, v) for k, v in digest_tags.builtins().items()},
    }
    resolver = VarResolver(pipeline_vars, variables, builtins, env)
    # An unresolvable variable is an error even if unused. The first one stops loading:
    # variables build on each other, and every later use would repeat it.
    for var in pipeline_vars:
        try:
            resolver(var)
        except InterpolationError as exc:
            raise ConfigError(str(exc), file=source.file, line=source.line_of(("vars", var)),
                              field=f"vars.{var}") from None
    return resolver


def interpolate(data: dict[str, object], source: Located, resolver: VarResolver,
                 problems: Problems,
                 scopes: Mapping[str, Lookup] | None = None) -> dict[str, object]:
    """${NAME} expanded in every string but `vars`; a string that cannot be is reported
    and kept as written. `scopes`: an image's own values, before the variables (a matrix
    combination's)."""
    def walk(value: object, path: Path_) -> object:
        if isinstance(value, str):
            try:
                expanded = expand(value, path)
            except InterpolationError as exc:
                problems.add(ConfigError(str(exc), file=source.file, line=source.line_of(path),
                                         field=dotted(path)), settles=True)
                return value
            if digest_tags.PREFIX in expanded and not _is_tag(path):
                problems.add(ConfigError(
                    f"${{{digest_tags.FULL}}} is usable in tags only: elsewhere it would be "
                    "part of the inputs it is the digest of", file=source.file,
                    line=source.line_of(path), field=dotted(path)), settles=True)
            return expanded
        if isinstance(value, dict):
            return {k: walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*path, i)) for i, v in enumerate(value)]
        return value

    def expand(value: str, path: Path_) -> str:
        in_image = scopes and len(path) > 1 and path[0] == "images"
        scope = scopes.get(str(path[1])) if scopes and in_image else None
        return resolver.expand(value) if scope is None else resolver.expand_in(value, scope)

    vars_section = data.get("vars")
    result = {k: walk(v, (k,)) for k, v in data.items() if k != "vars"}
    if "vars" in data:
        result["vars"] = vars_section
    return result


def _is_tag(path: Path_) -> bool:
    """`images.NAME.tags.N` or `defaults.tags.N`."""
    return len(path) >= 2 and path[-2] == "tags" and isinstance(path[-1], int)
