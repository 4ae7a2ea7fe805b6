"""Command line: `buildorch validate|plan|graph|build|doctor|schema`.

argparse (stdlib) keeps `buildorch --help` fast; each command imports what it needs
only when it runs, so that nothing heavy (pydantic, networkx, boto3) loads for --help.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from buildorch import __version__
from buildorch.errors import EXIT_INTERRUPTED, BuildorchError

if TYPE_CHECKING:
    from buildorch.backends import Backend
    from buildorch.pipeline.loader import LoadedPipeline
    from buildorch.planning.graph import BuildGraph
    from buildorch.planning.plan import Plan, PlanOptions

DEFAULT_FILES = ("buildorch.yaml", "buildorch.yml", "pipeline.yaml")


def _common(parser: argparse.ArgumentParser, selection: bool = True) -> None:
    parser.add_argument("-f", "--file", type=Path, help="pipeline file (default: buildorch.yaml)")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="set a pipeline variable (overrides vars and built-ins)")
    parser.add_argument("--set", action="append", default=[], metavar="IMAGE.FIELD=VALUE",
                        help="override an image field; IMAGE may be a glob such as '*'")
    parser.add_argument("--cache-config", type=Path, metavar="DIR",
                        help="folder of cache profiles (default: cache-config/ upwards)")
    parser.add_argument("--cache", metavar="PROFILE",
                        help="use this cache profile for every image ('none': no cache)")
    if selection:
        parser.add_argument("names", nargs="*", metavar="IMAGE|GROUP",
                            help="what to select (default: group 'default', else all)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="buildorch",
        description="Build a monorepo's container images as one graph through BuildKit.",
    )
    parser.add_argument("--version", action="version", version=f"buildorch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check a pipeline file; exit 2 on errors")
    _common(validate, selection=False)

    plan = commands.add_parser("plan", help="print the resolved plan and exact commands")
    _common(plan)
    plan.add_argument("--format", choices=("text", "json"), default="text")
    _backend_options(plan)

    graph = commands.add_parser("graph", help="draw the dependency graph")
    _common(graph)
    graph.add_argument("--format", choices=("text", "dot", "mermaid"), default="text")
    graph.add_argument("--stages", action="store_true",
                       help="draw the Dockerfile stages inside each image")

    build = commands.add_parser("build", help="build the selection and what it depends on")
    _common(build)
    _backend_options(build)
    build.add_argument("-j", "--jobs", type=_positive, metavar="N",
                       help="builds at once (default: the builder's max_parallel, 4)")
    build.add_argument("--keep-going", action="store_true",
                       help="after a failure, build everything not downstream of it")
    build.add_argument("--retries", type=_non_negative, default=0, metavar="N",
                       help="retry builds that failed for transient reasons (not a failing RUN)")
    build.add_argument("--load", action="store_true",
                       help="load images into the backend's local image store (the default "
                            "where it has one)")
    build.add_argument("--dry-run", action="store_true", help="print the commands; run nothing")
    build.add_argument("--progress", choices=("auto", "plain"), default="auto")

    doctor = commands.add_parser("doctor", help="which backends answer and what they support")
    doctor.add_argument("--builder", metavar="ADDRESS", help="BuildKit host or docker host")

    cache = commands.add_parser("cache", help="list, measure and prune registry and S3 caches")
    actions = cache.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (("ls", "entries per image and branch, with size and age"),
                         ("stats", "totals per image and branch"),
                         ("prune", "delete old entries, then blobs no kept entry uses")):
        sub = actions.add_parser(action, help=text)
        _common(sub, selection=False)
        if action == "prune":
            sub.add_argument("--older-than", type=float, required=True, metavar="DAYS")
            sub.add_argument("--dry-run", action="store_true", help="list; delete nothing")
            sub.add_argument("--grace-hours", type=float, default=1.0, metavar="HOURS",
                             help="S3: keep unreferenced blobs younger than this, which a "
                                  "running export may be about to use (default 1)")

    commands.add_parser("schema", help="print the JSON Schema of pipeline and cache files")
    return parser


def _backend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=("auto", "nerdctl", "finch", "docker", "buildctl"),
                        help="default: the pipeline's builder, else auto")
    parser.add_argument("--builder", metavar="ADDRESS",
                        help="BuildKit host (nerdctl/finch/buildctl); buildx builder or docker "
                             "host (docker)")
    parser.add_argument("--push", action="store_true",
                        help="publish every selected image's tags, only if every build succeeds")
    parser.add_argument("--cache-readonly", action="store_true",
                        help="import cache but never export it")
    parser.add_argument("--cache-strict", action="store_true",
                        help="a cache that fails on import or export fails the build")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _pipeline_file(given: Path | None) -> Path:
    if given is not None:
        return given
    for name in DEFAULT_FILES:
        if Path(name).is_file():
            return Path(name)
    raise BuildorchError(f"no pipeline file: pass -f FILE (looked for {', '.join(DEFAULT_FILES)})")


def _load(args: argparse.Namespace) -> tuple[LoadedPipeline, BuildGraph]:
    from buildorch.pipeline.loader import LoadOptions, load_pipeline
    from buildorch.pipeline.overrides import parse_vars
    from buildorch.planning.graph import build_graph

    options = LoadOptions(variables=parse_vars(args.var), sets=tuple(args.set),
                          cache_config=args.cache_config, cache=args.cache)
    pipeline = load_pipeline(_pipeline_file(args.file), options)
    graph = build_graph(pipeline)
    from buildorch.preflight.secrets import credential_like_args

    for warning in credential_like_args(pipeline):
        print(f"buildorch: warning: {warning}", file=sys.stderr)
    return pipeline, graph


def _cmd_validate(args: argparse.Namespace) -> int:
    pipeline, graph = _load(args)
    print(f"{pipeline.display}: ok ({len(pipeline.images)} images, "
          f"{graph.graph.number_of_edges()} dependencies)")
    return 0


def _requested_backend(args: argparse.Namespace, pipeline: LoadedPipeline) -> str:
    if args.backend:
        return str(args.backend)
    return pipeline.model.builders[0].backend if pipeline.model.builders else "auto"


def _plan_options(args: argparse.Namespace, pipeline: LoadedPipeline, backend: str,
                  native_s3: bool) -> PlanOptions:
    from buildorch.cache.plan import context_from_env
    from buildorch.planning.plan import PlanOptions
    from buildorch.preflight.secrets import missing_optional_secrets
    from buildorch.run.record import previous_durations

    cache = context_from_env(os.environ, pipeline.branch, readonly=args.cache_readonly,
                             strict=args.cache_strict, native_s3=native_s3,
                             credentials=_forwarded_credentials(pipeline, native_s3))
    return PlanOptions(backend=backend, push=args.push, builder=args.builder,
                       history=previous_durations(pipeline.model.name),
                       omit_secrets=missing_optional_secrets(pipeline, os.environ), cache=cache)


def _forwarded_credentials(pipeline: LoadedPipeline, native_s3: bool) -> dict[str, str]:
    """The client's S3 credentials, only where a profile asks to forward them natively."""
    wanted = native_s3 and any(
        i.cache is not None and i.cache.type == "s3" and i.cache.credentials == "forward"
        for i in pipeline.images.values())
    if not wanted:
        return {}
    from buildorch.cache.s3.credentials import resolve_forwarded

    print("buildorch: warning: S3 credentials are forwarded on the builder's command line "
          "(credentials: forward); other local users can read it", file=sys.stderr)
    return resolve_forwarded()


