"""`buildorch import compose|bake FILE`: print a pipeline converted from a compose file's
build sections or a bake file (`docker buildx bake --print` JSON); what did not carry
over, and whether the result validates, goes to stderr as warnings.

FILE may be a pipe (`bake --print | buildorch import bake /dev/stdin`): the pipeline is
then meant to live in the current folder, and is validated there."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from buildorch.cli.loading import warn
from buildorch.errors import ConfigError, ConfigErrors
from buildorch.localpaths import is_file


def command(args: argparse.Namespace) -> int:
    from buildorch.pipeline.from_bake import from_bake
    from buildorch.pipeline.from_compose import from_compose
    from buildorch.pipeline.imported import ConversionError
    from buildorch.pipeline.yaml_source import dotted, load_yaml

    source = load_yaml(args.file, str(args.file))
    if not isinstance(source.data, dict):
        raise ConfigError(f"a {args.kind} file is a mapping", file=source.file, line=1)
    home = args.file.resolve().parent if is_file(args.file) else Path.cwd()
    name = args.name or _declared_name(args.kind, source.data) or home.name
    try:
        imported = (from_compose(source, name, folder=home.name,
                                 dotenv=is_file(home / ".env"))
                    if args.kind == "compose" else from_bake(source.data, name))
    except ConversionError as exc:  # names the target or service and the field
        raise ConfigError(exc.message, file=source.file, line=source.line_of(exc.path),
                          field=dotted(exc.path) or None) from None
    except ValueError as exc:
        raise ConfigError(str(exc), file=source.file) from None
    text = imported.to_yaml()
    for note in imported.notes:
        warn(note)
    for problem in _problems(text, home):
        warn(f"the pipeline does not validate yet: {problem}")
    print(text, end="")
    return 0


def _declared_name(kind: str, data: dict[str, object]) -> str | None:
    """A compose file's own project name (`name:`), unless a variable is in it."""
    declared = data.get("name") if kind == "compose" else None
    return declared if isinstance(declared, str) and declared and "$" not in declared else None


def _problems(text: str, folder: Path) -> list[str]:
    """The converted pipeline's configuration errors, loaded where it is meant to live
    (its paths are relative to that folder); where no file can be written there (a
    read-only folder), it is not validated, and a warning says so."""
    from buildorch.pipeline.loader import LoadOptions, load_pipeline

    try:
        written = _temporary(text, folder)
    except OSError as exc:
        warn(f"the pipeline was not validated: no temporary file can be written in {folder} "
             f"({exc.strerror or exc}); run `buildorch validate -f FILE` once it is saved")
        return []
    try:
        load_pipeline(written, LoadOptions(state_root=None))
    except ConfigError as exc:
        errors = exc.errors if isinstance(exc, ConfigErrors) else [exc]
        return [f"{e.field}: {e.message}" if e.field else e.message for e in errors]
    finally:
        written.unlink(missing_ok=True)
    return []


def _temporary(text: str, folder: Path) -> Path:
    """`text` in a new hidden file in `folder`; OSError when it cannot be written there."""
    out = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, removed if it fails
        "w", prefix=".buildorch-import-", suffix=".yaml", dir=folder, delete=False)
    try:
        with out:
            out.write(text)
    except OSError:
        Path(out.name).unlink(missing_ok=True)
        raise
    return Path(out.name)
