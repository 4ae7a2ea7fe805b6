"""Load a pipeline file: YAML with positions, variables, defaults, --set, validation.

The result is immutable and fully checked: every later step (graph, plan, build) may
assume that images, contexts, Dockerfiles, targets and cache profiles exist.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from buildorch.cache.profiles import CacheProfile, find_profile, profile_search_path
from buildorch.dockerfiles.parser import BuildPlatforms, parse_dockerfile, read_dockerfile
from buildorch.dockerfiles.per_platform import PlatformAnalyses
from buildorch.errors import ConfigError, shorten
from buildorch.localpaths import InvalidPath, expand_home, is_dir, is_file
from buildorch.oci import platforms as oci_platforms
from buildorch.pipeline.gitinfo import git_builtins
from buildorch.pipeline.interpolation import InterpolationError, VarResolver
from buildorch.pipeline.loaded import LoadedPipeline, ResolvedImage
from buildorch.pipeline.model import Image, ImageFields, Pipeline
from buildorch.pipeline.named_paths import named_paths
from buildorch.pipeline.overrides import apply_sets, parse_set
from buildorch.pipeline.references import check_duplicate_tags, check_references
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
    specs = {name: merge_defaults(model.defaults, own) for name, own in model.images.items()}
    check_references(partial, specs)
    check_duplicate_tags(partial, specs)
    resolved = _resolve_images(partial, specs, options, resolver)
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
    p: LoadedPipeline, specs: Mapping[str, Image], options: LoadOptions, resolver: VarResolver
) -> dict[str, ResolvedImage]:
    search = profile_search_path(p.folder, options.cache_config)
    profiles: dict[str, tuple[CacheProfile, Located]] = {}
    resolved: dict[str, ResolvedImage] = {}
    for name, spec in specs.items():
        # normpath, not resolve(): one stat per image instead of one per path component
        try:
            context_dir = Path(os.path.normpath(p.folder / expand_home(spec.context)))
        except InvalidPath as exc:
            raise p.error(str(exc), p.field_path(name, "context")) from None
        if not is_dir(context_dir):
            raise p.error(f"build context folder not found: {shorten(spec.context)}",
                          ("images", name, "context"))
        dockerfile = context_dir / (spec.dockerfile or "Dockerfile")
        df_display = os.path.relpath(dockerfile)
        if not is_file(dockerfile):
            where = p.field_path(name, "dockerfile") if spec.dockerfile else (
                "images", name, "context")
            raise p.error(f"Dockerfile not found: {df_display}", where)
        _check_local_paths(p, name, spec)
        info = _analyse(p, name, dockerfile, df_display, spec)
        wanted = options.cache if options.cache is not None else spec.cache
        cache_name = None if wanted in (None, "none") else wanted
        if cache_name is not None and cache_name not in profiles:
            profiles[cache_name] = _load_profile(p, name, cache_name, search, resolver,
                                                 from_cli=options.cache is not None)
        profile, source = profiles[cache_name] if cache_name else (None, None)
        resolved[name] = ResolvedImage(name, spec, context_dir, dockerfile, df_display, info,
                                       profile, cache_name, source)
    return resolved


def _check_local_paths(p: LoadedPipeline, name: str, spec: Image) -> None:
    """Named-context folders, secret files and SSH keys can be expanded (`~user`)."""
    for where, value in named_paths(spec):
        try:
            expand_home(value)
        except InvalidPath as exc:
            raise p.error(str(exc), p.field_path(name, *where)) from None


def _analyse(
    p: LoadedPipeline, name: str, dockerfile: Path, display: str, spec: Image
) -> PlatformAnalyses:
    """The Dockerfile as BuildKit reads it for each platform the image is built for (this
    machine's when none is given), on this machine's platform."""
    targets = _platforms(p, name, spec)
    native = oci_platforms.native().format()
    try:
        text = read_dockerfile(dockerfile, display)
        infos = tuple(parse_dockerfile(text, display, spec.args,
                                       BuildPlatforms(target, native, spec.target))
                      for target in targets)
        infos[0].target_stage(spec.target)
    except ConfigError as exc:
        where = p.field_path(name, "target") if spec.target else p.field_path(name, "context")
        detail = exc.message if exc.line is None else f"{display}:{exc.line}: {exc.message}"
        raise p.error(detail, where) from None
    return PlatformAnalyses(targets, infos)


def _platforms(p: LoadedPipeline, name: str, spec: Image) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for i, text in enumerate(spec.platforms):
        try:
            found[oci_platforms.parse(text).format()] = None
        except oci_platforms.InvalidPlatform as exc:
            raise p.error(str(exc), p.field_path(name, "platforms", i)) from None
    return tuple(found) or (oci_platforms.native().format(),)


def _load_profile(
    p: LoadedPipeline, image: str, name: str, search: list[Path], resolver: VarResolver,
    from_cli: bool = False,
) -> tuple[CacheProfile, Located]:
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
        return CacheProfile.model_validate(data), source
    except ValidationError as exc:
        raise config_error_from(exc, CacheProfile, source) from None
