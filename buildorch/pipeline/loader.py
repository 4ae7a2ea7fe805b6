"""Load a pipeline file: YAML with positions, variables, defaults, --set, validation.

The result is immutable and fully checked: every later step (graph, plan, build) may
assume that images, contexts, Dockerfiles, targets and cache profiles exist.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from buildorch.backends.flags import is_remote_context
from buildorch.digestcache import DigestCache
from buildorch.dockerfiles.analysis_cache import AnalysisCache
from buildorch.dockerfiles.parser import BuildPlatforms, read_dockerfile
from buildorch.dockerfiles.per_platform import PlatformAnalyses
from buildorch.errors import ConfigError, Problems, shorten
from buildorch.localpaths import InvalidPath, expand_home, is_dir, is_file
from buildorch.oci import platforms as oci_platforms
from buildorch.pipeline.as_written import as_written
from buildorch.pipeline.builders import check_builders
from buildorch.pipeline.foreign import check_foreign_content, check_not_foreign
from buildorch.pipeline.inherits import (
    MAP_FIELDS,
    Inheritance,
    InheritError,
    InheritSkipped,
    merge_defaults,
)
from buildorch.pipeline.interpolation import VarResolver
from buildorch.pipeline.loaded import LoadedPipeline, ResolvedImage
from buildorch.pipeline.matrix import expand_matrices, refer_to_expansions, unexpanded_names
from buildorch.pipeline.model import Image
from buildorch.pipeline.named_paths import named_paths
from buildorch.pipeline.overrides import apply_sets, parse_set
from buildorch.pipeline.profile_loading import ProfileLoader
from buildorch.pipeline.references import check_duplicate_tags, check_references
from buildorch.pipeline.validation_errors import Origins, validate_model
from buildorch.pipeline.value_checks import (
    check_values,
    remote_context_problem,
    remote_dockerfile_problem,
)
from buildorch.pipeline.variables import interpolate, pipeline_resolver
from buildorch.pipeline.yaml_source import Located, dotted, load_yaml
from buildorch.pipeline.yaml_source import code_version as yaml_code_version
from buildorch.workdir import DOCKERFILE_ANALYSES, YAML_DOCUMENTS

if TYPE_CHECKING:
    from buildorch.cache.profiles import CacheProfile


@dataclass(frozen=True)
class LoadOptions:
    variables: Mapping[str, str] = field(default_factory=dict)
    sets: Sequence[str] = ()
    env: Mapping[str, str] | None = None
    cache_config: Path | None = None
    cache: str | None = None  # --cache PROFILE: every image's cache profile ("none": off)
    # The folder whose .buildorch/ keeps the parsed pipeline and the Dockerfile analyses
    # between runs (the working folder); None: nothing kept, for a load that must leave
    # nothing behind.
    state_root: Path | None = Path()


def load_pipeline(path: Path, options: LoadOptions | None = None) -> LoadedPipeline:
    """The pipeline at `path`, checked; every configuration error found is raised at once
    (ConfigErrors), each naming its file, line and field."""
    options = options or LoadOptions()
    env = os.environ if options.env is None else options.env
    display = str(path)
    check_not_foreign(path, display)
    documents = DigestCache.open(_kept(options, YAML_DOCUMENTS), yaml_code_version(), 2)
    source = load_yaml(path, display, documents)
    documents.save()
    if not isinstance(source.data, dict):
        raise ConfigError("a pipeline file must be a YAML mapping", file=display,
                          line=source.line_of(()))
    check_foreign_content(source)
    problems = Problems()
    folder = path.resolve().parent
    data = as_written(source)
    assert isinstance(data, dict)
    resolver = pipeline_resolver(data, source, folder, options.variables, env)
    matrices = expand_matrices(data, source, resolver, problems)
    source = matrices.source
    data = interpolate(matrices.data, source, resolver, problems, matrices.scopes)
    images = data.get("images")
    origins: Origins = {}
    if isinstance(images, dict):
        if not images:  # every entry a matrix with an error: nothing more to check
            problems.raise_if_any()
        origins = apply_sets(images, [parse_set(s) for s in options.sets], matrices.aliases)
    data = refer_to_expansions(data, matrices, source, problems)
    model, broken, unsure = validate_model(data, source, origins, problems)
    if model is None:
        problems.raise_if_any()
        raise AssertionError("a pipeline that did not validate gave no error")
    broken |= matrices.broken | unexpanded_names(matrices, model)
    entries = matrices.entry_of
    partial = LoadedPipeline(path, display, folder, model, {}, source, origins, resolver,
                             entries)
    if all(name.startswith("_") for name in (*model.images, *broken)):
        problems.add(partial.error("no image to build: names starting with _ are templates",
                                   ("images",)))
    specs = _merged_specs(partial, problems, broken, unsure)
    check_references(partial, specs, problems, broken)
    check_builders(partial, specs, problems)
    check_duplicate_tags(partial, specs, problems)
    resolved = _resolve_images(partial, specs, options, resolver, problems)
    problems.raise_if_any()
    return LoadedPipeline(path, display, folder, model, resolved, source, origins, resolver,
                          entries)


def _merged_specs(p: LoadedPipeline, problems: Problems, broken: frozenset[str],
                  unsure: frozenset[str]) -> dict[str, Image]:
    """Each image (not the templates) with what it inherits and `defaults` merged in. An
    image that inherits one with an error, or takes a field of `defaults` that has one
    (`unsure`), is left out: the values known to be its own are checked."""
    inheritance = Inheritance(p.model.images, broken)
    specs: dict[str, Image] = {}
    if p.model.defaults.inherits:
        problems.add(p.error("defaults inherit nothing: name templates in each image's "
                             "inherits", ("defaults", "inherits")))
    for name in p.model.images:
        if name.startswith("_"):
            continue
        try:
            image = inheritance.image(name)
            written = set(inheritance.fields(name)) if unsure else set()
        except InheritError as exc:
            index = () if exc.index is None else (exc.index,)
            problems.add(p.error(exc.message, ("images", exc.image, "inherits", *index)))
            continue
        except InheritSkipped:
            own = p.model.images[name]  # its own fields are final (mappings aside)
            check_values(p, name, own, problems, own.model_fields_set - set(MAP_FIELDS))
            continue
        spec = merge_defaults(p.model.defaults, image)
        # mappings merge key by key: what `defaults` would have added is unknown
        unknown = {f for f in unsure if f not in written or f in MAP_FIELDS}
        if unknown:
            check_values(p, name, spec, problems, set(Image.model_fields) - unknown)
        elif spec.context is None:
            problems.add(p.error("required field is missing (on the image, an image it "
                                 "inherits, or defaults)", ("images", name, "context")))
        else:
            specs[name] = spec
    return specs


def _resolve_images(
    p: LoadedPipeline, specs: Mapping[str, Image], options: LoadOptions, resolver: VarResolver,
    problems: Problems,
) -> dict[str, ResolvedImage]:
    profiles = ProfileLoader(p, options.cache, options.cache_config, resolver)
    known = AnalysisCache.open(_kept(options, DOCKERFILE_ANALYSES))
    resolved: dict[str, ResolvedImage] = {}
    for name, spec in specs.items():
        try:
            image = _resolve(p, name, spec, options, profiles, known, problems)
        except ConfigError as exc:
            problems.add(exc)
            continue
        if image is not None:
            resolved[name] = image
    known.save()
    return resolved


def _kept(options: LoadOptions, state_file: str) -> Path | None:
    return None if options.state_root is None else options.state_root / state_file


def _resolve(p: LoadedPipeline, name: str, spec: Image, options: LoadOptions,
             profiles: ProfileLoader, known: AnalysisCache,
             problems: Problems) -> ResolvedImage | None:
    """The image resolved, or None where an error was recorded. What does not need the
    context (values, platforms, local paths, the cache profile) is checked regardless of
    whether the context is there, so that one `validate` lists every error."""
    platforms = check_values(p, name, spec, problems)
    _check_local_paths(p, name, spec, problems)
    wanted = options.cache if options.cache is not None else spec.cache
    cache_name = None if wanted in (None, "none") else wanted
    profile: tuple[CacheProfile | None, Located | None] | None = None
    with problems.collecting():
        profile = profiles.get(name, cache_name)
    try:
        where = _where(p, name, spec)
    except ConfigError as exc:
        problems.add(exc)
        return None
    info = _analyse(p, name, where, spec, platforms, known)
    if profile is None:
        return None
    return ResolvedImage(name, spec, where.context_dir, where.dockerfile, where.display,
                         info, profile[0], cache_name, profile[1], where.remote)


@dataclass(frozen=True)
class _Where:
    """Where an image's context and Dockerfile are."""

    context_dir: Path | None  # None: a remote context
    dockerfile: Path | None  # None: inline, or inside a remote context
    display: str  # the Dockerfile as messages name it
    text: str | None = None  # the Dockerfile, where it is not a local file
    remote: str | None = None  # the URL of a remote context


