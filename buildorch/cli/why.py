"""`buildorch why IMAGE`: which inputs changed since the image's last successful build."""

from __future__ import annotations

import argparse
from pathlib import Path

from buildorch.cli.loading import load, plan_options, requested_backend
from buildorch.errors import BuildorchError


def command(args: argparse.Namespace) -> int:
    from buildorch.backends.capabilities import S3
    from buildorch.backends.catalog import get_backend, offline_backend
    from buildorch.planning.plan import make_plan
    from buildorch.run.earlier_builds import BuildIndex
    from buildorch.run.why import explain

    pipeline, graph = load(args)
    unknown = [n for n in args.names if n not in pipeline.images]
    if unknown:
        raise BuildorchError(f"why: no image {unknown[0]!r} in {pipeline.display} (images: "
                             f"{', '.join(sorted(pipeline.images)[:10])})")
    backend = get_backend(offline_backend(requested_backend(args, pipeline)))
    native_s3 = S3 in backend.assumed_capabilities().cache_exporters
    plan = make_plan(pipeline, graph, args.names,
                     plan_options(args, pipeline, graph, backend.name, native_s3))
    index = BuildIndex.load(Path.cwd())
    for image in plan.images:
        if image.name in args.names:
            lines = explain(plan.pipeline, image, index, Path.cwd())
            print("\n".join([f"{image.name}: {lines[0]}", *lines[1:]]))
    return 0
