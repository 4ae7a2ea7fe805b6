"""Command line: `buildorch validate|plan|graph|schema`.

argparse (stdlib) keeps `buildorch --help` fast; each command imports what it needs
only when it runs, so that nothing heavy (pydantic, networkx, boto3) loads for --help.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from buildorch import __version__
from buildorch.errors import EXIT_INTERRUPTED, BuildorchError

if TYPE_CHECKING:
    from buildorch.graph import BuildGraph
    from buildorch.loader import LoadedPipeline

DEFAULT_FILES = ("buildorch.yaml", "buildorch.yml", "pipeline.yaml")


def _common(parser: argparse.ArgumentParser, selection: bool = True) -> None:
    parser.add_argument("-f", "--file", type=Path, help="pipeline file (default: buildorch.yaml)")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="set a pipeline variable (overrides vars and built-ins)")
    parser.add_argument("--set", action="append", default=[], metavar="IMAGE.FIELD=VALUE",
                        help="override an image field; IMAGE may be a glob such as '*'")
    parser.add_argument("--cache-config", type=Path, metavar="DIR",
                        help="folder of cache profiles (default: cache-config/ upwards)")
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

    graph = commands.add_parser("graph", help="draw the dependency graph")
    _common(graph)
    graph.add_argument("--format", choices=("text", "dot", "mermaid"), default="text")
    graph.add_argument("--stages", action="store_true",
                       help="draw the Dockerfile stages inside each image")

    commands.add_parser("schema", help="print the JSON Schema of pipeline and cache files")
    return parser


def _pipeline_file(given: Path | None) -> Path:
    if given is not None:
        return given
    for name in DEFAULT_FILES:
        if Path(name).is_file():
            return Path(name)
    raise BuildorchError(f"no pipeline file: pass -f FILE (looked for {', '.join(DEFAULT_FILES)})")


def _load(args: argparse.Namespace) -> tuple[LoadedPipeline, BuildGraph]:
    from buildorch.graph import build_graph
    from buildorch.loader import LoadOptions, load_pipeline
    from buildorch.overrides import parse_vars

    options = LoadOptions(variables=parse_vars(args.var), sets=tuple(args.set),
                          cache_config=args.cache_config)
    pipeline = load_pipeline(_pipeline_file(args.file), options)
    return pipeline, build_graph(pipeline)


def _cmd_validate(args: argparse.Namespace) -> int:
    pipeline, graph = _load(args)
    print(f"{pipeline.display}: ok ({len(pipeline.images)} images, "
          f"{graph.graph.number_of_edges()} dependencies)")
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from buildorch.plan import make_plan, plan_json, plan_text

    pipeline, graph = _load(args)
    plan = make_plan(pipeline, graph, args.names)
    if args.format == "json":
        # Indented for people; compact (and far faster to encode) when piped to a program.
        print(json.dumps(plan_json(plan), indent=2 if sys.stdout.isatty() else None))
    else:
        print(plan_text(plan))
    return 0


def _cmd_graph(args: argparse.Namespace) -> int:
    from buildorch import render_graph
    from buildorch.plan import make_plan

    pipeline, graph = _load(args)
    plan = make_plan(pipeline, graph, args.names)
    draw = {"dot": render_graph.to_dot, "mermaid": render_graph.to_mermaid,
            "text": render_graph.to_text}[args.format]
    print(draw(pipeline, plan, stages=args.stages))
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from buildorch.schema import json_schemas

    print(json.dumps(json_schemas(), indent=2))
    return 0


_COMMANDS = {"validate": _cmd_validate, "plan": _cmd_plan, "graph": _cmd_graph,
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
