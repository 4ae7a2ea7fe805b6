"""Benchmark: `buildorch build` against `docker buildx bake` on the same graph, cold.

1. Generates (seeded) a graph of N images (default 14): one long chain (the critical path),
   one or two diamonds, a fan-out from the chain's head and independent images. Each image's
   Dockerfile is `FROM` the busybox base, or `FROM <dep>` (a named context; a second
   dependency is `COPY --from=<dep>`), then `RUN echo <token>-<name> > /token`, then
   `RUN sleep <seconds>` (1-4 s). For every build a fresh folder under
   `benchmarks/out/bake_compare-n<N>-s<SEED>/` (git-ignored) gets a fresh random token, so
   no RUN step can hit the cache of an earlier build, and two equivalent files:
     - `pipeline.yaml` for buildorch: `contexts: {dep: {image: dep}}`, tags
       `localhost:5000/bench-bake/<name>:<token>`, no push;
     - `docker-bake.hcl`: one target per image (`context`, `dockerfile`, `tags`,
       `contexts = { dep = "target:dep" }`, `output = ["type=docker"]`, the equivalent of
       buildorch's `--load`), and a `default` group of every target.
2. Runs `docker buildx bake -f docker-bake.hcl --progress plain` and
   `buildorch build -f pipeline.yaml --backend docker -j J` on the same engine, alternating
   which goes first in each of R repeats (after one untimed warm-up of each), timing each
   by wall clock (time.perf_counter around the subprocess). Every output line is
   time-stamped as it arrives, and checked: every `RUN sleep` step ran (none CACHED).
3. Prints the results and appends them to benchmarks/results/bake_compare.md: machine,
   commit, the graph, each run's wall time, medians, the ratio buildorch/bake (median), the
   critical-path lower bound (the longest chain of sleep seconds), the targets (ratio at
   most 1.10, goal 1.0), and where buildorch's time goes (from its run records and the
   time-stamped output). Exits 1 if any build fails or any sleep step was cached.

Needs the local stack: `scripts/stack up` (if DOCKER_HOST is unset, the script reads
`scripts/stack env` itself).

Run: .venv/bin/python benchmarks/bake_compare.py [--images N] [--seed S] [--repeats R] [-j J]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import secrets
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphgen
from graphgen import Graph, Image
from machine import append_results, fresh_folder, machine_info, machine_lines, stack_env, verdict

REPO = Path(__file__).resolve().parent.parent
BUILDORCH = REPO / ".venv" / "bin" / "buildorch"
RESULTS = REPO / "benchmarks" / "results" / "bake_compare.md"
OUT_ROOT = REPO / "benchmarks" / "out"
MARKER = ".bake_compare-generated"  # only folders holding this file are ever deleted

BASE_IMAGE = graphgen.BASE_IMAGE
REPOSITORY = "localhost:5000/bench-bake"
NAMING = graphgen.Naming(REPOSITORY, "bench-bake", "bake_compare.py")

# Targets from the issue: buildorch's median wall time over bake's.
RATIO_REQUIRED = 1.10
RATIO_GOAL = 1.0

_STEP_RE = re.compile(r"^#(\d+) \[[^\]]*\] (.*)$")
_STATUS_RE = re.compile(r"^#(\d+) (DONE [\d.]+s|CACHED|ERROR.*|CANCELED.*)$")
_PREFIX_RE = re.compile(r"^\[([A-Za-z0-9_.-]+)\] (.*)$")  # buildorch's plain reporter
_RECORD_RE = re.compile(r"record in (\S+record\.json)")
_ATTEMPT_RE = re.compile(r"^==> ([A-Za-z0-9_.-]+): started")  # after the dependency check


# -- the graph -------------------------------------------------------------------------


def make_graph(n: int, seed: int) -> Graph:
    """One long chain of 3-4 s images, diamonds, a fan-out and independent images.

    With -j J the chain must start at once and never wait: a scheduler that started the
    independent images (as long as 4 s each) first would finish later than the chain's sum.
    """
    rng = random.Random(seed)
    chain_len = max(4, round(n * 0.36))
    diamonds = 1 if n < 20 else 2
    fans = 1
    solos = n - chain_len - 4 * diamonds - fans
    if solos < 2:
        raise SystemExit(f"--images {n}: too few for a chain, {diamonds} diamond(s), a fan-out "
                         "and two independent images (at least 12)")
    topo: list[Image] = []
    chain = [f"chain-{i + 1}" for i in range(chain_len)]
    for i, name in enumerate(chain):
        topo.append(Image(name, rng.choice((3, 4)), (chain[i - 1],) if i else ()))
    for d in range(1, diamonds + 1):
        top, left, right, join = (f"dia{d}-{part}" for part in ("top", "left", "right", "join"))
        topo += [Image(top, rng.randint(1, 2)), Image(left, rng.randint(1, 3), (top,)),
                 Image(right, rng.randint(1, 3), (top,)),
                 Image(join, rng.randint(1, 2), (left, right))]
    topo += [Image(f"fan-{i + 1}", rng.randint(1, 3), (chain[0],)) for i in range(fans)]
    topo += [Image(f"solo-{i + 1}", rng.randint(2, 4)) for i in range(solos)]
    listed = list(topo)
    rng.shuffle(listed)
    return Graph(listed, [i.name for i in topo], chain)


def critical_path(graph: Graph) -> tuple[list[str], int]:
    """The chain of images whose sleeps add up to the longest: no build can finish sooner."""
    by_name = graph.by_name
    best: dict[str, tuple[int, list[str]]] = {}
    for name in graph.topo:
        image = by_name[name]
        before = max((best[d] for d in image.deps), key=lambda b: b[0], default=(0, []))
        best[name] = (before[0] + image.sleep, [*before[1], name])
    seconds, path = max(best.values(), key=lambda b: b[0])
    return path, seconds


# -- generated files (graphgen.py) ----------------------------------------------------


def tag(name: str, token: str) -> str:
    return NAMING.tag(name, token)


def write_inputs(folder: Path, graph: Graph, token: str, estimates: bool) -> None:
    graphgen.write_inputs(folder, graph, token, NAMING, estimates=estimates)


# -- running ---------------------------------------------------------------------------


@dataclass
class Build:
    tool: str  # "bake" | "buildorch"
    label: str  # e.g. "r1-bake"
    folder: Path
    token: str
    argv: list[str]
    seconds: float = 0.0
    returncode: int = 0
    t0_epoch: float = 0.0
    lines: list[tuple[float, str]] = field(default_factory=list)  # (seconds since start, line)
    record: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.problems


def command_for(tool: str, jobs: int) -> list[str]:
    if tool == "bake":
        return ["docker", "buildx", "bake", "-f", "docker-bake.hcl", "--progress", "plain"]
    return [str(BUILDORCH), "build", "-f", "pipeline.yaml", "--backend", "docker", "-j",
            str(jobs), "--progress", "plain"]


def run_build(tool: str, label: str, root: Path, graph: Graph, jobs: int,
              estimates: bool) -> Build:
    token = secrets.token_hex(8)
    folder = root / label
    write_inputs(folder, graph, token, estimates)
    build = Build(tool, label, folder, token, command_for(tool, jobs))
    with (folder / "output.log").open("w") as log:
        log.write(f"# {shlex.join(build.argv)} (cwd {folder}); seconds since start, line\n")
        build.t0_epoch = time.time()
        start = time.perf_counter()
        proc = subprocess.Popen(build.argv, cwd=folder, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace")
        assert proc.stdout is not None
        for line in proc.stdout:
            stamp = time.perf_counter() - start
            build.lines.append((stamp, line.rstrip("\n")))
            log.write(f"{stamp:8.3f} {line}")
        build.returncode = proc.wait()
        build.seconds = time.perf_counter() - start
    if build.returncode != 0:
        tail = "\n".join(line for _t, line in build.lines[-15:])
        build.problems.append(f"{label}: exited {build.returncode}; see {folder}/output.log\n"
                              f"{tail}")
    if tool == "buildorch":
        build.record = read_record(build)
    build.problems += check_cold(build, graph)
    return build


def read_record(build: Build) -> dict[str, Any] | None:
    for _t, line in reversed(build.lines):
        match = _RECORD_RE.search(line)
        if match:
            try:
                data = json.loads((build.folder / match.group(1)).read_text())
            except (OSError, ValueError):
                return None
            return data if isinstance(data, dict) else None
    return None


def per_image_lines(build: Build) -> dict[str, list[tuple[float, str]]]:
    """Output lines by build: buildorch prefixes `[image] `; bake's is one build session."""
    if build.tool == "bake":
        return {"": build.lines}
    groups: dict[str, list[tuple[float, str]]] = {}
    for stamp, line in build.lines:
        match = _PREFIX_RE.match(line)
        if match:
            groups.setdefault(match.group(1), []).append((stamp, match.group(2)))
    return groups


