"""Run linked builds (planning/chains) in one builder session: one `docker buildx bake`
whose `target:` contexts hand each link's result to the next, so that no link pays for a
builder process, a dependency check or a store round trip (issue 13).

The session starts with the images the first member is linked after (`replays`), which
the run built already or an earlier build serves: BuildKit serves them from its cache,
and the members' steps keep the cache keys they always have. A replay is stored under a
name of its own (its run-scoped name + `-replay`), removed with the run-scoped names, so
that a replay that was not served from cache moves no name a dependent checks.

Each member keeps what a build of its own has: its log (bake_progress splits the output;
the replays' lines go to the first member's), its steps and cache hits, its digest, its
failure with file:line. A member is reported as soon as its image is stored (`exporting to
image` done, its digest read from its run-scoped name), so that its other dependents start
at once (not with `--cache-strict`, where a cache export after the image can still fail
it); the last member, and every member's metadata file, when bake has finished. A failing
link fails alone: the members after it are left to the scheduler, which skips them. A
transient failure bakes the rest of the chain again, from the failing link, as a retry of
a single build would.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from buildorch import proc
from buildorch.backends.bake_file import bake_definition, bake_target
from buildorch.backends.base import Backend
from buildorch.backends.flags import is_local_context
from buildorch.backends.request import BuildRequest
from buildorch.dockerfiles.parser import instruction_texts
from buildorch.planning.chains import linked_contexts, run_tag_of, session_prefix
from buildorch.planning.plan import PlannedImage
from buildorch.proc import render_argv
from buildorch.run.archive_load import stored_id
from buildorch.run.bake_progress import BakeRouter, step_text
from buildorch.run.events import ImageStarted, LogLine, Note, Step, Update
from buildorch.run.failures import Failure, analyse, cache_problems
from buildorch.run.one_build import KEEP_LINES, BuildRunner
from buildorch.run.progress_lines import ProgressReader
from buildorch.run.record import State, finished_event
from buildorch.run.scheduler import Report
from buildorch.run.state import fill

REPLAY_SUFFIX = "-replay"


@dataclass
class _Attempt:
    """One bake: the replays, then the chain's members from `members[0]` on."""

    replays: tuple[str, ...]
    members: tuple[str, ...]
    number: int
    router: BakeRouter
    readers: dict[str, ProgressReader]
    kept: dict[str, collections.deque[str]]
    reported: set[str] = field(default_factory=set)
    started: set[str] = field(default_factory=set)
    # what a member showed before it started, reported when it does
    pending: dict[str, list[Update]] = field(
        default_factory=lambda: collections.defaultdict(list))
    code: int = 0
    stopped: bool = False

    def log_of(self, name: str) -> str:
        return self.members[0] if name in self.replays else name