def _cmd_plan(args: argparse.Namespace) -> int:
    from buildorch.planning.plan import make_plan, plan_json, plan_text

    pipeline, graph = _load(args)
    # Planning needs no engine: `auto` plans for docker buildx unless told otherwise.
    backend = _requested_backend(args, pipeline)
    backend = "docker" if backend == "auto" else backend
    plan = make_plan(pipeline, graph, args.names,
                     _plan_options(args, pipeline, backend, native_s3=backend != "docker"))
    if args.format == "json":
        # Indented for people; compact (and far faster to encode) when piped to a program.
        print(json.dumps(plan_json(plan), indent=2 if sys.stdout.isatty() else None))
    else:
        print(plan_text(plan))
    return 0


def _cmd_graph(args: argparse.Namespace) -> int:
    from buildorch.planning import render_graph
    from buildorch.planning.plan import make_plan

    pipeline, graph = _load(args)
    plan = make_plan(pipeline, graph, args.names)
    draw = {"dot": render_graph.to_dot, "mermaid": render_graph.to_mermaid,
            "text": render_graph.to_text}[args.format]
    print(draw(pipeline, plan, stages=args.stages))
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from buildorch.planning.plan import make_plan
    from buildorch.run.executor import Executor, RunOptions
    from buildorch.run.reporting import PlainReporter

    pipeline, graph = _load(args)
    _check_machine(args, pipeline, graph)
    address = args.builder or next((b.address for b in pipeline.model.builders), None)
    backend, exporters, why = _backend_for(args, pipeline, address)
    native_s3 = "s3" in exporters if exporters is not None else backend.name != "docker"
    plan = make_plan(pipeline, graph, args.names,
                     _plan_options(args, pipeline, backend.name, native_s3))
    if args.load and not backend.local_store:
        raise BuildorchError(f"--load: backend {backend.name} has no local image store "
                             "(use nerdctl, finch or docker, or push with --push)")
    if exporters is None:
        print(_dry_run(plan, backend, address))
        return 0
    _check_cache(args, pipeline, plan, backend, exporters)
    print(f"buildorch: {why}", file=sys.stderr)
    max_parallel = pipeline.model.builders[0].max_parallel if pipeline.model.builders else 4
    options = RunOptions(jobs=args.jobs or max_parallel, keep_going=args.keep_going,
                         retries=args.retries, builder=address, cache_strict=args.cache_strict)
    executor = Executor(pipeline, plan, backend, options, PlainReporter())
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return executor.run()
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_machine(args: argparse.Namespace, pipeline: LoadedPipeline,
                   graph: BuildGraph) -> None:
    """What the selected builds need from this machine, before any engine is asked."""
    from buildorch.planning.graph import expand_selection, with_dependencies
    from buildorch.preflight.secrets import check_secrets, check_ssh

    selected = with_dependencies(graph, expand_selection(args.names, pipeline.images,
                                                         pipeline.model.groups)).nodes
    check_secrets(pipeline, selected, os.environ)
    check_ssh(pipeline, selected, os.environ)