def _where(p: LoadedPipeline, name: str, spec: Image) -> _Where:
    assert spec.context is not None  # checked when merging
    inline = spec.dockerfile_inline
    inline_display = f"{p.display}:images.{name}.dockerfile_inline"
    if is_remote_context(spec.context):
        if problem := remote_context_problem(spec.context):
            raise p.error(problem, p.field_path(name, "context"))
        if spec.dockerfile and (problem := remote_dockerfile_problem(spec.dockerfile)):
            raise p.error(problem, p.field_path(name, "dockerfile"))
        if inline is not None:
            raise p.error("dockerfile_inline needs a local context folder (a remote context "
                          "brings its own Dockerfile)", p.field_path(name, "dockerfile_inline"))
        return _Where(None, None, spec.dockerfile or "Dockerfile", remote=spec.context)
    # normpath, not resolve(): one stat per image instead of one per path component
    try:
        context_dir = Path(os.path.normpath(p.folder / expand_home(spec.context)))
    except InvalidPath as exc:
        raise p.error(str(exc), p.field_path(name, "context")) from None
    if not is_dir(context_dir):
        raise p.error(f"build context folder not found: {shorten(spec.context)}",
                      p.field_path(name, "context"))
    if inline is not None:
        return _Where(context_dir, None, inline_display, text=inline)
    dockerfile = context_dir / (spec.dockerfile or "Dockerfile")
    display = os.path.relpath(dockerfile)
    if not is_file(dockerfile):
        field = p.field_path(name, "dockerfile") if spec.dockerfile else p.field_path(
            name, "context")
        raise p.error(f"Dockerfile not found: {display}", field)
    return _Where(context_dir, dockerfile, display)


