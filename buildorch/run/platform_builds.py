"""An image built per platform over a pool of builders (issue 14, multi-platform images).

Where a published image has several platforms and the pool splits it (cli/pool_setup
says when), each platform is a build of its own on the builder the pool placed it on
(run/pool), all at once: stored there under a run-scoped local name, then pushed by
digest to a run-scoped registry name (run/platform_index.push_platform). Nothing carries
the image's tags until the run publishes: then `join_platforms` makes one index of the
pushed platforms under every tag (`docker buildx imagetools create`), and the record
holds each platform's builder, pushed digest and manifest in the index, and the index's
digest as the image's.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from buildorch import proc
from buildorch.backends.base import Backend
from buildorch.planning.plan import PlannedImage, placed_on, platform_part, platform_slug
from buildorch.run.events import ImageStarted
from buildorch.run.failures import Failure, analyse
from buildorch.run.one_build import BuildRunner
from buildorch.run.platform_index import (
    PlatformBuild,
    PlatformIndex,
    PlatformIndexError,
    PushedPlatform,
    join,
    push_platform,
)
from buildorch.run.pool import Pool, PoolEntry
from buildorch.run.progress_lines import ProgressReader
from buildorch.run.record import PlatformRun, State, finished_event
from buildorch.run.state import RunState, fill


class _Part:
    """One platform's build, its outcome filled in by `PlatformBuilds._build`."""

    def __init__(self, platform: str, entry: PoolEntry, image: PlannedImage) -> None:
        self.platform, self.entry, self.image = platform, entry, image
        self.failure: Failure | None = None
        self.stopped = False
        self.pushed: PushedPlatform | None = None
        self.log: str | None = None
        self.steps = (0, 0)  # cached, total


class PlatformBuilds:
    def __init__(self, builds: BuildRunner, pool: Pool, backend: Backend) -> None:
        self.builds, self.pool, self.backend = builds, pool, backend
        self.state: RunState = builds.state

    def build(self, name: str) -> State:
        """Every platform of image `name` on its builder; SUCCEEDED once each is pushed."""
        state, builds = self.state, self.builds
        image, run = state.image(name), state.runs[name]
        run.started, run.attempts = time.time(), 1
        refused = self.pool.refusal(name)
        if refused:
            result = builds.failed(image, run, Failure(message=refused))
        else:
            builds.reporter.started(ImageStarted(name, 1))
            parts = [self._part(image, platform, builder)
                     for platform, builder in sorted(self.pool.parts[name].items())]
            with ThreadPoolExecutor(max_workers=len(parts)) as workers:
                list(workers.map(self._build, parts))
            result = self._outcome(image, parts)
        run.ended = time.time()
        if result in (State.SUCCEEDED, State.FAILED):
            builds.reporter.finished(finished_event(run, result))
        return result

    def _part(self, image: PlannedImage, platform: str, builder: str) -> _Part:
        entry = self.pool.entries[builder]
        one = platform_part(image, platform, self.state.plan.pipeline)
        return _Part(platform, entry, placed_on(one, self.backend, entry.address, entry.tls))

    def _build(self, part: _Part) -> None:
        state, builds, name = self.state, self.builds, part.image.name
        argv = fill(part.image.argv, state.digests, state.run_id)
        shown = proc.redact_argv(fill(part.image.shown_argv, state.digests, state.run_id),
                                 state.secrets)
        log = state.folder / f"{name}@{platform_slug(part.platform)}.log"
        part.log = state.relative(log)
        progress = ProgressReader(name)
        code, lines, part.stopped = builds.run_once(
            name, argv, log, progress, shown, self.backend.build_env([part.image.request]),
            key=f"{name}@{part.platform}")
        part.steps = (progress.cached_steps, progress.total_steps)
        if part.stopped:
            return
        if code != 0:
            part.failure = analyse(lines, code)
            return
        part.failure = self._push(part)

    def _push(self, part: _Part) -> Failure | None:
        state, image = self.state, part.image
        source = fill(list(image.request.tags), {}, state.run_id)[0]
        state.extra_tags.add((part.entry.address, part.entry.tls, source))  # removed at the end
        build = PlatformBuild(part.platform, source, part.entry.address, part.entry.tls,
                              part.entry.name)
        try:
            part.pushed = push_platform(build, state.image(image.name).publish, state.run_id,
                                        image.name, secrets=state.log_scrub)
        except (proc.CommandError, PlatformIndexError, proc.ToolNotFoundError) as exc:
            return Failure(message=f"{part.platform}: pushing by digest failed: {exc}")
        return None

    def _outcome(self, image: PlannedImage, parts: list[_Part]) -> State:
        run = self.state.runs[image.name]
        run.platforms = [PlatformRun(p.platform, p.entry.name, p.pushed.digest if p.pushed
                                     else None, log=p.log) for p in parts]
        run.cached_steps = sum(p.steps[0] for p in parts)
        run.total_steps = sum(p.steps[1] for p in parts)
        if any(p.stopped for p in parts):
            return self.builds.stopped_state()
        failed = next((p for p in parts if p.failure is not None), None)
        if failed is not None:
            assert failed.failure is not None
            run.log = failed.log  # the failing platform's
            return self.builds.failed(image, run, failed.failure)
        self.state.platform_pushes[image.name] = tuple(p.pushed for p in parts if p.pushed)
        run.log = None  # a log per platform (`platforms`)
        return State.SUCCEEDED


def join_platforms(state: RunState, name: str) -> PlatformIndex:
    """The pushed platforms of image `name` as one index under all its tags (publishing);
    the record's digest becomes the index's, each platform's its manifest in it."""
    image, run = state.image(name), state.runs[name]
    index = join(image.publish, state.platform_pushes[name], secrets=state.log_scrub)
    manifests = {m.platform: m.digest for m in index.platforms}
    run.platforms = [PlatformRun(p.platform, p.builder, p.pushed, manifests.get(p.platform),
                                 p.log) for p in run.platforms]
    state.digests[name] = run.digest = index.digest
    return index
