"""`buildorch build`: set-up steps, each a function below, then the run.

    load the pipeline -> check the machine (secrets, SSH) -> choose the backend -> plan
    -> check --load -> (dry run: print the commands) -> check the tool's version
    -> check the cache -> run

Everything before the run may fail with exit 2, and nothing has been built by then.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from buildorch.cli.changed_since import narrow
from buildorch.cli.loading import load, plan_options, requested_backend, warn, warn_hints
from buildorch.errors import BuildorchError

if TYPE_CHECKING:
    from buildorch.backends.base import Backend, ToolVersion
    from buildorch.backends.capabilities import CacheType
    from buildorch.pipeline.loaded import LoadedPipeline
    from buildorch.pipeline.model import Builder
    from buildorch.planning.graph import BuildGraph
    from buildorch.planning.plan import Plan, PlannedImage
    from buildorch.run.executor import Executor
    from buildorch.run.pool import PoolSetup
    from buildorch.run.repro.record import Invocation

MIN_DEFAULT_JOBS = 4


def default_jobs(builders: Sequence[Builder]) -> int:
    """The first builder's `max_parallel` where the pipeline sets it; else the machine's
    cores, at least 4. Measured on 2 cores (benchmarks/README.md, build_overhead): 4 cached
    builds at once finish no later than 2 and well before 1, and builds that wait (on a
    registry, a network, a sleep) gain from more."""
    if builders and "max_parallel" in builders[0].model_fields_set:
        return builders[0].max_parallel
    return max(MIN_DEFAULT_JOBS, os.cpu_count() or 1)


@dataclass(frozen=True)
class ChosenBackend:
    backend: Backend
    address: str | None
    exporters: frozenset[CacheType] | None  # None: a dry run, no engine was asked
    why: str
    version: ToolVersion | None = None


def command(args: argparse.Namespace) -> int:
    pipeline, graph = load(args)
    chosen = narrow(args, pipeline, graph)
    if chosen.nothing:
        print(chosen.nothing, file=_output(args))
        return 0
    check_machine(args, pipeline, graph)
    choice = choose_backend(args, pipeline)
    plan = plan_for(args, pipeline, graph, choice)
    warn_hints(pipeline, graph, plan.order)
    check_load(args, choice.backend)
    if choice.exporters is None:
        print(pool_line(args, pipeline) + dry_run(plan, choice), file=_output(args))
        return 0
    check_before_run(args, pipeline, plan, choice)
    from buildorch.cli.pool_setup import pool_setup

    pool = pool_setup(pipeline, plan, args.builder, choice.backend.name, warn)
    return run(args, pipeline, plan, choice, pool)


def plan_for(args: argparse.Namespace, pipeline: LoadedPipeline, graph: BuildGraph,
             choice: ChosenBackend) -> Plan:
    """The plan of the selection (`args.names`) for the chosen backend."""
    from buildorch.backends.capabilities import S3
    from buildorch.planning.plan import make_plan

    exporters = (choice.exporters if choice.exporters is not None
                 else choice.backend.assumed_capabilities().cache_exporters)
    native_s3 = S3 in exporters
    return make_plan(pipeline, graph, args.names,
                     plan_options(args, pipeline, graph, choice.backend.name, native_s3))


def check_before_run(args: argparse.Namespace, pipeline: LoadedPipeline, plan: Plan,
                     choice: ChosenBackend) -> None:
    """What the engine must do for the plan: the tool's version, secrets its environment
    lets through, the cache it must export to."""
    from buildorch.preflight.tool_version import check_tool_version

    assert choice.exporters is not None  # an engine answered: not a dry run
    check_tool_version((i.request for i in plan.images), choice.backend, choice.version)
    check_env_barrier(plan, choice.backend)
    check_cache(args, pipeline, plan, choice.backend, choice.exporters)
    print(f"buildorch: {choice.why}", file=sys.stderr)


def _output(args: argparse.Namespace) -> TextIO:
    """Where a message goes: with --progress json, stdout carries only the events."""
    return sys.stderr if args.progress == "json" else sys.stdout


def check_machine(args: argparse.Namespace, pipeline: LoadedPipeline,
                  graph: BuildGraph) -> None:
    """What the selected builds need from this machine, before any engine is asked."""
    from buildorch.planning.graph import expand_selection, with_dependencies
    from buildorch.preflight.secrets import check_secrets, check_ssh

    selected = with_dependencies(graph, expand_selection(args.names, pipeline.images,
                                                         pipeline.model.groups)).nodes
    check_secrets(pipeline, selected, os.environ)
    check_ssh(pipeline, selected, os.environ)


def choose_backend(args: argparse.Namespace, pipeline: LoadedPipeline) -> ChosenBackend:
    """The backend and what its builder can export; a dry run asks no engine."""
    from buildorch.backends.catalog import get_backend, offline_backend
    from buildorch.backends.choice import choose
    from buildorch.pipeline.builders import pool_of
    from buildorch.planning.requests import endpoint_of

    pool = pool_of(pipeline.model.builders, args.builder)  # a pool: probe its first here
    given = pipeline.model.builders[pool[0]].name if pool else args.builder
    endpoint = endpoint_of(pipeline, given, None)  # --builder's, else the first
    address = endpoint.address
    requested = requested_backend(args, pipeline)
    if args.dry_run:
        backend = get_backend(offline_backend(requested))
        return ChosenBackend(backend, address, None,
                             f"backend {backend.name} (dry run: no engine asked)")
    backend, status, why = choose(requested, address, endpoint.tls)
    return ChosenBackend(backend, address, status.capabilities.cache_exporters, why,
                         status.version)


def check_env_barrier(plan: Plan, backend: Backend) -> None:
    from buildorch.preflight.secrets import check_env_secrets_reach

    barrier = backend.env_barrier(platform.system())
    if barrier is not None:
        check_env_secrets_reach((i.request for i in plan.images), barrier)


def check_load(args: argparse.Namespace, backend: Backend) -> None:
    from buildorch.backends.catalog import BACKEND_NAMES, get_backend

    if args.load and not backend.local_store:
        stores = [name for name in BACKEND_NAMES if get_backend(name).local_store]
        raise BuildorchError(f"--load: backend {backend.name} has no local image store "
                             f"(use {', '.join(stores[:-1])} or {stores[-1]}, or push with "
                             "--push)")


def pool_line(args: argparse.Namespace, pipeline: LoadedPipeline) -> str:
    """Over a pool, the commands are each build's on the first builder: where a build runs
    is decided when it is ready (run/pool)."""
    from buildorch.pipeline.builders import pool_of

    names = [pipeline.model.builders[i].name for i in pool_of(pipeline.model.builders,
                                                              args.builder)]
    if not names:
        return ""
    return (f"# a pool of builders {', '.join(names)}: each build goes to one with its "
            f"platforms, labels and a free slot when it is ready; shown for {names[0]}\n")


def dry_run(plan: Plan, choice: ChosenBackend) -> str:
    from buildorch.planning.chains import chain_members, run_chains
    from buildorch.planning.plan_output import publish_lines
    from buildorch.proc import render_argv
    from buildorch.text import plural

    lines = [f"# {plural(len(plan.images), 'build')}, backend {choice.backend.name}; "
             "{digest:NAME} is the digest image NAME produces, {run_id} the run's id"]
    images = {i.name: i for i in plan.images}
    sessions = chain_members(run_chains(plan.order, images))
    for image in plan.images:
        if image.name in sessions:
            if image.session_after is None:  # a session's first image: the session
                lines += session_lines(sessions[image.name], choice.backend, images)
            continue
        lines.append(render_argv(image.shown_argv, choice.backend.build_env([image.request])))
        archive = image.request.load_archive  # a reproducible image, loaded by the run
        if archive is not None:
            load = choice.backend.load_archive_argv(archive, image.request.builder,
                                                    image.request.builder_tls)
            lines += [render_argv(load)] if load is not None else []
    return "\n".join(lines + publish_lines(plan.publish))


def session_lines(members: tuple[str, ...], backend: Backend,
                  images: Mapping[str, PlannedImage]) -> list[str]:
    """The one builder session that builds linked images (run/chain_build)."""
    from buildorch.proc import render_argv
    from buildorch.workdir import RUNS

    first = images[members[0]]
    folder = f"{RUNS}/{{run_id}}"
    argv = backend.chain_argv(f"{folder}/{first.name}.bake.json", members,
                              f"{folder}/{first.name}.bake-metadata.json", first.request.builder)
    assert argv is not None
    env = backend.build_env([images[m].request for m in members])
    return [f"# {' -> '.join(members)}: one builder session, each given the one before "
            "through a target: context (the bake file holds each image's build)",
            render_argv(argv, env)]


def check_cache(args: argparse.Namespace, pipeline: LoadedPipeline, plan: Plan,
                backend: Backend, exporters: frozenset[CacheType]) -> None:
    """The backend can export what the profiles ask for; S3 buckets answer."""
    from buildorch.preflight.cache_support import check_cache as check_support
    from buildorch.preflight.s3_reachable import check_s3

    check_support(pipeline, plan.order, backend.name, exporters)
    for warning in check_s3(pipeline, plan.order, strict=args.cache_strict):
        warn(warning)


def run(args: argparse.Namespace, pipeline: LoadedPipeline, plan: Plan,
        choice: ChosenBackend, pool: PoolSetup | None = None) -> int:
    executor = executor_for(args, pipeline, plan, choice, invocation_of(args), pool)
    return run_executor(executor)


def invocation_of(args: argparse.Namespace, reproduces: str | None = None) -> Invocation:
    """What the command line asked, for the run record (`repro` replays it)."""
    from buildorch.pipeline.overrides import parse_vars
    from buildorch.run.repro.record import Invocation

    return Invocation(tuple(parse_vars(args.var).items()), tuple(args.set), args.cache,
                      args.cache_readonly, None if args.cache_config is None
                      else str(args.cache_config), args.push, tuple(args.names), reproduces)


def executor_for(args: argparse.Namespace, pipeline: LoadedPipeline, plan: Plan,
                 choice: ChosenBackend, invocation: Invocation,
                 pool: PoolSetup | None = None) -> Executor:
    from buildorch.run.executor import Executor, RunOptions
    from buildorch.run.one_build import BuildOptions
    from buildorch.run.reporters.choose import reporter_for

    jobs = args.jobs or (sum(e.builder.max_parallel for e in pool.entries) if pool
                         else default_jobs(pipeline.model.builders))
    options = RunOptions(jobs=jobs, keep_going=args.keep_going,
                         skip_unchanged=(pipeline.model.skip_unchanged if args.skip_unchanged
                                         is None else args.skip_unchanged),
                         builder=choice.address,
                         build=BuildOptions(retries=args.retries, cache_strict=args.cache_strict),
                         invocation=invocation)
    executor = Executor(pipeline, plan, choice.backend, options,
                        reporter_for(args.progress, args.verbose))
    if pool is not None:
        executor.use_pool(pool)
    return executor


def run_executor(executor: Executor) -> int:
    """Run; SIGTERM stops the builds as Ctrl-C does."""
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return executor.run()
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (a CI cancel) stops builds like Ctrl-C
