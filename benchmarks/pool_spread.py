"""Benchmark: a 12-image pipeline on one builder against a pool of two (issue 14).

Issue 14's acceptance: "A 12-image pipeline with `max_parallel: 1` per builder spreads over
both (the record shows both used, and each dependent got its dependency's digest from the
other builder where they differ) and finishes faster than on one of them (benchmark, both
wall times recorded)."

1. Generates a fixed 12-image graph (`make_graph`; the seed draws each image's sleep,
   1.0-3.0 s in tenths, and the file order): three roots, fan-outs from each (base-a has
   three dependents, base-b two), and joins of two images each (int-1, int-2, e2e), so that
   with one slot per builder dependents of one image run on both builders and dependencies
   must cross. graphgen.py writes it: `FROM <dep>` through a named context
   (`contexts: {dep: {image: dep}}`), a second dependency `COPY --from=<dep>`, then
   `RUN echo <token>-<name> > /token` and `RUN sleep <seconds>`; tags
   `localhost:5000/bench-pool/<name>:<token>`, no push, `estimated_seconds` = the sleep.
2. In each of R rounds (default 3; after one untimed warm-up round), alternating which goes
   first, builds it cold (a fresh folder and token: no RUN step can hit the cache) with
     (a) one builder: `builders: [{name: one, backend: docker, max_parallel: 1}]` (the
         stack's engine, DOCKER_HOST), `-j 1`;
     (b) two builders: the same plus `{name: two, backend: docker, address:
         $BUILDORCH_SECOND_DOCKER_HOST, max_parallel: 1}` (`scripts/stack up --second`),
         `-j 2` (buildorch's default for a pool, the sum of max_parallel, given explicitly).
   Each is `buildorch build -f pipeline.yaml --backend docker --no-skip-unchanged
   --progress plain -v -j J` (bake_compare's command), timed by wall clock after the
   machine settled, as bake_compare.py does.
3. Checks every run: every `RUN sleep` step ran, none CACHED (bake_compare's check), every
   image succeeded in the record; each dependent's layers start with its `FROM` dependency's
   layers, each read on the engine it was built on. For (b) also, from the record: both
   builders used (`images.*.builder`, `builders.*.builds`), none went down, no build lost,
   at least one dependency crossed builders, and every dependency that ran on another
   builder than its dependent lists the dependent's builder in `copied_to`.
4. Prints and appends to benchmarks/results/pool_spread.md: machine, engines (and how many
   images each store holds: removing an image costs more in a large one), the commands, the
   graph, each run's wall time, the medians (min-max) and the ratio two / one of the
   medians (target: < 1), where the time goes (from each record: start-up, each build's
   time beyond its sleep, when the last build ended, the end of the run after it), and
   where each two-builder run placed the images. Removes the
   images its runs tagged on both engines (after each run, and any left at the end). It
   never starts or stops the stack or the second engine, and never prunes.
   Exits 1 if a build or a check fails (a missed target does not).

Run: .venv/bin/python benchmarks/pool_spread.py [--seed S] [--repeats R] [--settle SECONDS]
         [--no-warmup] [--no-estimates] [--src DIR] [--no-results]
`--src DIR` runs the buildorch of another checkout or snapshot (`git archive HEAD | tar -x
-C DIR`) with this checkout's interpreter, as bake_compare.py does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import shlex
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bake_compare
import graphgen
from bake_compare import (
    Build,
    Spec,
    add_run_options,
    check_cold,
    check_src,
    checks_line,
    command_for,
    critical_path,
    execute,
    graph_lines,
    record_problems,
    remove_tags,
    shown,
    source_line,
    stats_cell,
)
from graphgen import Graph, Image, seconds
from machine import append_results, fresh_folder, machine_info, machine_lines, stack_env, verdict

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "pool_spread.md"
OUT = REPO / "benchmarks" / "out" / "pool_spread"
MARKER = ".pool_spread-generated"  # only a folder holding this file is ever deleted
REPOSITORY = "localhost:5000/bench-pool"
NAMING = graphgen.Naming(REPOSITORY, "bench-pool", "pool_spread.py",
                         os.environ.get("BUILDORCH_BASE_IMAGE", graphgen.BASE_IMAGE))

# The graph: each image and what it is built on (the first through FROM, a second through
# COPY --from). Fan-outs put siblings on both builders at once; joins need both sides.
SHAPE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base-a", ()), ("base-b", ()), ("base-c", ()),
    ("app-1", ("base-a",)), ("app-2", ("base-a",)), ("app-3", ("base-a",)),
    ("svc-1", ("base-b",)), ("svc-2", ("base-b",)), ("tool", ("base-c",)),
    ("int-1", ("app-1", "svc-1")), ("int-2", ("app-2", "tool")), ("e2e", ("int-1", "int-2")),
)


@dataclass(frozen=True)
class Setup:
    key: str  # "one" | "two": the builders it uses
    title: str
    builders: tuple[str, ...]
    jobs: int  # -j: the sum of max_parallel (1 per builder)


ONE = Setup("one", "one builder", ("one",), 1)
TWO = Setup("two", "two builders", ("one", "two"), 2)


def make_graph(seed: int) -> Graph:
    """SHAPE with seeded sleeps (1.0-3.0 s, tenths), listed in a seeded order; the chain is
    the critical path."""
    rng = random.Random(seed)
    topo = [Image(name, round(rng.uniform(1.0, 3.0), 1), deps) for name, deps in SHAPE]
    listed = list(topo)
    rng.shuffle(listed)
    graph = Graph(listed, [i.name for i in topo], [])
    return Graph(listed, graph.topo, critical_path(graph)[0])


def dependents(graph: Graph) -> dict[str, list[str]]:
    """Image -> the images built on it."""
    out: dict[str, list[str]] = {i.name: [] for i in graph.images}
    for dep, image in graph.edges:
        out[dep].append(image)
    return out


def lower_bounds(graph: Graph) -> tuple[float, float]:
    """No run can finish sooner than its sleeps allow: one slot runs them one after another;
    two slots need at least half of them, and the critical path."""
    total = sum(i.sleep for i in graph.images)
    return round(total, 1), round(max(total / 2, critical_path(graph)[1]), 1)


def builder_entries(setup: Setup, second_host: str) -> list[dict[str, Any]]:
    """The pipeline's `builders:`; `one` is the engine DOCKER_HOST names (no address)."""
    entries: list[dict[str, Any]] = [{"name": "one", "backend": "docker", "max_parallel": 1}]
    if "two" in setup.builders:
        entries.append({"name": "two", "backend": "docker", "address": second_host,
                        "max_parallel": 1})
    return entries


