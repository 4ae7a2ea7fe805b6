"""Benchmark: `buildorch build` against `docker buildx bake` on the same graphs, cold and cached.

1. Generates (seeded) up to three graphs (`--graph existing|chain|large|both|all`, default
   both: existing and chain), with graphgen.py. Each image's Dockerfile is `FROM` the
   busybox base, or `FROM <dep>` (a named context; a second dependency is
   `COPY --from=<dep>`), then `RUN echo <token>-<name> > /token`, then `RUN sleep <seconds>`.
   - existing: N images (default 14): one long chain of 3-4 s images (the critical path),
     one or two diamonds, a fan-out from the chain's head and independent images of 1-4 s;
   - chain: 12 images of short steps (sleeps of 0.3-1.4 s), a chain of 6 links and
     consumers of its links: a fan-out from its head, a diamond, a test image on a middle
     link, and a second, shorter chain of 3 (`make_chain_graph`);
   - large: M images (default 200) of skip_unchanged.py's graph (each on 0-3 earlier ones,
     a small context copied in) with RUN steps sleeping 0.01-0.05 s.
   Every folder of `benchmarks/out/bake_compare-n<N>-s<SEED>/` (git-ignored) gets a fresh
   random token, so no RUN step of its first build can hit the cache of an earlier build,
   and two equivalent files: `pipeline.yaml` for buildorch and `docker-bake.hcl` (one
   target per image, `contexts = { dep = "target:dep" }`, `output = ["type=docker"]`).
2. existing and chain: in each of R repeats (after one untimed warm-up round), for each
   tool, alternating which goes first: a cold build in a fresh folder, then at once a fully
   cached rerun (same folder, same token, nothing changed; buildorch without
   --skip-unchanged). `docker buildx bake -f docker-bake.hcl --progress plain` against
   `buildorch build -f pipeline.yaml --backend docker --no-skip-unchanged --progress plain
   -v` (-v: each image's BuildKit lines, prefixed `[name] `, for the checks and the
   analysis; `-j J` only when given: by default buildorch chooses, and the run record says
   what it chose). Each run is timed by wall clock (time.perf_counter around the
   subprocess) after the machine has settled (CPUs under 15 % busy for a second, at most
   `--settle` seconds); every output line is time-stamped as it arrives. Checks: cold, every
   `RUN sleep` step ran (none CACHED); cached, every RUN step was CACHED (in the output,
   and for buildorch in its run record: cached steps = all steps, every image).
3. large: one cold buildorch build (timed, not judged), then R fully cached reruns of it;
   buildorch without -v (checked from its record). Then the same for bake, after all of
   buildorch's runs: bake's 200 targets at once may fail on this engine
   (DeadlineExceeded), a result, noted, not a failed check, and a failed bake leaves the
   engine busy for a while after it exits.
4. Prints the results and appends them to benchmarks/results/bake_compare.md: machine,
   commit, each graph, each run's wall time, medians and spreads (min-max) of the runs
   that passed their checks, the ratios buildorch/bake of the medians, cold and cached, and
   the verdicts against issue 13's targets; where the time goes (from buildorch's run
   records and the time-stamped output), cold and cached, and the long chain's timeline.
   Exits 1 if any build fails or a check fails (a missed target does not).

Needs the local stack: `scripts/stack up` (if DOCKER_HOST is unset, the script reads
`scripts/stack env` itself).

Run: .venv/bin/python benchmarks/bake_compare.py [--graph G] [--images N] [--large-images M]
         [--seed S] [--repeats R] [-j J] [--settle SECONDS] [--no-warmup] [--no-large-bake]
         [--no-estimates] [--src DIR] [--no-results]
`--src DIR` runs the buildorch of another checkout (a `git worktree` of a commit) with this
checkout's interpreter: `PYTHONPATH=DIR .venv/bin/python -P -m buildorch`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import secrets
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import graphgen
from graphgen import Graph, Image, seconds
from machine import append_results, fresh_folder, machine_info, machine_lines, stack_env, verdict

REPO = Path(__file__).resolve().parent.parent
BUILDORCH = REPO / ".venv" / "bin" / "buildorch"
PYTHON = REPO / ".venv" / "bin" / "python"
RESULTS = REPO / "benchmarks" / "results" / "bake_compare.md"
OUT_ROOT = REPO / "benchmarks" / "out"
MARKER = ".bake_compare-generated"  # only folders holding this file are ever deleted

BASE_IMAGE = graphgen.BASE_IMAGE
REPOSITORY = "localhost:5000/bench-bake"
NAMING = graphgen.Naming(REPOSITORY, "bench-bake", "bake_compare.py")
# The large graph's two tools share one folder and token: bake tags in another repository.
BAKE_NAMING = graphgen.Naming("localhost:5000/bench-bake-bake", "bench-bake", "bake_compare.py")

GRAPHS = {"existing": ("existing",), "chain": ("chain",), "large": ("large",),
          "both": ("existing", "chain"), "all": ("existing", "chain", "large")}
TITLES = {"existing": "existing graph", "chain": "chain-heavy graph",
          "large": "large graph, fully cached"}

# Targets from issue 13, on the medians: buildorch / bake, cold (required, goal) ...
COLD_TARGETS: dict[str, tuple[float, float | None]] = {"existing": (1.0, None),
                                                       "chain": (1.10, 1.0)}
CACHED_RATIO = 1.0  # ... and a fully cached rerun no slower than bake's
LARGE_SECONDS = 86.0  # a 200-image fully cached buildorch run, at most
LARGE_IMAGES = 200

QUIET_LIMIT = 0.15  # before each run: CPUs less than 15 % busy over a second

_STEP_RE = re.compile(r"^#(\d+) \[[^\]]*\] (.*)$")
_STATUS_RE = re.compile(r"^#(\d+) (DONE [\d.]+s|CACHED|ERROR.*|CANCELED.*)$")
_PREFIX_RE = re.compile(r"^\[([A-Za-z0-9_.-]+)\] (.*)$")  # buildorch's plain reporter, -v
_RECORD_RE = re.compile(r"record in (\S+record\.json)")
_ATTEMPT_RE = re.compile(r"^==> ([A-Za-z0-9_.-]+): started")  # after the dependency check


# -- the graphs ------------------------------------------------------------------------


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


def make_chain_graph(seed: int) -> Graph:
    """12 images of short steps whose longest chain has 6 links, the shape of issue 13's.

    chain-1 .. chain-6 sleep 0.8-1.4 s each (the critical path), the others 0.3-1.4 s
    (tenths). Links with other consumers, as a real project has them: `lint` on chain-1 (a
    fan-out from the head), `codegen` on chain-2 that chain-4 also copies from (a diamond:
    chain-2 -> chain-3 | codegen -> chain-4), `chain-3-test` on a middle link; and a second,
    shorter chain side-1 -> side-2 -> side-3 of its own. So only chain-4 -> chain-5 ->
    chain-6 and the side chain are links without other consumers.
    """
    rng = random.Random(seed)

    def sleep(low: float = 0.3) -> float:
        return round(rng.uniform(low, 1.4), 1)

    chain = [f"chain-{i}" for i in range(1, 7)]
    topo = [Image("chain-1", sleep(0.8)), Image("chain-2", sleep(0.8), ("chain-1",)),
            Image("lint", sleep(), ("chain-1",)), Image("chain-3", sleep(0.8), ("chain-2",)),
            Image("codegen", sleep(), ("chain-2",)),
            Image("chain-3-test", sleep(), ("chain-3",)),
            Image("chain-4", sleep(0.8), ("chain-3", "codegen")),
            Image("chain-5", sleep(0.8), ("chain-4",)),
            Image("chain-6", sleep(0.8), ("chain-5",)),
            Image("side-1", sleep()), Image("side-2", sleep(), ("side-1",)),
            Image("side-3", sleep(), ("side-2",))]
    listed = list(topo)
    rng.shuffle(listed)
    return Graph(listed, [i.name for i in topo], chain)


def make_large_graph(n: int, seed: int) -> Graph:
    """skip_unchanged.py's graph of n images (each on 0-3 earlier ones, 2-4 small files
    copied in), each with a RUN step sleeping 0.01-0.05 s, like the issue's 200 images."""
    # Imported here: skip_unchanged imports this module (step_states) at its top.
    from skip_unchanged import make_graph as random_graph

    graph = random_graph(n, seed)
    rng = random.Random(seed)
    sleeps = {name: round(rng.uniform(0.01, 0.05), 2) for name in graph.topo}
    images = [replace(i, sleep=sleeps[i.name]) for i in graph.images]
    return Graph(images, graph.topo, longest_chain(Graph(images, graph.topo, [])))


