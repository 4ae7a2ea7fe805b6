"""`buildorch init [DIR]`: write a pipeline for the Dockerfiles of a repository."""

from __future__ import annotations

import argparse

from buildorch.errors import BuildorchError


def command(args: argparse.Namespace) -> int:
    raise BuildorchError("init is not implemented yet")
