"""A run over a pool of builders: where each build goes, what moves between builders, and
what happens when a builder stops answering (issue 14).

Placement is planning/placement's (pure): a builder with the image's platforms and labels
and a free slot, preferring the builder that built it last, then the one its dependencies
ran on, then the least loaded. The scheduler takes a slot before a build starts and gives
it back when the build returns (`Slots`); the build's request is then re-targeted at that
builder (planning/plan.placed_on), so everything after it (the dependency check, the
run-scoped names' removal, publishing) talks to the builder that holds the image.

Dependencies on another builder: a backend with a local store (docker) keeps an image
where it was built, so as soon as a build that others build on succeeds, its run-scoped
name is copied (`docker image save`, then `docker load` on each other builder that is up
and fits one of its dependents). The image id is kept, and the dependent's dependency
check still compares it with this run's digest before it starts. Backends without a local
store pass dependencies by digest through the registry or an OCI layout on the client,
which every builder reaches: nothing to copy.

A build that fails while its builder no longer answers its probe was lost with the
builder, not failed by its Dockerfile: the builder is marked down for the rest of the run
and the build is handed back once (the scheduler places it elsewhere). A failing `RUN` on
a builder that still answers is a failure like any other.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from buildorch import proc
from buildorch.backends.base import Backend
from buildorch.backends.choice import answer, last_line
from buildorch.backends.request import BuilderTls
from buildorch.jsontypes import JsonObject
from buildorch.planning.placement import (
    Need,
    PoolBuilder,
    allowed,
    can_place,
    choose,
    fits,
    need_of,
    per_platform,
    retry_target,
)
from buildorch.planning.plan import placed_on
from buildorch.run.events import Note
from buildorch.run.record import State
from buildorch.run.recorded import RecordedRun
from buildorch.run.reporting import Reporter
from buildorch.run.state import RunState

PROBE_TIMEOUT = 15  # a builder that does not answer within this is down
COPY_TIMEOUT = 600
LOST_RETRIES = 1  # builds handed back after losing their builder
REPROBE_DELAYS = (1.0, 3.0)  # seconds before probing again a builder a build lost touch with


@dataclass(frozen=True)
class PoolEntry:
    """One builder of the pool: how placement sees it, and how its backend reaches it."""

    builder: PoolBuilder
    address: str | None
    tls: BuilderTls | None = None

    @property
    def name(self) -> str:
        return self.builder.name


@dataclass(frozen=True)
class Wants:
    """What an image asks of its builder besides its platforms: labels, or one builder."""

    labels: frozenset[str] = frozenset()
    builder: str | None = None  # the image's own `builder`: only that one


@dataclass(frozen=True)
class PoolSetup:
    entries: tuple[PoolEntry, ...]
    wants: Mapping[str, Wants]  # per image
    last_builder: Mapping[str, str] = field(default_factory=dict)  # image -> builder, earlier
    down: Mapping[str, str] = field(default_factory=dict)  # builder -> why, before the run
    # images built per platform, each platform on a builder of its own (run/platform_builds)
    split: frozenset[str] = frozenset()


class Pool:
    """The builders of one run. The scheduler's thread calls `take` and `give`; build
    threads call `refusal` and `settle` (shared state under a lock)."""

    def __init__(self, state: RunState, backend: Backend, setup: PoolSetup,
                 reporter: Reporter) -> None:
        self.state, self.backend, self.reporter = state, backend, reporter
        self.entries = {e.name: e for e in setup.entries}
        self.wants = setup.wants
        self.last_builder = dict(setup.last_builder)
        self.down: dict[str, str] = dict(setup.down)  # builder -> why
        self.split = setup.split
        self.parts: dict[str, dict[str, str]] = {}  # split image -> platform -> builder
        self.load: Counter[str] = Counter()
        self.placed: dict[str, str] = {}  # image -> builder, this run
        self._slots: dict[str, list[str]] = {}  # image -> the builders whose slots it holds
        self.refused: dict[str, str] = {}  # image -> why no builder can take it
        self._copies: dict[str, list[PoolEntry]] = {}  # image -> builders holding a copy
        self._ended: set[str] = set()  # builds that ended (succeeded or failed)
        self._cleaner = ThreadPoolExecutor(max_workers=2, thread_name_prefix="copies")
        self._removals: list[Future[proc.Result]] = []
        self._lock = threading.Lock()

    def to_json(self) -> JsonObject:
        """Each builder of the run: where it is, whether it went down, what it built."""
        built = Counter(b for name, b in self.placed.items() if name not in self.parts)
        built.update(b for parts in self.parts.values() for b in parts.values())  # per platform
        return {name: {"address": e.address, "down": self.down.get(name),
                       "builds": built[name], "max_parallel": e.builder.max_parallel}
                for name, e in self.entries.items()}

    # --- placement (the scheduler's thread) ---

    def need(self, name: str) -> Need:
        return need_of(name, self.state.image(name).request.platforms, self.wants[name].labels)

    def candidates(self, name: str) -> list[PoolBuilder]:
        return allowed((e.builder for e in self.entries.values()), self.wants[name].builder)

    def take(self, members: tuple[str, ...]) -> bool:
        name = members[0]  # pools run without builder sessions: one image per task
        builders = self.candidates(name)
        whole = self.need(name)
        needs = per_platform(whole) if name in self.split else (whole,)
        with self._lock:
            down = frozenset(self.down)
            unfit = [n for n in needs if not can_place(n, builders, down)]
            if unfit:
                self.refused[name] = self._why_unplaced(unfit[0], builders)
                return True  # the build fails at once, saying why (holding no slot)
            deps = [self.placed[d] for d in self.state.image(name).depends_on if d in self.placed]
            load = Counter(self.load)
            chosen = []
            lost = self.state.runs[name].lost_on
            for need in needs:  # every platform's slot at once, or none
                builder = (retry_target(need, lost[-1], builders, load, down) if lost
                           else choose(need, builders, load, down, self.last_builder, deps))
                if builder is None:
                    return False
                load[builder] += 1
                chosen.append(builder)
            self.load = load
            self._slots[name] = chosen
            self.placed[name] = chosen[0]
            if name in self.split:
                self.parts[name] = {next(iter(n.platforms)): b
                                    for n, b in zip(needs, chosen, strict=True)}
        entry = self.entries[chosen[0]]
        self.state.images[name] = placed_on(self.state.image(name), self.backend,
                                            entry.address, entry.tls)
        self.state.runs[name].builder = ", ".join(dict.fromkeys(chosen))
        return True

    def give(self, members: tuple[str, ...]) -> None:
        with self._lock:
            for builder in self._slots.pop(members[0], []):
                self.load[builder] -= 1

    def _why_unplaced(self, need: Need, builders: Sequence[PoolBuilder]) -> str:
        fitting = [b.name for b in builders if fits(need, b)]
        downs = "; ".join(f"{b}: {self.down[b]}" for b in fitting if b in self.down)
        return f"no builder that fits it is up ({downs or 'none fits'})"

    def copy_reused(self) -> None:
        """Images an earlier build serves (--skip-unchanged) got their run-scoped names on
        the builder the plan names; their dependents may go to any builder."""
        for name in sorted(self.state.run_tagged):
            address = self.state.image(name).request.builder
            source = next((e for e in self.entries.values() if e.address == address), None)
            if source is not None and source.name not in self.down:
                self._copy_out(name, source.name)

    # --- after a build (its worker thread) ---

    def refusal(self, name: str) -> str | None:
        with self._lock:
            return self.refused.get(name)

    def settle(self, name: str, state: State) -> State:
        """The build's state once the pool had its say: PENDING hands it back to be placed
        on another builder (its own stopped answering)."""
        builder = self.placed.get(name)
        if builder is None or state not in (State.SUCCEEDED, State.FAILED):
            return state
        if state is State.FAILED:
            state = self._lost(name, builder) if self._gone(name, builder) else state
        elif not self._copy_out(name, builder):
            state = self._lost(name, builder)
        if state is not State.PENDING:
            self._done_with(name)
        return state

    def _done_with(self, name: str) -> None:
        """`name` ended: the copies of its dependencies that no other dependent waits for
        are removed now, beside the builds still running, not at the run's end. On a
        builder whose store holds many images, removing an image's last name (deleting it)
        took about 2.7 s each here (668 images), and a run's copies all at the end added
        their sum to its wall time (benchmarks/pool_spread.py)."""
        with self._lock:
            self._ended.add(name)
            done = [d for d in self.state.image(name).depends_on if d in self._copies
                    and all(n in self._ended for n in self._dependents(d))]
            removals = [(self.state.run_tags(d), target) for d in done
                        for target in self._copies.pop(d)]
            for tags, target in removals:  # the run's own removal leaves them out
                self.state.extra_tags.difference_update(
                    (target.address, target.tls, t) for t in tags)
        for tags, target in removals:
            argv = self.backend.untag_argv(tags, target.address, target.tls)
            if argv is not None:
                self._removals.append(self._cleaner.submit(
                    proc.run, argv, check=False, timeout=COPY_TIMEOUT))

    def close(self) -> None:
        """Wait for the copies being removed (before the run removes what is left)."""
        for removal in self._removals:
            removal.exception()  # best effort, as the run's own removal
        self._cleaner.shutdown()

    def _dependents(self, name: str) -> list[str]:
        return [i.name for i in self.state.plan.images if name in i.depends_on
                and i.name not in self.state.reused]

    def _gone(self, name: str, builder: str) -> bool:
        """Whether the failed build's builder is gone. A failure that reads as a lost
        connection (`transient`) on a daemon still answering is probed again a few times:
        a daemon stopping (SIGTERM) may answer a probe while its builds are already cut."""
        if not self.answers(builder):
            return True
        failure = self.state.runs[name].failure
        if failure is None or not failure.transient:
            return False  # the Dockerfile's failure: never retried elsewhere
        for delay in REPROBE_DELAYS:
            time.sleep(delay)
            if not self.answers(builder):
                return True
        return False

    def answers(self, builder: str) -> bool:
        """Whether `builder` answers its probe now; marks it down when not."""
        entry = self.entries[builder]
        done = answer(self.backend.probe_argv(entry.address, entry.tls), PROBE_TIMEOUT)
        if done is not None and done.returncode == 0:
            return True
        self.mark_down(builder, f"no answer within {PROBE_TIMEOUT}s" if done is None
                       else last_line(done.output))
        return False

    def mark_down(self, builder: str, why: str) -> None:
        with self._lock:
            if builder in self.down:
                return
            self.down[builder] = why or "it stopped answering"
        self.reporter.update(Note(f"builder {builder} stopped answering ({why}); it takes no "
                                  "more builds in this run", level="warning"))

    def _lost(self, name: str, builder: str) -> State:
        run = self.state.runs[name]
        if len(run.lost_on) >= LOST_RETRIES:
            return State.FAILED
        run.lost_on.append(builder)
        run.failure = run.reason = None
        run.digest = None
        self.state.digests.pop(name, None)
        self.reporter.update(Note(f"builder {builder} stopped answering during the build; "
                                  "building it again on another builder", name, "warning"))
        return State.PENDING

    def _copy_out(self, name: str, builder: str) -> bool:
        """The image's run-scoped names copied to the other builders its dependents may go
        to; False when its own builder went down first (the image is lost with it)."""
        tags, source = self.state.run_tags(name), self.entries[builder]
        targets = self._copy_targets(name, builder)
        if not tags or not targets:
            return True
        path = self.state.folder / f"{name}.copy.tar"
        save = self.backend.save_argv(tags, str(path), source.address, source.tls)
        if save is None:
            return True
        try:
            if proc.run(save, check=False, timeout=COPY_TIMEOUT).returncode != 0:
                return self.answers(builder)  # a failed save of a build that succeeded
            with ThreadPoolExecutor(max_workers=len(targets)) as workers:
                list(workers.map(lambda t: self._load(name, path, t, tags), targets))
        finally:
            path.unlink(missing_ok=True)
        return True

    def _copy_targets(self, name: str, builder: str) -> list[PoolEntry]:
        dependents = self._dependents(name)
        with self._lock:
            up = [e for e in self.entries.values() if e.name != builder and e.name not in self.down]
        return [e for e in up if any(fits(self.need(d), e.builder)
                                     and e.builder in self.candidates(d) for d in dependents)]

    def _load(self, name: str, path: Path, target: PoolEntry, tags: list[str]) -> None:
        argv = self.backend.load_archive_argv(str(path), target.address, target.tls)
        if argv is None:
            return
        done = proc.run(argv, check=False, timeout=COPY_TIMEOUT)
        if done.returncode != 0:
            self.answers(target.name)  # down: its dependents go elsewhere; else they fail
            return                     # their dependency check, naming the name
        with self._lock:
            self.state.runs[name].copied_to.append(target.name)
            self.state.extra_tags.update((target.address, target.tls, t) for t in tags)
            self._copies.setdefault(name, []).append(target)


def last_builders(records: Iterable[RecordedRun], images: Iterable[str]) -> dict[str, str]:
    """Image -> the builder its newest recorded build ran on (`records` newest first), for
    placement's cache affinity."""
    wanted, found = set(images), {}
    for record in records:
        for name, image in record.images.items():
            if name in wanted and name not in found and image.builder \
                    and image.state == State.SUCCEEDED.value:
                found[name] = image.builder
    return found
