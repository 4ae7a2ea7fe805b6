"""The scheduler: a ready set, bounded workers, wait for the first to finish.

It knows nothing about BuildKit: `work(name)` builds one node and says whether it
succeeded. The longest remaining path goes first; a failure skips every node downstream
of it (keep-going) or stops the run (fail-fast: nothing new starts, running work is
stopped through `stop_all`).
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import networkx as nx

from buildorch.run.record import State


@dataclass
class Outcome:
    states: dict[str, State]
    reasons: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False


def schedule(
    graph: nx.DiGraph,
    priority: Mapping[str, float],
    jobs: int,
    work: Callable[[str], State],
    on_skip: Callable[[str, str], None],
    stop_all: Callable[[bool], None],  # argument: True for Ctrl-C, False for fail-fast
    keep_going: bool = False,
) -> Outcome:
    outcome = Outcome({name: State.PENDING for name in graph})
    states = outcome.states
    running: dict[cf.Future[State], str] = {}

    def skip(name: str, reason: str) -> None:
        if states[name] is State.PENDING:
            states[name] = State.SKIPPED
            outcome.reasons[name] = reason
            on_skip(name, reason)

    def ready() -> list[str]:
        found = [n for n, s in states.items() if s is State.PENDING
                 and all(states[d] is State.SUCCEEDED for d in graph.predecessors(n))]
        return sorted(found, key=lambda n: (-priority[n], n))

    stopping = False
    with cf.ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="build") as pool:
        try:
            while True:
                if not stopping:
                    for name in ready()[: jobs - len(running)]:
                        states[name] = State.RUNNING
                        running[pool.submit(work, name)] = name
                if not running:
                    break
                # A timeout, so that the main thread runs Python often: the kernel may hand
                # Ctrl-C to a worker thread, and Python only raises it in the main thread.
                done, _ = cf.wait(running, timeout=0.2, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    name = running.pop(future)
                    states[name] = future.result()
                    if states[name] is State.FAILED:
                        for after in nx.descendants(graph, name):
                            skip(after, f"{name} failed")
                        if not keep_going and not stopping:
                            stopping = True
                            stop_all(False)
        except KeyboardInterrupt:
            outcome.interrupted = True
            stop_all(True)
            for future, name in running.items():
                states[name] = future.result()
    for name in states:
        skip(name, "the run stopped before it started")
    return outcome
