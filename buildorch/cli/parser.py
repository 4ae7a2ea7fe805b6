"""The argument parser (argparse, stdlib: `buildorch --help` stays fast)."""

from __future__ import annotations

import argparse
from pathlib import Path

from buildorch import __version__
from buildorch.backends.catalog import BACKEND_CHOICES
from buildorch.run.reporters.choose import PROGRESS_CHOICES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="buildorch",
        description="Build a monorepo's container images as one graph through BuildKit.",
    )
    parser.add_argument("--version", action="version", version=f"buildorch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check a pipeline file; exit 2 on errors")
    _common(validate, selection=False)
    validate.add_argument("--backend", choices=BACKEND_CHOICES,
                          help="check for this backend (default: the pipeline's builder)")
    validate.add_argument("--strict", action="store_true",
                          help="make the warnings about the pipeline errors: references that "
                               "nearly name a pipeline image, results nobody keeps")

    plan = commands.add_parser("plan", help="print the resolved plan and exact commands")
    _common(plan)
    plan.add_argument("--format", choices=("text", "json"), default="text")
    plan.add_argument("--explain", action="store_true",
                      help="say which inputs of each image changed since its last build")
    _backend_options(plan)

    graph = commands.add_parser("graph", help="draw the dependency graph")
    _common(graph)
    graph.add_argument("--format", choices=("text", "dot", "mermaid"), default="text")
    graph.add_argument("--stages", action="store_true",
                       help="draw the Dockerfile stages inside each image")

    _build_command(commands)
    _repro_command(commands)

    why = commands.add_parser("why", help="which inputs of an image changed since its last "
                                          "successful build")
    _common(why, selection=False)
    why.add_argument("names", nargs="+", metavar="IMAGE")
    _backend_options(why)

    doctor = commands.add_parser("doctor", help="which backends answer and what they support")
    doctor.add_argument("--builder", metavar="ADDRESS", help="BuildKit host or docker host")
    _common(doctor, selection=False)

    history = commands.add_parser("history", help="recent runs: outcome, duration, images "
                                                  "built, cached and failed, cache hits")
    history.add_argument("-n", type=_positive, default=10, metavar="N",
                         help="how many runs (default 10)")
    show = commands.add_parser("show", help="print a run's summary again")
    show.add_argument("run", metavar="RUN_ID|RECORD", help="a run id (or a unique start of "
                                                           "one) or a record.json")

    _cache_command(commands)
    schema = commands.add_parser("schema",
                                 help="print the JSON Schema of pipeline and cache files")
    schema.add_argument("--events", action="store_true",
                        help="the schema of build --progress json's event lines instead")
    _import_command(commands)
    _init_command(commands)
    return parser


def _common(parser: argparse.ArgumentParser, selection: bool = True) -> None:
    parser.add_argument("-f", "--file", type=Path,
                        help="pipeline file (default: buildorch.yaml; doctor: none)")
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
        parser.add_argument("--changed-since", metavar="REF",
                            help="select the images whose inputs differ between git revision "
                                 "REF and the working tree, and what is built on them (of the "
                                 "IMAGE|GROUP names, where given)")


