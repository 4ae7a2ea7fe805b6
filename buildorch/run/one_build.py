"""Run one build: its dependencies checked, its cache fetched, the builder started (and
retried after transient failures), its log kept, its digest and failure recorded.

Every child runs in its own process group, so `stop_all` can stop each build and all it
started (TERM, then KILL after a deadline).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from buildorch import proc
from buildorch.backends.base import Backend
from buildorch.backends.flags import IMAGE_EXPORTERS
from buildorch.backends.request import BuildRequest
from buildorch.planning.plan import PlannedImage
from buildorch.proc import render_argv
from buildorch.run.archive_load import discard_archive, load_archive, stored_id
from buildorch.run.cache_transfers import CacheTransfers
from buildorch.run.events import ImageStarted, LogLine, Note
from buildorch.run.failures import Failure, analyse, cache_problems
from buildorch.run.progress_lines import ProgressReader
from buildorch.run.record import ImageRun, State, finished_event
from buildorch.run.reporting import Reporter
from buildorch.run.state import RunState, fill

KEEP_LINES = 400  # of each build's output, for failure analysis


# Outputs written as one file (a tarball); `local` writes a folder, which buildx makes itself.
FILE_OUTPUTS = frozenset({"tar", "oci", "docker"})


@dataclass(frozen=True)
class BuildOptions:
    retries: int = 0
    retry_backoff: float = 2.0  # seconds before the first retry; doubles each time
    stop_deadline: float = 10.0  # seconds between TERM and KILL when stopping
    cache_strict: bool = False  # a cache that fails on import or export fails the build


def read_digest(path: Path) -> str | None:
    """The built image's digest from a metadata file (JSON) or an image-id file (text)."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if text.startswith("{"):
        value = json.loads(text).get("containerimage.digest")
        return str(value) if value else None
    return text if text.startswith("sha256:") else None


def exports_image(request: BuildRequest) -> bool:
    """Whether the build writes an image, and so reports its digest. One whose only outputs
    are files (`type=local`, `type=tar`) or nothing (`type=cacheonly`, buildx's opt-out of
    the default export) has none: it succeeds without a digest, as with bake. Without any
    output the backend's default export is an image (buildx: the docker driver's store)."""
    if request.tags or request.push or request.push_by_digest or request.load:
        return True
    return not request.outputs or any(o.type in IMAGE_EXPORTERS for o in request.outputs)


class PoolHooks(Protocol):
    """What a pool of builders (run/pool) says about a build: why no builder can take it,
    and its state once the pool had its say (PENDING: place it again elsewhere)."""

    def refusal(self, name: str) -> str | None: ...

    def settle(self, name: str, state: State) -> State: ...


