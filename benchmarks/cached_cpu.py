"""Benchmark: where a fully cached rerun's CPU goes, buildorch against `docker buildx bake`,
and the floor any buildorch that starts itself and then one bake could reach (issue 13).

1. Generates bake_compare.py's graphs (`--graph existing|chain|both`, default both; seeded
   as there) into `benchmarks/out/cached_cpu-<graph>/{bake,buildorch}/` with one fresh token,
   and builds each once, cold, untimed (bake, then buildorch), so that what follows is
   fully cached.
2. In each of R rounds (default 5), in an order that rotates, runs:
   - bake: `docker buildx bake -f docker-bake.hcl --progress plain`;
   - buildorch: `buildorch build -f pipeline.yaml --backend docker --no-skip-unchanged
     --progress plain` (bake_compare.py's command, without -v);
   - floor: buildorch's own start-up and plan (`build --dry-run`, the same options) and then
     bake's command, one after the other: what a buildorch that handed the whole graph to
     one bake would at least cost.
   For each it measures wall time; the client's CPU, its **own** apart from its
   **children's** (the docker CLI processes): it waits for the process without reaping it
   (`os.waitid(..., WEXITED | WNOWAIT)`) and reads the zombie's `/proc/<pid>/stat`
   (live_view_cpu.py's method); and the engine's CPU over the run (build_overhead.py's
   meter: the stack's dockerd, which embeds BuildKit, and its containerd, own and reaped
   children's, from `/proc/<pid>/stat` before and after; each run starts once
   the engine has been idle for half a second, so that what it does after a client has
   gone is not counted to the next). Checks: exit 0, and
   every RUN step CACHED (bake_compare.check_cached: bake's output, buildorch's record).
3. Prints and appends to benchmarks/results/cached_cpu.md the medians (min-max) of each,
   and the ratios to bake's medians.

Needs the local stack (`scripts/stack up`; without DOCKER_HOST the script reads
`scripts/stack env`). Run timed work under `flock /tmp/engine-bench.lock`.

Run: .venv/bin/python benchmarks/cached_cpu.py [--graph G] [--repeats R] [--src DIR]
         [--no-results]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import bake_compare
import build_overhead
from bake_compare import Build, check_cached, command_for, read_record, stats_cell, write_inputs
from build_overhead import Engine
from graphgen import Graph
from live_view_cpu import stat_times
from machine import append_results, fresh_folder, machine_info, machine_lines, stack_env

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "cached_cpu.md"
OUT_ROOT = REPO / "benchmarks" / "out"
MARKER = ".cached_cpu-generated"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
KINDS = ("bake", "buildorch", "floor")


@dataclass
class Measured:
    kind: str  # bake | buildorch | floor
    seconds: float = 0.0
    own_cpu: float = 0.0  # the client process itself (buildorch's Python; bake's buildx)
    children_cpu: float = 0.0  # what it waited for
    engine_cpu: float = 0.0  # dockerd over the run
    problems: list[str] = field(default_factory=list)

    @property
    def client_cpu(self) -> float:
        return self.own_cpu + self.children_cpu

    @property
    def total_cpu(self) -> float:
        return self.client_cpu + self.engine_cpu


def engine_settled(engine: Engine, most: float = 15.0) -> float:
    """Wait until the engine is idle (under 2 % of a core over half a second): work it does
    after a client has gone (removing names, releasing a session) is not the next run's.
    The seconds waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < most:
        before = engine.cpu()
        time.sleep(0.5)
        if engine.cpu() - before < 0.01:
            break
    return time.perf_counter() - start


