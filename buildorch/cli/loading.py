"""What several commands share: finding and loading the pipeline, and the plan options
that `plan` and `build` derive from the command line and the environment."""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from buildorch.errors import BuildorchError, ConfigError
from buildorch.localpaths import is_file

if TYPE_CHECKING:
    from buildorch.pipeline.loaded import LoadedPipeline
    from buildorch.planning.graph import BuildGraph
    from buildorch.planning.input_digests import ImageSources
    from buildorch.planning.plan import Plan
    from buildorch.planning.requests import PlanOptions

DEFAULT_FILES = ("buildorch.yaml", "buildorch.yml", "pipeline.yaml")


def warn(text: str) -> None:
    print(f"buildorch: warning: {text}", file=sys.stderr)


def pipeline_hints(pipeline: LoadedPipeline, graph: BuildGraph, names: Collection[str],
                   unkept: bool = True) -> list[ConfigError]:
    """What may be wrong with the images `names` (planning/hints), by file and line: near
    misses, and with `unkept` the results nobody keeps."""
    from buildorch.planning.hints import near_miss_hints, unkept_hints

    found = near_miss_hints(pipeline, graph, names)
    if unkept:
        found += unkept_hints(pipeline, graph, names)
    return sorted(found, key=lambda e: (e.file or "", e.line or 0))


def warn_hints(pipeline: LoadedPipeline, graph: BuildGraph, names: Collection[str],
               unkept: bool = True) -> None:
    for hint in pipeline_hints(pipeline, graph, names, unkept):
        warn(hint.render())


def pipeline_file(given: Path | None) -> Path:
    if given is not None:
        return given
    for name in DEFAULT_FILES:
        if is_file(Path(name)):
            return Path(name)
    raise BuildorchError(f"no pipeline file: pass -f FILE (looked for {', '.join(DEFAULT_FILES)})")


def load(args: argparse.Namespace) -> tuple[LoadedPipeline, BuildGraph]:
    from buildorch.pipeline.loader import LoadOptions, load_pipeline
    from buildorch.pipeline.overrides import parse_vars
    from buildorch.planning.graph import build_graph
    from buildorch.preflight.secrets import credential_like_args

    options = LoadOptions(variables=parse_vars(args.var), sets=tuple(args.set),
                          cache_config=args.cache_config, cache=args.cache)
    pipeline = load_pipeline(pipeline_file(args.file), options)
    graph = build_graph(pipeline)
    for warning in credential_like_args(pipeline):
        warn(warning)
    return pipeline, graph


def requested_backend(args: argparse.Namespace, pipeline: LoadedPipeline) -> str:
    if args.backend:
        return str(args.backend)
    return pipeline.model.builders[0].backend if pipeline.model.builders else "auto"


def plan_options(args: argparse.Namespace, pipeline: LoadedPipeline, graph: BuildGraph,
                 backend: str, native_s3: bool) -> PlanOptions:
    from buildorch.backends.catalog import get_backend
    from buildorch.cache.plan import context_from_env
    from buildorch.pipeline.builders import pool_of
    from buildorch.pipeline.secret_sources import missing_optional_secrets
    from buildorch.planning.requests import PlanOptions
    from buildorch.planning.timestamps import timestamp_warning
    from buildorch.preflight.cache_support import gha_warnings
    from buildorch.run.record import previous_durations

    cache = context_from_env(os.environ, pipeline.branch, readonly=args.cache_readonly,
                             strict=args.cache_strict, native_s3=native_s3,
                             credentials=forwarded_credentials(pipeline, native_s3))
    barrier = get_backend(backend).env_barrier(platform.system())
    if barrier is not None:  # only what gets through reaches buildctl (the gha cache)
        cache = dataclasses.replace(cache, actions_env=barrier.reaching(cache.actions_env))
    hidden_by = barrier.where if barrier is not None else None
    for warning in gha_warnings(pipeline, cache.actions_env, args.cache_strict, hidden_by):
        warn(warning)
    pooled = bool(pool_of(pipeline.model.builders, args.builder))  # placed at run time
    options = PlanOptions(backend=backend, push=args.push,
                          builder=None if pooled else args.builder,
                          history=previous_durations(pipeline.model.name),
                          omit_secrets=missing_optional_secrets(pipeline, os.environ),
                          cache=cache, sources=read_sources(args, pipeline, graph),
                          # plan, graph: as build does; a pool places each image on its own
                          chains=getattr(args, "chains", True) and not pooled)
    if unrewritten := timestamp_warning(pipeline, graph, args.names, options):
        warn(unrewritten)
    return options


def offline_plan(args: argparse.Namespace, pipeline: LoadedPipeline, graph: BuildGraph,
                 names: Collection[str]) -> Plan:
    """The plan for the requested backend without asking any engine (`plan`, `why`)."""
    from buildorch.backends.capabilities import S3
    from buildorch.backends.catalog import get_backend, offline_backend
    from buildorch.planning.plan import make_plan

    backend = get_backend(offline_backend(requested_backend(args, pipeline)))
    native_s3 = S3 in backend.assumed_capabilities().cache_exporters
    return make_plan(pipeline, graph, list(names),
                     plan_options(args, pipeline, graph, backend.name, native_s3))


def read_sources(args: argparse.Namespace, pipeline: LoadedPipeline,
                 graph: BuildGraph) -> dict[str, ImageSources]:
    """What the input digests of the selection and its dependencies cover, from disk."""
    from buildorch.planning.graph import expand_selection, with_dependencies
    from buildorch.planning.input_sources import SourceReader

    selected = with_dependencies(graph, expand_selection(args.names, pipeline.images,
                                                         pipeline.model.groups)).nodes
    return SourceReader(pipeline, Path.cwd()).read(selected)


def forwarded_credentials(pipeline: LoadedPipeline, native_s3: bool) -> dict[str, str]:
    """The client's S3 credentials, only where a profile asks to forward them natively."""
    from buildorch.backends.capabilities import S3

    forwarding = [i for i in pipeline.images.values() if native_s3 and i.cache is not None
                  and i.cache.type == S3 and i.cache.credentials == "forward"]
    if not forwarding:
        return {}
    from buildorch.cache.s3.credentials import resolve_forwarded

    warn("S3 credentials are forwarded on the builder's command line (credentials: forward); "
         "other local users can read it")
    try:
        return resolve_forwarded()
    except ConfigError as exc:
        source = forwarding[0].cache_source
        if source is None:
            raise
        raise ConfigError(exc.message, file=source.file,
                          line=source.line_of(("credentials",)), field="credentials") from None