def step_states(lines: Iterable[tuple[float, str]]) -> dict[str, tuple[str, set[str]]]:
    """Step id -> (its header text, the statuses it reported: DONE, CACHED, ERROR...)."""
    steps: dict[str, tuple[str, set[str]]] = {}
    for _t, line in lines:
        header = _STEP_RE.match(line)
        if header:
            steps.setdefault(header.group(1), (header.group(2), set()))
            continue
        status = _STATUS_RE.match(line)
        if status and status.group(1) in steps:
            steps[status.group(1)][1].add(status.group(2).split()[0])
    return steps


def check_cold(build: Build, graph: Graph) -> list[str]:
    """Every image's sleep step ran (DONE, never CACHED), once per image."""
    if build.returncode != 0:
        return []
    problems: list[str] = []
    ran = 0
    for group, lines in per_image_lines(build).items():
        for step, (text, states) in step_states(lines).items():
            if not text.startswith("RUN sleep"):
                continue
            where = f"[{group}] " if group else ""
            if "CACHED" in states:
                problems.append(f"{build.label}: {where}step #{step} `{text}` was CACHED")
            elif "DONE" in states:
                ran += 1
            else:
                problems.append(f"{build.label}: {where}step #{step} `{text}` never said DONE")
    if ran != len(graph.images):
        problems.append(f"{build.label}: {ran} `RUN sleep` steps ran, expected "
                        f"{len(graph.images)} (one per image)")
    return problems