class _JoinedNames(argparse.Action):
    """`--builder a --builder b` means `--builder a,b` (a pool of the two)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        earlier = getattr(namespace, self.dest, None)
        setattr(namespace, self.dest, f"{earlier},{values}" if earlier else values)


def _backend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=BACKEND_CHOICES,
                        help="default: the pipeline's builder, else auto")
    parser.add_argument("--builder", metavar="NAME|ADDRESS", action=_JoinedNames,
                        help="a builder of the pipeline (its address and TLS), or a BuildKit "
                             "host (nerdctl/finch/buildctl), buildx builder or docker host "
                             "(docker); several pipeline builders (`a,b`, or the option "
                             "again): a pool of those")
    parser.add_argument("--push", action="store_true",
                        help="publish every selected image's tags, only if every build succeeds")
    parser.add_argument("--cache-readonly", action="store_true",
                        help="import cache but never export it")
    parser.add_argument("--cache-strict", action="store_true",
                        help="a cache that fails on import or export fails the build")


def _build_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    build = commands.add_parser("build", help="build the selection and what it depends on")
    _common(build)
    _backend_options(build)
    build.add_argument("-j", "--jobs", type=_positive, metavar="N",
                       help="builds (or builder sessions) at once (default: the builder's "
                            "max_parallel if set, else the machine's cores, at least 4)")
    build.add_argument("--keep-going", action="store_true",
                       help="after a failure, build everything not downstream of it")
    build.add_argument("--retries", type=_non_negative, default=0, metavar="N",
                       help="retry builds that failed for transient reasons (not a failing RUN)")
    build.add_argument("--load", action="store_true",
                       help="load images into the backend's local image store (the default "
                            "where it has one)")
    build.add_argument("--dry-run", action="store_true", help="print the commands; run nothing")
    build.add_argument("--chains", action=argparse.BooleanOptionalAction, default=True,
                       help="build each chain of images (an image whose only dependency "
                            "feeds it through a named context, and so on) as one `docker "
                            "buildx bake`, handed from link to link inside one builder "
                            "session (docker backend; default: on)")
    build.add_argument("--skip-unchanged", action=argparse.BooleanOptionalAction,
                       help="do not build an image whose input digest matches an earlier "
                            "successful build whose output still exists; reapply its tags "
                            "(default: the pipeline's skip_unchanged)")
    build.add_argument("--progress", choices=PROGRESS_CHOICES, default="auto",
                       help="auto: a live view on a terminal, else plain lines (GitHub "
                            "Actions groups, annotations and step summary under "
                            "GITHUB_ACTIONS=true); json: one event per line")
    build.add_argument("-v", "--verbose", action="store_true",
                       help="plain: every BuildKit log line as it comes (default: a build's "
                            "log only when it fails; every log is in the run folder)")


def _repro_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    repro = commands.add_parser("repro", help="rebuild what a recorded run built, with its "
                                              "variables, base images and cache; compare digests")
    repro.add_argument("record", metavar="RECORD.json|RUN_ID",
                       help="a run record, or a run id (or a unique start of one)")
    repro.add_argument("names", nargs="*", metavar="IMAGE",
                       help="rebuild only these (and what they depend on; default: the run's "
                            "selection)")
    repro.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                       help="override a recorded variable")
    repro.add_argument("--set", action="append", default=[], metavar="IMAGE.FIELD=VALUE",
                       help="override an image field, after the recorded --set")
    repro.add_argument("--cache-config", type=Path, metavar="DIR",
                       help="folder of cache profiles (default: the recorded one, else "
                            "cache-config/ upwards)")
    repro.add_argument("--backend", choices=BACKEND_CHOICES,
                       help="default: the recorded run's backend")
    repro.add_argument("--builder", metavar="ADDRESS",
                       help="BuildKit host (nerdctl/finch/buildctl); buildx builder or docker "
                            "host (docker)")
    repro.add_argument("-j", "--jobs", type=_positive, metavar="N",
                       help="builds (or builder sessions) at once (default: the builder's "
                            "max_parallel if set, else the machine's cores, at least 4)")
    repro.add_argument("--keep-going", action="store_true",
                       help="after a failure, build everything not downstream of it")
    repro.add_argument("--retries", type=_non_negative, default=0, metavar="N",
                       help="retry builds that failed for transient reasons (not a failing RUN)")
    repro.add_argument("--strict", action="store_true",
                       help="exit 1 when a digest differs from the record")
    repro.add_argument("--progress", choices=PROGRESS_CHOICES, default="auto",
                       help="as for build")
    repro.add_argument("-v", "--verbose", action="store_true",
                       help="plain: every BuildKit log line as it comes")


def _cache_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def _import_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imp = commands.add_parser("import", help="print a pipeline converted from a compose or "
                                             "bake file")
    imp.add_argument("kind", choices=("compose", "bake"),
                     help="compose: a compose file's build sections; bake: the JSON of "
                          "`docker buildx bake --print`")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument("--name", help="the pipeline's name (default: the file's folder)")


def _init_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    init = commands.add_parser("init", help="write a pipeline for the Dockerfiles of a "
                                            "repository")
    init.add_argument("dir", nargs="?", type=Path, default=Path(), metavar="DIR",
                      help="the repository to scan (default: the current folder)")
    init.add_argument("-o", "--output", type=Path, metavar="FILE",
                      help="where to write it (default: DIR/buildorch.yaml; '-': stdout)")
    init.add_argument("--stdout", action="store_true", help="print it instead (as -o -)")
    init.add_argument("--name", help="the pipeline's name (default: DIR's folder name)")
    init.add_argument("--force", action="store_true", help="overwrite an existing FILE")


def _whole_number(text: str) -> int:
    """An int, or an error naming the text (argparse would name the converting function:
    `invalid _positive value`)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _positive(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative(text: str) -> int:
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value