def _backend_for(args: argparse.Namespace, pipeline: LoadedPipeline, address: str | None
                 ) -> tuple[Backend, frozenset[str] | None, str]:
    """The backend, its cache exporters (None for a dry run: no engine is asked), and why."""
    from buildorch.backends import choice as doctor
    from buildorch.backends import get_backend

    requested = _requested_backend(args, pipeline)
    if args.dry_run:
        backend = get_backend("docker" if requested == "auto" else requested)
        return backend, None, f"backend {backend.name} (dry run: no engine asked)"
    backend, status, why = doctor.choose(requested, address)
    return backend, status.cache_exporters, why


def _check_cache(args: argparse.Namespace, pipeline: LoadedPipeline, plan: Plan,
                 backend: Backend, exporters: frozenset[str]) -> None:
    from buildorch.preflight.cache_support import check_cache
    from buildorch.run.cache_transfers import preflight_s3

    check_cache(pipeline, plan.order, backend.name, exporters)
    for warning in preflight_s3(pipeline, plan.order, strict=args.cache_strict):
        print(f"buildorch: warning: {warning}", file=sys.stderr)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (a CI cancel) stops builds like Ctrl-C


def _dry_run(plan: Plan, backend: Backend, address: str | None) -> str:
    from buildorch.proc import redact_argv, render_argv

    lines = [f"# {len(plan.images)} builds, backend {backend.name}; {{digest:NAME}} is the "
             "digest image NAME produces, {run_id} the run's id"]
    lines += [render_argv(redact_argv(image.argv)) for image in plan.images]
    for image in plan.images:
        for tag in image.publish:
            if backend.push_argv is not None:
                lines.append(render_argv(backend.push_argv(tag, address)))
            else:
                lines.append(f"# registry: tag {tag} -> {{digest:{image.name}}}")
    return "\n".join(lines)


def _cmd_doctor(args: argparse.Namespace) -> int:
    from buildorch.backends import choice as doctor

    text, any_ok = doctor.report(args.builder)
    print(text)
    return 0 if any_ok else 1


def _cmd_cache(args: argparse.Namespace) -> int:
    from buildorch.cli import cache as cache_admin

    pipeline, _ = _load(args)
    print(cache_admin.run(pipeline, args.action, getattr(args, "older_than", None),
                          getattr(args, "dry_run", False), getattr(args, "grace_hours", 1.0)))
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from buildorch.pipeline.schema import json_schemas

    print(json.dumps(json_schemas(), indent=2))
    return 0


_COMMANDS = {"validate": _cmd_validate, "plan": _cmd_plan, "graph": _cmd_graph,
             "build": _cmd_build, "doctor": _cmd_doctor, "cache": _cmd_cache,
             "schema": _cmd_schema}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Loading a large pipeline makes many small objects that all stay alive; the default
    # thresholds would have the collector scan them over and over (~10% of `plan`).
    gc.set_threshold(50_000, 20, 20)
    try:
        return _COMMANDS[args.command](args)
    except BuildorchError as exc:
        print(f"buildorch: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("buildorch: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `buildorch plan | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
