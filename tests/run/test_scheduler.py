"""The scheduler's logic on small graphs, with plain functions as the work."""

from __future__ import annotations

import threading
import time

import networkx as nx

from buildorch.run.record import State
from buildorch.run.scheduler import schedule


def graph(*edges: tuple[str, str], nodes: tuple[str, ...] = ()) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    g.add_edges_from(edges)
    return g


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


def run(g: nx.DiGraph, rec: Recorder, jobs: int = 4, keep_going: bool = False,
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
