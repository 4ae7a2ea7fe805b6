"""Load a pipeline file: YAML with positions, variables, defaults, --set, validation.

The result is immutable and fully checked: every later step (graph, plan, build) may
assume that images, contexts, Dockerfiles, targets and cache profiles exist.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from buildorch.cache.profiles import CacheProfile, find_profile, profile_search_path
from buildorch.dockerfiles.parser import load_dockerfile
from buildorch.dockerfiles.stages import DockerfileInfo
from buildorch.errors import ConfigError
from buildorch.pipeline.gitinfo import git_builtins
from buildorch.pipeline.interpolation import InterpolationError, VarResolver
from buildorch.pipeline.loaded import LoadedPipeline, ResolvedImage
from buildorch.pipeline.model import Image, ImageFields, Pipeline
from buildorch.pipeline.overrides import apply_sets, parse_set
from buildorch.pipeline.validation_errors import Origins, config_error_from
from buildorch.pipeline.yaml_source import Located, Path_, dotted, load_yaml


@dataclass(frozen=True)
class LoadOptions:
    variables: Mapping[str, str] = field(default_factory=dict)
    sets: Sequence[str] = ()
    env: Mapping[str, str] | None = None
    cache_config: Path | None = None
    cache: str | None = None  # --cache PROFILE: every image's cache profile ("none": off)


def load_pipeline(path: Path, options: LoadOptions | None = None) -> LoadedPipeline:
    options = options or LoadOptions()
    env = os.environ if options.env is None else options.env
    display = str(path)
    source = load_yaml(path, display)
    data = source.data
    if not isinstance(data, dict):
        raise ConfigError("a pipeline file must be a YAML mapping", file=display,
                          line=source.line_of(()))
    folder = path.resolve().parent
    resolver = _resolver(data, source, folder, options, env)
    data = _interpolate(data, source, resolver)
    images = data.get("images")
    origins: Origins = {}
    if isinstance(images, dict):
        origins = apply_sets(images, [parse_set(s) for s in options.sets])
    try:
        model = Pipeline.model_validate(data)
    except ValidationError as exc:
        raise config_error_from(exc, Pipeline, source, origins) from None
    partial = LoadedPipeline(path, display, folder, model, {}, source, origins, resolver)
    _check_references(partial)
    resolved = _resolve_images(partial, options, resolver)
    _check_duplicate_tags(partial, resolved)
    return LoadedPipeline(path, display, folder, model, resolved, source, origins, resolver)


def _resolver(
    data: dict[str, object], source: Located, folder: Path, options: LoadOptions,
    env: Mapping[str, str],
) -> VarResolver:
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
    }
    resolver = VarResolver(pipeline_vars, options.variables, builtins, env)
    for var in pipeline_vars:  # an unresolvable variable is an error even if unused
        try:
            resolver(var)
        except InterpolationError as exc:
            raise ConfigError(str(exc), file=source.file, line=source.line_of(("vars", var)),
                              field=f"vars.{var}") from None
    return resolver


def _interpolate(data: dict[str, object], source: Located,
                 resolver: VarResolver) -> dict[str, object]:
    def walk(value: object, path: Path_) -> object:
        if isinstance(value, str):
            try:
                return resolver.expand(value)
            except InterpolationError as exc:
                raise ConfigError(str(exc), file=source.file, line=source.line_of(path),
                                  field=dotted(path)) from None
        if isinstance(value, dict):
            return {k: walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*path, i)) for i, v in enumerate(value)]
        return value

    vars_section = data.get("vars")
    result = {k: walk(v, (k,)) for k, v in data.items() if k != "vars"}
    if "vars" in data:
        result["vars"] = vars_section
    return result


def _check_references(p: LoadedPipeline) -> None:
    images = p.model.images
    builders = {b.name for b in p.model.builders}
    seen_builders: set[str] = set()
    for i, builder in enumerate(p.model.builders):
        if builder.name in seen_builders:
            raise p.error(f"duplicate builder name '{builder.name}'", ("builders", i, "name"))
        seen_builders.add(builder.name)
    for name, image in images.items():
        for i, dep in enumerate(image.depends_on):
            if dep not in images:
                raise p.error(_unknown("image", dep, images), ("images", name, "depends_on", i))
            if dep == name:
                raise p.error("an image cannot depend on itself", ("images", name, "depends_on", i))
        for ctx_name, ctx in image.contexts.items():
            if not isinstance(ctx, str) and ctx.image not in images:
                raise p.error(_unknown("image", ctx.image, images),
                              ("images", name, "contexts", ctx_name, "image"))
        if image.builder is not None and image.builder not in builders:
            raise p.error(_unknown("builder", image.builder, builders), ("images", name, "builder"))
    for group, members in p.model.groups.items():
        if group in images:
            raise p.error(f"group '{group}' has the same name as an image", ("groups", group))
        for i, member in enumerate(members):
            if member not in images and member not in p.model.groups:
                known = {*images, *p.model.groups}
                raise p.error(_unknown("image or group", member, known), ("groups", group, i))


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    names = sorted(known)
    shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
    return f"unknown {kind} '{name}' (known: {shown or 'none'})"


def merge_defaults(defaults: ImageFields, image: Image) -> Image:
    """`defaults` under an image: mappings merge key by key, other fields are replaced."""
    base = defaults.model_dump(exclude_unset=True)
    own = image.model_dump(exclude_unset=True)
    merged = {**base, **own}
    for key in ("args", "labels", "contexts"):
        if key in base and key in own:
            merged[key] = {**base[key], **own[key]}
    return Image.model_validate(merged) if base else image


def _resolve_images(
    p: LoadedPipeline, options: LoadOptions, resolver: VarResolver
) -> dict[str, ResolvedImage]:
    search = profile_search_path(p.folder, options.cache_config)
    profiles: dict[str, CacheProfile | None] = {}
    resolved: dict[str, ResolvedImage] = {}
    for name, own in p.model.images.items():
        spec = merge_defaults(p.model.defaults, own)
        # normpath, not resolve(): one stat per image instead of one per path component
        context_dir = Path(os.path.normpath(p.folder / Path(spec.context).expanduser()))
        if not context_dir.is_dir():
            raise p.error(f"build context folder not found: {spec.context}",
                          ("images", name, "context"))
        dockerfile = context_dir / (spec.dockerfile or "Dockerfile")
        df_display = os.path.relpath(dockerfile)
        if not dockerfile.is_file():
            where = p.field_path(name, "dockerfile") if spec.dockerfile else (
                "images", name, "context")
            raise p.error(f"Dockerfile not found: {df_display}", where)
        info = _analyse(p, name, dockerfile, df_display, spec)
        wanted = options.cache if options.cache is not None else spec.cache
        cache_name = None if wanted in (None, "none") else wanted
        if cache_name is not None and cache_name not in profiles:
            profiles[cache_name] = _load_profile(p, name, cache_name, search, resolver,
                                                 from_cli=options.cache is not None)
        resolved[name] = ResolvedImage(
            name, spec, context_dir, dockerfile, df_display, info,
            profiles.get(cache_name) if cache_name else None, cache_name,
        )
    return resolved


def _analyse(
    p: LoadedPipeline, name: str, dockerfile: Path, display: str, spec: Image
) -> DockerfileInfo:
    try:
        info = load_dockerfile(dockerfile, spec.args, display_path=display)
        info.target_stage(spec.target)
    except ConfigError as exc:
        where = p.field_path(name, "target") if spec.target else p.field_path(name, "context")
        detail = exc.message if exc.line is None else f"{display}:{exc.line}: {exc.message}"
        raise p.error(detail, where) from None
    return info


def _load_profile(
    p: LoadedPipeline, image: str, name: str, search: list[Path], resolver: VarResolver,
    from_cli: bool = False,
) -> CacheProfile:
    found = find_profile(name, search)
    if found is None:
        folders = ", ".join(os.path.relpath(f) for f in search[:3])
        message = f"cache profile '{name}' not found (looked in {folders})"
        if from_cli:
            raise ConfigError(f"--cache {name}: {message}")
        raise p.error(message, p.field_path(image, "cache"))
    display = os.path.relpath(found)
    source = load_yaml(found, display)
    if not isinstance(source.data, dict):
        raise ConfigError("a cache profile must be a YAML mapping", file=display, line=1)
    data = _interpolate(source.data, source, resolver)
    try:
        return CacheProfile.model_validate(data)
    except ValidationError as exc:
        raise config_error_from(exc, CacheProfile, source) from None


def _check_duplicate_tags(p: LoadedPipeline, images: Mapping[str, ResolvedImage]) -> None:
    owner: dict[str, str] = {}
    for name, image in images.items():
        for i, tag in enumerate(image.spec.tags):
            if tag in owner and owner[tag] != name:
                path = p.field_path(name, "tags", i)
                raise p.error(f"tag '{tag}' is also a tag of image '{owner[tag]}'", path)
            owner[tag] = name
