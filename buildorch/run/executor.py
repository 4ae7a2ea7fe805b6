"""Run a plan: builds in parallel through the backend, digests chained, tags at the end.

The scheduler decides what runs when; `one_build` runs each build, `publish` publishes
tags once every build succeeded; this module ties them together and writes the run
record and the summary.
"""

from __future__ import annotations

import collections
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from buildorch.backends.base import Backend
from buildorch.errors import EXIT_BUILD_FAILED, EXIT_INTERRUPTED, EXIT_OK
from buildorch.jsontypes import JsonObject
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.planning.chains import chain_members, run_chains
from buildorch.planning.graph import Dag
from buildorch.planning.plan import Plan, PlannedImage
from buildorch.planning.plan_output import plan_json
from buildorch.run.cache_transfers import CacheTransfers
from buildorch.run.chain_build import ChainRunner
from buildorch.run.earlier_builds import BuildIndex, EarlierBuild, record_builds
from buildorch.run.events import ImageFinished, ImageQueued, Note, RunFinished, RunStarted
from buildorch.run.one_build import BuildOptions, BuildRunner
from buildorch.run.platform_builds import PlatformBuilds
from buildorch.run.pool import Pool, PoolSetup
from buildorch.run.publish import Publication, publish, remove_run_tags
from buildorch.run.record import State, finished_event, new_run_id, write_record
from buildorch.run.recorded import RecordedRun, parse_record
from buildorch.run.reporting import Reporter, run_estimate
from buildorch.run.repro.record import Invocation, image_facts, relative_paths, run_facts
from buildorch.run.scheduler import schedule
from buildorch.run.state import RunState, fill, scrub_values
from buildorch.run.summary import summary
from buildorch.run.unchanged import find_unchanged, output_files, retag
from buildorch.workdir import run_folder