class ChainRunner:
    def __init__(self, builds: BuildRunner, backend: Backend) -> None:
        self.builds = builds
        self.backend = backend
        self.state = builds.state

    def run(self, members: tuple[str, ...], report: Report) -> None:
        """Build `members` in order, reporting each one's state as it is known."""
        replays = session_prefix(members[0], self.state.images)
        first = self.state.image((replays or members)[0])
        mismatch = self.builds.check_dependencies(first)
        if mismatch:
            self._end(members[0], self._failed(members[0], Failure(message=mismatch)), report)
            return
        for name in members:
            self.builds.prepare_files(self.state.image(name))
            self.builds.cache.download(self.state.image(name), self.state.runs[name])
        left, number = members, 1
        while left:
            attempt = self._bake(replays, left, number, report)
            for name in attempt.reported:  # its last lines may print after it was stored
                self._steps(attempt, name)
            next_left = self._after(attempt, report)
            # a retry replays what this attempt built: the members' keys stay the same
            replays = (*replays, *left[:len(left) - len(next_left)])
            left, number = next_left, number + 1
        for name in members[1:]:  # never ended (after a failed link): no log, as alone
            if self.state.runs[name].ended is None:
                self._log(name).unlink(missing_ok=True)
                self.state.runs[name].log = None

    def _bake(self, replays: tuple[str, ...], members: tuple[str, ...], number: int,
              report: Report) -> _Attempt:
        everything = (*replays, *members)
        expected = {m: self._step_texts(self.state.image(m)) for m in everything}
        attempt = _Attempt(replays, members, number, BakeRouter(everything, expected),
                           {m: ProgressReader(m) for m in everything},
                           {m: collections.deque(maxlen=KEEP_LINES) for m in everything})
        argv, shown = self._argv(replays, members)
        for name in members:
            self.state.runs[name].argv = shown
            self.state.runs[name].attempts = number
        self._start(attempt, members[0])
        requests = [self.state.image(m).request for m in everything]
        env = self.backend.build_env(requests)
        with ExitStack() as stack, self.builds.child(members[0], argv, env) as running:
            if running is None:
                attempt.stopped = True
                return attempt
            logs = {m: stack.enter_context(self._log(m).open("a", encoding="utf-8",
                                                             buffering=1))
                    for m in members}
            for out in logs.values():
                out.write(f"$ {render_argv(shown, env)}\n")
            for raw in running.lines():
                self._feed(attempt, proc.redact(raw, self.state.log_scrub), logs, report)
            attempt.code = running.wait()
            attempt.stopped = running.stopped
        return attempt

    def _feed(self, attempt: _Attempt, line: str, logs: Mapping[str, IO[str]],
              report: Report) -> None:
        target, shown, stored = attempt.router.feed(line)
        member = attempt.log_of(target)
        logs[member].write(shown + "\n")
        attempt.kept[target].append(shown + "\n")
        events = attempt.readers[target].feed(shown)
        if target in attempt.members and any(isinstance(e, Step) for e in events):
            self._start(attempt, target)  # a cached chain solves its members all at once
        updates = [LogLine(member, shown), *([] if target in attempt.replays else events)]
        if member in attempt.started:  # a stored (reported) member started first
            for update in updates:
                self.builds.reporter.update(update)
        else:  # its definition loads early: shown once it starts, never if it does not
            attempt.pending[member].extend(updates)
        if stored in attempt.members and stored not in attempt.reported \
                and self._awaited(attempt, stored):
            self._stored(attempt, stored, report)
        if attempt.router.building in attempt.members:
            self._start(attempt, attempt.router.building)

    def _step_texts(self, image: PlannedImage) -> list[str]:
        """Its Dockerfile's instructions as its steps are named (bake_progress)."""
        request = image.request
        text = request.dockerfile_inline
        if text is None and is_local_context(request.context):
            with contextlib.suppress(OSError, UnicodeDecodeError):
                text = (self.state.root / request.dockerfile).read_text(encoding="utf-8")
        args = dict(request.args)
        return [step_text(t, args) for t in instruction_texts(text or "")]

    def _awaited(self, attempt: _Attempt, name: str) -> bool:
        """Whether a build outside the session waits for `name` (the others' digests come
        from bake's metadata when it ends); never with --cache-strict, where a cache export
        after the image can still fail it."""
        if self.builds.options.cache_strict:
            return False
        return any(name in i.depends_on and i.name not in attempt.members
                   for i in self.state.plan.images)

    def _stored(self, attempt: _Attempt, name: str, report: Report) -> None:
        """An image in the store before bake ends: its digest from its run-scoped name."""
        image = self.state.image(name)
        digest = self._stored_digest(image)
        if digest is None:  # no run-scoped name: known when bake ends
            return
        self.state.digests[name] = self.state.runs[name].digest = digest
        self._start(attempt, name)
        attempt.reported.add(name)
        self._steps(attempt, name)
        self._end(name, State.SUCCEEDED, report)

    def _stored_digest(self, image: PlannedImage) -> str | None:
        tags = self.state.run_tags(image.name)
        found = stored_id(self.backend, tags[0], image.request) if tags else ""
        return found if found.startswith("sha256:") else None

    def _after(self, attempt: _Attempt, report: Report) -> tuple[str, ...]:
        """Report what bake's end tells; the members to bake again (after a transient
        failure), or none."""
        failing = attempt.router.unfinished
        if failing in attempt.replays:  # the images linked before failed to build again
            failing = attempt.members[0]
        if attempt.code != 0 or attempt.stopped:  # no metadata: what was stored, from the store
            for name in attempt.router.stored:
                if name in attempt.members and name not in attempt.reported:
                    self._stored(attempt, name, report)
        if attempt.stopped:
            if failing not in attempt.reported:
                self._end(failing, self.builds.stopped_state(), report)
            return ()
        if attempt.code == 0:
            self._finished(attempt, report)
            return ()
        self._steps(attempt, failing)
        failure = analyse(list(attempt.kept[attempt.router.unfinished]), attempt.code)
        left = attempt.members[attempt.members.index(failing):]
        if failure.transient and attempt.number <= self.builds.options.retries:
            delay = self.builds.options.retry_backoff * 2 ** (attempt.number - 1)
            self.builds.reporter.update(Note(
                f"transient failure ({failure.message}); retrying in {delay:.0f}s",
                failing, "warning"))
            if not self.builds.wait_stop(delay):
                return left
            self._end(failing, self.builds.stopped_state(), report)
            return ()
        self._end(failing, self._failed(failing, failure), report)
        return ()

    def _finished(self, attempt: _Attempt, report: Report) -> None:
        """Bake succeeded: every member's metadata file from bake's, each one's digest."""
        metadata = self._read_metadata(attempt.members[0])
        for name in attempt.members:
            image, run = self.state.image(name), self.state.runs[name]
            path = image.request.metadata_file
            if path and name in metadata:
                file = self.state.root / fill([path], {}, self.state.run_id)[0]
                file.write_text(json.dumps(metadata[name], indent=2) + "\n")
            if name in attempt.reported:
                self._check_stored_digest(name)
                self._after_build(image)
                continue
            self._start(attempt, name)
            self._steps(attempt, name)
            state = self.builds.succeeded(image, run, list(attempt.kept[name]))
            if state is State.SUCCEEDED:
                self._after_build(image)
            self._end(name, state, report)

    def _check_stored_digest(self, name: str) -> None:
        """The digest read from the store as the image was stored is bake's own."""
        file = self.state.image(name).request.metadata_file
        built = self.builds.metadata_digest(file) if file else None
        if built is not None and built != self.state.digests.get(name):
            self.builds.reporter.update(Note(
                f"bake reported {built}, the store held {self.state.digests.get(name)}",
                name, "warning"))

    def _after_build(self, image: PlannedImage) -> None:
        self.builds.cache.after_build(image, self.state.runs[image.name], self.state.run_id)

    def _read_metadata(self, head: str) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self._metadata_file(head).read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, dict)}

    def _argv(self, replays: tuple[str, ...], members: tuple[str, ...]
              ) -> tuple[list[str], list[str]]:
        """The bake command and its file, written to the run folder (no credentials: a
        request carrying any is never linked)."""
        images = {m: self.state.image(m) for m in (*replays, *members)}
        targets = {}
        for name, image in images.items():
            linked = {key: dep for key, dep in linked_contexts(image, self.state.images).items()
                      if dep in images}
            request = self._replay(image) if name in replays else image.request
            targets[name] = self._filled(bake_target(request, self.state.root, linked))
        file = self.state.folder / f"{members[0]}.bake.json"
        file.write_text(json.dumps(bake_definition(targets), indent=2) + "\n")
        argv = self.backend.chain_argv(self.state.relative(file), list(images),
                                       self.state.relative(self._metadata_file(members[0])),
                                       images[members[0]].request.builder)
        assert argv is not None, "a backend that links builds has a chain command"
        return argv, proc.redact_argv(argv, self.state.secrets)

    def _replay(self, image: PlannedImage) -> BuildRequest:
        """What the session builds again for its members: the same build (the same cache
        keys), stored under a name of its own, exporting no cache."""
        run_tag = run_tag_of(image)
        assert run_tag is not None, "an image linked before another has dependents"
        tag = run_tag + REPLAY_SUFFIX
        self.state.extra_tags.add((image.request.builder, image.request.builder_tls,
                                  fill([tag], {}, self.state.run_id)[0]))
        # a local cache folder that is not there (an S3 entry this run did not download)
        # would fail the session: without it the replay may only rebuild
        imports = tuple(spec for spec in image.request.cache_from if spec.type != "local"
                        or (self.state.root / fill([spec.get("src") or ""], {},
                                                   self.state.run_id)[0]).is_dir())
        return dataclasses.replace(image.request, tags=(tag,), load=True, push=False,
                                   push_by_digest=False, outputs=(), cache_to=(),
                                   cache_from=imports, metadata_file=None)

    def _filled(self, value: Any) -> Any:
        if isinstance(value, str):
            return fill([value], self.state.digests, self.state.run_id)[0]
        if isinstance(value, list):
            return [self._filled(v) for v in value]
        if isinstance(value, dict):
            return {k: self._filled(v) for k, v in value.items()}
        return value

    def _start(self, attempt: _Attempt, name: str) -> None:
        if name in attempt.started:
            return
        attempt.started.add(name)
        self.state.runs[name].log = self.state.relative(self._log(name))
        self.state.runs[name].started = time.time()
        self.builds.reporter.started(ImageStarted(name, attempt.number))
        for update in attempt.pending.pop(name, []):
            self.builds.reporter.update(update)

    def _steps(self, attempt: _Attempt, name: str) -> None:
        run, reader = self.state.runs[name], attempt.readers[name]
        run.total_steps, run.cached_steps = reader.total_steps, reader.cached_steps
        run.base_images = dict(reader.bases)
        run.cache.log_problems = cache_problems(list(attempt.kept[name]))

    def _failed(self, name: str, failure: Failure) -> State:
        return self.builds.failed(self.state.image(name), self.state.runs[name], failure)

    def _end(self, name: str, state: State, report: Report) -> None:
        run = self.state.runs[name]
        run.log = self.state.relative(self._log(name))
        run.started = run.started or time.time()
        run.ended = time.time()
        if state in (State.SUCCEEDED, State.FAILED):  # the executor reports stopped builds
            self.builds.reporter.finished(finished_event(run, state))
        report(name, state)

    def _log(self, name: str) -> Path:
        return self.state.folder / f"{name}.log"

    def _metadata_file(self, head: str) -> Path:
        return self.state.folder / f"{head}.bake-metadata.json"
