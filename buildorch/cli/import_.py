"""`buildorch import compose|bake FILE`: print a pipeline converted from a compose file's
build sections or a bake file (`docker buildx bake --print` JSON); what did not carry
over, and whether the result validates, goes to stderr as warnings."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from buildorch.cli.loading import warn
from buildorch.errors import ConfigError, ConfigErrors


def command(args: argparse.Namespace) -> int:
    from buildorch.pipeline.from_bake import from_bake
    from buildorch.pipeline.from_compose import from_compose
    from buildorch.pipeline.imported import ConversionError
    from buildorch.pipeline.yaml_source import dotted, load_yaml

    source = load_yaml(args.file, str(args.file))
    if not isinstance(source.data, dict):
        raise ConfigError(f"a {args.kind} file is a mapping", file=source.file, line=1)
    name = args.name or args.file.resolve().parent.name
    try:
        imported = (from_compose(source, name) if args.kind == "compose"
                    else from_bake(source.data, name))
    except ConversionError as exc:  # names the target or service and the field
        raise ConfigError(exc.message, file=source.file, line=source.line_of(exc.path),
                          field=dotted(exc.path) or None) from None
    except ValueError as exc:
        raise ConfigError(str(exc), file=source.file) from None
    text = imported.to_yaml()
    for note in imported.notes:
        warn(note)
    for problem in _problems(text, args.file.resolve().parent):
        warn(f"the pipeline does not validate yet: {problem}")
    print(text, end="")
    return 0


def _problems(text: str, folder: Path) -> list[str]:
    """The converted pipeline's configuration errors, loaded where it is meant to live."""
    from buildorch.pipeline.loader import LoadOptions, load_pipeline

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=folder, delete=False) as out:
        out.write(text)
    try:
        load_pipeline(Path(out.name), LoadOptions())
    except ConfigError as exc:
        errors = exc.errors if isinstance(exc, ConfigErrors) else [exc]
        return [f"{e.field}: {e.message}" if e.field else e.message for e in errors]
    finally:
        Path(out.name).unlink()
    return []
