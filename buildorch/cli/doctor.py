"""`buildorch doctor`: which backends answer here, their versions, and what they can do
(cache exports, outputs, reproducible digests); with `-f`, the pipeline's builders (each
probed, with its platforms and recent load: cli/doctor_builders) and what of the pipeline
Finch's VM on macOS would not see.

Exit 1 where nothing answers that builds: with `-f` and a pipeline that declares builders,
when one of them does not answer (a run goes on without it, but doctor is the check that
says so); otherwise when no backend answers here."""

from __future__ import annotations

import argparse
import platform
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from buildorch.backends.catalog import BACKEND_NAMES
from buildorch.backends.choice import BackendStatus, check

if TYPE_CHECKING:
    from buildorch.backends.capabilities import Capabilities
    from buildorch.pipeline.loaded import LoadedPipeline


def command(args: argparse.Namespace) -> int:
    from buildorch.cli.doctor_builders import builder_lines, builder_reports

    pipeline = None
    if args.file is not None:  # a pipeline that does not load: exit 2 before any probe
        from buildorch.cli.loading import load
        pipeline, _ = load(args)
    # every probe at once: each waits on a tool process (and maybe a network)
    with ThreadPoolExecutor(max_workers=len(BACKEND_NAMES) + 1) as workers:
        pool = (workers.submit(builder_reports, pipeline)
                if pipeline is not None and pipeline.model.builders else None)
        statuses = list(workers.map(lambda name: check(name, args.builder), BACKEND_NAMES))
        reports = pool.result() if pool is not None else []
    print("\n".join(line for status in statuses for line in _lines(status)))
    finch = next(s for s in statuses if s.name == "finch")
    if pipeline is not None:
        print("\n".join(builder_lines(pipeline.model.name, reports)))
        if finch.reachable and platform.system() == "Darwin":
            print("\n".join(_finch_home_lines(pipeline)))
    if reports:
        return 0 if all(r.status.reachable for r in reports) else 1
    return 0 if any(s.reachable for s in statuses) else 1


def _lines(status: BackendStatus) -> list[str]:
    mark = "ok" if status.reachable else "--"
    lines = [f"[{mark}] {status.name}: {status.binary or 'not found'}"
             + (f", {status.version.text}" if status.version else "")
             + ("" if status.reachable else f" ({status.detail})")]
    if status.reachable:
        caps = status.capabilities
        lines.append(f"     cache export: {', '.join(sorted(caps.cache_exporters))}")
        lines.append(f"     outputs: {', '.join(sorted(caps.outputs))}")
        lines.append(f"     {reproducible_line(caps)}")
        lines += [f"     {note}" for note in caps.notes]
    return lines


def reproducible_line(caps: Capabilities) -> str:
    """Whether `reproducible: true` images get identical digests from this builder."""
    if caps.rewrite_timestamp is not None:
        return f"reproducible: no: {caps.rewrite_timestamp}"
    if caps.rewrite_timestamp_via is not None:
        return f"reproducible: yes ({caps.rewrite_timestamp_via}: rewrite-timestamp)"
    return "reproducible: yes (SOURCE_DATE_EPOCH, rewrite-timestamp: BuildKit 0.13 or later)"


def _finch_home_lines(pipeline: LoadedPipeline) -> list[str]:
    from buildorch.backends.finch import vm_unshared_paths

    outside = vm_unshared_paths(pipeline_paths(pipeline), Path.home())
    return [f"     warning: Finch's VM shares only {Path.home()}; it cannot see {path}"
            for path in outside]


def pipeline_paths(pipeline: LoadedPipeline) -> Iterable[Path]:
    """The local paths a build of the pipeline reads: its folder, contexts, Dockerfiles,
    named-context folders, secret files and SSH keys."""
    from buildorch.pipeline.named_paths import named_paths
    from buildorch.pipeline.secret_sources import pipeline_path

    yield pipeline.folder
    for image in pipeline.images.values():
        yield from (p for p in (image.context_dir, image.dockerfile) if p is not None)
        yield from (pipeline_path(pipeline.folder, value) for _, value in named_paths(image.spec))