def write_inputs(folder: Path, graph: Graph, token: str, setup: Setup, second_host: str,
                 *, estimates: bool) -> None:
    """The contexts and pipeline.yaml (with its builders), and the equivalent bake file
    its header names."""
    folder.mkdir(parents=True)
    graphgen.write_contexts(folder, graph, token, NAMING)
    (folder / "pipeline.yaml").write_text(graphgen.pipeline_yaml(
        graph, token, NAMING, estimates=estimates,
        builders=builder_entries(setup, second_host)))
    (folder / "docker-bake.hcl").write_text(graphgen.bake_hcl(graph, token, NAMING))


# -- what the record says -------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """Where a run built each image, from its record."""

    builder: Mapping[str, str | None]  # image -> builder (None: the record names none)
    copied_to: Mapping[str, tuple[str, ...]]
    builds: Mapping[str, int]  # the record's builders section: builds per builder
    down: Mapping[str, str]  # builders the record says went down, and why
    lost: Mapping[str, tuple[str, ...]]  # image -> builders it was lost on

    def crossed(self, graph: Graph) -> list[tuple[str, str]]:
        """The (dependency, dependent) edges whose two ends ran on different builders."""
        return [(d, i) for d, i in graph.edges
                if self.builder.get(d) and self.builder.get(i)
                and self.builder[d] != self.builder[i]]


def spread_of(record: Mapping[str, Any]) -> Spread:
    images = record.get("images")
    images = images if isinstance(images, dict) else {}
    section = record.get("builders")
    section = section if isinstance(section, dict) else {}

    def of(entry: object, key: str) -> Any:
        return entry.get(key) if isinstance(entry, dict) else None

    return Spread(
        builder={n: of(e, "builder") for n, e in images.items()},
        copied_to={n: tuple(of(e, "copied_to") or ()) for n, e in images.items()},
        builds={b: int(of(e, "builds") or 0) for b, e in section.items()},
        down={b: str(of(e, "down")) for b, e in section.items() if of(e, "down")},
        lost={n: tuple(of(e, "lost_on")) for n, e in images.items() if of(e, "lost_on")})


