"""Benchmark: a no-op `buildorch build --skip-unchanged` of 200 images, against `docker buildx
bake` of the same fully cached targets and against `buildorch build` without the flag.

1. Generates (seeded) N images (default 200) with random dependencies into
   `benchmarks/out/skip_unchanged-n<N>-s<SEED>/` (git-ignored), with graphgen.py: the
   images in a random topological order, each built on 0-3 earlier ones through named
   contexts (`FROM <dep>`, `COPY --from=<dep>`), each with a small context (2-4 files of
   50-400 bytes under src/, some with a `.dockerignore`) copied in, and one quick RUN step
   (`echo <token>-<name> > /token`; the token is fresh for each run of the script, so the
   first build is cold). The same graph as `pipeline.yaml` and `docker-bake.hcl`; bake tags
   its images in another repository, so that it never moves buildorch's tags.
2. Builds everything once with `buildorch build --backend docker --cache none` (cold,
   timed), then one untimed warm-up of (a) and of bake (bake's first run builds what
   its own graph does differently: `target:` contexts, not buildorch's stored images).
3. Times, interleaved: (a) `buildorch build --skip-unchanged` (R repeats), (b)
   `docker buildx bake` of every target (R repeats; if its warm-up failed, also bake of the
   first K images in topological order, beside (a) on the same K), (c) `buildorch build`
   without the flag (C repeats; about 2 minutes each for 200 images). Checks, from each
   run record and the builds' logs: the cold build ran every image's RUN step; (a) reported
   every image unchanged and started no build; (c) built every image with every RUN and
   COPY step CACHED. From bake's output: every RUN and COPY step CACHED, or how it failed
   (bake's failures are results, not failed checks).
4. Where (a)'s time goes: one more no-op with a `docker` wrapper on PATH that logs each
   docker call with its start and end (and shows that no build ran), the same commands
   alone and other ways to ask the image store, `python -c pass`, `buildorch --help` and
   `buildorch plan` (load, plan, input digests), one no-op under `-X importtime` and one
   under cProfile.
5. Prints the results and appends them to benchmarks/results/skip_unchanged.md.

Needs the local stack: `scripts/stack up` (if DOCKER_HOST is unset, the script reads
`scripts/stack env` itself). It never starts or stops the stack.

Run: .venv/bin/python benchmarks/skip_unchanged.py [--images N] [--seed S] [--repeats R]
         [--full-repeats C] [--bake-subset K] [--quick] [--no-results]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pstats
import random
import re
import secrets
import shlex
import statistics
import string
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphgen
from bake_compare import step_states
from graphgen import Graph, Image
from machine import append_results, fresh_folder, machine_info, machine_lines, stack_env, verdict

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"
BUILDORCH = REPO / ".venv" / "bin" / "buildorch"
RESULTS = REPO / "benchmarks" / "results" / "skip_unchanged.md"
OUT_ROOT = REPO / "benchmarks" / "out"
MARKER = ".skip_unchanged-generated"  # only folders holding this file are ever deleted

NAMING = graphgen.Naming("localhost:5000/bench-skip", "bench-skip", "skip_unchanged.py",
                         os.environ.get("BUILDORCH_BASE_IMAGE", graphgen.BASE_IMAGE))
# Bake's images get other tags: bake must never move the tags buildorch's no-op checks.
BAKE_NAMING = graphgen.Naming("localhost:5000/bench-skip-bake", "bench-skip",
                              "skip_unchanged.py", NAMING.base_image)

# Targets from the issue, on the medians: the no-op is at least 20x faster than a fully
# cached `buildorch build` without the flag; goal: it takes under 2 s for 200 images.
RATIO_REQUIRED = 20.0
GOAL_SECONDS = 2.0
GOAL_IMAGES = 200

# Before each run: wait until the CPUs are less than 15% busy over a second (at most 90 s).
QUIET_LIMIT = 0.15
SETTLE_MOST = 90.0

_RECORD_RE = re.compile(r"record in (\S+record\.json)")


# -- the graph -------------------------------------------------------------------------

_WORDS = string.ascii_lowercase + "     \n"


def _text(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(_WORDS) for _ in range(size)) + "\n"


def _files(rng: random.Random) -> tuple[tuple[str, str], ...]:
    """2-4 small files under src/; one context in four also has a `.dockerignore` and a
    file it excludes (a context's files are what the build can see, not what is there)."""
    names = rng.sample(("main.sh", "app.conf", "lib/util.sh", "data/items.txt",
                        "README.md", "lib/more.sh"), rng.randint(2, 4))
    files = [(f"src/{name}", _text(rng, rng.randint(50, 400))) for name in sorted(names)]
    if rng.random() < 0.25:
        files += [(".dockerignore", "**/*.log\n"), ("src/debug.log", _text(rng, 100))]
    return tuple(files)


def make_graph(n: int, seed: int) -> Graph:
    """N images in a random topological order, each on 0-3 random earlier ones."""
    rng = random.Random(seed)
    topo = [f"img-{i:03d}" for i in range(1, n + 1)]
    rng.shuffle(topo)
    images: list[Image] = []
    for index, name in enumerate(topo):
        count = min(index, rng.choices((0, 1, 2, 3), weights=(30, 40, 22, 8))[0])
        deps = tuple(rng.sample(topo[:index], count))
        images.append(Image(name, 0, deps, _files(rng)))
    listed = list(images)
    rng.shuffle(listed)
    return Graph(listed, topo, [])


def longest_chain(graph: Graph) -> int:
    """Images on the longest dependency chain (what a cold build must do one after another)."""
    depth: dict[str, int] = {}
    by_name = graph.by_name
    for name in graph.topo:
        depth[name] = 1 + max((depth[d] for d in by_name[name].deps), default=0)
    return max(depth.values(), default=0)


def graph_lines(graph: Graph, subset: int) -> list[str]:
    counts = [sum(1 for i in graph.images if len(i.deps) == k) for k in range(4)]
    files = [f for i in graph.images for f in i.files]
    ignoring = sum(1 for i in graph.images if any(p == ".dockerignore" for p, _t in i.files))
    lines = [
        f"- graph: {len(graph.images)} images, {len(graph.edges)} edges (images with 0/1/2/3 "
        f"dependencies: {'/'.join(map(str, counts))}), longest chain {longest_chain(graph)} "
        "images; every edge a named context (`FROM dep`, then `COPY --from=dep`)",
        f"- contexts: {len(files)} files, {sum(len(t) for _p, t in files):,} bytes in all "
        f"(2-4 files of 50-400 bytes under src/ each); {ignoring} contexts with a "
        "`.dockerignore` that excludes a `*.log` file; one RUN step per image "
        "(`echo TOKEN-NAME > /token`); base image " + NAMING.base_image,
    ]
    if 0 < subset < len(graph.images):
        lines.append(f"- subset `first-{subset}`: the first {subset} images of the "
                     "topological order (closed under dependencies), a group in both files")
    return lines


# -- running ---------------------------------------------------------------------------


@dataclass
class Run:
    kind: str  # "cold", "noop", "noop-subset", "full", "bake", "bake-subset", ...
    label: str
    argv: list[str]
    seconds: float = 0.0
    cpu: float = 0.0
    returncode: int = 0
    load: str = ""  # the 1-minute load average just before the run
    settled: float = 0.0  # seconds waited before it for the machine to be quiet
    t0_epoch: float = 0.0  # when it started (time.time)
    log: Path = Path()
    record: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    failure: str = ""  # how a bake failed: its error lines

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This checkout's buildorch (PYTHONPATH), with bytecode cached as an install has it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(REPO)
    return {**env, **(extra or {})}


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def settle(limit: float = QUIET_LIMIT, most: float = SETTLE_MOST) -> float:
    """Wait until the machine is quiet (CPUs busy under `limit` over one second), at most
    `most` seconds; returns the seconds waited. A failed bake leaves the engine working for
    a while (its cancelled exports), which would land on the next run."""
    start = time.perf_counter()
    while time.perf_counter() - start < most:
        busy0, total0 = _cpu_ticks()
        time.sleep(1.0)
        busy1, total1 = _cpu_ticks()
        if total1 > total0 and (busy1 - busy0) / (total1 - total0) < limit:
            break
    return time.perf_counter() - start


def run_timed(run: Run, folder: Path, env: Mapping[str, str] | None = None) -> Run:
    """Wall clock around the subprocess; CPU (user + system) of it and the children it
    waited for, from os.wait4 (not the engine's: dockerd works for docker's CLI)."""
    run.log = folder / "logs" / f"{run.label}.log"
    run.log.parent.mkdir(exist_ok=True)
    run.settled = settle()
    run.load = load_average()
    with run.log.open("wb") as out:
        run.t0_epoch = time.time()
        start = time.perf_counter()
        proc = subprocess.Popen(run.argv, cwd=folder, stdout=out, stderr=subprocess.STDOUT,
                                env=dict(env or child_env()))
        _pid, status, usage = os.wait4(proc.pid, 0)
        run.seconds = time.perf_counter() - start
    proc.returncode = run.returncode = os.waitstatus_to_exitcode(status)
    run.cpu = usage.ru_utime + usage.ru_stime
    return run


def buildorch_argv(*extra: str) -> list[str]:
    return [str(BUILDORCH), "build", "-f", "pipeline.yaml", "--backend", "docker", "--cache",
            "none", "--progress", "plain", *extra]


def bake_argv(*group: str) -> list[str]:
    return ["docker", "buildx", "bake", "-f", "docker-bake.hcl", "--progress", "plain", *group]


def read_record(run: Run, folder: Path) -> dict[str, Any] | None:
    for match in reversed(_RECORD_RE.findall(run.output)):
        try:
            data = json.loads((folder / match).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None
    return None


def store_images() -> int:
    """Images in the engine's store, everyone's: what a store query may have to go through."""
    out = subprocess.run(["docker", "image", "ls", "-q", "--no-trunc"], capture_output=True,
                         text=True, check=False).stdout
    return len(set(out.split()))


def remove_images(token: str | None) -> int:
    """Remove this benchmark's images (both repositories; of one token, or every token: the
    leftovers of an earlier run), untimed, in parallel calls: the store is shared, and each
    run adds 2N images to it."""
    out = subprocess.run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"],
                         capture_output=True, text=True, check=False).stdout
    mine = [t for t in out.split() if t.startswith((NAMING.repository + "/",
                                                    BAKE_NAMING.repository + "/"))
            and (token is None or t.endswith(f":{token}"))]
    if mine:
        print(f"removing {len(mine)} images of this benchmark ...", file=sys.stderr)
        procs = [subprocess.Popen(["docker", "image", "rm", *mine[i::PARALLEL]],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for i in range(PARALLEL)]
        for proc in procs:
            proc.wait()
    return len(mine)


# -- checks ----------------------------------------------------------------------------


def check_buildorch(run: Run, folder: Path, expected: Sequence[str], token: str) -> None:
    """From the run record: cold, every image built and its RUN step ran; no-op, every image
    unchanged and no build started; full, every image built with every step cached."""
    if run.returncode != 0:
        tail = "\n".join(run.output.splitlines()[-8:])
        run.problems.append(f"{run.label}: exited {run.returncode}; see {run.log}\n{tail}")
    run.record = read_record(run, folder)
    if run.record is None:
        run.problems.append(f"{run.label}: no run record named in its output")
        return
    images: dict[str, Any] = run.record["images"]
    if sorted(images) != sorted(expected):
        run.problems.append(f"{run.label}: the record has {len(images)} images, expected "
                            f"{len(expected)}")
    for name, image in sorted(images.items()):
        problem = image_problem(run.kind, folder, name, image, token)
        if problem:
            run.problems.append(f"{run.label}: {name}: {problem}")


def image_problem(kind: str, folder: Path, name: str, image: Mapping[str, Any],
                  token: str) -> str | None:
    state = image["state"]
    if kind.startswith("noop"):
        if state != "unchanged":
            return f"state {state}, not unchanged ({image.get('note') or image.get('reason')})"
        if image["attempts"] or image["argv"] or image["started"] is not None:
            return f"a build started: attempts {image['attempts']}, argv {image['argv'][:3]}"
        return None
    if state != "succeeded":
        return f"state {state} ({image.get('reason')})"
    try:
        text = (folder / str(image["log"])).read_text(errors="replace")
    except (OSError, TypeError):
        return f"no build log ({image['log']})"
    work = work_steps(text)
    if kind == "cold":
        own = [st for header, st in work if header.startswith(f"RUN echo {token}-{name} ")]
        if not own or any("CACHED" in st or "DONE" not in st for st in own):
            return f"its RUN step did not run cold: {[sorted(st) for st in own]}"
    ran = [header for header, st in work if "CACHED" not in st]
    if kind == "full" and (ran or not work):
        return f"{len(ran)} of {len(work)} RUN/COPY steps not CACHED: {ran[:2]}"
    return None


def work_steps(text: str) -> list[tuple[str, set[str]]]:
    """The RUN and COPY steps of a build's plain output, with their statuses (the FROM and
    context steps say DONE even when nothing is built)."""
    steps = step_states((0.0, line) for line in text.splitlines())
    return [(h, st) for h, st in steps.values() if h.startswith(("RUN ", "COPY "))]


def check_bake(run: Run, names: Sequence[str]) -> None:
    """A bake that succeeded: every COPY and RUN step of every target CACHED (not so in the
    warm-up, bake's first run). A bake that failed: its error lines, and how many of the
    targets it had stored (`naming to`)."""
    lines = run.output.splitlines()
    if run.returncode != 0:
        errors = [line for line in lines if "ERROR" in line]
        stored = {m.group(1) for line in lines
                  for m in [re.search(r"naming to \S+/bench-skip-bake/([^:]+):", line)] if m}
        first = next((e for e in errors if e.startswith("#")), "")
        run.failure = (f"exit {run.returncode} after {run.seconds:.1f} s; "
                       f"{len(stored & set(names))} of {len(names)} targets stored before it; "
                       f"last line `{errors[-1] if errors else lines[-1] if lines else ''}`"
                       + (f"; first step error `{first[:220]}`" if first else ""))
        run.problems.append(f"{run.label}: bake failed: {run.failure}")
        return
    work = work_steps(run.output)
    ran = [h for h, st in work if "CACHED" not in st]
    run.failure = (f"{len(ran)} of {len(work)} RUN/COPY steps not CACHED, e.g. `{ran[0]}`"
                   if ran else f"{len(work)} RUN/COPY steps, all CACHED")
    if ran:
        run.problems.append(f"{run.label}: {run.failure}")


# -- where the no-op's time goes -------------------------------------------------------

# A `docker` in front of the real one: each call's start, end and arguments, one per line.
_WRAPPER = """#!/bin/sh
start=$(date +%s.%N)
{real} "$@"
code=$?
end=$(date +%s.%N)
{{ printf '@@ %s %s %s\\n' "$start" "$end" "$#"; [ $# -gt 0 ] && printf '%s\\n' "$@"; }} >> {log}
exit $code
"""


@dataclass(frozen=True)
class DockerCall:
    start: float  # seconds since buildorch started
    seconds: float
    args: tuple[str, ...]  # after `docker`

    @property
    def shown(self) -> str:
        return shown_args(self.args)


def shown_args(args: Sequence[str]) -> str:
    ids = [a for a in args if a.startswith("sha256:")]
    rest = [a for a in args if not a.startswith("sha256:")]
    return "docker " + shlex.join(rest) + (f" <{len(ids)} image ids>" if ids else "")


def traced_noop(folder: Path, names: Sequence[str], token: str) -> tuple[Run, list[DockerCall]]:
    """One more no-op with the logging `docker` on PATH (untimed: the wrapper costs)."""
    real = subprocess.run(["sh", "-c", "command -v docker"], capture_output=True, text=True,
                          check=True).stdout.strip()
    bin_dir, log = folder / "trace-bin", folder / "docker-calls.log"
    bin_dir.mkdir(exist_ok=True)
    log.unlink(missing_ok=True)
    wrapper = bin_dir / "docker"
    wrapper.write_text(_WRAPPER.format(real=shlex.quote(real), log=shlex.quote(str(log))))
    wrapper.chmod(0o755)
    env = child_env({"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    run = run_timed(Run("noop", "traced-noop", buildorch_argv("--skip-unchanged")), folder, env)
    check_buildorch(run, folder, names, token)
    return run, parse_calls(log.read_text() if log.exists() else "", run.t0_epoch)


def parse_calls(text: str, t0: float) -> list[DockerCall]:
    calls: list[DockerCall] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        _at, start, end, count = lines[i].split()
        args = tuple(lines[i + 1:i + 1 + int(count)])
        calls.append(DockerCall(float(start) - t0, float(end) - float(start), args))
        i += 1 + int(count)
    return calls


def median_seconds(argv: Sequence[str], cwd: Path, times: int = 5,
                   env: Mapping[str, str] | None = None) -> float:
    seconds = []
    settle()
    for _ in range(times):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False, env=dict(env) if env is not None else None)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


_READ_ONLY = (("info",), ("version",), ("buildx", "version"), ("buildx", "inspect"),
              ("buildx", "ls"), ("image", "inspect"), ("image", "ls"), ("inspect",))


def read_only(args: Sequence[str]) -> bool:
    """A command that changes nothing, which may run again alone (not tag, rm, build)."""
    words = [a for a in args if not a.startswith("-")]
    return any(tuple(words[:len(cmd)]) == cmd for cmd in _READ_ONLY)


def alone_costs(folder: Path, calls: Sequence[DockerCall]) -> list[tuple[str, float]]:
    """Each docker command the no-op made, run alone (median of 5); its store queries
    (`image inspect`, one call or several at once) as it made them, and other ways to ask
    the store the same question, for comparison."""
    costs: list[tuple[str, float]] = []
    seen: set[str] = set()
    inspects = [c.args for c in calls if c.args[:2] == ("image", "inspect")]
    for call in calls:
        if call.shown not in seen and read_only(call.args) and call.args not in inspects:
            seen.add(call.shown)
            costs.append((f"`{call.shown}`", median_seconds(["docker", *call.args], folder)))
    if not inspects:
        return costs
    options = [a for a in inspects[0] if not a.startswith("sha256:")]
    ids = [a for args in inspects for a in args if a.startswith("sha256:")]
    sizes = "/".join(str(sum(a.startswith("sha256:") for a in args)) for args in inspects)
    costs += [
        (f"the no-op's {len(inspects)} `docker {shlex.join(options)}` call(s) at once, as it "
         f"made them ({sizes} ids)", parallel_seconds(
             [["docker", *args] for args in inspects], folder)),
        (f"for comparison: the same {len(ids)} ids in one call",
         median_seconds(["docker", *options, *ids], folder)),
        (f"for comparison: the same {len(ids)} ids in {PARALLEL} calls at once",
         parallel_seconds([["docker", *options, *ids[i::PARALLEL]] for i in range(PARALLEL)],
                          folder)),
        ("for comparison: one id", median_seconds(["docker", *options, ids[0]], folder)),
        ("for comparison: `docker image ls --no-trunc --format '{{json .}}'` (the whole "
         "store, one API call)", median_seconds(
             ["docker", "image", "ls", "--no-trunc", "--format", "{{json .}}"], folder)),
    ]
    return costs


PARALLEL = 4


def parallel_seconds(argvs: Sequence[Sequence[str]], cwd: Path, times: int = 5) -> float:
    """Median wall time of running all of argvs at once."""
    seconds = []
    settle()
    for _ in range(times):
        start = time.perf_counter()
        procs = [subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for argv in argvs]
        for proc in procs:
            proc.wait()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


@dataclass
class Imports:
    total: float = 0.0
    buildorch: float = 0.0
    top: list[tuple[str, float]] = field(default_factory=list)


def import_times(folder: Path) -> Imports:
    """One no-op under -X importtime: self time summed per top-level package."""
    argv = [str(PYTHON), "-X", "importtime", "-m", "buildorch", *buildorch_argv(
        "--skip-unchanged")[1:]]
    result = subprocess.run(argv, cwd=folder, capture_output=True, text=True, check=False,
                            env=child_env())
    per_package: dict[str, float] = {}
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            root = match.group(2).split(".")[0]
            per_package[root] = per_package.get(root, 0.0) + int(match.group(1)) / 1e6
    others = sorted(((k, v) for k, v in per_package.items() if k != "buildorch"),
                    key=lambda kv: -kv[1])
    return Imports(sum(per_package.values()), per_package.get("buildorch", 0.0), others[:6])


# (label, file under buildorch/, function): cumulative seconds under cProfile.
PHASES = (
    ("the whole command", "cli/main.py", "main"),
    ("load the pipeline (`cli/loading.py` load)", "cli/loading.py", "load"),
    ("read the contexts and hash the inputs (`cli/loading.py` read_sources)",
     "cli/loading.py", "read_sources"),
    ("hash files (`inputs/hashing.py` hash_files, all calls)", "inputs/hashing.py",
     "hash_files"),
    ("plan (`planning/plan.py` make_plan)", "planning/plan.py", "make_plan"),
    ("engine probes (`cli/build.py` choose_backend)", "cli/build.py", "choose_backend"),
    ("tool version check (`preflight/tool_version.py`)", "preflight/tool_version.py",
     "check_tool_version"),
    ("the run (`cli/build.py` run: executor, record, summary)", "cli/build.py", "run"),
    ("which images the store holds (`run/unchanged.py` _stored: `docker image inspect`)",
     "run/unchanged.py", "_stored"),
    ("tags applied again (`run/unchanged.py` retag)", "run/unchanged.py", "retag"),
    ("write the record (`run/record.py` write_record)", "run/record.py", "write_record"),
    ("remember the builds (`run/executor.py` _remember_builds)", "run/executor.py",
     "_remember_builds"),
    ("remove run tags (`run/publish.py` remove_run_tags)", "run/publish.py",
     "remove_run_tags"),
    ("summary (`run/summary.py`)", "run/summary.py", "summary"),
    ("subprocesses (`proc.py` capture and run; the main thread's only)", "proc.py", "capture|run"),
)


def profile_phases(folder: Path) -> list[tuple[str, float | None]]:
    """One no-op under cProfile: cumulative seconds of each phase (None: not called)."""
    out = folder / "noop.prof"
    argv = [str(PYTHON), "-m", "cProfile", "-o", str(out), "-m", "buildorch",
            *buildorch_argv("--skip-unchanged")[1:]]
    subprocess.run(argv, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False, env=child_env())
    stats: Mapping[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(str(out)).stats  # type: ignore[attr-defined]
    phases: list[tuple[str, float | None]] = []
    for label, path, functions in PHASES:
        found = [v[3] for (file, _line, func), v in stats.items()
                 if file.endswith(f"buildorch/{path}") and func in functions.split("|")]
        phases.append((label, sum(found) if found else None))
    return phases


def baselines(folder: Path) -> list[tuple[str, float]]:
    """What the no-op cannot go below, median of 5: Python itself, buildorch's smallest
    command, and plan (load, plan and the input digests of every image; no engine)."""
    plan = [str(BUILDORCH), "plan", "-f", "pipeline.yaml", "--backend", "docker", "--cache",
            "none", "--format", "json"]
    env = child_env()
    return [("`python -c pass`", median_seconds([str(PYTHON), "-c", "pass"], folder, env=env)),
            ("`buildorch --help`", median_seconds([str(BUILDORCH), "--help"], folder, env=env)),
            (f"`{shown(plan)}` (load, plan, input digests; no engine)",
             median_seconds(plan, folder, env=env))]


@dataclass
class Analysis:
    calls: list[DockerCall] = field(default_factory=list)
    traced: Run | None = None
    imports: Imports = field(default_factory=Imports)
    phases: list[tuple[str, float | None]] = field(default_factory=list)
    alone: list[tuple[str, float]] = field(default_factory=list)
    baselines: list[tuple[str, float]] = field(default_factory=list)
    store_images: int = 0  # images in the engine's store (other users' too)


def analyse(folder: Path, names: Sequence[str], token: str) -> Analysis:
    """Each part after the machine is quiet (run_timed and median_seconds wait too)."""
    traced, calls = traced_noop(folder, names, token)
    store = store_images()
    settle()
    imports = import_times(folder)
    settle()
    phases = profile_phases(folder)
    return Analysis(calls, traced, imports, phases, alone_costs(folder, calls),
                    baselines(folder), store)


# -- report ----------------------------------------------------------------------------


def shown(argv: Sequence[str]) -> str:
    return shlex.join(argv).replace(str(REPO) + "/", "")


def stats_row(label: str, runs: Sequence[Run]) -> str:
    walls = [r.seconds for r in runs]
    if not walls:
        return f"| {label} | 0 | - | - | - | - | - |"
    ok = sum(1 for r in runs if r.returncode == 0)
    return (f"| {label} | {len(walls)} | {statistics.median(walls):.2f} | {min(walls):.2f} | "
            f"{max(walls):.2f} | {statistics.median(r.cpu for r in runs):.2f} | "
            f"{ok} of {len(runs)} |")


def timed_of(runs: Iterable[Run], kind: str) -> list[Run]:
    return [r for r in runs if r.kind == kind and r.label.startswith("r")]


def median_ok(runs: Sequence[Run]) -> float | None:
    """The median wall time, if every run succeeded."""
    if not runs or any(r.returncode != 0 for r in runs):
        return None
    return statistics.median(r.seconds for r in runs)


def ratio_line(label: str, slow: float | None, fast: float | None) -> str:
    if slow is None or fast is None:
        return f"| {label} | - | no median: some run failed |"
    return f"| {label} | {slow / fast:.1f} | {slow:.2f} s / {fast:.2f} s |"


def failures(runs: Sequence[Run], analysis: Analysis | None) -> list[str]:
    """What failed a check, bake aside (bake's failures are a finding, not the script's)."""
    traced = [analysis.traced] if analysis is not None and analysis.traced else []
    return [p for r in [*runs, *traced] if not r.kind.startswith("bake") for p in r.problems]


def report(args: argparse.Namespace, graph: Graph, info: Mapping[str, str], load_after: str,
           runs: Sequence[Run], subset: int, analysis: Analysis | None,
           store: tuple[int, int]) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    n = len(graph.images)
    noop, full, bake = (timed_of(runs, k) for k in ("noop", "full", "bake"))
    noop_k, bake_k = timed_of(runs, "noop-subset"), timed_of(runs, "bake-subset")
    problems = failures(runs, analysis)
    bake_notes = [f"{r.label}: {r.failure}" for r in runs if r.kind.startswith("bake")]
    cold = next(r for r in runs if r.kind == "cold")
    lines = [
        f"## {now}: {n} images, seed {args.seed}, {args.repeats} no-op repeats, "
        f"{args.full_repeats} full repeat(s)" + (" (--quick)" if args.quick else ""),
        "",
        *machine_lines(info),
        f"- load average after the run: {load_after}; the 1-minute load before each run is "
        "in the table of runs",
        f"- the engine's image store (shared): {store[0]} images before the run (after "
        f"removing {store[1]} left by an earlier run of this script); the run adds up to "
        f"{2 * n} (buildorch's and bake's)",
        *graph_lines(graph, subset),
        f"- (a) no-op: `{shown(buildorch_argv('--skip-unchanged'))}`",
        f"- (b) bake: `{shown(bake_argv())}` (its images tagged in "
        f"{BAKE_NAMING.repository}, so that bake never moves buildorch's tags)",
        f"- (c) full: `{shown(buildorch_argv())}` (without the flag: every image built "
        "again, every step cached; -j 4, the default)",
        f"- cold build first: `{shown(cold.argv)}` {cold.seconds:.1f} s (exit "
        f"{cold.returncode}); then untimed warm-ups of (a) and (b)"
        + (f" and of bake `first-{subset}`" if bake_k else "") + "; then the timed runs, "
        "interleaved (a and b alternate which goes first; c at the end of some rounds)",
        "- checks (from the run records: cold, every image built and its RUN step ran, not "
        "CACHED; (a), every image `unchanged`, no attempt, no builder argv; (c), every image "
        "built with every step CACHED; bake, every RUN/COPY step CACHED): "
        + ("passed" if not problems else f"FAILED ({len(problems)})"),
        *(f"  - {p.splitlines()[0]}" for p in problems[:20]),
        "- bake: " + ("; ".join(bake_notes) if bake_notes else "not run"),
        "",
        "| what | runs | wall median (s) | min | max | CPU median (s) | exit 0 |",
        "|---|---:|---:|---:|---:|---:|---:|",
        stats_row("(a) no-op `--skip-unchanged`", noop),
        stats_row(f"(b) `docker buildx bake`, {n} targets", bake),
        stats_row("(c) `buildorch build` without the flag", full),
    ]
    if bake_k or noop_k:
        lines += [stats_row(f"(a, first-{subset}) no-op of the first {subset} images", noop_k),
                  stats_row(f"(b, first-{subset}) bake of the first {subset} targets", bake_k)]
    a, b, c = median_ok(noop), median_ok(bake), median_ok(full)
    lines += ["", "| ratio (of the medians) | | |", "|---|---:|---|",
              ratio_line("(c) / (a): without the flag / no-op", c, a),
              ratio_line("(b) / (a): bake / no-op", b, a)]
    if b is None and bake:
        failed = statistics.median(r.seconds for r in bake)
        lines.append(f"| (b) / (a), bake's time to fail instead | "
                     f"{failed / a if a else float('nan'):.1f} | bake failed; "
                     f"{failed:.2f} s to fail / {a or float('nan'):.2f} s |")
    if bake_k or noop_k:
        lines.append(ratio_line(f"first {subset}: bake / no-op", median_ok(bake_k),
                                median_ok(noop_k)))
    c_over_a = c / a if a and c else None
    goal = verdict(a, GOAL_SECONDS, inclusive=False) if a is not None else "no median"
    lines += [
        "", "| target (from the issue, on the medians) | measured | |", "|---|---:|---|",
        f"| (c) / (a) >= {RATIO_REQUIRED:.0f} | "
        + (f"{c_over_a:.1f} | {'met' if c_over_a >= RATIO_REQUIRED else 'NOT met'} |"
           if c_over_a is not None else "- | no median |"),
        f"| goal: (a) < {GOAL_SECONDS:.0f} s for {GOAL_IMAGES} images | "
        + (f"{a:.2f} s | {goal} |" if n == GOAL_IMAGES and a is not None
           else f"{a or float('nan'):.2f} s | n/a ({n} images) |"),
    ]
    lines += run_table(runs)
    if analysis is not None:
        lines += analysis_lines(analysis, a)
    return "\n".join(lines) + "\n"


def run_table(runs: Sequence[Run]) -> list[str]:
    lines = ["", "Every run, in order (waited: for the CPUs to be under "
             f"{QUIET_LIMIT:.0%} busy before it, at most {SETTLE_MOST:.0f} s):", "",
             "| run | wall (s) | CPU (s) | exit | waited (s) | load before |",
             "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r.label} | {r.seconds:.2f} | {r.cpu:.2f} | {r.returncode} | "
              f"{r.settled:.0f} | {r.load} |" for r in runs]
    return lines


def analysis_lines(an: Analysis, noop_median: float | None) -> list[str]:
    lines = ["", "### Where the no-op's time goes", ""]
    traced = an.traced
    if traced is not None:
        builds = [c for c in an.calls if "build" in c.args[:2] or "bake" in c.args[:2]]
        checks = ("its record's checks passed" if not traced.problems else
                  f"its checks FAILED: {traced.problems[0].splitlines()[0]}")
        lines += [f"One more no-op with a `docker` wrapper on PATH that logs each call "
                  f"(untimed: {traced.seconds:.2f} s with the wrapper; {checks}). It made "
                  f"{len(an.calls)} docker calls, {len(builds)} of them a build:",
                  "", "| docker call | at (s since start) | took (s) |", "|---|---:|---:|"]
        lines += [f"| `{c.shown}` | {c.start:.2f} | {c.seconds:.3f} |" for c in an.calls]
    if an.alone:
        lines += ["", "The same commands run alone (median of 5), and other ways to ask the "
                  f"store, which holds {an.store_images} images (all its users'):", "",
                  "| command | median (s) |", "|---|---:|"]
        lines += [f"| {cmd} | {sec:.3f} |" for cmd, sec in an.alone]
    if an.baselines:
        lines += ["", "Below the no-op (median of 5):", "", "| command | median (s) |",
                  "|---|---:|"]
        lines += [f"| {cmd} | {sec:.3f} |" for cmd, sec in an.baselines]
    imp = an.imports
    lines += ["", f"Imports (one no-op under `-X importtime`, self times summed): "
              f"{imp.total:.3f} s in all, buildorch's own modules {imp.buildorch:.3f} s; "
              "most costly others: " + ", ".join(f"{k} {v:.3f}" for k, v in imp.top)]
    if an.phases:
        lines += ["", "One no-op under cProfile (cumulative seconds, with the profiler's "
                  "overhead on Python code; lazy imports count in the phase that makes them):",
                  "", "| phase | seconds |", "|---|---:|"]
        lines += [f"| {label} | {'-' if sec is None else f'{sec:.3f}'} |"
                  for label, sec in an.phases]
    if noop_median is not None:
        lines += ["", f"(The timed no-op's median: {noop_median:.2f} s.)"]
    return lines


# -- main ------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--images", type=int, default=GOAL_IMAGES, help="images (default 200)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the graph")
    parser.add_argument("--repeats", type=int, default=5,
                        help="timed runs of the no-op and of bake (default 5)")
    parser.add_argument("--full-repeats", type=int, default=2,
                        help="timed runs of buildorch without the flag (default 2, at most "
                             "--repeats)")
    parser.add_argument("--bake-subset", type=int, default=30,
                        help="if bake of every target fails, also bake the first K images "
                             "(and time the no-op of the same K); 0: never (default 30)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 20 images, 2 repeats, 1 full repeat, subset 10")
    parser.add_argument("--no-analysis", action="store_true",
                        help="skip the analysis of where the no-op's time goes")
    parser.add_argument("--keep-images", action="store_true",
                        help="leave this run's images in the engine's store (by default they "
                             "are removed at the end, and an earlier run's at the start)")
    parser.add_argument("--no-results", action="store_true",
                        help="print only; do not append to benchmarks/results/skip_unchanged.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.images, args.repeats, args.full_repeats, args.bake_subset = 20, 2, 1, 10
    if args.images < 2 or args.repeats < 1 or not 1 <= args.full_repeats <= args.repeats:
        parser.error("--images at least 2, --repeats at least 1, --full-repeats 1..repeats")
    return args


class Session:
    """The runs, in order, each checked as it ends."""

    def __init__(self, folder: Path, graph: Graph, token: str, subset: int) -> None:
        self.folder, self.token = folder, token
        self.names = {"": graph.topo, "subset": graph.topo[:subset]}
        self.group = f"first-{subset}"
        self.runs: list[Run] = []

    def run(self, kind: str, label: str) -> Run:
        part = "subset" if kind.endswith("subset") else ""
        names = self.names[part]
        group = [self.group] if part else []
        argv = (bake_argv(*group) if kind.startswith("bake") else
                buildorch_argv(*(["--skip-unchanged"] if kind.startswith("noop") else []),
                               *group))
        run = run_timed(Run(kind, label, argv), self.folder)
        if kind.startswith("bake"):
            check_bake(run, names)
        else:
            check_buildorch(run, self.folder, names, self.token)
        self.runs.append(run)
        note = run.problems[0].splitlines()[0] if run.problems else "ok"
        print(f"{label}: {run.seconds:.2f} s, exit {run.returncode}: {note}", file=sys.stderr)
        return run


def plan_rounds(args: argparse.Namespace, with_subset: bool) -> list[tuple[str, str]]:
    full_rounds = {1 + i * args.repeats // args.full_repeats for i in range(args.full_repeats)}
    plan: list[tuple[str, str]] = []
    for r in range(1, args.repeats + 1):
        pairs = [("noop", "bake")] + ([("noop-subset", "bake-subset")] if with_subset else [])
        for first, second in pairs:
            order = (first, second) if r % 2 else (second, first)
            plan += [(kind, f"r{r}-{kind}") for kind in order]
        if r in full_rounds:
            plan.append(("full", f"r{r}-full"))
    return plan


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    stack_env()
    leftovers = remove_images(None)
    settle()  # and then the load average before this script adds its own
    info = machine_info(docker=True)
    store = (store_images(), leftovers)
    graph = make_graph(args.images, args.seed)
    root = OUT_ROOT / f"skip_unchanged-n{args.images}-s{args.seed}"
    fresh_folder(root, MARKER, "skip_unchanged.py")
    subset = args.bake_subset if 0 < args.bake_subset < args.images else 0
    token, folder = secrets.token_hex(6), root / "build"
    graphgen.write_inputs(folder, graph, token, NAMING, estimates=False,
                          groups={f"first-{subset}": graph.topo[:subset]} if subset else None,
                          bake_naming=BAKE_NAMING)
    print(f"{len(graph.images)} images, {len(graph.edges)} edges, token {token}; in "
          f"{folder.relative_to(REPO)}/", file=sys.stderr)
    session = Session(folder, graph, token, subset)
    cold = session.run("cold", "cold")
    analysis = None
    if cold.returncode == 0:
        session.run("noop", "warmup-noop")
        bake_failed = session.run("bake", "warmup-bake").returncode != 0
        with_subset = bool(subset) and bake_failed
        if with_subset:
            session.run("bake-subset", "warmup-bake-subset")
        for kind, label in plan_rounds(args, with_subset):
            session.run(kind, label)
        if not args.no_analysis:
            analysis = analyse(folder, graph.topo, token)
    load_after = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    section = report(args, graph, info, load_after, session.runs, subset, analysis, store)
    print(section)
    if not args.no_results:
        append_results(RESULTS, section)
        print(f"appended to {RESULTS.relative_to(REPO)}", file=sys.stderr)
    if not args.keep_images:
        remove_images(token)
    return 1 if failures(session.runs, analysis) else 0


if __name__ == "__main__":
    sys.exit(main())
