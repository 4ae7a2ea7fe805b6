"""The scheduler: a ready set, bounded workers, wait for the first to finish.

It knows nothing about BuildKit: `work(name)` builds one node and says whether it
succeeded. The longest remaining path goes first; a failure skips every node downstream
of it (keep-going) or stops the run (fail-fast: nothing new starts, running work is
stopped through `stop_all`).

A chain (`chains`: member -> the rest of its chain) runs as one task in one worker slot,
`work_chain(members, report)`, which reports each member as it finishes, so that other
dependents of a member start at once. Members it leaves unreported (after a failure, or
for another attempt) are pending again: what follows a failure is skipped, the rest runs
when ready, as the rest of its chain.

With a pool of builders (`slots`, run/pool), a ready task starts only once `slots.take`
placed it on a builder with a free slot, and gives the slot back when it returns. A build
that hands itself back (`work` returns PENDING: its builder stopped answering) is pending
again, to be placed elsewhere.
"""

from __future__ import annotations

import concurrent.futures as cf
import queue
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from buildorch.planning.graph import Dag
from buildorch.run.record import State

Report = Callable[[str, State], None]


@dataclass
class Outcome:
    states: dict[str, State]
    reasons: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False


class Slots(Protocol):
    def take(self, members: tuple[str, ...]) -> bool:
        """Place a task on a builder with a free slot; False: none free now."""

    def give(self, members: tuple[str, ...]) -> None:
        """The task returned: its slot is free again."""


@dataclass
class _Task:
    members: tuple[str, ...]
    future: cf.Future[None] | None = None


def schedule(
    graph: Dag,
    priority: Mapping[str, float],
    jobs: int,
    work: Callable[[str], State],
    on_skip: Callable[[str, str], None],
    stop_all: Callable[[bool], None],  # argument: True for Ctrl-C, False for fail-fast
    keep_going: bool = False,
    chains: Mapping[str, tuple[str, ...]] | None = None,
    work_chain: Callable[[tuple[str, ...], Report], None] | None = None,
    slots: Slots | None = None,
) -> Outcome:
    outcome = Outcome({name: State.PENDING for name in graph})
    states = outcome.states
    # (member, state) as work reports it; (None, task) when a task has returned
    events: queue.Queue[tuple[str | None, State | _Task]] = queue.Queue()
    running: list[_Task] = []
    handed_back: set[str] = set()  # builds that asked to be placed again

    def skip(name: str, reason: str) -> None:
        if states[name] is State.PENDING:
            states[name] = State.SKIPPED
            outcome.reasons[name] = reason
            on_skip(name, reason)

    def ready() -> list[str]:
        found = [n for n, s in states.items() if s is State.PENDING
                 and all(states[d] is State.SUCCEEDED for d in graph.predecessors(n))]
        return sorted(found, key=lambda n: (-priority[n], n))

    def task_of(name: str) -> _Task:
        members = [name]
        if chains and work_chain and name in chains:
            for member in chains[name][1:]:
                if states[member] is not State.PENDING:
                    break
                members.append(member)
        return _Task(tuple(members))

    def run_task(task: _Task) -> None:
        try:
            if len(task.members) == 1:
                events.put((task.members[0], work(task.members[0])))
            else:
                assert work_chain is not None
                work_chain(task.members, lambda name, state: events.put((name, state)))
        finally:
            events.put((None, task))

    def settle(name: str | None, result: State | _Task) -> bool:
        """Apply one event; True when a build failed."""
        if name is not None:
            assert isinstance(result, State)
            if result is State.PENDING:  # to be placed on another builder
                handed_back.add(name)
                return False
            states[name] = result
            if result is State.FAILED:
                for after in graph.descendants(name):
                    skip(after, f"{name} failed")
            return result is State.FAILED
        assert isinstance(result, _Task) and result.future is not None
        running.remove(result)
        if slots is not None:
            slots.give(result.members)
        result.future.result()  # a worker's exception is the run's
        for member in result.members:
            if states[member] is State.RUNNING:  # left for another attempt, or after a failure
                states[member] = State.PENDING
                failed = [a for a in graph.ancestors(member) if states[a] is State.FAILED]
                if failed:
                    skip(member, f"{min(failed)} failed")
        head = result.members[0]
        if states[head] is not State.PENDING or head in handed_back:
            handed_back.discard(head)
            return False
        states[head] = State.FAILED  # not started again, which could loop forever
        outcome.reasons[head] = "the build ended without a result"
        for after in graph.descendants(head):
            skip(after, f"{head} failed")
        return True

    def start(pool: cf.ThreadPoolExecutor) -> None:
        for name in ready():
            if len(running) >= jobs:
                break
            task = task_of(name)
            if slots is not None and not slots.take(task.members):
                continue
            for member in task.members:
                states[member] = State.RUNNING
            task.future = pool.submit(run_task, task)
            running.append(task)

    stopping = False
    with cf.ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="build") as pool:
        try:
            while True:
                if not stopping:
                    start(pool)
                if not running:
                    break
                # A timeout, so that the main thread runs Python often: the kernel may hand
                # Ctrl-C to a worker thread, and Python only raises it in the main thread.
                try:
                    event = events.get(timeout=0.2)
                except queue.Empty:
                    continue
                if settle(*event) and not keep_going and not stopping:
                    stopping = True
                    stop_all(False)
        except KeyboardInterrupt:
            outcome.interrupted = True
            stop_all(True)
            while running:
                settle(*events.get())
    for name in states:
        skip(name, "the run stopped before it started")
    return outcome
