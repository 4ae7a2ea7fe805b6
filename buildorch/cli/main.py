"""`buildorch`: parse the command line, run the command, turn errors into exit codes.

Each command is the module of its name in this package (`buildorch.cli.build` for
`buildorch build`; a name that is a Python keyword gets a trailing `_`), imported only
when it runs, so that nothing heavy (pydantic, networkx, boto3) loads for --help.
"""

from __future__ import annotations

import gc
import importlib
import keyword
import sys
from collections.abc import Sequence

from buildorch.cli.parser import build_parser
from buildorch.errors import EXIT_INTERRUPTED, BuildorchError


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Loading a large pipeline makes many small objects that all stay alive; the default
    # thresholds would have the collector scan them over and over (~10% of `plan`).
    gc.set_threshold(50_000, 20, 20)
    try:
        module = args.command + ("_" if keyword.iskeyword(args.command) else "")
        command = importlib.import_module(f"{__package__}.{module}").command
        code: int = command(args)
        return code
    except BuildorchError as exc:
        for line in str(exc).splitlines() or [""]:  # several configuration errors: one each
            print(f"buildorch: error: {line}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("buildorch: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `buildorch plan | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