@dataclass(frozen=True)
class RunOptions:
    jobs: int = 4
    keep_going: bool = False
    skip_unchanged: bool = False
    builder: str | None = None
    build: BuildOptions = field(default_factory=BuildOptions)
    invocation: Invocation = field(default_factory=Invocation)  # recorded for `repro`


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
        self.chain_builds = ChainRunner(self.builds, backend)
        self.facts = run_facts(pipeline, options.invocation, root, secrets)
        self.pool: Pool | None = None
        self.platform_builds: PlatformBuilds | None = None  # a pool's per-platform images

    def use_pool(self, setup: PoolSetup) -> None:
        """Place builds over several builders (run/pool) instead of the plan's one."""
        self.pool = Pool(self.state, self.backend, setup, self.reporter)
        self.builds.pool = self.pool
        self.platform_builds = PlatformBuilds(self.builds, self.pool, self.backend)

    def _work(self, name: str) -> State:
        if self.platform_builds is not None and name in self.platform_builds.pool.split:
            return self.platform_builds.build(name)
        return self.builds.build(name)

    @property
    def run_id(self) -> str:
        return self.state.run_id

    def run(self) -> int:
        state = self.state
        state.folder.mkdir(parents=True, exist_ok=True)
        started = time.time()
        if self.options.skip_unchanged:
            self._reuse_unchanged()
            if self.pool is not None:
                self.pool.copy_reused()
        self._announce()
        graph, priority = self._graph(), {i.name: i.remaining for i in state.plan.images}
        outcome = schedule(
            graph, priority, self.options.jobs, self._work, self._skipped,
            self.builds.stop_all, keep_going=self.options.keep_going,
            chains=chain_members(run_chains(graph.nodes, state.images)),
            work_chain=self.chain_builds.run, slots=self.pool,
        )
        for name, image_state in outcome.states.items():
            state.runs[name].state = image_state
            state.runs[name].reason = state.runs[name].reason or outcome.reasons.get(name)
            if image_state in (State.CANCELLED, State.INTERRUPTED):
                self.reporter.finished(finished_event(state.runs[name]))
        succeeded = all(run.done for run in state.runs.values())
        if self.pool is not None:
            self.pool.close()
        publication = Publication()
        try:
            if succeeded and not outcome.interrupted:
                publish(state, self.backend, self.reporter, publication)
            remove_run_tags(state, self.backend)
        except KeyboardInterrupt:  # Ctrl-C while publishing: say what was published
            outcome.interrupted = True
            publication.error = publication.error or (
                "interrupted while publishing; published so far: "
                f"{publication.published or 'nothing'}")
        result = "interrupted" if outcome.interrupted else (
            "succeeded" if succeeded and not publication.error else "failed")
        record = self._record(started, result, publication)
        write_record(state.folder, record)
        self._remember_builds()
        self._finish(parse_record(record, "this run's record"))
        if outcome.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_OK if result == "succeeded" else EXIT_BUILD_FAILED

    def _announce(self) -> None:
        """The run's start, with an estimate from earlier runs' durations; the images an
        earlier build serves, and every other queued behind what it waits for."""
        state, jobs = self.state, self.options.jobs
        todo = [i for i in state.plan.images if i.name not in state.reused]
        estimate, durations = run_estimate(todo, jobs)
        self.reporter.started(RunStarted(
            state.run_id, state.plan.pipeline, self.backend.name, tuple(state.images), jobs,
            estimate, durations))
        for image in state.plan.images:
            run = state.runs[image.name]
            if image.name in state.reused:
                self.reporter.finished(finished_event(run))
                continue
            if run.note:  # why an earlier build of the same inputs does not serve
                self.reporter.update(Note(run.note, image.name))
            waits = tuple(d for d in image.depends_on if d not in state.reused)
            self.reporter.update(ImageQueued(image.name, waits))

    def _finish(self, record: RecordedRun) -> None:
        path = self.state.relative(self.state.folder / "record.json")
        counts = collections.Counter(i.state for i in record.images.values())
        self.reporter.finished(RunFinished(record.id, record.outcome, record.duration or 0.0,
                                           dict(counts), path, summary(record, path)))

    def _graph(self) -> Dag:
        """What to build: every image an earlier build does not serve."""
        reused = self.state.reused
        return Dag((n for n in self.state.images if n not in reused),
                   ((d, i.name) for i in self.state.plan.images for d in i.depends_on
                    if d not in reused and i.name not in reused))

    def _reuse_unchanged(self) -> None:
        state = self.state
        reuse = find_unchanged(state, self.backend, BuildIndex.load(state.root))
        building = [n for n in state.images if n not in reuse.unchanged]
        for name, why in retag(state, self.backend, reuse, building).items():
            del reuse.unchanged[name]
            reuse.rebuilt[name] = f"built again: {why}"
        for name, earlier in reuse.unchanged.items():
            run = state.runs[name]
            run.state, run.unchanged_from, run.digest = State.UNCHANGED, earlier.run, earlier.digest
            if earlier.digest is not None:
                state.digests[name] = earlier.digest
            state.reused.add(name)
        for name, why in reuse.rebuilt.items():
            state.runs[name].note = why

    def _remember_builds(self) -> None:
        """This run's successful builds, for a later --skip-unchanged and `why`."""
        state = self.state
        built = [i for i in state.plan.images if i.inputs is not None
                 and state.runs[i.name].state is State.SUCCEEDED]
        if not built:
            return
        try:
            record_builds(state.root, state.plan.pipeline, (
                EarlierBuild(i.name, state.run_id, i.inputs.digest, state.runs[i.name].digest,
                             _pushed_repository(i), output_files(i, state.run_id),
                             state.runs[i.name].ended or time.time())
                for i in built if i.inputs is not None), (i.inputs for i in built if i.inputs))
        except OSError as exc:  # the builds stand; only the next skip is lost
            self.reporter.update(Note(f"could not remember this run's builds: {exc}",
                                      level="warning"))

    def _skipped(self, name: str, reason: str) -> None:
        self.reporter.finished(ImageFinished(name, State.SKIPPED.value, reason=reason))

    def _record(self, started: float, result: str, publication: Publication) -> JsonObject:
        state, options = self.state, self.options
        record: JsonObject = {
            "id": state.run_id, "pipeline": state.plan.pipeline, "file": state.plan.file,
            "backend": self.backend.name, "builder": options.builder,
            "started": started, "ended": time.time(), "outcome": result,
            "options": {"jobs": options.jobs, "keep_going": options.keep_going,
                        "retries": options.build.retries,
                        "skip_unchanged": options.skip_unchanged},
            "selection": list(state.plan.selection),
            "images": {name: {**run.to_json(), **self._image_facts(name)}
                       for name, run in state.runs.items()},
            "published": list(publication.published), "publish_error": publication.error,
            "publish_wanted": any(i.publish for i in state.plan.images),
            "plan": plan_json(state.plan), **self.facts,
        }
        if self.pool is not None:
            record["builders"] = self.pool.to_json()
        relative = relative_paths(record, state.root)  # a checkout elsewhere can use it
        assert isinstance(relative, dict)
        return relative

    def _image_facts(self, name: str) -> JsonObject:
        """Its inputs, cache imports and (when built) image config's digest, for `repro`."""
        state, image = self.state, self.state.image(name)
        metadata = image.request.metadata_file
        built = state.runs[name].state is State.SUCCEEDED
        path = state.root / fill([metadata], {}, state.run_id)[0] if metadata and built else None
        return image_facts(image, path)


def _pushed_repository(image: PlannedImage) -> str | None:
    """Where a build pushed its image by digest (the request's tags are repositories)."""
    request = image.request
    return request.tags[0] if request.push_by_digest and request.tags else None