def spread_problems(label: str, spread: Spread, graph: Graph, setup: Setup) -> list[str]:
    """The record against the setup: with two builders, both used, none down, no build
    lost, some dependency crossed, and each that crossed copied to its dependent's builder;
    with one, nothing built elsewhere."""
    problems: list[str] = []
    used = {b for b in spread.builder.values() if b}
    if setup.key == "one":
        if used - {"one"}:
            problems.append(f"{label}: images built on {sorted(used)}, expected only one")
        return problems
    if used != set(setup.builders):
        problems.append(f"{label}: images built on {sorted(used)}, expected both "
                        f"{list(setup.builders)}")
    idle = [b for b in setup.builders if not spread.builds.get(b)]
    if idle:
        problems.append(f"{label}: the record's builders section shows no build on "
                        f"{', '.join(idle)}")
    problems += [f"{label}: builder {b} went down: {why}" for b, why in spread.down.items()]
    problems += [f"{label}: {n} was lost on {', '.join(on)}" for n, on in spread.lost.items()]
    missing = [n for n in (i.name for i in graph.images) if not spread.builder.get(n)]
    if missing:
        problems.append(f"{label}: no builder in the record for {', '.join(missing)}")
    crossed = spread.crossed(graph)
    if not crossed and not missing:
        problems.append(f"{label}: no dependency ran on another builder than its dependent")
    for dep, image in crossed:
        target = spread.builder[image]
        if target not in spread.copied_to.get(dep, ()):
            problems.append(f"{label}: {image} ran on {target}, its dependency {dep} on "
                            f"{spread.builder[dep]}, whose copied_to is "
                            f"{list(spread.copied_to.get(dep, ()))}")
    return problems


# -- what the engines hold ------------------------------------------------------------