def cleanup(build: Build, graph: Graph) -> None:
    """Remove the images this build tagged (untimed), so repeats do not fill the store."""
    tags = [tag(i.name, build.token) for i in graph.images]
    subprocess.run(["docker", "image", "rm", *tags], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)


def time_command(argv: Sequence[str], times: int = 5) -> float:
    seconds = []
    for _ in range(times):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def command_costs(root: Path, some_tag: str) -> dict[str, float]:
    """What single docker commands cost on this engine: buildorch runs them per image."""
    folder = root / "cost"
    folder.mkdir(exist_ok=True)
    (folder / "Dockerfile").write_text(f"FROM {BASE_IMAGE}\nRUN echo cost > /cost\n")
    cost_tag = f"{REPOSITORY}/cost:cached"
    build = ["docker", "buildx", "build", "--progress", "plain", "--load", "-t", cost_tag,
             str(folder)]
    subprocess.run(build, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    costs = {
        "docker image inspect --format {{.Id}} IMAGE": time_command(
            ["docker", "image", "inspect", "--format", "{{.Id}}", some_tag]),
        "docker buildx version": time_command(["docker", "buildx", "version"]),
        "docker buildx build --load (one image, every step cached)": time_command(build),
    }
    subprocess.run(["docker", "image", "rm", cost_tag], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return costs


# -- analysis --------------------------------------------------------------------------


@dataclass
class Timeline:
    """Per image, seconds since the command started.

    first_step: its `RUN echo <token>-<name>` step appeared (its first own step);
    stored: its exporter step said DONE (the image is in the store under its tags);
    for buildorch also first_output (the build's first output line) and, from the run
    record, started/ended (the executor's start and end of the build: the dependency check
    with `docker image inspect`, then `docker buildx build` from exec to exit).
    Times are those at which lines reached this script: BuildKit's plain progress prints
    in bursts, so each is late by up to about 0.2 s.
    """

    first_step: dict[str, float] = field(default_factory=dict)
    stored: dict[str, float] = field(default_factory=dict)
    first_output: dict[str, float] = field(default_factory=dict)
    attempt: dict[str, float] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)
    ended: dict[str, float] = field(default_factory=dict)
    record_span: tuple[float, float] | None = None  # the run's start and end in the record


def timeline(build: Build, graph: Graph) -> Timeline:
    t = Timeline()
    for group, lines in per_image_lines(build).items():
        images = [i for i in graph.images if not group or i.name == group]
        if group and lines:
            t.first_output[group] = lines[0][0]
        exporter: dict[str, str] = {}  # step id -> image
        for stamp, line in lines:
            for image in images:
                if image.name not in t.first_step and (
                        f"RUN echo {build.token}-{image.name} >" in line):
                    t.first_step[image.name] = stamp
                if f"naming to {tag(image.name, build.token)}" in line:
                    exporter[line.split()[0]] = image.name
                    t.stored.setdefault(image.name, stamp)
            status = _STATUS_RE.match(line)
            if status and status.group(1).startswith("DONE") and line.split()[0] in exporter:
                t.stored[exporter[line.split()[0]]] = stamp
    for stamp, line in build.lines if build.tool == "buildorch" else ():
        match = _ATTEMPT_RE.match(line)
        if match:
            t.attempt.setdefault(match.group(1), stamp)
    record = build.record
    if record:
        for name, entry in record.get("images", {}).items():
            if entry.get("started") and entry.get("ended"):
                t.started[name] = entry["started"] - build.t0_epoch
                t.ended[name] = entry["ended"] - build.t0_epoch
        t.record_span = (record["started"] - build.t0_epoch, record["ended"] - build.t0_epoch)
    return t


def _median(values: Iterable[float]) -> float:
    items = list(values)
    return statistics.median(items) if items else float("nan")


def analyse(build: Build, graph: Graph) -> dict[str, float]:
    """Where the wall time goes, in seconds (NaN where the output did not say)."""
    t = timeline(build, graph)
    by_name = graph.by_name
    nan = float("nan")
    out: dict[str, float] = {"wall": build.seconds}
    out["first step"] = min(t.first_step.values(), default=nan)
    out["after last store"] = build.seconds - max(t.stored.values(), default=nan)
    # A hand-off: from a dependency stored to the dependent's first own step.
    hops = [(a, b) for a, b in graph.edges if a in t.stored and b in t.first_step]
    chain = [(a, b) for a, b in zip(graph.chain, graph.chain[1:], strict=False)
             if a in t.stored and b in t.first_step]
    out["hand-off median"] = _median(t.first_step[b] - t.stored[a] for a, b in hops)
    out["chain hand-off median"] = _median(t.first_step[b] - t.stored[a] for a, b in chain)
    out["chain hand-offs"] = sum(t.first_step[b] - t.stored[a] for a, b in chain)
    # A link of the chain, whatever overlaps: dependency stored -> dependent stored, minus
    # the dependent's sleep. Bake may start a dependent before its dependency is stored.
    out["chain link median"] = _median(t.stored[b] - t.stored[a] - by_name[b].sleep
                                       for a, b in chain if b in t.stored)
    # Per image: first own step to stored, minus its sleep (BuildKit's own work).
    out["in-BuildKit overhead median"] = _median(
        t.stored[n] - t.first_step[n] - by_name[n].sleep for n in by_name
        if n in t.stored and n in t.first_step)
    out["chain in-BuildKit overhead"] = sum(
        t.stored[n] - t.first_step[n] - by_name[n].sleep for n in graph.chain
        if n in t.stored and n in t.first_step)
    if not t.started:
        return out
    ready = [(a, b) for a, b in chain if a in t.ended and b in t.started]
    out["chain: stored -> ended"] = _median(t.ended[a] - t.stored[a] for a, _b in ready)
    out["chain: ended -> started"] = _median(t.started[b] - t.ended[a] for a, b in ready)
    out["chain: started -> attempt"] = _median(
        t.attempt[b] - t.started[b] for _a, b in ready if b in t.attempt)
    out["chain: attempt -> first output"] = _median(
        t.first_output[b] - t.attempt[b] for _a, b in ready
        if b in t.first_output and b in t.attempt)
    out["chain: first output -> first step"] = _median(
        t.first_step[b] - t.first_output[b] for _a, b in ready if b in t.first_output)
    roots = [n for n in t.started if not by_name[n].deps and n in t.first_output]
    out["roots: started -> first output"] = _median(
        t.first_output[n] - t.started[n] for n in roots)
    # The scheduler's reaction: a build that did not start in the first wave starts when
    # another ends; the time from the latest end before its start.
    first_wave = min(t.started.values()) + 0.05
    reactions = []
    for start in t.started.values():
        before = [e for e in t.ended.values() if e <= start + 0.001]
        if start > first_wave and before:
            reactions.append(start - max(before))
    out["scheduler reaction max"] = max(reactions, default=nan)
    out["process start to first build"] = min(t.started.values())
    if t.record_span:
        out["last build end to record end"] = t.record_span[1] - max(t.ended.values())
        out["record end to exit"] = build.seconds - t.record_span[1]
    return out


def chain_timeline(build: Build, graph: Graph) -> list[str]:
    t = timeline(build, graph)

    def cell(values: Mapping[str, float], name: str) -> str:
        return f"{values[name]:.2f}" if name in values else "-"

    return [f"| {build.label} | {name} ({graph.by_name[name].sleep} s) | "
            + " | ".join(cell(v, name) for v in (t.started, t.first_output, t.first_step,
                                                   t.stored, t.ended)) + " |"
            for name in graph.chain]


# -- report ----------------------------------------------------------------------------


ANALYSIS_ROWS = (
    ("first step", "command start -> first `RUN echo` step"),
    ("hand-off median", "hand-off: dependency stored -> dependent's first step (median "
                        "over all edges)"),
    ("chain hand-off median", "the same along the long chain (median)"),
    ("chain hand-offs", "sum of the hand-offs along the long chain"),
    ("chain link median", "a link of the long chain: dependency stored -> dependent stored, "
                          "minus the dependent's sleep (median)"),
    ("in-BuildKit overhead median", "per image: first step -> stored, minus the sleep "
                                    "(median)"),
    ("chain in-BuildKit overhead", "the same summed along the long chain"),
    ("after last store", "last image stored -> command exited"),
    ("process start to first build", "buildorch: command start -> first build started "
                                     "(record)"),
    ("roots: started -> first output", "buildorch: build started -> its first output line, "
                                       "images without dependencies (median)"),
    ("chain: stored -> ended", "buildorch, chain: image stored -> build ended (buildx "
                               "exits; median)"),
    ("chain: ended -> started", "buildorch, chain: dependency ended -> dependent started "
                                "(scheduler; median)"),
    ("chain: started -> attempt", "buildorch, chain: build started -> `==> NAME: started` "
                                  "(the dependency check: `docker image inspect`; median)"),
    ("chain: attempt -> first output", "buildorch, chain: `==> NAME: started` -> first output "
                                       "line (`docker buildx build` starts; median)"),
    ("chain: first output -> first step", "buildorch, chain: first output line -> first step "
                                          "(median)"),
    ("scheduler reaction max", "buildorch: a build ended -> the next build started (max "
                               "over builds after the first wave)"),
    ("last build end to record end", "buildorch: last build ended -> record written (run "
                                     "tags removed, one `docker image rm` each)"),
    ("record end to exit", "buildorch: record written -> process exited"),
)


def report(args: argparse.Namespace, graph: Graph, info: dict[str, str], builds: list[Build],
           costs: Mapping[str, float]) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    path, bound = critical_path(graph)
    timed = [b for b in builds if not b.label.startswith("warmup")]
    bake = [b.seconds for b in timed if b.tool == "bake"]
    orch = [b.seconds for b in timed if b.tool == "buildorch"]
    failed = [p for b in builds for p in b.problems]
    by_name = graph.by_name
    lines = [
        f"## {now}: {len(graph.images)} images, seed {args.seed}, -j {args.jobs}, "
        f"{args.repeats} repeats",
        "",
        *machine_lines(info),
        f"- graph: {len(graph.images)} images, {len(graph.edges)} edges, "
        f"{sum(i.sleep for i in graph.images)} s of sleep in all; estimated_seconds "
        f"{'given (= the sleep)' if not args.no_estimates else 'not given'} to buildorch",
        "  - " + "; ".join(
            f"{n} {by_name[n].sleep}s" + (f" <- {', '.join(by_name[n].deps)}"
                                         if by_name[n].deps else "")
            for n in graph.topo),
        f"- critical path (lower bound: its sleeps alone): {' -> '.join(path)} = {bound} s",
        f"- bake: `{shlex.join(command_for('bake', args.jobs))}` (no parallelism cap: "
        f"every target is submitted at once); buildorch: "
        f"`{shlex.join(command_for('buildorch', args.jobs)).replace(str(REPO) + '/', '')}`",
        "- cold check (every `RUN sleep` step ran, none CACHED; a fresh token per build): "
        + ("passed" if not failed else "FAILED"),
        *(f"  - {p.splitlines()[0]}" for p in failed),
        "",
        "| run | first | bake (s) | buildorch (s) | buildorch / bake |",
        "|---|---|---:|---:|---:|",
    ]
    for r in range(1, args.repeats + 1):
        pair = {b.tool: b for b in timed if b.label.startswith(f"r{r}-")}
        if len(pair) == 2:
            first = min(pair.values(), key=lambda b: b.t0_epoch).tool
            lines.append(f"| {r} | {first} | {pair['bake'].seconds:.2f} | "
                         f"{pair['buildorch'].seconds:.2f} | "
                         f"{pair['buildorch'].seconds / pair['bake'].seconds:.3f} |")
    if bake and orch:
        ratio = statistics.median(orch) / statistics.median(bake)
        lines += [
            f"| median | | {statistics.median(bake):.2f} | {statistics.median(orch):.2f} | "
            f"{ratio:.3f} |",
            "",
            f"Lower bound {bound} s: bake median is {statistics.median(bake) - bound:+.2f} s "
            f"over it, buildorch {statistics.median(orch) - bound:+.2f} s.",
            "",
            "| target (from the issue, on the medians) | measured | |",
            "|---|---:|---|",
            f"| buildorch / bake <= {RATIO_REQUIRED:.2f} | {ratio:.3f} | "
            f"{verdict(ratio, RATIO_REQUIRED, inclusive=True)} |",
            f"| goal: buildorch / bake <= {RATIO_GOAL:.2f} | {ratio:.3f} | "
            f"{verdict(ratio, RATIO_GOAL, inclusive=True)} |",
        ]
    lines += analysis_table(graph, timed)
    if costs:
        lines += ["", "Single commands on this engine (median of 5): " + "; ".join(
            f"`{k}` {v:.3f} s" for k, v in costs.items())]
    lines += ["", "The long chain, seconds since each command started (started and ended: "
              "buildorch's record; first output: the build's first output line, buildorch "
              "only):", "",
              "| run | image | started | first output | first step | stored | ended |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for build in timed:
        lines += chain_timeline(build, graph)
    return "\n".join(lines) + "\n"


def analysis_table(graph: Graph, timed: list[Build]) -> list[str]:
    results: dict[str, list[dict[str, float]]] = {"bake": [], "buildorch": []}
    for build in timed:
        if build.returncode == 0:
            results[build.tool].append(analyse(build, graph))
    if not results["bake"] and not results["buildorch"]:
        return []
    lines = ["", "Where the time goes (seconds, median over the timed runs; from the "
             "time-stamped output and buildorch's run records):", "",
             "| measure | bake | buildorch |", "|---|---:|---:|"]
    for key, text in ANALYSIS_ROWS:
        cells = []
        for tool in ("bake", "buildorch"):
            values = [r[key] for r in results[tool] if key in r and r[key] == r[key]]
            cells.append(f"{statistics.median(values):.2f}" if values else "-")
        lines.append(f"| {text} | {cells[0]} | {cells[1]} |")
    return lines


# -- main ------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--images", type=int, default=14, help="images in the graph (>= 12)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the graph")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each tool")
    parser.add_argument("-j", "--jobs", type=int, default=4, help="buildorch's -j")
    parser.add_argument("--no-warmup", action="store_true",
                        help="skip the untimed warm-up run of each tool")
    parser.add_argument("--no-estimates", action="store_true",
                        help="do not give buildorch estimated_seconds (the sleeps)")
    parser.add_argument("--no-results", action="store_true",
                        help="print only; do not append to benchmarks/results/bake_compare.md")
    args = parser.parse_args(argv)
    if args.images < 12 or args.repeats < 1 or args.jobs < 1:
        parser.error("--images must be at least 12, --repeats and -j at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    stack_env()
    info = machine_info(docker=True)  # first: the load average before this script adds its own
    graph = make_graph(args.images, args.seed)
    path, bound = critical_path(graph)
    root = OUT_ROOT / f"bake_compare-n{args.images}-s{args.seed}"
    fresh_folder(root, MARKER, "bake_compare.py")
    print(f"graph: {len(graph.images)} images, {len(graph.edges)} edges; critical path "
          f"{' -> '.join(path)} = {bound} s; builds in {root.relative_to(REPO)}/",
          file=sys.stderr)
    plan: list[tuple[str, str]] = []
    if not args.no_warmup:
        plan += [("bake", "warmup-bake"), ("buildorch", "warmup-buildorch")]
    for r in range(1, args.repeats + 1):
        order = ("bake", "buildorch") if r % 2 else ("buildorch", "bake")
        plan += [(tool, f"r{r}-{tool}") for tool in order]
    builds: list[Build] = []
    costs: dict[str, float] = {}
    for tool, label in plan:
        build = run_build(tool, label, root, graph, args.jobs, not args.no_estimates)
        builds.append(build)
        status = "ok" if build.ok else "FAILED"
        print(f"{label}: {build.seconds:.2f} s {status}", file=sys.stderr)
        for problem in build.problems:
            print(f"  {problem}", file=sys.stderr)
        if not costs and build.returncode == 0:
            costs = command_costs(root, tag(graph.topo[0], build.token))
        cleanup(build, graph)
    section = report(args, graph, info, builds, costs)
    print(section)
    if not args.no_results:
        append_results(RESULTS, section)
        print(f"appended to {RESULTS.relative_to(REPO)}", file=sys.stderr)
    return 0 if all(b.ok for b in builds) else 1


if __name__ == "__main__":
    sys.exit(main())
