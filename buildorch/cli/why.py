"""`buildorch why IMAGE`: which inputs changed since the image's last successful build."""

from __future__ import annotations

import argparse
from pathlib import Path

from buildorch.cli.loading import load, offline_plan
from buildorch.errors import BuildorchError


def command(args: argparse.Namespace) -> int:
    from buildorch.run.why import explain_plan, explanation_text

    pipeline, graph = load(args)
    unknown = [n for n in args.names if n not in pipeline.images]
    if unknown:
        raise BuildorchError(f"why: no image {unknown[0]!r} in {pipeline.display} (images: "
                             f"{', '.join(sorted(pipeline.images)[:10])})")
    plan = offline_plan(args, pipeline, graph, args.names)
    for name, lines in explain_plan(plan, args.names, Path.cwd()).items():
        print(explanation_text(name, lines))
    return 0