def docker(host: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    hosted = ["--host", host] if host else []
    return subprocess.run(["docker", *hosted, *args], capture_output=True, text=True,
                          check=False, timeout=120)


def layers(host: str | None, ref: str) -> list[str] | None:
    done = docker(host, "image", "inspect", "--format", "{{json .RootFS.Layers}}", ref)
    if done.returncode != 0:
        return None
    value = json.loads(done.stdout)
    return [str(v) for v in value] if isinstance(value, list) else None


def layer_problems(label: str, graph: Graph, token: str, spread: Spread,
                   hosts: Mapping[str, str | None]) -> list[str]:
    """Each dependent was built on this run's build of its FROM dependency: its layers,
    read on the engine it ran on, start with the dependency's, read on the engine that
    built it (each build's token makes its layers its own)."""
    def host_of(name: str) -> str | None:
        return hosts.get(spread.builder.get(name) or "one")

    problems: list[str] = []
    for image in graph.images:
        if not image.deps:
            continue
        dep = image.deps[0]
        own = layers(host_of(image.name), NAMING.tag(image.name, token))
        base = layers(host_of(dep), NAMING.tag(dep, token))
        if own is None or base is None:
            problems.append(f"{label}: cannot read the layers of {image.name} or {dep}")
        elif own[:len(base)] != base:
            problems.append(f"{label}: {image.name}'s layers do not start with {dep}'s")
    return problems


def store_size(host: str | None) -> str:
    """How many images the engine's store holds (`docker image ls -a`, distinct ids)."""
    done = docker(host, "image", "ls", "-aq")
    return str(len(set(done.stdout.split()))) if done.returncode == 0 else "?"


def remove_images(tokens: Sequence[str], graph: Graph, hosts: Sequence[str | None]) -> None:
    """The runs' tags on each engine (untimed); an engine without some of them says so and
    removes the rest."""
    tags = [NAMING.tag(i.name, t) for t in tokens for i in graph.images]
    for host in hosts:
        remove_tags(tags, host=host)


def sweep(hosts: Sequence[str | None]) -> int:
    """Remove whatever this script's repository still tags on each engine (a run stopped
    before its own removal); how many tags it removed."""
    removed = 0
    for host in hosts:
        listed = docker(host, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}").stdout
        mine = [r for r in listed.split() if r.startswith(REPOSITORY + "/")]
        if mine:
            remove_tags(mine, host=host)
            removed += len(mine)
    return removed


# -- running --------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    setup: Setup
    build: Build
    spread: Spread | None


def one_run(setup: Setup, repeat: int, graph: Graph, args: argparse.Namespace,
            hosts: Mapping[str, str | None]) -> Run:
    """A cold build in a fresh folder with a fresh token, checked; its images removed."""
    label = f"r{repeat}-{setup.key}" if repeat else f"warmup-{setup.key}"
    token = secrets.token_hex(8)
    folder = OUT / label
    second = hosts["two"] or ""
    write_inputs(folder, graph, token, setup, second, estimates=not args.no_estimates)
    build = Build("buildorch", setup.title, repeat, label, folder, token,
                  command_for("buildorch", setup.jobs))
    spread = None
    try:
        execute(build, "output.log", args.settle)
        build.problems += check_cold(build, graph)
        if build.returncode == 0:
            build.problems += record_problems(build, graph, cached=False)
            spread = spread_of(build.record or {})
            build.problems += spread_problems(label, spread, graph, setup)
            build.problems += layer_problems(label, graph, token, spread, hosts)
    finally:
        remove_images([token], graph, [hosts[b] for b in setup.builders])
    for problem in build.problems:
        print(f"  {problem.splitlines()[0]}", file=sys.stderr)
    if spread is not None and setup.key == "two":
        crossed = spread.crossed(graph)
        print(f"  builds {dict(spread.builds)}; {len(crossed)} of {len(graph.edges)} "
              "dependencies crossed builders", file=sys.stderr)
    return Run(setup, build, spread)


def all_runs(graph: Graph, args: argparse.Namespace,
             hosts: Mapping[str, str | None]) -> list[Run]:
    rounds = [*([] if args.no_warmup else [0]), *range(1, args.repeats + 1)]
    runs: list[Run] = []
    for r in rounds:
        order = (ONE, TWO) if r % 2 == 0 else (TWO, ONE)
        runs += [one_run(setup, r, graph, args, hosts) for setup in order]
    return runs


# -- report ---------------------------------------------------------------------------


def timed(runs: Sequence[Run], setup: Setup) -> list[float]:
    """Wall times of the timed runs of `setup` that passed their checks."""
    return [r.build.seconds for r in runs
            if r.setup == setup and r.build.timed and r.build.ok]


def ratio(runs: Sequence[Run]) -> float | None:
    one, two = timed(runs, ONE), timed(runs, TWO)
    return statistics.median(two) / statistics.median(one) if one and two else None


def round_table(runs: Sequence[Run], graph: Graph) -> list[str]:
    lines = ["| round | first | one builder (s) | two builders (s) | two / one | load before "
             "(one/two) | two: builds one/two | two: dependencies crossed / copies |",
             "|---|---|---:|---:|---:|---|---|---|"]
    rounds = sorted({r.build.repeat for r in runs})
    for number in rounds:
        pair = {r.setup.key: r for r in runs if r.build.repeat == number}
        one, two = pair.get("one"), pair.get("two")
        first = min(pair.values(), key=lambda r: r.build.t0_epoch).setup.title

        def cell(run: Run | None) -> str:
            if run is None:
                return "-"
            return f"{run.build.seconds:.2f}" + ("" if run.build.ok else " (failed check)")

        both = one is not None and two is not None and one.build.ok and two.build.ok
        quotient = f"{two.build.seconds / one.build.seconds:.3f}" if (
            both and one is not None and two is not None) else "-"
        spread = two.spread if two else None
        builds = (f"{spread.builds.get('one', 0)}/{spread.builds.get('two', 0)}"
                  if spread else "-")
        moved = (f"{len(spread.crossed(graph))} / {sum(map(len, spread.copied_to.values()))}"
                 if spread else "-")
        loads = "/".join(r.build.load for r in (one, two) if r)
        name = f"{number}" if number else "warm-up (not timed)"
        lines.append(f"| {name} | {first} | {cell(one)} | {cell(two)} | {quotient} | {loads} "
                     f"| {builds} | {moved} |")
    return lines


def placement_lines(runs: Sequence[Run], graph: Graph) -> list[str]:
    lines = ["", "Where each two-builder run placed the images (record: `builder`), and the "
             "dependencies that crossed (dependency -> dependent: the dependent's builder is in "
             "the dependency's `copied_to`, and its layers start with its FROM dependency's):",
             ""]
    for run in runs:
        spread = run.spread
        if run.setup != TWO or spread is None:
            continue
        on = {b: [n for n in graph.topo if spread.builder.get(n) == b] for b in TWO.builders}
        crossed = ", ".join(f"{d} -> {i}" for d, i in spread.crossed(graph)) or "none"
        lines.append(f"- {run.build.label}: " + "; ".join(
            f"{b}: {', '.join(names) or '-'}" for b, names in on.items())
            + f". Crossed: {crossed}")
    return lines


def phases(run: Run, graph: Graph) -> dict[str, float]:
    """From the record, seconds: command start -> first build started, each build's time
    minus its sleep (median: the dependency check, buildx, BuildKit and, in a pool, the
    copies to the other builder, which a build does before it ends), and the last build's
    end since the command started, and -> record written (the run-scoped names removed,
    copies included)."""
    record = run.build.record or {}
    images = record.get("images")
    spans: dict[str, tuple[float, float]] = {}
    for name, entry in images.items() if isinstance(images, dict) else ():
        start, end = (entry.get(k) if isinstance(entry, dict) else None
                      for k in ("started", "ended"))
        if isinstance(start, (int, float)) and isinstance(end, (int, float)):
            spans[name] = (float(start), float(end))
    ended = record.get("ended")
    if not spans or not isinstance(ended, (int, float)):
        return {}
    sleeps = {i.name: i.sleep for i in graph.images}
    last = max(b for _a, b in spans.values())
    return {"first build": min(a for a, _b in spans.values()) - run.build.t0_epoch,
            "build minus sleep": statistics.median(
                b - a - sleeps.get(n, 0.0) for n, (a, b) in spans.items()),
            "last build ended": last - run.build.t0_epoch,
            "after last build": ended - last}


def phase_table(runs: Sequence[Run], graph: Graph) -> list[str]:
    lines = ["", "Where the time goes, per run (seconds, from its record): command start -> "
             "first build started; a build's time minus its sleep, median over the images (a "
             "build that others build on copies its image to the other builder before it "
             "ends); command start -> last build ended; last build ended -> record written "
             "(run-scoped names removed on each builder: on the builder a copy went to, that "
             "deletes the image).", "",
             "| run | wall | first build | build minus sleep | last build ended "
             "| after last build |", "|---|---:|---:|---:|---:|---:|"]
    for run in runs:
        got = phases(run, graph)
        cells = [f"{got[k]:.2f}" if k in got else "-"
                 for k in ("first build", "build minus sleep", "last build ended",
                           "after last build")]
        lines.append(f"| {run.build.label} | {run.build.seconds:.2f} | {' | '.join(cells)} |")
    return lines


def report(args: argparse.Namespace, info: Mapping[str, str], second_engine: str,
           stores: str, graph: Graph, runs: Sequence[Run]) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    one_bound, two_bound = lower_bounds(graph)
    quotient = ratio(runs)
    script = shlex.join(["benchmarks/pool_spread.py", *sys.argv[1:]])
    lines = [f"## {now}: {len(graph.images)} images, seed {args.seed}, {args.repeats} rounds, "
             "one builder against two", "", *machine_lines(info),
             f"- second engine: {second_engine}",
             f"- images in each engine's store before the run: {stores}",
             *([source_line(bake_compare.SOURCE)] if bake_compare.SOURCE else []),
             f"- script: `env -u PYTHONDONTWRITEBYTECODE .venv/bin/python {script}`",
             f"- each run: `{shown(command_for('buildorch', ONE.jobs))}` with "
             f"`builders: {json.dumps(builder_entries(ONE, 'SECOND'))}`, and "
             f"`{shown(command_for('buildorch', TWO.jobs))}` with `builders: "
             f"{json.dumps(builder_entries(TWO, '$BUILDORCH_SECOND_DOCKER_HOST'))}`; a fresh "
             "folder and token each (cold), the two alternating which goes first, each after "
             f"the machine settled (CPUs under 15 % busy over a second, at most "
             f"{args.settle:g} s)",
             *graph_lines(Spec("pool", graph, not args.no_estimates)),
             f"- lower bounds from the sleeps: one slot {seconds(one_bound)} s (their sum), "
             f"two slots {seconds(two_bound)} s (half of it, or the critical path)",
             *checks_line([r.build for r in runs],
                          "every `RUN sleep` step ran, none CACHED; every image succeeded; "
                          "each dependent's layers start with its FROM dependency's on the "
                          "engines that built them; two builders: both used, none down, "
                          "nothing lost, some dependency crossed, each crossing dependency's "
                          "`copied_to` names its dependent's builder"),
             "", "| target (issue 14) | measured | |", "|---|---:|---|",
             f"| two builders faster than one: median two / one < 1 | "
             f"{'-' if quotient is None else f'{quotient:.3f}'} | "
             f"{'no figure' if quotient is None else verdict(quotient, 1.0, inclusive=False)} |",
             "", *round_table(runs, graph), "",
             "| | one builder | two builders |", "|---|---:|---:|",
             f"| wall (s): median (min-max, n) | {stats_cell(timed(runs, ONE))} | "
             f"{stats_cell(timed(runs, TWO))} |",
             f"| over the lower bound (median, s) | {over(timed(runs, ONE), one_bound)} | "
             f"{over(timed(runs, TWO), two_bound)} |",
             f"| command start -> last build ended (s; not the target): median (min-max, n) "
             f"| {stats_cell(last_ends(runs, graph, ONE))} | "
             f"{stats_cell(last_ends(runs, graph, TWO))} |",
             *phase_table(runs, graph), *placement_lines(runs, graph)]
    return "\n".join(lines) + "\n"


def last_ends(runs: Sequence[Run], graph: Graph, setup: Setup) -> list[float]:
    """When the last build ended, for the timed runs of `setup` that passed their checks."""
    got = [phases(r, graph) for r in runs if r.setup == setup and r.build.timed and r.build.ok]
    return [g["last build ended"] for g in got if "last build ended" in g]


def over(values: Sequence[float], bound: float) -> str:
    return f"{statistics.median(values) - bound:+.2f}" if values else "-"


# -- main -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=1, help="random seed of the sleeps")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds of each")
    add_run_options(parser, "pool_spread", warmup="one run of each")
    args = parser.parse_args(argv)
    check_src(parser, args.src)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    bake_compare.SOURCE = args.src.resolve() if args.src else None
    stack_env()
    second = os.environ.get("BUILDORCH_SECOND_DOCKER_HOST")
    if not second or docker(second, "version").returncode != 0:
        print("the second engine does not answer (BUILDORCH_SECOND_DOCKER_HOST "
              f"{second or 'unset'}): `scripts/stack up --second`", file=sys.stderr)
        return 2
    info = machine_info(docker=True)  # first: the load average before this script adds its own
    version = docker(second, "version", "--format", "{{.Server.Version}}").stdout.strip()
    second_engine = f"dockerd {version or '?'} at BUILDORCH_SECOND_DOCKER_HOST ({second})"
    hosts: dict[str, str | None] = {"one": None, "two": second}
    stores = "; ".join(f"{name} {store_size(host)}" for name, host in hosts.items())
    graph = make_graph(args.seed)
    fresh_folder(OUT, MARKER, "pool_spread.py")
    print(f"{len(graph.images)} images, {len(graph.edges)} dependencies; lower bounds "
          f"{lower_bounds(graph)} s; builds in {OUT.relative_to(REPO)}/", file=sys.stderr)
    try:
        runs = all_runs(graph, args, hosts)
    finally:
        left = sweep(list(hosts.values()))
        if left:
            print(f"removed {left} leftover {REPOSITORY} tags", file=sys.stderr)
    section = report(args, info, second_engine, stores, graph, runs)
    print(section)
    if not args.no_results:
        append_results(RESULTS, section)
        print(f"appended to {RESULTS.relative_to(REPO)}", file=sys.stderr)
    return 1 if any(r.build.problems or r.build.returncode for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
