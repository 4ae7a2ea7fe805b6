"""`buildorch init [DIR]`: write a pipeline for the Dockerfiles of a repository.

It finds the Dockerfiles (`pipeline/repository_scan`), makes one image per final stage and
links the images whose Dockerfiles name one another (`pipeline/from_repository`), then
checks the result as `validate` does, where it is to live: it is written (by renaming the
checked file, so a half-written pipeline never exists) only when it loads, its graph has
no cycle and it plans; else nothing is written and the errors are shown (exit 2). A
Dockerfile that cannot be read or parsed is left out with a warning.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from buildorch.cli.loading import pipeline_hints, warn
from buildorch.errors import BuildorchError, ConfigError, ConfigErrors
from buildorch.localpaths import exists, is_dir
from buildorch.text import plural, table

if TYPE_CHECKING:
    from buildorch.pipeline.from_repository import ScannedDockerfile
    from buildorch.pipeline.loaded import LoadedPipeline
    from buildorch.planning.graph import BuildGraph

DEFAULT_NAME = "buildorch.yaml"
STDOUT = "-"


def command(args: argparse.Namespace) -> int:
    from buildorch.pipeline.from_repository import from_repository

    root: Path = args.dir
    if not is_dir(root):
        raise BuildorchError(f"{root}: not a folder")
    to_stdout = args.stdout or str(args.output) == STDOUT
    target = root / DEFAULT_NAME if to_stdout or args.output is None else Path(args.output)
    if not to_stdout:
        _check_writable(target, args.force)
    scanned = _scanned(root)
    prefix = Path(os.path.relpath(root.resolve(), target.parent.resolve())).as_posix()
    imported = from_repository(scanned, args.name or root.resolve().name, prefix)
    for note in imported.notes:
        warn(note)
    text = imported.to_yaml()
    pipeline, graph = _checked(text, target, keep=not to_stdout)
    for hint in pipeline_hints(pipeline, graph, pipeline.images):
        warn(hint.render().replace(pipeline.display, str(target)))
    summary = (f"{plural(len(pipeline.images), 'image')}, "
               f"{plural(graph.graph.number_of_edges(), 'dependency', 'dependencies')}")
    if to_stdout:
        print(text, end="")
        print(f"buildorch: {summary}", file=sys.stderr)
    else:
        print(_listing(pipeline, graph, root))
        print(f"wrote {target}: {summary}")
    return 0


def _check_writable(target: Path, force: bool) -> None:
    if is_dir(target):
        raise BuildorchError(f"{target} is a folder: name the file to write with -o FILE")
    if exists(target) and not force:
        raise BuildorchError(f"{target} exists: pass --force to overwrite it, or -o FILE to "
                             "write another file")


def _scanned(root: Path) -> list[ScannedDockerfile]:
    from buildorch.pipeline.repository_scan import find_dockerfiles, read_scanned

    found = find_dockerfiles(root)
    if not found:
        raise BuildorchError(f"no Dockerfile under {root} (looked for Dockerfile, "
                             "Containerfile, Dockerfile.<name> and <name>.Dockerfile)")
    scanned = []
    for path in found:
        try:
            scanned.append(read_scanned(root, path))
        except ConfigError as exc:
            warn(f"{exc.render()} (left out)")
    if not scanned:
        raise BuildorchError(f"none of the {plural(len(found), 'Dockerfile')} under {root} "
                             "could be read (see the warnings above)")
    return scanned


def _checked(text: str, target: Path, keep: bool) -> tuple[LoadedPipeline, BuildGraph]:
    """The pipeline `text` loaded, graphed and planned as the file `target`; with `keep`,
    then written there."""
    from buildorch.backends.catalog import offline_backend
    from buildorch.pipeline.loader import LoadOptions, load_pipeline
    from buildorch.planning.graph import build_graph
    from buildorch.planning.plan import make_plan
    from buildorch.planning.requests import PlanOptions

    staged = _staged(text, target)
    try:
        pipeline = load_pipeline(staged, LoadOptions(state_root=None))
        graph = build_graph(pipeline)
        make_plan(pipeline, graph, list(pipeline.images),
                  PlanOptions(backend=offline_backend("auto")))
        if keep:
            staged.replace(target)
    except ConfigError as exc:
        raise _as_target(exc, str(staged), target) from None
    finally:
        staged.unlink(missing_ok=True)
    return pipeline, graph


def _staged(text: str, target: Path) -> Path:
    """`text` in a new hidden file beside `target` (so that its paths mean the same)."""
    staged = target.parent / f".{target.stem}-init-{secrets.token_hex(4)}.yaml"
    try:
        with staged.open("x", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        staged.unlink(missing_ok=True)
        raise BuildorchError(f"cannot write in {target.parent}: {exc.strerror or exc}") from None
    return staged


def _as_target(exc: ConfigError, staged: str, target: Path) -> BuildorchError:
    """The errors of the checked file as errors of `target`, the file they are about,
    under a line that says nothing was written."""
    errors = exc.errors if isinstance(exc, ConfigErrors) else [exc]
    moved = [ConfigError(e.message.replace(staged, str(target)),
                         file=str(target) if e.file == staged else e.file, line=e.line,
                         field=e.field) for e in errors]
    return BuildorchError(f"{target} not written: the pipeline made for the repository does "
                          f"not validate\n{ConfigErrors(moved).render_all()}")


def _listing(pipeline: LoadedPipeline, graph: BuildGraph, root: Path) -> str:
    """One line per image: its Dockerfile (relative to the repository), target and the
    images it is built on."""
    rows = [["IMAGE", "DOCKERFILE", "TARGET", "BUILT ON"]]
    for name, image in pipeline.images.items():
        shown = (Path(os.path.relpath(image.dockerfile, root)).as_posix()
                 if image.dockerfile else image.dockerfile_display)
        built_on = sorted({e.source for e in graph.edges_into(name)})
        rows.append([name, shown, image.spec.target or "", ", ".join(built_on)])
    return table(rows)