def longest_chain(graph: Graph) -> list[str]:
    """The chain with the most images (not seconds)."""
    by_name = graph.by_name
    best: dict[str, list[str]] = {}
    for name in graph.topo:
        before = max((best[d] for d in by_name[name].deps), key=len, default=[])
        best[name] = [*before, name]
    return max(best.values(), key=len, default=[])


def critical_path(graph: Graph) -> tuple[list[str], float]:
    """The chain of images whose sleeps add up to the longest: no build can finish sooner."""
    by_name = graph.by_name
    best: dict[str, tuple[float, list[str]]] = {}
    for name in graph.topo:
        image = by_name[name]
        before = max((best[d] for d in image.deps), key=lambda b: b[0], default=(0.0, []))
        best[name] = (before[0] + image.sleep, [*before[1], name])
    total, path = max(best.values(), key=lambda b: b[0])
    return path, round(total, 2)


@dataclass(frozen=True)
class Spec:
    kind: str  # existing | chain | large
    graph: Graph
    estimates: bool  # estimated_seconds (the sleeps) given to buildorch


def make_spec(kind: str, args: argparse.Namespace) -> Spec:
    if kind == "existing":
        return Spec(kind, make_graph(args.images, args.seed), not args.no_estimates)
    if kind == "chain":
        return Spec(kind, make_chain_graph(args.seed), not args.no_estimates)
    return Spec(kind, make_large_graph(args.large_images, args.seed), False)


# -- generated files (graphgen.py) ----------------------------------------------------


def tag(name: str, token: str) -> str:
    return NAMING.tag(name, token)


def write_inputs(folder: Path, graph: Graph, token: str, estimates: bool) -> None:
    graphgen.write_inputs(folder, graph, token, NAMING, estimates=estimates)


# -- running ---------------------------------------------------------------------------


