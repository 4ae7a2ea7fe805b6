"""`buildorch validate`: load and check the pipeline; exit 2 on errors."""

from __future__ import annotations

import argparse

from buildorch.cli.loading import load


def command(args: argparse.Namespace) -> int:
    pipeline, graph = load(args)
    print(f"{pipeline.display}: ok ({len(pipeline.images)} images, "
          f"{graph.graph.number_of_edges()} dependencies)")
    return 0
