"""Run a plan: builds in parallel through the backend, digests chained, tags at the end.

The scheduler decides what runs when; `one_build` runs each build, `publish` publishes
tags once every build succeeded; this module ties them together and writes the run
record and the summary.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

from buildorch.backends.base import Backend
from buildorch.errors import EXIT_BUILD_FAILED, EXIT_INTERRUPTED, EXIT_OK
from buildorch.jsontypes import JsonObject
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.planning.plan import Plan
from buildorch.planning.plan_output import plan_json
from buildorch.run.cache_transfers import CacheTransfers
from buildorch.run.one_build import BuildOptions, BuildRunner
from buildorch.run.publish import Publication, publish, remove_run_tags
from buildorch.run.record import State, new_run_id, write_record
from buildorch.run.reporting import Reporter
from buildorch.run.scheduler import schedule
from buildorch.run.state import RunState, scrub_values
from buildorch.run.summary import summary
from buildorch.text import plural
from buildorch.workdir import run_folder


@dataclass(frozen=True)
class RunOptions:
    jobs: int = 4
    keep_going: bool = False
    builder: str | None = None
    build: BuildOptions = field(default_factory=BuildOptions)


class Executor:
    def __init__(self, pipeline: LoadedPipeline, plan: Plan, backend: Backend,
                 options: RunOptions, reporter: Reporter, root: Path | None = None) -> None:
        run_id = new_run_id()
        root = root or Path.cwd()
        secrets, credentials = scrub_values(pipeline, plan, os.environ)
        self.state = RunState(run_id, root, run_folder(run_id, root), plan, secrets,
                              credentials)
        self.backend = backend
        self.options = options
        self.reporter = reporter
        self.builds = BuildRunner(self.state, backend, options.build, reporter,
                                  CacheTransfers(pipeline, root, reporter))

    @property
    def run_id(self) -> str:
        return self.state.run_id

    def run(self) -> int:
        state = self.state
        state.folder.mkdir(parents=True, exist_ok=True)
        started = time.time()
        self.reporter.message(f"run {state.run_id}: {plural(len(state.images), 'image')}, backend "
                              f"{self.backend.name}, up to {self.options.jobs} at once")
        outcome = schedule(
            self._graph(), {i.name: i.remaining for i in state.plan.images}, self.options.jobs,
            self.builds.build, self._skipped, self.builds.stop_all,
            keep_going=self.options.keep_going,
        )
        for name, image_state in outcome.states.items():
            state.runs[name].state = image_state
            state.runs[name].reason = state.runs[name].reason or outcome.reasons.get(name)
        succeeded = all(s is State.SUCCEEDED for s in outcome.states.values())
        publication = Publication()
        try:
            if succeeded and not outcome.interrupted:
                publish(state, self.reporter, publication)
            remove_run_tags(state, self.backend)
        except KeyboardInterrupt:  # Ctrl-C while publishing: say what was published
            outcome.interrupted = True
            publication.error = publication.error or (
                "interrupted while publishing; published so far: "
                f"{publication.published or 'nothing'}")
        result = "interrupted" if outcome.interrupted else (
            "succeeded" if succeeded and not publication.error else "failed")
        write_record(state.folder, self._record(started, result, publication))
        self.reporter.message(summary(state, result, publication))
        if outcome.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_OK if result == "succeeded" else EXIT_BUILD_FAILED

    def _graph(self) -> nx.DiGraph:
        graph = nx.DiGraph()
        graph.add_nodes_from(self.state.images)
        graph.add_edges_from((d, i.name) for i in self.state.plan.images for d in i.depends_on)
        return graph

    def _skipped(self, name: str, reason: str) -> None:
        self.reporter.finished(name, "skipped", f"({reason})")

    def _record(self, started: float, result: str, publication: Publication) -> JsonObject:
        state, options = self.state, self.options
        return {
            "id": state.run_id, "pipeline": state.plan.pipeline, "file": state.plan.file,
            "backend": self.backend.name, "builder": options.builder,
            "started": started, "ended": time.time(), "outcome": result,
            "options": {"jobs": options.jobs, "keep_going": options.keep_going,
                        "retries": options.build.retries},
            "selection": list(state.plan.selection),
            "images": {name: run.to_json() for name, run in state.runs.items()},
            "published": list(publication.published), "publish_error": publication.error,
            "plan": plan_json(state.plan),
        }
