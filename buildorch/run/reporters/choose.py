"""Which reporter a run gets: `--progress auto|tty|plain|json`, the terminal, and CI.

auto: the live view where stdout is a terminal, else plain lines (GitHub Actions'
flavour of them under `GITHUB_ACTIONS=true`), as buildx picks tty or plain.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # the parser imports this module: `buildorch --help` stays fast
    from buildorch.run.reporting import Reporter

PROGRESS_CHOICES = ("auto", "tty", "plain", "json")


def progress_mode(progress: str, stream: TextIO, env: Mapping[str, str]) -> str:
    """`tty`, `plain`, `github` or `json`."""
    if progress == "auto":
        progress = "tty" if stream.isatty() and env.get("TERM") != "dumb" else "plain"
    if progress == "plain" and env.get("GITHUB_ACTIONS") == "true":
        return "github"
    return progress


def reporter_for(progress: str, verbose: bool = False, stream: TextIO | None = None,
                 env: Mapping[str, str] | None = None) -> Reporter:
    from buildorch.run.reporters.plain import PlainReporter

    stream = stream or sys.stdout
    mode = progress_mode(progress, stream, os.environ if env is None else env)
    if mode == "tty":
        from buildorch.run.reporters.live import LiveReporter

        return LiveReporter(stream)
    if mode == "github":
        from buildorch.run.reporters.github import GitHubReporter

        return GitHubReporter(stream, verbose=verbose, env=env)
    if mode == "json":
        from buildorch.run.reporters.json_events import JsonReporter

        return JsonReporter(stream, verbose=verbose)
    return PlainReporter(stream, verbose=verbose)
