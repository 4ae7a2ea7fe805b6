"""The scheduler's logic on small graphs, with plain functions as the work."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from buildorch.planning.graph import Dag
from buildorch.run.record import State
from buildorch.run.scheduler import schedule


def graph(*edges: tuple[str, str], nodes: tuple[str, ...] = ()) -> Dag:
    return Dag(nodes, edges)


class Recorder:
    def __init__(self, fail: frozenset[str] = frozenset(), delay: float = 0.0) -> None:
        self.fail = fail
        self.delay = delay
        self.order: list[str] = []
        self.skipped: dict[str, str] = {}
        self.stops: list[bool] = []
        self.active = 0
        self.peak = 0
        self._lock = threading.Lock()

    def work(self, name: str) -> State:
        with self._lock:
            self.order.append(name)
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(self.delay)
        with self._lock:
            self.active -= 1
        return State.FAILED if name in self.fail else State.SUCCEEDED

    def skip(self, name: str, reason: str) -> None:
        self.skipped[name] = reason

    def stop(self, interrupted: bool) -> None:
        self.stops.append(interrupted)


def run(g: Dag, rec: Recorder, jobs: int = 4, keep_going: bool = False,
        priority: dict[str, float] | None = None) -> dict[str, State]:
    prio = priority or {n: 0.0 for n in g}
    return schedule(g, prio, jobs, rec.work, rec.skip, rec.stop, keep_going).states


def test_dependencies_finish_before_dependents() -> None:
    rec = Recorder()
    states = run(graph(("a", "b"), ("b", "c"), ("a", "d")), rec)
    assert all(s is State.SUCCEEDED for s in states.values())
    assert rec.order.index("a") < rec.order.index("b") < rec.order.index("c")


def test_jobs_bound_concurrency() -> None:
    rec = Recorder(delay=0.05)
    run(graph(nodes=tuple("abcdefgh")), rec, jobs=3)
    assert rec.peak == 3
    rec = Recorder(delay=0.05)
    run(graph(nodes=tuple("abcd")), rec, jobs=1)
    assert rec.peak == 1


def test_longest_remaining_path_starts_first() -> None:
    rec = Recorder()
    run(graph(("long", "tail"), nodes=("short",)), rec, jobs=1,
        priority={"long": 10.0, "tail": 5.0, "short": 1.0})
    assert rec.order == ["long", "tail", "short"]


def test_fail_fast_stops_and_skips_the_rest() -> None:
    rec = Recorder(fail=frozenset({"a"}))
    states = run(graph(("a", "b"), nodes=("c", "d")), rec, jobs=1,
                 priority={"a": 9.0, "b": 1.0, "c": 1.0, "d": 1.0})
    assert states["a"] is State.FAILED
    assert states["b"] is State.SKIPPED and rec.skipped["b"] == "a failed"
    assert states["c"] is State.SKIPPED and states["d"] is State.SKIPPED
    assert rec.stops == [False]


def test_keep_going_builds_everything_not_downstream() -> None:
    rec = Recorder(fail=frozenset({"a"}))
    states = run(graph(("a", "b"), ("b", "c"), ("x", "y")), rec, keep_going=True)
    assert states["a"] is State.FAILED
    assert states["b"] is State.SKIPPED and states["c"] is State.SKIPPED
    assert states["x"] is State.SUCCEEDED and states["y"] is State.SUCCEEDED
    assert rec.skipped == {"b": "a failed", "c": "a failed"}
    assert rec.stops == []


class ChainRecorder(Recorder):
    """Runs a chain's members in order in one call, reporting each as it finishes; a
    member in `fail` fails and ends the chain; one in `leave` ends it unreported."""

    def __init__(self, fail: frozenset[str] = frozenset(), delay: float = 0.0,
                 leave: frozenset[str] = frozenset()) -> None:
        super().__init__(fail, delay)
        self.leave = set(leave)
        self.chains: list[tuple[str, ...]] = []
        self.events: list[str] = []

    def work_chain(self, members: tuple[str, ...], report: Callable[[str, State], None]
                   ) -> None:
        with self._lock:
            self.chains.append(members)
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            for name in members:
                if name in self.leave:
                    self.leave.discard(name)  # the next attempt gets through
                    return
                time.sleep(self.delay)
                with self._lock:
                    self.order.append(name)
                    self.events.append(f"end {name}")
                report(name, State.FAILED if name in self.fail else State.SUCCEEDED)
                if name in self.fail:
                    return
        finally:
            with self._lock:
                self.active -= 1

    def work(self, name: str) -> State:
        with self._lock:
            self.events.append(f"start {name}")
        return super().work(name)


def run_chains(g: Dag, rec: ChainRecorder, chains: list[tuple[str, ...]],
               jobs: int = 4, keep_going: bool = False) -> dict[str, State]:
    members = {c[i]: c[i:] for c in chains for i in range(len(c))}
    return schedule(g, {n: 0.0 for n in g}, jobs, rec.work, rec.skip, rec.stop, keep_going,
                    chains=members, work_chain=rec.work_chain).states


def test_a_chain_runs_as_one_task_and_its_members_free_their_dependents_at_once() -> None:
    rec = ChainRecorder(delay=0.1)
    states = run_chains(graph(("a", "b"), ("b", "c"), ("a", "side")), rec, [("a", "b", "c")])
    assert all(s is State.SUCCEEDED for s in states.values())
    assert rec.chains == [("a", "b", "c")]
    # `side` needs only a: it starts while b and c are still building
    assert rec.events.index("start side") < rec.events.index("end c")


def test_a_chain_holds_one_slot() -> None:
    rec = ChainRecorder(delay=0.05)
    run_chains(graph(("a", "b"), ("b", "c"), nodes=("x", "y")), rec, [("a", "b", "c")], jobs=1)
    assert rec.peak == 1
    assert sorted(rec.order) == ["a", "b", "c", "x", "y"]


def test_what_follows_a_failed_member_is_skipped() -> None:
    rec = ChainRecorder(fail=frozenset({"b"}))
    states = run_chains(graph(("a", "b"), ("b", "c"), ("c", "d"), nodes=("x",)), rec,
                        [("a", "b", "c", "d")], keep_going=True)
    assert states["a"] is State.SUCCEEDED and states["b"] is State.FAILED
    assert states["c"] is State.SKIPPED and states["d"] is State.SKIPPED
    assert rec.skipped == {"c": "b failed", "d": "b failed"}
    assert states["x"] is State.SUCCEEDED


def test_members_left_unreported_run_again_as_the_rest_of_the_chain() -> None:
    rec = ChainRecorder(leave=frozenset({"b"}))
    states = run_chains(graph(("a", "b"), ("b", "c")), rec, [("a", "b", "c")])
    assert all(s is State.SUCCEEDED for s in states.values())
    assert rec.chains == [("a", "b", "c"), ("b", "c")]


def test_a_chain_that_reports_nothing_fails_its_head_instead_of_looping() -> None:
    rec = ChainRecorder()

    def never(members: tuple[str, ...], report: Callable[[str, State], None]) -> None:
        rec.chains.append(members)
    states = schedule(graph(("a", "b")), {"a": 0.0, "b": 0.0}, 2, rec.work, rec.skip,
                      rec.stop, True, chains={"a": ("a", "b"), "b": ("b",)},
                      work_chain=never).states
    assert states == {"a": State.FAILED, "b": State.SKIPPED}
    assert rec.chains == [("a", "b")]


class TwoSlots:
    """A pool of one builder with `size` slots, as run/pool takes and gives them."""

    def __init__(self, size: int) -> None:
        self.size, self.used, self.peak = size, 0, 0
        self.taken: list[str] = []
        self._lock = threading.Lock()

    def take(self, members: tuple[str, ...]) -> bool:
        with self._lock:
            if self.used >= self.size:
                return False
            self.used += 1
            self.peak = max(self.peak, self.used)
            self.taken.append(members[0])
            return True

    def give(self, members: tuple[str, ...]) -> None:
        with self._lock:
            self.used -= 1


def test_slots_bound_what_starts_below_jobs_and_are_given_back() -> None:
    rec, slots = Recorder(delay=0.05), TwoSlots(2)
    g = graph(nodes=("a", "b", "c", "d", "e"))
    outcome = schedule(g, {n: 0.0 for n in g}, 5, rec.work, rec.skip, rec.stop, slots=slots)
    assert all(s is State.SUCCEEDED for s in outcome.states.values())
    assert rec.peak <= 2 and slots.peak == 2 and slots.used == 0
    assert sorted(slots.taken) == ["a", "b", "c", "d", "e"]


def test_a_build_handed_back_is_placed_again_and_not_failed() -> None:
    tries: dict[str, int] = {}
    slots = TwoSlots(1)

    def work(name: str) -> State:
        tries[name] = tries.get(name, 0) + 1
        # "a" loses its builder once: it asks to be placed again
        return State.PENDING if name == "a" and tries[name] == 1 else State.SUCCEEDED

    rec = Recorder()
    g = graph(("a", "b"))
    outcome = schedule(g, {"a": 1.0, "b": 0.0}, 2, work, rec.skip, rec.stop, slots=slots)
    assert outcome.states == {"a": State.SUCCEEDED, "b": State.SUCCEEDED}
    assert tries == {"a": 2, "b": 1} and slots.taken == ["a", "a", "b"] and slots.used == 0
    assert not rec.skipped and not rec.stops
