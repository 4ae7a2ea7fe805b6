"""`doctor -f PIPELINE`: the pipeline's builders, each probed (all at once) through the
backend a run would use, with the tool's version, the platforms declared and those its
engine reports, its slots and labels, and its recent load from the run records here.

The backend a run uses for a builder of `backend: auto` is the first builder's: named, or
the one `auto` finds at the first builder's address (cli/build `choose_backend`). Where
that finds none, a run does not start; doctor then lets `auto` look at each such builder
on its own, to say what answers there."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from buildorch.backends.choice import BackendStatus, check, choose, engine_platforms
from buildorch.backends.request import BuilderTls
from buildorch.errors import BuildorchError
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.pipeline.model import Builder
from buildorch.planning.requests import request_tls
from buildorch.run.builder_load import BuilderLoad, builder_loads, recent_runs
from buildorch.run.recorded import readable_records
from buildorch.text import plural

AUTO = "auto"


@dataclass(frozen=True)
class BuilderReport:
    builder: Builder
    status: BackendStatus  # its name: the backend probed ("auto": none answers there)
    platforms: tuple[str, ...] | None  # those its engine reports; None: not known
    load: BuilderLoad


def builder_reports(pipeline: LoadedPipeline) -> list[BuilderReport]:
    """Every builder of the pipeline, probed, with its load over the pipeline's recent runs."""
    builders = pipeline.model.builders
    tls = [None if b.tls is None else request_tls(pipeline.folder, b.tls) for b in builders]
    known: dict[int, BackendStatus] = {}
    pool_backend: str | None = builders[0].backend
    if pool_backend == AUTO:  # as a run finds it, at the first builder
        known[0] = _auto(builders[0].address, tls[0])
        pool_backend = known[0].name if known[0].reachable else None

    def probe(i: int) -> tuple[BackendStatus, tuple[str, ...] | None]:
        builder = builders[i]
        backend = pool_backend if builder.backend == AUTO else builder.backend
        status = known.get(i) or (check(backend, builder.address, tls[i]) if backend
                                  else _auto(builder.address, tls[i]))
        return status, engine_platforms(status, builder.address, tls[i])

    with ThreadPoolExecutor(max_workers=len(builders)) as workers:
        probed = list(workers.map(probe, range(len(builders))))
    loads = builder_loads(recent_runs(readable_records(), pipeline.model.name),
                          [b.name for b in builders])
    return [BuilderReport(b, status, platforms, loads[b.name])
            for b, (status, platforms) in zip(builders, probed, strict=True)]


def _auto(address: str | None, tls: BuilderTls | None) -> BackendStatus:
    try:
        return choose(AUTO, address, tls)[1]
    except BuildorchError as exc:
        return BackendStatus(AUTO, None, detail=str(exc))


def builder_lines(pipeline: str, reports: Sequence[BuilderReport]) -> list[str]:
    if not reports:
        return [f"builders of {pipeline}: none declared (a run takes the first backend above "
                "that answers)"]
    lines = [f"builders of {pipeline}:"]
    for report in reports:
        lines += _lines(pipeline, report)
    return lines


def _lines(pipeline: str, report: BuilderReport) -> list[str]:
    builder, status = report.builder, report.status
    backend = (status.name if builder.backend != AUTO or status.name == AUTO
               else f"{status.name} (auto)")
    version = f", {status.version.text}" if status.version else ""
    head = f"{builder.name}: {backend}, {builder.address or 'default'}{version}"
    if not status.reachable:
        return [f"[--] {head} ({status.detail})", *_details(pipeline, report)]
    return [f"[ok] {head}", *_details(pipeline, report)]


def _details(pipeline: str, report: BuilderReport) -> list[str]:
    builder = report.builder
    labels = ", ".join(builder.labels) or "none"
    return [f"     {platforms_text(builder.platforms, report)}",
            f"     max_parallel: {builder.max_parallel}, labels: {labels}",
            f"     {load_text(pipeline, report.load)}"]


def platforms_text(declared: Sequence[str], report: BuilderReport) -> str:
    """What the pipeline says the builder builds, and what its engine reports (BuildKit lists
    the platforms its workers run natively or through an emulator it found)."""
    text = f"platforms: {', '.join(declared)}" if declared else "platforms: any (none declared)"
    if not report.status.reachable:
        return text
    engine = ", ".join(report.platforms) if report.platforms else (
        f"not reported ({report.status.name} has no cheap way to ask)")
    return f"{text}; the engine reports: {engine}"


def load_text(pipeline: str, load: BuilderLoad) -> str:
    if not load.runs:
        return f"recent load: no run of {pipeline} recorded in this folder"
    runs = f"the last {load.runs} runs" if load.runs > 1 else "the last run"
    if load.builds and load.runs > 1:
        runs = f"{load.used_in} of {runs}"
    down = f"; down in {plural(load.down_in, 'run')}" if load.down_in else ""
    return f"recent load: {plural(load.builds, 'build')} in {runs} of {pipeline}{down}"