@dataclass
class Build:
    tool: str  # "bake" | "buildorch"
    mode: str  # "cold" | "cached"
    repeat: int  # 1..R; 0: a warm-up, or the large graph's cold builds (not compared)
    label: str  # e.g. "r1-bake", "r1-bake-cached"
    folder: Path
    token: str
    argv: list[str]
    seconds: float = 0.0
    returncode: int = 0
    t0_epoch: float = 0.0
    load: str = ""  # the 1-minute load average just before it
    settled: float = 0.0  # seconds waited for a quiet machine before it
    lines: list[tuple[float, str]] = field(default_factory=list)  # (seconds since start, line)
    record: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)  # failed checks
    remarks: list[str] = field(default_factory=list)  # results, not failed checks

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.problems

    @property
    def timed(self) -> bool:
        return self.repeat > 0

    @property
    def jobs(self) -> int | None:
        """The -j the run used, from its record (buildorch's default when not given)."""
        options = (self.record or {}).get("options")
        value = options.get("jobs") if isinstance(options, dict) else None
        return value if isinstance(value, int) else None


# --src DIR: run the buildorch of another checkout (a `git worktree` of a commit) with this
# checkout's interpreter and packages: `python -P -m buildorch` with PYTHONPATH=DIR.
SOURCE: Path | None = None


def command_for(tool: str, jobs: int | None, *, verbose: bool = True) -> list[str]:
    if tool == "bake":
        return ["docker", "buildx", "bake", "-f", "docker-bake.hcl", "--progress", "plain"]
    program = [str(PYTHON), "-P", "-m", "buildorch"] if SOURCE else [str(BUILDORCH)]
    argv = [*program, "build", "-f", "pipeline.yaml", "--backend", "docker",
            "--no-skip-unchanged", "--progress", "plain"]
    argv += ["-v"] if verbose else []
    return argv + (["-j", str(jobs)] if jobs else [])


def shown(argv: Sequence[str]) -> str:
    return shlex.join(argv).replace(str(REPO) + "/", "")


def child_env() -> dict[str, str]:
    """Bytecode cached as an installed package has it: without this every buildorch run
    would compile its modules again (about 0.1 s)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if SOURCE:
        env["PYTHONPATH"] = str(SOURCE)
    return env


def source_line(source: Path) -> str:
    """Which buildorch ran, for the results: --src's checkout and commit."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(source), *args], capture_output=True,
                              text=True, check=False).stdout.strip()

    head = f"`--src {source}` (`PYTHONPATH={source} .venv/bin/python -P -m buildorch`)"
    if not (source / ".git").exists():
        return (f"- buildorch under test: {head}, not a git checkout (a `git archive` of a "
                "commit); the commit line above is this script's checkout")
    dirty = git("status", "--porcelain", "--", "buildorch")
    return (f"- buildorch under test: {head}, commit {git('rev-parse', '--short', 'HEAD') or '?'}"
            + (" + uncommitted changes in buildorch/" if dirty else "")
            + "; the commit line above is this script's checkout")


def quiet(most: float) -> float:
    """Wait for a quiet machine (skip_unchanged.py's settle); the seconds waited."""
    if most <= 0:
        return 0.0
    from skip_unchanged import settle  # here: skip_unchanged imports this module

    return settle(QUIET_LIMIT, most)


def execute(build: Build, log_name: str, settle_most: float) -> Build:
    """Run it in its folder; every output line time-stamped (also into log_name there)."""
    build.settled = quiet(settle_most)
    build.load = Path("/proc/loadavg").read_text().split()[0]
    with (build.folder / log_name).open("w") as log:
        log.write(f"# {shlex.join(build.argv)} (cwd {build.folder}); seconds since start, "
                  "line\n")
        build.t0_epoch = time.time()
        start = time.perf_counter()
        proc = subprocess.Popen(build.argv, cwd=build.folder, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace",
                                env=child_env())
        assert proc.stdout is not None
        for line in proc.stdout:
            stamp = time.perf_counter() - start
            build.lines.append((stamp, line.rstrip("\n")))
            log.write(f"{stamp:8.3f} {line}")
        build.returncode = proc.wait()
        build.seconds = time.perf_counter() - start
    if build.returncode != 0:
        tail = "\n".join(line for _t, line in build.lines[-15:])
        build.problems.append(f"{build.label}: exited {build.returncode}; see "
                              f"{build.folder}/{log_name}\n{tail}")
    if build.tool == "buildorch":
        build.record = read_record(build)
    status = "ok" if build.returncode == 0 else f"exit {build.returncode}"
    jobs = f", -j {build.jobs}" if build.jobs else ""
    print(f"{build.label} ({build.mode}): {build.seconds:.2f} s {status}{jobs}",
          file=sys.stderr)
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


def cold_then_cached(tool: str, repeat: int, root: Path, spec: Spec,
                     args: argparse.Namespace) -> list[Build]:
    """A cold build in a fresh folder with a fresh token, then at once the same command
    again there, nothing changed; the tagged images removed after (untimed)."""
    label = f"r{repeat}-{tool}" if repeat else f"warmup-{tool}"
    token = secrets.token_hex(8)
    folder = root / spec.kind / label
    write_inputs(folder, spec.graph, token, spec.estimates)
    argv = command_for(tool, args.jobs)
    cold = execute(Build(tool, "cold", repeat, label, folder, token, argv), "output.log",
                   args.settle)
    cold.problems += check_cold(cold, spec.graph)
    builds = [cold]
    if cold.returncode == 0:
        cached = execute(Build(tool, "cached", repeat, f"{label}-cached", folder, token, argv),
                         "output-cached.log", args.settle)
        cached.problems += check_cached(cached, spec.graph, lines=True)
        builds.append(cached)
    for build in builds:
        for problem in build.problems:
            print(f"  {problem}", file=sys.stderr)
    remove_tags([tag(i.name, token) for i in spec.graph.images])
    return builds