def _check_local_paths(p: LoadedPipeline, name: str, spec: Image, problems: Problems) -> None:
    """Named-context folders, secret files and SSH keys can be expanded (`~user`)."""
    for where, value in named_paths(spec):
        try:
            expand_home(value)
        except InvalidPath as exc:
            problems.add(p.error(str(exc), p.field_path(name, *where)))


def _analyse(p: LoadedPipeline, name: str, where: _Where, spec: Image,
             targets: tuple[str, ...], known: AnalysisCache) -> PlatformAnalyses | None:
    """The Dockerfile as BuildKit reads it for each platform the image is built for (this
    machine's when none is given), on this machine's platform; None for a Dockerfile in a
    remote context, which only the builder fetches. Unchanged Dockerfiles are not
    analysed again (`known`, kept between runs)."""
    if where.dockerfile is None and where.text is None:
        return None
    native = oci_platforms.native().format()
    display = where.display
    try:
        text = read_dockerfile(where.dockerfile, display) if where.dockerfile else where.text
        assert text is not None
        infos = tuple(known.analyse(text, display, spec.args,
                                    BuildPlatforms(target, native, spec.target))
                      for target in targets)
    except ConfigError as exc:
        if where.text is not None:
            raise _inline_error(p, name, exc) from None
        field = "dockerfile" if spec.dockerfile else "context"
        detail = exc.message if exc.line is None else f"{display}:{exc.line}: {exc.message}"
        raise p.error(detail, p.field_path(name, field)) from None
    try:
        infos[0].target_stage(spec.target)
    except ConfigError as exc:
        raise p.error(exc.message, p.field_path(name, "target")) from None
    analyses = PlatformAnalyses(targets, infos)
    _check_stage_names(p, name, analyses, spec.no_cache_filter)
    return analyses


def _inline_error(p: LoadedPipeline, name: str, exc: ConfigError) -> ConfigError:
    """An error of a `dockerfile_inline` Dockerfile at the pipeline's line that holds the
    Dockerfile's line, where the value is a literal block (`|`); else at its key."""
    path = p.field_path(name, "dockerfile_inline")
    file, line = p.where(path)
    message = exc.message
    if exc.line is not None:
        message = f"line {exc.line}: {message}"
        first = _literal_block_start(p, file, line)
        if first is not None:
            line = first + exc.line - 1
    return ConfigError(message, file=file, line=line, field=dotted(path))


_LITERAL_BLOCK = re.compile(r":\s*\|[1-9+-]{0,2}\s*(#.*)?$")


def _literal_block_start(p: LoadedPipeline, file: str, key_line: int | None) -> int | None:
    """The line after `key_line` where that line ends in `: |` (its value, a literal block,
    keeps each line: the Dockerfile's first line is there)."""
    if file != p.display or key_line is None:
        return None  # given by --set
    try:
        lines = p.path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeError):
        return None
    if key_line > len(lines) or not _LITERAL_BLOCK.search(lines[key_line - 1]):
        return None
    return key_line + 1


def _check_stage_names(p: LoadedPipeline, name: str, info: PlatformAnalyses,
                       stages: list[str]) -> None:
    """no_cache_filter names stages as BuildKit matches them: named stages, any case."""
    known = {s.lower() for s in info.stage_names()}
    for i, stage in enumerate(stages):
        if stage.lower() not in known:
            shown = ", ".join(info.stage_names()) or "none are named"
            raise p.error(f"no stage '{shorten(stage)}' in {info.path} (stages: {shown})",
                          p.field_path(name, "no_cache_filter", i))