class BuildRunner:
    def __init__(self, state: RunState, backend: Backend, options: BuildOptions,
                 reporter: Reporter, cache: CacheTransfers) -> None:
        self.pool: PoolHooks | None = None
        self.state = state
        self.backend = backend
        self.options = options
        self.reporter = reporter
        self.cache = cache
        self._running: dict[str, proc.Running] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._interrupted = False

    def build(self, name: str) -> State:
        image, run = self.state.image(name), self.state.runs[name]
        argv = fill(image.argv, self.state.digests, self.state.run_id)
        shown = fill(image.shown_argv, self.state.digests, self.state.run_id)
        run.argv = proc.redact_argv(shown, self.state.secrets)
        log = self.state.folder / f"{name}.log"
        run.log = self.state.relative(log)
        run.started = time.time()
        try:
            refused = self.pool.refusal(name) if self.pool is not None else None
            state = (self.failed(image, run, Failure(message=refused)) if refused
                     else self._build(image, run, argv, log))
            if self.pool is not None:
                state = self.pool.settle(name, state)
        finally:
            run.ended = time.time()
        if state in (State.SUCCEEDED, State.FAILED):  # the executor reports stopped builds
            self.reporter.finished(finished_event(run, state))
        return state

    def _build(self, image: PlannedImage, run: ImageRun, argv: list[str], log: Path) -> State:
        mismatch = self.check_dependencies(image)
        if mismatch:
            return self.failed(image, run, Failure(message=mismatch))
        self.prepare_files(image)
        problem = self.cache.download(image, run)
        if problem and self.options.cache_strict:
            return self.failed(image, run, Failure(message=problem))
        state = self._attempts(image, run, argv, log)
        if image.request.load_archive is not None:
            state = self._load_archive(image, run, log, state)
        if state is State.SUCCEEDED:
            problem = self.cache.after_build(image, run, self.state.run_id)
            if problem and self.options.cache_strict:
                return self.failed(image, run, Failure(message=problem))
        return state

    def prepare_files(self, image: PlannedImage) -> None:
        """`dockerfile_inline`: the plan names a file in the run folder; write it there.
        A tarball output's folder is made first, as buildx would not (`failed to open`)."""
        text = image.request.dockerfile_inline
        if text is not None:
            path = self.state.root / fill([image.request.dockerfile], {}, self.state.run_id)[0]
            path.write_text(text, encoding="utf-8")
        for spec in image.request.outputs:
            dest = spec.get("dest")
            if spec.type in FILE_OUTPUTS and dest and dest != "-":
                file = self.state.root / fill([dest], {}, self.state.run_id)[0]
                file.parent.mkdir(parents=True, exist_ok=True)

    def check_dependencies(self, image: PlannedImage) -> str | None:
        """Each dependency's run-scoped local name must still hold the digest it was built
        as: one command for all of them, and one per name only to say which one does not."""
        names = [(dep, tag) for dep in image.depends_on for tag in self.state.run_tags(dep)]
        request = image.request
        argv = self.backend.inspect_argv([t for _, t in names], request.builder,
                                         request.builder_tls)
        if not names or argv is None:
            return None
        done = proc.run(argv, check=False, timeout=60)
        found = done.output.split() if done.returncode == 0 else []
        if found == [self.state.digests[dep] for dep, _ in names]:
            return None
        for dep, tag in names:
            held, built = stored_id(self.backend, tag, request), self.state.digests[dep]
            if held != built:
                return (f"{tag} holds {held or 'nothing'}, not the {built} "
                        f"that {dep} was built as in this run")
        return None

    def _attempts(self, image: PlannedImage, run: ImageRun, argv: list[str], log: Path) -> State:
        for attempt in range(1, self.options.retries + 2):
            if self._stop.is_set():
                return self.stopped_state()
            run.attempts = attempt
            self.reporter.started(ImageStarted(image.name, attempt))
            progress = ProgressReader(image.name)
            code, lines, stopped = self.run_once(image.name, argv, log, progress,
                                                 env=self.backend.build_env([image.request]))
            run.total_steps, run.cached_steps = progress.total_steps, progress.cached_steps
            run.base_images = dict(progress.bases)
            if stopped:
                return self.stopped_state()
            if code == 0:
                return self.succeeded(image, run, lines)
            failure = analyse(lines, code)
            if failure.transient and attempt <= self.options.retries:
                delay = self.options.retry_backoff * 2 ** (attempt - 1)
                self.reporter.update(Note(f"transient failure ({failure.message}); retrying "
                                          f"in {delay:.0f}s", image.name, "warning"))
                if self.wait_stop(delay):
                    return self.stopped_state()
                continue
            return self.failed(image, run, failure)
        raise AssertionError("unreachable")

    def _load_archive(self, image: PlannedImage, run: ImageRun, log: Path,
                      state: State) -> State:
        """The tarball a reproducible build wrote loaded into the local store and removed
        (archive_load); the image's digest is what the store holds."""
        root, run_id = self.state.root, self.state.run_id
        if state is not State.SUCCEEDED or run.digest is None:
            discard_archive(image.request, root, run_id)
            return state

        def child(argv: list[str]) -> tuple[int, list[str], bool]:
            return self.run_once(image.name, argv, log, ProgressReader(image.name), argv)

        loaded = load_archive(self.backend, image.request, root, run_id, run.digest, child)
        if loaded.stopped:
            return self.stopped_state()
        if loaded.failure is not None or loaded.digest is None:
            return self.failed(image, run, loaded.failure or Failure("nothing loaded"))
        self.state.digests[image.name] = run.digest = loaded.digest
        return State.SUCCEEDED

    def run_once(self, name: str, argv: list[str], log: Path, progress: ProgressReader,
                 shown: list[str] | None = None, env: Mapping[str, str] | None = None,
                 key: str | None = None) -> tuple[int, list[str], bool]:
        """One builder process of image `name`, its output into `log` and the reporter; its
        exit code, last lines and whether it was stopped. `key`: the child's name for
        `stop_all` where one image runs several at once (a platform each)."""
        kept: collections.deque[str] = collections.deque(maxlen=KEEP_LINES)
        with self.child(key or name, argv, env) as running:
            if running is None:
                return 1, [], True
            # line-buffered: the log shows each line as it comes (`tail -f`)
            with log.open("a", encoding="utf-8", buffering=1) as out:
                out.write(f"$ {render_argv(shown or self.state.runs[name].argv, env)}\n")
                for raw in running.lines():
                    line = proc.redact(raw, self.state.log_scrub)
                    out.write(line)
                    kept.append(line)
                    self.reporter.update(LogLine(name, line.rstrip("\n")))
                    for event in progress.feed(line):
                        self.reporter.update(event)
            code = running.wait()
        return code, list(kept), running.stopped

    @contextlib.contextmanager
    def child(self, name: str, argv: list[str], env: Mapping[str, str] | None = None
              ) -> Iterator[proc.Running | None]:
        """A builder process that `stop_all` stops, with `env` added to this process's
        environment; None once the run is stopping."""
        full = {**os.environ, **env} if env else None
        with self._lock:
            running = (None if self._stop.is_set()
                       else proc.start(argv, cwd=self.state.root, env=full))
            if running is not None:
                self._running[name] = running
        if running is None:
            yield None
            return
        try:
            yield running
        finally:
            with self._lock:
                self._running.pop(name, None)

    def succeeded(self, image: PlannedImage, run: ImageRun, lines: list[str]) -> State:
        metadata = image.request.metadata_file
        digest = self.metadata_digest(metadata) if metadata else None
        if digest is None and exports_image(image.request):
            failure = Failure(message="the build succeeded but reported no image digest",
                              tail=tuple(lines[-5:]))
            return self.failed(image, run, failure)
        if digest is not None:
            self.state.digests[image.name] = run.digest = digest
        run.cache.log_problems = cache_problems(lines)
        return State.SUCCEEDED

    def failed(self, image: PlannedImage, run: ImageRun, failure: Failure) -> State:
        # the log names the Dockerfile as the engine saw it; the record as the pipeline does
        failure = dataclasses.replace(failure, dockerfile=image.request.dockerfile)
        run.reason = failure.message
        run.failure = failure
        return State.FAILED

    def metadata_digest(self, metadata: str) -> str | None:
        """The digest in a request's metadata file (its path has the run's placeholders)."""
        return read_digest(self.state.root / fill([metadata], {}, self.state.run_id)[0])

    def wait_stop(self, seconds: float) -> bool:
        """Wait `seconds` unless the run is stopping; whether it is."""
        return self._stop.wait(seconds)

    def stopped_state(self) -> State:
        return State.INTERRUPTED if self._interrupted else State.CANCELLED

    def stop_all(self, interrupted: bool) -> None:
        """Stop every running build (each in its own process group), in parallel."""
        self._interrupted = self._interrupted or interrupted
        self._stop.set()
        with self._lock:
            running = list(self._running.values())
        threads = [threading.Thread(target=r.stop, args=(self.options.stop_deadline,))
                   for r in running]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