def pair_runs(root: Path, spec: Spec, args: argparse.Namespace) -> list[Build]:
    rounds = [] if args.no_warmup else [0]
    builds: list[Build] = []
    for r in [*rounds, *range(1, args.repeats + 1)]:
        order = ("bake", "buildorch") if r == 0 or r % 2 else ("buildorch", "bake")
        for tool in order:
            builds += cold_then_cached(tool, r, root, spec, args)
    return builds


def large_runs(root: Path, spec: Spec, args: argparse.Namespace) -> list[Build]:
    """One folder, one token; bake tags in its own repository. buildorch cold once, then R
    fully cached reruns; then the same for bake. Not alternating: bake's 200 targets at once
    fail on this engine, and a failed bake leaves the engine busy for a while (cancelled
    exports) after it exits, which doubled the buildorch run after it (68-76 s against
    35 s, 2026-12-01)."""
    graph, token = spec.graph, secrets.token_hex(8)
    folder = root / "large"
    graphgen.write_inputs(folder, graph, token, NAMING, estimates=spec.estimates,
                          bake_naming=BAKE_NAMING)
    tools = ("buildorch", "bake") if args.large_bake else ("buildorch",)
    argvs = {"buildorch": command_for("buildorch", args.jobs, verbose=False),
             "bake": command_for("bake", args.jobs)}
    builds: list[Build] = []
    try:
        for tool in tools:
            cold = execute(Build(tool, "cold", 0, f"large-{tool}", folder, token, argvs[tool]),
                           f"output-cold-{tool}.log", args.settle)
            builds.append(large_checked(cold, graph))
            for r in range(1, args.repeats + 1):
                run = Build(tool, "cached", r, f"r{r}-{tool}-cached", folder, token,
                            argvs[tool])
                execute(run, f"output-r{r}-{tool}.log", args.settle)
                run.problems += check_cached(run, graph, lines=tool == "bake")
                builds.append(large_checked(run, graph))
    finally:
        remove_tags([n.tag(i.name, token) for n in (NAMING, BAKE_NAMING) for i in graph.images])
    return builds


def large_checked(build: Build, graph: Graph) -> Build:
    """Bake's 200 targets at once may fail on this engine: a result, not a failed check."""
    if build.tool == "bake" and build.problems:
        build.remarks = [p.splitlines()[0] for p in build.problems]
        errors = [line for _t, line in build.lines if "ERROR" in line]
        if errors:
            build.remarks.append(f"{build.label}: last error `{errors[-1][:200]}`")
        build.problems = []
    elif build.tool == "buildorch" and build.mode == "cold" and build.returncode == 0:
        build.problems += record_problems(build, graph, cached=False)
    for text in (*build.problems, *build.remarks):
        print(f"  {text.splitlines()[0]}", file=sys.stderr)
    return build