def run_one(argv: Sequence[str], folder: Path, measured: Measured) -> list[str]:
    """Run argv in folder, adding its wall time and CPU to measured; its output lines."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(argv), cwd=folder, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace",
                            env=bake_compare.child_env())
    assert proc.stdout is not None
    lines = proc.stdout.read().splitlines()
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # a zombie: still readable
    measured.seconds += time.perf_counter() - start
    own, children = stat_times(proc.pid)
    measured.own_cpu += own
    measured.children_cpu += children
    code = proc.wait()
    if code != 0:
        measured.problems.append(f"{measured.kind}: `{' '.join(argv[:4])}` exited {code}: "
                                 + " / ".join(lines[-3:]))
    return lines


def measure(kind: str, root: Path, graph: Graph, token: str, engine: Engine) -> Measured:
    measured = Measured(kind)
    engine_settled(engine)
    before = engine.cpu()
    if kind == "floor":
        dry = [*command_for("buildorch", None, verbose=False), "--dry-run"]
        run_one(dry, root / "buildorch", measured)
    tool = "buildorch" if kind == "buildorch" else "bake"
    argv = command_for(tool, None, verbose=False)
    lines = run_one(argv, root / tool, measured)
    measured.engine_cpu = engine.cpu() - before
    if not measured.problems:
        build = Build(tool, "cached", 1, kind, root / tool, token, argv,
                      lines=[(0.0, line) for line in lines])
        build.record = read_record(build) if tool == "buildorch" else None
        measured.problems += check_cached(build, graph, lines=tool == "bake")
    return measured


def prepare(kind: str, graph: Graph) -> tuple[Path, str]:
    """Both tools' folders with one token, each built once (cold, untimed)."""
    root = OUT_ROOT / f"cached_cpu-{kind}"
    fresh_folder(root, MARKER, "cached_cpu.py")
    token = secrets.token_hex(8)
    for tool in ("bake", "buildorch"):
        write_inputs(root / tool, graph, token, estimates=True)
        cold = Measured(tool)
        run_one(command_for(tool, None, verbose=False), root / tool, cold)
        if cold.problems:
            sys.exit(f"cached_cpu: the cold {tool} build failed: {cold.problems[0]}")
    return root, token


# (title, attribute, whether a ratio to bake means something: bake's own process is the
# docker CLI, which runs buildx as its child)
FIELDS = (("wall (s)", "seconds", True), ("client CPU (s)", "client_cpu", True),
          ("client's own (s)", "own_cpu", False),
          ("client's children (s)", "children_cpu", False),
          ("engine CPU (s)", "engine_cpu", True), ("client + engine CPU (s)", "total_cpu", True))


def table(runs: Sequence[Measured]) -> list[str]:
    good = {k: [r for r in runs if r.kind == k and not r.problems] for k in KINDS}
    lines = ["| measure | bake | buildorch | floor (buildorch start-up + bake) "
             "| buildorch / bake | floor / bake |", "|---|---:|---:|---:|---:|---:|"]
    for title, name, compared in FIELDS:
        values = {k: [getattr(r, name) for r in good[k]] for k in KINDS}
        base = statistics.median(values["bake"]) if values["bake"] else 0.0
        ratios = [f"{statistics.median(values[k]) / base:.2f}"
                  if compared and base and values[k] else "" for k in ("buildorch", "floor")]
        cells = " | ".join(stats_cell(values[k]) for k in KINDS)
        lines.append(f"| {title} | {cells} | {ratios[0]} | {ratios[1]} |")
    return lines


def section(info: Mapping[str, str], args: argparse.Namespace,
            results: Mapping[str, list[Measured]]) -> str:
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [f"## {when}: fully cached reruns, {args.repeats} rounds, seed {args.seed}", "",
             *machine_lines(info)]
    if args.src:
        lines.append(bake_compare.source_line(args.src))
    lines.append("- medians (min-max) of the runs that passed their checks (exit 0, every RUN "
                 "step CACHED); CPU in seconds of user + system time")
    for kind, runs in results.items():
        lines += ["", f"### {bake_compare.TITLES[kind]}", "", *table(runs)]
        problems = [p for r in runs for p in r.problems]
        lines += [f"- left out: {p}" for p in problems[:10]]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graph", choices=("existing", "chain", "both"), default="both")
    parser.add_argument("--images", type=int, default=14)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--src", type=Path, help="run the buildorch of checkout DIR")
    parser.add_argument("--no-results", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    stack_env()
    if args.src:
        bake_compare.SOURCE = args.src.resolve()
    info = machine_info(docker=True)
    engine = build_overhead.engine()
    if not engine.pids:
        sys.exit("cached_cpu: no dockerd of the stack runs (scripts/stack up)")
    kinds = ("existing", "chain") if args.graph == "both" else (args.graph,)
    results: dict[str, list[Measured]] = {}
    for kind in kinds:
        graph = (bake_compare.make_graph(args.images, args.seed) if kind == "existing"
                 else bake_compare.make_chain_graph(args.seed))
        root, token = prepare(kind, graph)
        runs = results[kind] = []
        for r in range(args.repeats):
            for k in KINDS[r % 3:] + KINDS[:r % 3]:
                runs.append(measure(k, root, graph, token, engine))
                m = runs[-1]
                print(f"{kind} r{r + 1} {k}: {m.seconds:.2f} s, client {m.client_cpu:.2f} "
                      f"(own {m.own_cpu:.2f}), engine {m.engine_cpu:.2f}"
                      + (f"  PROBLEM {m.problems[0][:200]}" if m.problems else ""),
                      file=sys.stderr)
    text = section(info, args, results)
    print(text)
    if not args.no_results:
        append_results(RESULTS, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