def remove_tags(tags: Sequence[str], host: str | None = None) -> None:
    """Remove the images a build tagged (untimed), so repeats do not fill the store; from
    the engine at `host` when given (else DOCKER_HOST's)."""
    hosted = ["--host", host] if host else []
    for i in range(0, len(tags), 100):
        subprocess.run(["docker", *hosted, "image", "rm", *tags[i:i + 100]],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


# -- checks ----------------------------------------------------------------------------


def per_image_lines(build: Build) -> dict[str, list[tuple[float, str]]]:
    """Output lines by build: buildorch prefixes `[image] ` (with -v); bake's is one build
    session."""
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


def check_cached(build: Build, graph: Graph, *, lines: bool) -> list[str]:
    """Every RUN step CACHED: each image's `RUN echo <token>-<name>` and as many `RUN sleep`
    steps as images that sleep, from the output (`lines`); for buildorch also from its
    record, every image with all its steps cached."""
    if build.returncode != 0:
        return []
    problems: list[str] = []
    if lines:
        echoed: set[str] = set()
        slept = 0
        echo = re.compile(rf"RUN echo {re.escape(build.token)}-(\S+) >")
        for group, group_lines in per_image_lines(build).items():
            for step, (text, states) in step_states(group_lines).items():
                if not text.startswith("RUN "):
                    continue
                if "CACHED" not in states:
                    where = f"[{group}] " if group else ""
                    problems.append(f"{build.label}: {where}step #{step} `{text}` not CACHED "
                                    f"({', '.join(sorted(states)) or 'no status'})")
                elif match := echo.match(text):
                    echoed.add(match.group(1))
                elif text.startswith("RUN sleep"):
                    slept += 1
        missing = [i.name for i in graph.images if i.name not in echoed]
        if missing:
            problems.append(f"{build.label}: no CACHED `RUN echo` step shown for "
                            f"{len(missing)} images: {', '.join(missing[:5])}")
        sleeping = sum(1 for i in graph.images if i.sleep)
        if slept != sleeping:
            problems.append(f"{build.label}: {slept} CACHED `RUN sleep` steps shown, expected "
                            f"{sleeping}")
    if build.tool == "buildorch":
        problems += record_problems(build, graph, cached=True)
    return problems


def record_problems(build: Build, graph: Graph, *, cached: bool) -> list[str]:
    """From buildorch's record: every image succeeded (and with `cached`, with as many
    cached steps as steps)."""
    if build.record is None:
        return [f"{build.label}: no run record named in its output"]
    images = build.record.get("images")
    images = images if isinstance(images, dict) else {}
    problems: list[str] = []
    for image in graph.images:
        entry = images.get(image.name)
        if not isinstance(entry, dict):
            problems.append(f"{build.label}: {image.name} not in the run record")
            continue
        done, total = entry.get("cached_steps"), entry.get("total_steps")
        if entry.get("state") != "succeeded":
            problems.append(f"{build.label}: {image.name}: state {entry.get('state')} in the "
                            "record")
        elif cached and isinstance(done, int) and isinstance(total, int) and done < total:
            problems.append(f"{build.label}: {image.name}: {done} of {total} steps cached "
                            "(record)")
    return problems[:5] + ([f"{build.label}: ... {len(problems) - 5} more"]
                           if len(problems) > 5 else [])


def time_command(argv: Sequence[str], times: int = 5) -> float:
    values = []
    for _ in range(times):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        values.append(time.perf_counter() - start)
    return statistics.median(values)


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
    for buildorch also first_output (the build's first output line), attempt (`==> NAME:
    started`) and, from the run record, started/ended (the executor's start and end of the
    build: the dependency check, then `docker buildx build` from exec to exit). A chain
    submitted as one bake may start a member's build later than its process: any of these
    may be missing, and the analysis shows "-" for what it cannot compute.
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


def _epoch(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and value else None


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
    record = build.record or {}
    entries = record.get("images")
    for name, entry in (entries if isinstance(entries, dict) else {}).items():
        started, ended = (_epoch(entry.get(k)) if isinstance(entry, dict) else None
                          for k in ("started", "ended"))
        if started is not None and ended is not None:
            t.started[name] = started - build.t0_epoch
            t.ended[name] = ended - build.t0_epoch
    span = _epoch(record.get("started")), _epoch(record.get("ended"))
    if span[0] is not None and span[1] is not None:
        t.record_span = (span[0] - build.t0_epoch, span[1] - build.t0_epoch)
    return t


def _median(values: Iterable[float]) -> float:
    items = list(values)
    return statistics.median(items) if items else float("nan")


def analyse(build: Build, graph: Graph) -> dict[str, float]:
    """Where the wall time goes, in seconds (NaN where the output did not say). In a cached
    run no sleep runs: a link's or an image's overhead is then all of its time."""
    t = timeline(build, graph)
    by_name = graph.by_name

    def sleep(name: str) -> float:
        return by_name[name].sleep if build.mode == "cold" else 0.0

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
    if chain:
        out["chain hand-offs"] = sum(t.first_step[b] - t.stored[a] for a, b in chain)
    # A link of the chain, whatever overlaps: dependency stored -> dependent stored, minus
    # the dependent's sleep. Bake may start a dependent before its dependency is stored.
    out["chain link median"] = _median(t.stored[b] - t.stored[a] - sleep(b)
                                       for a, b in chain if b in t.stored)
    # Per image: first own step to stored, minus its sleep (BuildKit's own work).
    out["in-BuildKit overhead median"] = _median(
        t.stored[n] - t.first_step[n] - sleep(n) for n in by_name
        if n in t.stored and n in t.first_step)
    own = [n for n in graph.chain if n in t.stored and n in t.first_step]
    if own:
        out["chain in-BuildKit overhead"] = sum(t.stored[n] - t.first_step[n] - sleep(n)
                                                for n in own)
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
        t.first_step[b] - t.first_output[b] for _a, b in ready
        if b in t.first_output and b in t.first_step)
    roots = [n for n in t.started if n in by_name and not by_name[n].deps
             and n in t.first_output]
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
    if t.record_span and t.ended:
        out["last build end to record end"] = t.record_span[1] - max(t.ended.values())
        out["record end to exit"] = build.seconds - t.record_span[1]
    return out


def chain_timeline(build: Build, graph: Graph) -> list[str]:
    t = timeline(build, graph)

    def cell(values: Mapping[str, float], name: str) -> str:
        return f"{values[name]:.2f}" if name in values else "-"

    return [f"| {build.label} | {name} ({seconds(graph.by_name[name].sleep)} s) | "
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
                                     "tags removed)"),
    ("record end to exit", "buildorch: record written -> process exited"),
)


def compared(builds: Sequence[Build], tool: str, mode: str) -> list[float]:
    """Wall times of the timed runs that passed their checks."""
    return [b.seconds for b in builds if b.timed and b.ok and b.tool == tool and b.mode == mode]


def stats_cell(values: Sequence[float]) -> str:
    if not values:
        return "-"
    return (f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f}, "
            f"n={len(values)})")


def ratio_of_medians(builds: Sequence[Build], mode: str) -> float | None:
    bake, orch = compared(builds, "bake", mode), compared(builds, "buildorch", mode)
    return statistics.median(orch) / statistics.median(bake) if bake and orch else None


@dataclass(frozen=True)
class Verdict:
    graph: str
    measure: str
    value: float | None
    limit: float
    text: str  # e.g. "buildorch / bake <= 1.10"
    seconds: bool = False  # the value is a wall time, not a ratio
    applies: bool = True  # False: another size than the target's ("n/a")

    def row(self) -> str:
        value = "-" if self.value is None else (
            f"{self.value:.1f} s" if self.seconds else f"{self.value:.3f}")
        result = ("n/a" if not self.applies else "no figure" if self.value is None
                  else verdict(self.value, self.limit, inclusive=True))
        return f"| {self.graph} | {self.measure} | {self.text} | {value} | {result} |"


def verdicts(spec: Spec, builds: Sequence[Build]) -> list[Verdict]:
    kind = TITLES[spec.kind]
    if spec.kind == "large":
        orch = compared(builds, "buildorch", "cached")
        figure = statistics.median(orch) if orch else None
        images = len(spec.graph.images)
        limit = f"buildorch median <= {LARGE_SECONDS:.0f} s (for {LARGE_IMAGES} images)"
        out = [Verdict(kind, f"cached, {images} images", figure, LARGE_SECONDS, limit,
                       seconds=True, applies=images == LARGE_IMAGES)]
        ratio = ratio_of_medians(builds, "cached")
        if ratio is not None:
            out.append(Verdict(kind, "cached (not a target)", ratio, CACHED_RATIO,
                               f"buildorch / bake <= {CACHED_RATIO:.2f}"))
        return out
    required, goal = COLD_TARGETS[spec.kind]
    cold = ratio_of_medians(builds, "cold")
    out = [Verdict(kind, "cold", cold, required, f"buildorch / bake <= {required:.2f}")]
    if goal is not None:
        out.append(Verdict(kind, "cold", cold, goal, f"goal: buildorch / bake <= {goal:.2f}"))
    out.append(Verdict(kind, "fully cached rerun", ratio_of_medians(builds, "cached"),
                       CACHED_RATIO, f"buildorch / bake <= {CACHED_RATIO:.2f}"))
    return out


def jobs_note(builds: Sequence[Build], jobs: int | None) -> str:
    used = sorted({b.jobs for b in builds if b.tool == "buildorch" and b.jobs is not None})
    given = f"`-j {jobs}` given" if jobs else "no `-j` given (buildorch's default)"
    return (f"- buildorch -j: {given}; its run records say "
            f"{', '.join(map(str, used)) if used else '?'}")


def graph_lines(spec: Spec) -> list[str]:
    graph = spec.graph
    by_name = graph.by_name
    path, bound = critical_path(graph)
    longest = longest_chain(graph)
    sleeps = [i.sleep for i in graph.images]
    lines = [f"- graph: {len(graph.images)} images, {len(graph.edges)} edges, "
             f"{seconds(round(sum(sleeps), 2))} s of sleep in all (RUN steps of "
             f"{seconds(min(sleeps))}-{seconds(max(sleeps))} s); estimated_seconds "
             f"{'given (= the sleep)' if spec.estimates else 'not given'} to buildorch"]
    if spec.kind != "large":
        lines.append("  - " + "; ".join(
            f"{n} {seconds(by_name[n].sleep)}s"
            + (f" <- {', '.join(by_name[n].deps)}" if by_name[n].deps else "")
            for n in graph.topo))
    lines += [f"- longest chain: {len(longest)} images"
              + (f" ({' -> '.join(longest)})" if len(longest) <= 12 else ""),
              "- critical path (lower bound: its sleeps alone): "
              + (' -> '.join(path) if len(path) <= 12 else f"{len(path)} images")
              + f" = {seconds(bound)} s"]
    return lines


def checks_line(builds: Sequence[Build], text: str) -> list[str]:
    failed = [p for b in builds for p in b.problems]
    lines = [f"- checks ({text}): " + ("passed" if not failed else "FAILED")]
    lines += [f"  - {p.splitlines()[0]}" for p in failed]
    return lines


def pair_table(builds: Sequence[Build], repeats: int) -> list[str]:
    lines = ["| round | first | bake cold (s) | buildorch cold (s) | ratio | bake cached (s) "
             "| buildorch cached (s) | ratio | buildorch -j | load before (cold) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]

    def find(r: int, tool: str, mode: str) -> Build | None:
        return next((b for b in builds if b.repeat == r and b.tool == tool and b.mode == mode),
                    None)

    def cell(build: Build | None) -> str:
        if build is None:
            return "-"
        return f"{build.seconds:.2f}" + ("" if build.ok else " (failed check)")

    def ratio(a: Build | None, b: Build | None) -> str:
        return f"{a.seconds / b.seconds:.3f}" if a and b and a.ok and b.ok else "-"

    for r in range(1, repeats + 1):
        cold_b, cold_o = find(r, "bake", "cold"), find(r, "buildorch", "cold")
        hot_b, hot_o = find(r, "bake", "cached"), find(r, "buildorch", "cached")
        first = min((b for b in (cold_b, cold_o) if b), key=lambda b: b.t0_epoch, default=None)
        loads = "/".join(b.load for b in (cold_b, cold_o) if b)
        lines.append(f"| {r} | {first.tool if first else '-'} | {cell(cold_b)} | "
                     f"{cell(cold_o)} | {ratio(cold_o, cold_b)} | {cell(hot_b)} | "
                     f"{cell(hot_o)} | {ratio(hot_o, hot_b)} | "
                     f"{(cold_o.jobs if cold_o else None) or '-'} | {loads} |")

    def median(tool: str, mode: str) -> str:
        values = compared(builds, tool, mode)
        return f"{statistics.median(values):.2f}" if values else "-"

    def spread(tool: str, mode: str) -> str:
        values = compared(builds, tool, mode)
        return f"{min(values):.2f}-{max(values):.2f}" if values else "-"

    def ratio_cell(mode: str) -> str:
        value = ratio_of_medians(builds, mode)
        return "-" if value is None else f"{value:.3f}"

    lines += [f"| median | | {median('bake', 'cold')} | {median('buildorch', 'cold')} | "
              f"{ratio_cell('cold')} | {median('bake', 'cached')} | "
              f"{median('buildorch', 'cached')} | {ratio_cell('cached')} | | |",
              f"| min-max | | {spread('bake', 'cold')} | {spread('buildorch', 'cold')} | | "
              f"{spread('bake', 'cached')} | {spread('buildorch', 'cached')} | | | |"]
    return lines


def analysis_table(graph: Graph, builds: Sequence[Build], mode: str) -> list[str]:
    results: dict[str, list[dict[str, float]]] = {"bake": [], "buildorch": []}
    for build in builds:
        if build.timed and build.returncode == 0 and build.mode == mode:
            results[build.tool].append(analyse(build, graph))
    if not results["bake"] and not results["buildorch"]:
        return []
    what = ("cold" if mode == "cold" else
            "fully cached rerun (no sleep runs: \"minus the sleep\" subtracts nothing)")
    lines = ["", f"Where the time goes, {what} (seconds, median over the timed runs; from the "
             "time-stamped output and buildorch's run records; \"-\": not in the output):",
             "", "| measure | bake | buildorch |", "|---|---:|---:|"]
    for key, text in ANALYSIS_ROWS:
        cells = []
        for tool in ("bake", "buildorch"):
            values = [r[key] for r in results[tool] if key in r and r[key] == r[key]]
            cells.append(f"{statistics.median(values):.2f}" if values else "-")
        lines.append(f"| {text} | {cells[0]} | {cells[1]} |")
    return lines


def pair_section(spec: Spec, builds: Sequence[Build], args: argparse.Namespace) -> list[str]:
    graph = spec.graph
    _path, bound = critical_path(graph)
    title = (f"existing graph: {len(graph.images)} images, seed {args.seed}"
             if spec.kind == "existing" else
             f"chain-heavy graph: {len(graph.images)} images, seed {args.seed}")
    lines = [f"### {title}", "", *graph_lines(spec), jobs_note(builds, args.jobs),
             *checks_line(builds, "cold: every `RUN sleep` step ran, none CACHED, a fresh "
                          "token per cold build; cached rerun: same folder and token right "
                          "after it, every RUN step CACHED in the output and, for buildorch, "
                          "every image's steps all cached in its record"),
             "", *pair_table(builds, args.repeats)]
    bake, orch = compared(builds, "bake", "cold"), compared(builds, "buildorch", "cold")
    if bake and orch:
        lines += ["", f"Lower bound {seconds(bound)} s: cold, bake's median is "
                  f"{statistics.median(bake) - bound:+.2f} s over it, buildorch's "
                  f"{statistics.median(orch) - bound:+.2f} s."]
    for mode in ("cold", "cached"):
        lines += analysis_table(graph, builds, mode)
    lines += ["", "The long chain, seconds since each command started (started and ended: "
              "buildorch's record; first output: the build's first output line, buildorch "
              "only):", "",
              "| run | image | started | first output | first step | stored | ended |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for build in builds:
        if build.timed and build.returncode == 0:
            lines += chain_timeline(build, graph)
    return lines


def large_section(spec: Spec, builds: Sequence[Build], args: argparse.Namespace) -> list[str]:
    graph = spec.graph
    lines = [f"### large graph, fully cached: {len(graph.images)} images, seed {args.seed}", "",
             *graph_lines(spec), jobs_note(builds, args.jobs),
             f"- buildorch: `{shown(command_for('buildorch', args.jobs, verbose=False))}` "
             "(no -v: plain lines per image); one folder and token for both tools, bake "
             f"tagging in {BAKE_NAMING.repository}; buildorch cold once, then its fully "
             "cached reruns; then bake's (after buildorch's: a failed bake leaves the engine "
             "busy)",
             *checks_line(builds, "cold: buildorch's record, every image succeeded; cached: "
                          "every image's steps all cached in buildorch's record, every RUN "
                          "step CACHED in bake's output")]
    remarks = [r for b in builds for r in b.remarks]
    if remarks:
        lines.append("- bake (a result, not a failed check): " + "; ".join(remarks))
    lines += ["", "| run | tool | wall (s) | buildorch -j | load before | |",
              "|---|---|---:|---:|---|---|"]
    for b in builds:
        state = "ok" if b.ok else ("failed check" if b.problems else f"exit {b.returncode}")
        lines.append(f"| {b.label} ({b.mode}{'' if b.timed else ', not compared'}) | "
                     f"{b.tool} | {b.seconds:.2f} | {b.jobs or '-'} | {b.load} | {state} |")
    lines += ["", "| fully cached | bake | buildorch | buildorch / bake |", "|---|---:|---:|---:|"]
    ratio = ratio_of_medians(builds, "cached")
    lines.append(f"| median (min-max, n) | {stats_cell(compared(builds, 'bake', 'cached'))} | "
                 f"{stats_cell(compared(builds, 'buildorch', 'cached'))} | "
                 f"{'-' if ratio is None else f'{ratio:.3f}'} |")
    return lines


def report(args: argparse.Namespace, info: Mapping[str, str],
           runs: Sequence[tuple[Spec, list[Build]]], costs: Mapping[str, float]) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    kinds = ", ".join(f"{s.kind} ({len(s.graph.images)} images)" for s, _b in runs)
    lines = [f"## {now}: {kinds}; seed {args.seed}, {args.repeats} repeats, buildorch -j "
             f"{args.jobs or 'default'}", "", *machine_lines(info),
             f"- bake: `{shown(command_for('bake', args.jobs))}` (no parallelism cap: every "
             f"target is submitted at once); buildorch: "
             f"`{shown(command_for('buildorch', args.jobs))}`",
             *([source_line(SOURCE)] if SOURCE else []),
             "- each run after the machine settled (CPUs under "
             f"{QUIET_LIMIT:.0%} busy over a second, at most {args.settle:g} s); medians and "
             "spreads of the timed runs that passed their checks; ratios are buildorch / "
             "bake of the medians",
             "", "| graph | run | target (issue 13, on the medians) | measured | |",
             "|---|---|---|---:|---|"]
    lines += [v.row() for spec, builds in runs for v in verdicts(spec, builds)]
    lines += ["", "| graph | run | bake: median (min-max, n) | buildorch: median (min-max, n) "
              "|", "|---|---|---:|---:|"]
    for spec, builds in runs:
        for mode in ("cold", "cached"):
            if spec.kind == "large" and mode == "cold":
                continue
            lines.append(f"| {TITLES[spec.kind]} | {mode} | "
                         f"{stats_cell(compared(builds, 'bake', mode))} | "
                         f"{stats_cell(compared(builds, 'buildorch', mode))} |")
    for spec, builds in runs:
        lines += ["", *(large_section(spec, builds, args) if spec.kind == "large"
                        else pair_section(spec, builds, args))]
    if costs:
        lines += ["", "Single commands on this engine (median of 5): " + "; ".join(
            f"`{k}` {v:.3f} s" for k, v in costs.items())]
    return "\n".join(lines) + "\n"


# -- main ------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--graph", choices=tuple(GRAPHS), default="both",
                        help="existing, chain, large, both (existing and chain; default) or "
                             "all")
    parser.add_argument("--images", type=int, default=14,
                        help="images in the existing graph (>= 12)")
    parser.add_argument("--large-images", type=int, default=LARGE_IMAGES,
                        help="images in the large graph")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the graphs")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds of each tool")
    parser.add_argument("-j", "--jobs", type=int, default=None,
                        help="buildorch's -j (default: not given; buildorch chooses)")
    parser.add_argument("--no-large-bake", dest="large_bake", action="store_false",
                        help="large graph: buildorch's cached runs only, no bake beside them")
    add_run_options(parser, "bake_compare", warmup="existing and chain")
    args = parser.parse_args(argv)
    check_src(parser, args.src)
    if args.images < 12 or args.large_images < 2 or args.repeats < 1 or (
            args.jobs is not None and args.jobs < 1):
        parser.error("--images must be at least 12, --large-images 2, --repeats and -j 1")
    return args


def add_run_options(parser: argparse.ArgumentParser, name: str, warmup: str) -> None:
    """Options of timed cold builds, shared with pool_spread.py: --settle, --no-warmup,
    --no-estimates, --src and --no-results (benchmarks/results/<name>.md)."""
    parser.add_argument("--settle", type=float, default=20.0,
                        help="wait at most this long for a quiet machine before each run "
                             "(0: never wait)")
    parser.add_argument("--no-warmup", action="store_true",
                        help=f"skip the untimed warm-up round ({warmup})")
    parser.add_argument("--no-estimates", action="store_true",
                        help="do not give buildorch estimated_seconds (the sleeps)")
    parser.add_argument("--src", type=Path, default=None, metavar="DIR",
                        help="run the buildorch of checkout DIR (a git worktree of a commit, "
                             "or a `git archive` of it) with this checkout's interpreter")
    parser.add_argument("--no-results", action="store_true",
                        help=f"print only; do not append to benchmarks/results/{name}.md")


def check_src(parser: argparse.ArgumentParser, src: Path | None) -> None:
    if src is not None and not (src / "buildorch" / "__main__.py").exists():
        parser.error(f"--src {src}: no buildorch/__main__.py there")


def main(argv: Sequence[str] | None = None) -> int:
    global SOURCE
    args = parse_args(argv)
    SOURCE = args.src.resolve() if args.src else None
    stack_env()
    info = machine_info(docker=True)  # first: the load average before this script adds its own
    specs = [make_spec(kind, args) for kind in GRAPHS[args.graph]]
    root = OUT_ROOT / f"bake_compare-n{args.images}-s{args.seed}"
    fresh_folder(root, MARKER, "bake_compare.py")
    runs: list[tuple[Spec, list[Build]]] = []
    costs: dict[str, float] = {}
    for spec in specs:
        path, bound = critical_path(spec.graph)
        print(f"{spec.kind} graph: {len(spec.graph.images)} images, {len(spec.graph.edges)} "
              f"edges; critical path {len(path)} images, {seconds(bound)} s; builds in "
              f"{(root / spec.kind).relative_to(REPO)}/", file=sys.stderr)
        run: Callable[[Path, Spec, argparse.Namespace], list[Build]] = (
            large_runs if spec.kind == "large" else pair_runs)
        builds = run(root, spec, args)
        runs.append((spec, builds))
        if not costs and spec.kind != "large" and any(b.returncode == 0 for b in builds):
            costs = command_costs(root, BASE_IMAGE)
    section = report(args, info, runs, costs)
    print(section)
    if not args.no_results:
        append_results(RESULTS, section)
        print(f"appended to {RESULTS.relative_to(REPO)}", file=sys.stderr)
    return 1 if any(b.problems for _s, builds in runs for b in builds) else 0


if __name__ == "__main__":
    sys.exit(main())
