"""Benchmark: where one build's time goes, outside its own steps (issue 13, deliverable 1).

Measures, on the local stack's engine, each piece of what a build costs besides its RUN
steps, side by side, interleaved (round-robin, the order rotated each round, after one
untimed warm-up round), R repeats each, median and spread (min-max):

1. process: `docker --version` (the CLI alone), the buildx plugin binary called directly
   (`docker-buildx version`), `docker buildx version` (the CLI, which first asks the plugin
   for its metadata, then runs it), `docker version` and `docker info` (a daemon round
   trip; buildorch's probe), `docker image inspect` of one image (buildorch's dependency
   check), `docker tag`.
2. cached: one fully cached one-step build (`FROM busybox`, `RUN echo <token>`) with
   buildorch's own argv (`--tag X --tag buildorch.local/...:RUN`, provenance disabled,
   `--load`, `--metadata-file`), and the same with one thing changed each: one name; no
   metadata file; provenance as buildx defaults (mode=min); both of those; `--output
   type=cacheonly` (no export); the plugin binary called directly; `BUILDX_GIT_INFO=0`
   (buildx runs git 4 times per build in a work tree: build/git.go); all of the cuts at
   once; and `--progress plain` (buildorch's; the others use rawjson, whose timestamps
   give the engine's own durations of the Dockerfile load, the steps and the export).
   Wall, the client's CPU (wait4: the docker CLI, the plugin and git), the engine's CPU
   (dockerd and containerd, from /proc/<pid>/stat, over the same span).
3. split: buildorch's argv and buildx's defaults (one name, provenance), each run under
   `strace -f --seccomp-bpf -ttt -e trace=execve` with rawjson progress: spawn, the docker
   CLI (its plugin-metadata call), buildx until the engine starts the first vertex, the
   solve, the export and its parts (layers, manifest, config, attestation manifest,
   manifest list, naming, unpacking), buildx after the export, the CLI's exit.
4. named context: a dependent build resolving `--build-context dep=docker-image://
   buildorch.local/...` from the local store against a plain `FROM localhost:5000/busybox`
   (both cached, `--output type=cacheonly`).
5. context upload: 1 file against 2,000 files / 50 MB (`COPY . /ctx/`, cached,
   cacheonly), first upload (a new folder: a hard-linked copy, so BuildKit has no earlier
   state for it; each leaves a prunable local-source record in the build cache, hence
   `--upload-repeats`, default 3) and again from the same folder unchanged.
6. store: `docker image inspect` of 1 ref, of N refs in one call, N calls; `docker image
   rm` of N refs in N calls and in one call (re-tagged, untimed, before each).
7. parallel: K copies of the cached build (buildorch's argv) started at once, K = 1, 2, 4:
   the batch's wall and per build.
8. buildorch: each --buildorch REV (default HEAD; a commit's buildorch/ exported with git
   archive, or `worktree`) on a generated pipeline (graphgen: a chain of --chain images,
   images fanned out from its head, independent images; `RUN sleep 1` each), built once
   cold (untimed), then fully cached at -j 1 and -j 4, the commits interleaved: wall,
   buildorch's own CPU (its zombie's /proc stat, children excluded), its children's, the
   engine's; from the run record the start-up, per image and end of run; one extra run of
   each under strace: every docker process buildorch started by kind (count, time), and
   buildorch alone (wall outside them). Also `build --dry-run` and `plan` (the fixed
   start-up cost).
9. hand-off: the same pipeline cold (a fresh token per run), each buildorch -j 4 -v
   against `docker buildx bake` (`target:` contexts): per link of the chain, dependency
   stored -> dependent's first step, and for buildorch its parts (from the output,
   time-stamped as it arrives, and the run record) over the links whose dependent ran in
   a build process of its own.

Prints the results and appends them to benchmarks/results/build_overhead.md. Uses unique
tags under localhost:5000/bench-overhead and buildorch.local/bench-overhead and removes
every image it made; never prunes. Wrap the recorded run in `flock /tmp/engine-bench.lock`.

Run: .venv/bin/python benchmarks/build_overhead.py [--repeats R] [--buildorch REV ...]
     [--only SECTION ...] [--no-results]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphgen
from bake_compare import Timeline  # the same marks per image, read from another run shape
from graphgen import Graph, Image
from machine import append_results, fresh_folder, machine_info, machine_lines, stack_env

REPO = Path(__file__).resolve().parent.parent
BUILDORCH = REPO / ".venv" / "bin" / "buildorch"
RESULTS = REPO / "benchmarks" / "results" / "build_overhead.md"
OUT_ROOT = REPO / "benchmarks" / "out" / "build_overhead"
MARKER = ".build_overhead-generated"  # only a folder holding this file is ever deleted
DOCKERD_PID = REPO / ".stack" / "pids" / "dockerd.pid"

BASE_IMAGE = graphgen.BASE_IMAGE
REPOSITORY = "localhost:5000/bench-overhead"
RUN_NAMES = "buildorch.local/bench-overhead"  # like buildorch's run-scoped names
NAMING = graphgen.Naming(REPOSITORY, "bench-overhead", "build_overhead.py")
BAKE_NAMING = graphgen.Naming(f"{REPOSITORY}-bake", "bench-overhead", "build_overhead.py")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SECTIONS = ("process", "cached", "split", "named", "upload", "store", "parallel",
            "buildorch", "handoff")

Argv = list[str]


# -- timing a command: wall, its CPU, the engine's CPU -----------------------------------


def engine_pids() -> list[int]:
    """dockerd (its pid file) and its children (containerd): the engine's processes."""
    try:
        dockerd = int(DOCKERD_PID.read_text().strip())
    except (OSError, ValueError):
        return []
    pids = [dockerd]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2:].split()[1]) == dockerd:
            pids.append(int(stat.parent.name))
    return pids


def proc_cpu(pid: int) -> tuple[float, float]:
    """(own, children) CPU seconds from /proc/<pid>/stat: utime + stime, cutime + cstime."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0, 0.0
    fields = text[text.rindex(")") + 2:].split()  # fields[0] is field 3 (state)
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return (utime + stime) / CLOCK_TICKS, (cutime + cstime) / CLOCK_TICKS


class Engine:
    """The engine's CPU seconds so far (its own and its reaped children's: RUN steps)."""

    def __init__(self) -> None:
        self.pids = engine_pids()

    def cpu(self) -> float:
        return sum(sum(proc_cpu(pid)) for pid in self.pids)


ENGINE: Engine | None = None


def engine() -> Engine:
    global ENGINE
    if ENGINE is None:
        ENGINE = Engine()
    return ENGINE


@dataclass(frozen=True)
class Sample:
    wall: float
    client_cpu: float  # wait4: the commands and everything they waited for
    engine_cpu: float
    t0: float  # epoch seconds at the start and end
    t1: float
    returncode: int
    output: str


def run_steps(steps: Sequence[Argv], cwd: Path, env: Mapping[str, str] | None = None,
              log: Path | None = None) -> Sample:
    """Run the commands one after another (timed together), output kept."""
    log = log or OUT_ROOT / ".last-output"  # not in cwd: it may be a build context
    cpu, code = 0.0, 0
    texts: list[str] = []
    engine_before = engine().cpu()
    t0 = time.time()
    start = time.perf_counter()
    for argv in steps:
        with log.open("w+") as out:
            proc = subprocess.Popen(argv, cwd=cwd, env=dict(env) if env else None,
                                    stdout=out, stderr=subprocess.STDOUT)
            _pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            texts.append(out.read())
        cpu += usage.ru_utime + usage.ru_stime
        code = code or proc.returncode
    wall = time.perf_counter() - start
    t1 = time.time()
    return Sample(wall, cpu, engine().cpu() - engine_before, t0, t1, code, "".join(texts))


@dataclass
class Case:
    label: str
    steps: list[Argv]
    cwd: Path
    env: dict[str, str] | None = None
    prepare: Callable[[], None] | None = None  # untimed, before each run
    samples: list[Sample] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def run(self) -> Sample:
        if self.prepare is not None:
            self.prepare()
        sample = run_steps(self.steps, self.cwd, self.env)
        if sample.returncode != 0:
            tail = " / ".join(sample.output.strip().splitlines()[-3:])
            self.problems.append(f"{self.label}: exit {sample.returncode}: {tail[:300]}")
        return sample


def measure(cases: Sequence[Case], repeats: int, warmup: int = 1) -> None:
    """Round-robin over the cases, the order rotated each round; warm-up rounds untimed."""
    for r in range(warmup + repeats):
        shift = r % len(cases)
        for case in [*cases[shift:], *cases[:shift]]:
            sample = case.run()
            if r >= warmup:
                case.samples.append(sample)
        print(f"  round {r + 1}/{warmup + repeats}", file=sys.stderr)


# -- statistics and tables -----------------------------------------------------------------


def med(values: Iterable[float]) -> float:
    items = [v for v in values if v == v]
    return statistics.median(items) if items else float("nan")


def spread(values: Sequence[float], unit: float = 1000.0) -> str:
    """`median (min-max)` in ms (unit 1000) or s (unit 1)."""
    items = [v * unit for v in values if v == v]
    if not items:
        return "-"
    digits = 0 if unit == 1000.0 else 2
    if len(items) == 1:
        return f"{items[0]:.{digits}f}"
    return (f"{statistics.median(items):.{digits}f} ({min(items):.{digits}f}-"
            f"{max(items):.{digits}f})")


def ms(value: float) -> str:
    return "-" if value != value else f"{value * 1000:.0f}"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    align = ["---"] + ["---:"] * (len(header) - 1)
    return ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|",
            *("| " + " | ".join(row) + " |" for row in rows)]


# -- rawjson progress: the engine's own timestamps ------------------------------------------


def epoch(stamp: str) -> float:
    """An RFC 3339 UTC time with nanoseconds (`2026-12-01T10:45:20.873045288Z`)."""
    head, _dot, frac = stamp.rstrip("Z").partition(".")
    whole = dt.datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
    return whole.timestamp() + (float("0." + frac) if frac else 0.0)


@dataclass
class Vertex:
    name: str
    started: float | None = None
    completed: float | None = None
    cached: bool = False
    statuses: dict[str, tuple[float, float]] = field(default_factory=dict)  # id -> span


def parse_rawjson(text: str) -> dict[str, Vertex]:
    """The vertices of a `--progress rawjson` stream (concatenated JSON objects), last
    values kept, with the started-completed span of each of their statuses."""
    decoder = json.JSONDecoder()
    vertices: dict[str, Vertex] = {}
    i = 0
    while i < len(text):
        if text[i] != "{":
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl + 1
            continue
        try:
            obj, i = decoder.raw_decode(text, i)
        except ValueError:
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl + 1
            continue
        for v in obj.get("vertexes") or ():
            vertex = vertices.setdefault(v["digest"], Vertex(v.get("name", "")))
            vertex.started = epoch(v["started"]) if v.get("started") else vertex.started
            vertex.completed = epoch(v["completed"]) if v.get("completed") else vertex.completed
            vertex.cached = vertex.cached or bool(v.get("cached"))
        for s in obj.get("statuses") or ():
            vertex = vertices.setdefault(s["vertex"], Vertex(""))
            if s.get("started") and s.get("completed"):
                vertex.statuses[s["id"]] = (epoch(s["started"]), epoch(s["completed"]))
    return vertices


def exporter(vertices: Mapping[str, Vertex]) -> Vertex | None:
    return next((v for v in vertices.values() if v.name.startswith("exporting to")), None)


def not_cached(vertices: Mapping[str, Vertex]) -> list[str]:
    """The RUN/COPY steps that ran rather than came from cache (a cached case must have
    none: the shared build cache may have been pruned by someone else meanwhile)."""
    return [v.name for v in vertices.values()
            if re.search(r"\] (RUN|COPY) ", v.name) and not v.cached]


def engine_spans(vertices: Mapping[str, Vertex], since: float) -> dict[str, float]:
    """Seconds: first vertex started -> export started ('solve'), the export, and the
    export's parts by kind (summed over names).

    Times before `since` (the command's start) are left out: a vertex another build shares
    (the same base's FROM) can come with that build's name and times.
    """
    vertices = {k: v for k, v in vertices.items()
                if v.started is not None and v.started >= since}
    starts = [v.started for v in vertices.values() if v.started is not None]
    ends = [v.completed for v in vertices.values() if v.completed is not None]
    out: dict[str, float] = {}
    if not starts or not ends:
        return out
    out["first vertex"], out["last vertex"] = min(starts), max(ends)
    export = exporter(vertices)
    if export is not None and export.started is not None and export.completed is not None:
        out["solve"] = export.started - min(starts)
        out["export"] = export.completed - export.started
        for status, (began, done) in export.statuses.items():
            kind = EXPORT_PART.sub("", status).strip()
            out[f"export: {kind}"] = out.get(f"export: {kind}", 0.0) + done - began
    else:
        out["solve"] = max(ends) - min(starts)
    for v in vertices.values():
        if v.started is not None and v.completed is not None and v is not export:
            kind = VERTEX_KIND.sub("", v.name).strip() or v.name
            out[f"vertex: {kind}"] = out.get(f"vertex: {kind}", 0.0) + v.completed - v.started
    return out


EXPORT_PART = re.compile(r"\s(sha256:[0-9a-f]+|\S+/\S+)$")  # the digest or name it names
VERTEX_KIND = re.compile(r"(sha256:[0-9a-f]+|localhost:5000/\S+|buildorch\.local/\S+|"
                         r"\[\d+/\d+\] |echo \S+ > /token)")


# -- generated inputs -----------------------------------------------------------------------


def one_step(folder: Path, token: str, base: str = BASE_IMAGE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(f"FROM {base}\nRUN echo {token} > /token\n")
    return folder


def buildx(plugin: str | None = None) -> Argv:
    return [plugin, "build"] if plugin else ["docker", "buildx", "build"]


def build_argv(folder: Path, *, tags: Sequence[str] = (), provenance: bool = False,
               load: bool = True, metadata: Path | None = None, progress: str = "rawjson",
               plugin: str | None = None, contexts: Sequence[str] = ()) -> Argv:
    """buildorch's argv for one image (docker backend; see `build --dry-run`)."""
    argv = [*buildx(plugin), "--progress", progress]
    for context in contexts:
        argv += ["--build-context", context]
    for t in tags:
        argv += ["--tag", t]
    if not provenance:
        argv += ["--attest", "type=provenance,disabled=true"]
    argv += ["--load"] if load else ["--output", "type=cacheonly"]
    if metadata is not None:
        argv += ["--metadata-file", str(metadata)]
    return [*argv, str(folder)]


def plugin_path() -> str | None:
    """The buildx plugin's binary, as `docker info` lists it (ClientInfo.Plugins)."""
    out = subprocess.run(["docker", "info", "--format", "{{json .ClientInfo.Plugins}}"],
                         capture_output=True, text=True, check=False).stdout
    try:
        plugins = json.loads(out)
    except ValueError:
        return None
    return next((p["Path"] for p in plugins or () if p.get("Name") == "buildx"), None)


class Tags:
    """Every tag this script makes, removed at the end (and along the way)."""

    def __init__(self) -> None:
        self.made: set[str] = set()

    def new(self, kind: str, token: str, local: bool = False) -> str:
        name = f"{RUN_NAMES if local else REPOSITORY}/{kind}:{token}"
        self.made.add(name)
        return name

    def remove(self, names: Iterable[str] | None = None) -> None:
        doomed = sorted(self.made if names is None else set(names))
        for i in range(0, len(doomed), 50):
            subprocess.run(["docker", "image", "rm", *doomed[i:i + 50]], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.made -= set(doomed)


# -- 1 process start -----------------------------------------------------------------------


def process_section(root: Path, repeats: int, plugin: str | None, tags: Tags) -> list[str]:
    ref = tags.new("inspected", secrets.token_hex(6))
    subprocess.run(["docker", "tag", BASE_IMAGE, ref], check=True)
    spare = tags.new("retagged", secrets.token_hex(6))
    cases = [
        Case("`docker --version` (the CLI alone)", [["docker", "--version"]], root),
        *([Case("`docker-buildx version` (the plugin binary, directly)",
                [[plugin, "version"]], root)] if plugin else []),
        Case("`docker buildx version` (CLI -> plugin metadata -> plugin)",
             [["docker", "buildx", "version"]], root),
        Case("`docker version` (CLI + daemon round trip)",
             [["docker", "version", "--format", "{{.Server.Version}}"]], root),
        Case("`docker info --format {{json .}}` (buildorch's backend probe)",
             [["docker", "info", "--format", "{{json .}}"]], root),
        Case("`docker image inspect --format {{.Id}} REF` (buildorch, per dependency)",
             [["docker", "image", "inspect", "--format", "{{.Id}}", ref]], root),
        Case("`docker tag SRC DST`", [["docker", "tag", BASE_IMAGE, spare]], root),
    ]
    measure(cases, repeats)
    rows = [(c.label, spread([s.wall for s in c.samples]),
             spread([s.client_cpu for s in c.samples]),
             spread([s.engine_cpu for s in c.samples])) for c in cases]
    return [
        "### Process start and single docker commands", "",
        *table(("command", "wall ms", "client CPU ms", "engine CPU ms"), rows),
        *problems_of(cases),
    ]


def problems_of(cases: Iterable[Case]) -> list[str]:
    found = [p for c in cases for p in c.problems]
    return ["", "Problems:", *(f"- {p}" for p in found)] if found else []


# -- 2 the cached build, one thing changed at a time ----------------------------------------


def cached_cases(root: Path, plugin: str | None, tags: Tags) -> list[Case]:
    token = secrets.token_hex(6)
    folder = one_step(root / "cached" / "context", f"cached-{token}")
    meta = root / "cached" / "metadata.json"
    user, run = tags.new("cached", token), tags.new("cached", token, local=True)
    both = [user, run]
    no_git = {**os.environ, "BUILDX_GIT_INFO": "0"}

    def case(label: str, env: dict[str, str] | None = None, **kw: Any) -> Case:
        args: dict[str, Any] = {"tags": both, "metadata": meta, **kw}
        return Case(label, [build_argv(folder, **args)], folder.parent, env)

    cases = [
        case("buildorch's argv: 2 names, provenance off, --load, --metadata-file"),
        case("one name (no buildorch.local/... name)", tags=[user]),
        case("no --metadata-file", metadata=None),
        case("provenance as buildx defaults (mode=min)", provenance=True),
        case("one name, provenance default, no metadata (plain `docker buildx build "
             "--load -t X`)", tags=[user], provenance=True, metadata=None),
        case("`--output type=cacheonly` (no export, no names)", tags=[], load=False),
        case("`BUILDX_GIT_INFO=0` (no git calls)", env=no_git),
    ]
    if plugin:
        cases += [
            case("the plugin binary directly (`docker-buildx build`)", plugin=plugin),
            case("all cuts: plugin directly, one name, no metadata, no git", env=no_git,
                 plugin=plugin, tags=[user], metadata=None),
        ]
    cases.append(case("buildorch's argv with `--progress plain` (the others: rawjson)",
                      progress="plain"))
    return cases


def cached_section(root: Path, repeats: int, plugin: str | None, tags: Tags) -> list[str]:
    cases = cached_cases(root, plugin, tags)
    measure(cases, repeats)
    base = med(s.wall for s in cases[0].samples)
    rows = []
    for c in cases:
        spans = [engine_spans(parse_rawjson(s.output), s.t0) for s in c.samples]
        for s in c.samples:
            ran = not_cached(parse_rawjson(s.output))
            if ran:
                c.problems.append(f"{c.label}: not cached: {ran}")
        wall = med(s.wall for s in c.samples)
        rows.append((c.label, spread([s.wall for s in c.samples]), f"{(wall - base) * 1000:+.0f}",
                     spread([s.client_cpu for s in c.samples]),
                     spread([s.engine_cpu for s in c.samples]),
                     ms(med(x.get("solve", float("nan")) for x in spans)),
                     ms(med(x.get("export", float("nan")) for x in spans))))
    return [
        "### A fully cached one-step build, one thing changed at a time", "",
        *table(("variant", "wall ms", "vs buildorch's", "client CPU ms", "engine CPU ms",
                "engine: solve ms", "engine: export ms"), rows),
        "",
        "solve: the engine's first vertex started -> the exporter started (Dockerfile, "
        "base metadata, context, the cached steps); export: the exporter's vertex (rawjson "
        "timestamps; `-` with plain progress or no exporter).",
        *problems_of(cases),
    ]


# -- 3 split of one cached build under strace -----------------------------------------------


_EXECVE = re.compile(r'^(\d+)\s+([\d.]+) execve\("([^"]*)", \[(.*?)\](?:, 0x[0-9a-f]+ /\*| \.\.\.)'
                     r'.*= 0$')
_EXITED = re.compile(r"^(\d+)\s+([\d.]+) \+\+\+ (exited with|killed by)")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Proc:
    pid: int
    argv: tuple[str, ...]
    started: float
    ended: float

    @property
    def kind(self) -> str:
        base = Path(self.argv[0]).name if self.argv else "?"
        words = [w for w in self.argv[1:] if not w.startswith("-")]
        if base == "docker":
            return "docker " + " ".join(words[:2] if words[:1] in (["image"], ["buildx"])
                                        else words[:1])
        if base == "docker-buildx":
            return ("plugin metadata" if words[:1] == ["docker-cli-plugin-metadata"]
                    else "plugin " + " ".join(words[:2]))
        return base


def parse_strace(path: Path) -> list[Proc]:
    """Each successful execve and the exit of its process, by pid (the last execve wins:
    Python's subprocess tries each PATH entry, and only one succeeds)."""
    execs: dict[int, tuple[float, tuple[str, ...]]] = {}
    ends: dict[int, float] = {}
    for line in path.read_text(errors="replace").splitlines():
        match = _EXECVE.match(line)
        if match:
            argv = tuple(_STRING.findall(match.group(4)))
            execs[int(match.group(1))] = (float(match.group(2)), argv)
            continue
        match = _EXITED.match(line)
        if match:
            ends[int(match.group(1))] = float(match.group(2))
    return sorted((Proc(pid, argv, start, ends.get(pid, float("nan")))
                   for pid, (start, argv) in execs.items()), key=lambda p: p.started)


def strace_argv(out: Path, argv: Sequence[str]) -> Argv:
    return ["strace", "-f", "--seccomp-bpf", "-ttt", "-s", "300", "-e", "trace=execve",
            "-e", "signal=none", "-o", str(out), *argv]


def split_one(sample: Sample, procs: Sequence[Proc]) -> dict[str, float]:
    nan = float("nan")
    docker = next((p for p in procs if p.kind.startswith("docker buildx")), None)
    meta = next((p for p in procs if p.kind == "plugin metadata"), None)
    plugin = next((p for p in procs if p.kind.startswith("plugin build")), None)
    gits = [p for p in procs if p.kind == "git"]
    spans = engine_spans(parse_rawjson(sample.output), sample.t0)
    if docker is None or plugin is None or "first vertex" not in spans:
        return {}
    export_end = spans["first vertex"] + spans.get("solve", nan) + spans.get("export", 0.0)
    out = {
        "spawn (strace + exec of docker)": docker.started - sample.t0,
        "docker CLI until the plugin runs": plugin.started - docker.started,
        "  of which the plugin-metadata call": (meta.ended - meta.started) if meta else nan,
        "buildx until the engine's first vertex": spans["first vertex"] - plugin.started,
        "  of which git (buildx's git info)": (max(g.ended for g in gits) - gits[0].started)
        if gits else 0.0,
        "engine: solve (first vertex -> export)": spans.get("solve", nan),
        "engine: export": spans.get("export", nan),
        "buildx after the export until it exits": plugin.ended - (
            export_end if "export" in spans else spans["last vertex"]),
        "docker CLI after the plugin exits": docker.ended - plugin.ended,
        "exit -> caller sees it": sample.t1 - docker.ended,
        "total (under strace)": sample.wall,
    }
    for key, value in spans.items():
        if key.startswith(("export: ", "vertex: ")):
            out["  " + key] = value
    return out


def split_section(root: Path, repeats: int, tags: Tags) -> list[str]:
    token = secrets.token_hex(6)
    folder = one_step(root / "split" / "context", f"split-{token}")
    meta = root / "split" / "metadata.json"
    user, run = tags.new("split", token), tags.new("split", token, local=True)
    trace = root / "split" / "strace.txt"
    variants = {
        "buildorch's argv": build_argv(folder, tags=[user, run], metadata=meta),
        "buildx defaults (one name, provenance)": build_argv(folder, tags=[user],
                                                             provenance=True),
    }
    cases = [Case(label, [strace_argv(trace.with_name(f"strace-{i}.txt"), argv)],
                  folder.parent) for i, (label, argv) in enumerate(variants.items())]
    results: dict[str, list[dict[str, float]]] = {c.label: [] for c in cases}
    for r in range(1 + repeats):
        for c in cases if r % 2 else cases[::-1]:
            sample = c.run()
            if r:
                trace_of = trace.with_name(f"strace-{cases.index(c)}.txt")
                results[c.label].append(split_one(sample, parse_strace(trace_of)))
    keys: list[str] = []
    for runs in results.values():
        for split in runs:
            keys += [k for k in split if k not in keys]
    rows = [(key, *(spread([s.get(key, float("nan")) for s in results[c.label]])
                    for c in cases)) for key in keys]
    return [
        "### One cached build, split (strace -f --seccomp-bpf -e trace=execve, rawjson "
        "progress; the engine's timestamps)", "",
        *table(("phase (ms)", *(c.label for c in cases)), rows),
        "",
        "Indented rows are parts of the row above them (the engine's vertices and the "
        "export's statuses, summed by kind: two names give two `naming to` and two "
        "`unpacking to`).",
        *problems_of(cases),
    ]


# -- 4 a named context from the local store ------------------------------------------------


def named_section(root: Path, repeats: int, tags: Tags) -> list[str]:
    token = secrets.token_hex(6)
    dep = tags.new("dep", token, local=True)
    dep_folder = one_step(root / "named" / "dep", f"dep-{token}")
    subprocess.run(build_argv(dep_folder, tags=[dep], progress="quiet"), check=True,
                   stdout=subprocess.DEVNULL)
    plain = one_step(root / "named" / "plain", f"named-{token}")
    named = one_step(root / "named" / "named", f"named-{token}", base="dep")
    cases = [
        Case(f"`FROM {BASE_IMAGE}` (resolved at the registry)",
             [build_argv(plain, load=False)], plain),
        Case("`FROM dep`, `--build-context dep=docker-image://buildorch.local/...` (the "
             "local store)",
             [build_argv(named, load=False, contexts=[f"dep=docker-image://{dep}"])], named),
        Case("the same after `docker image inspect` of dep (buildorch's check)",
             [["docker", "image", "inspect", "--format", "{{.Id}}", dep],
              build_argv(named, load=False, contexts=[f"dep=docker-image://{dep}"])], named),
    ]
    measure(cases, repeats)
    rows = []
    for c in cases:
        spans = [engine_spans(parse_rawjson(s.output), s.t0) for s in c.samples]
        resolve = [sum(v for k, v in x.items() if k.startswith("vertex:") and (
            "load metadata" in k or "[context dep]" in k)) for x in spans]
        rows.append((c.label, spread([s.wall for s in c.samples]),
                     spread([s.client_cpu for s in c.samples]),
                     spread([s.engine_cpu for s in c.samples]), spread(resolve),
                     ms(med(x.get("solve", float("nan")) for x in spans))))
    return [
        "### A dependency as a named context from the local store, against a registry base",
        "", *table(("build (cached, `--output type=cacheonly`)", "wall ms", "client CPU ms",
                    "engine CPU ms", "engine: resolving the base ms", "engine: solve ms"),
                   rows),
        "",
        "resolving: the `load metadata for ...` vertex, plus for the named context its "
        "`[context dep] ...` vertex.",
        *problems_of(cases),
    ]


# -- 5 context upload ----------------------------------------------------------------------


def make_context(folder: Path, files: int, size: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(f"FROM {BASE_IMAGE}\nCOPY . /ctx/\n")
    for i in range(files):
        sub = folder / f"d{i // 100:02d}"
        sub.mkdir(exist_ok=True)
        (sub / f"f{i:04d}.bin").write_bytes(os.urandom(size))
    return folder


def upload_section(root: Path, repeats: int, first_repeats: int) -> list[str]:
    small = make_context(root / "upload" / "small", 1, 100)
    big = make_context(root / "upload" / "big", 2000, 25 * 1024)
    copies = root / "upload" / "copies"

    def fresh(source: Path, case: Case) -> Callable[[], None]:
        def prepare() -> None:
            target = copies / f"{source.name}-{secrets.token_hex(4)}"
            subprocess.run(["cp", "-al", str(source), str(target)], check=True)
            case.steps = [build_argv(target, load=False)]
        return prepare

    again = [Case("1 file, again (same folder, unchanged)", [build_argv(small, load=False)],
                  root),
             Case("2,000 files / 50 MB, again (same folder, unchanged)",
                  [build_argv(big, load=False)], root)]
    first = [Case("1 file, first upload (a new folder)", [], root),
             Case("2,000 files / 50 MB, first upload (a new folder)", [], root)]
    copies.mkdir(parents=True, exist_ok=True)
    first[0].prepare, first[1].prepare = fresh(small, first[0]), fresh(big, first[1])
    measure(again, repeats)
    measure(first, first_repeats, warmup=0)
    shutil.rmtree(copies)
    rows = []
    for c in [*again, *first]:
        spans = [engine_spans(parse_rawjson(s.output), s.t0) for s in c.samples]
        rows.append((c.label, spread([s.wall for s in c.samples]),
                     spread([s.client_cpu for s in c.samples]),
                     spread([s.engine_cpu for s in c.samples]),
                     spread([x.get("vertex: [internal] load build context", float("nan"))
                             for x in spans])))
    return [
        "### Context upload (`COPY . /ctx/`, cached, `--output type=cacheonly`)", "",
        *table(("context", "wall ms", "client CPU ms", "engine CPU ms",
                "engine: load build context ms"), rows),
        "",
        f"First uploads: {first_repeats} each, no warm-up (a hard-linked copy in a new "
        "folder each time, so BuildKit has no earlier state for its path; each leaves a "
        "local-source record in the build cache, which a prune reclaims).",
        *problems_of([*again, *first]),
    ]


# -- 6 the image store: inspect and rm -----------------------------------------------------


def store_section(root: Path, repeats: int, refs: int, tags: Tags) -> list[str]:
    token = secrets.token_hex(6)
    names = [tags.new(f"store-{i}", token, local=True) for i in range(refs)]

    def retag() -> None:
        for name in names:
            subprocess.run(["docker", "tag", BASE_IMAGE, name], check=True)

    inspect = ["docker", "image", "inspect", "--format", "{{.Id}}"]
    cases = [  # each re-tags first (untimed): an rm before it removed the names
        Case("`docker image inspect` 1 ref", [[*inspect, names[0]]], root, prepare=retag),
        Case(f"`docker image inspect` {refs} refs, one call", [[*inspect, *names]], root,
             prepare=retag),
        Case(f"`docker image inspect` {refs} refs, {refs} calls",
             [[*inspect, n] for n in names], root, prepare=retag),
        Case(f"`docker image rm` {refs} refs, {refs} calls",
             [["docker", "image", "rm", n] for n in names], root, prepare=retag),
        Case(f"`docker image rm` {refs} refs, one call", [["docker", "image", "rm", *names]],
             root, prepare=retag),
    ]
    measure(cases, repeats)
    rows = [(c.label, spread([s.wall for s in c.samples]),
             ms(med(s.wall for s in c.samples) / (refs if str(refs) in c.label else 1)),
             spread([s.client_cpu for s in c.samples]),
             spread([s.engine_cpu for s in c.samples])) for c in cases]
    tags.remove(names)
    return [
        f"### The image store: {refs} refs (tags of one image), inspect and rm", "",
        *table(("command", "wall ms", "per ref ms", "client CPU ms", "engine CPU ms"), rows),
        *problems_of(cases),
    ]


# -- 7 parallel cached builds --------------------------------------------------------------


def parallel_section(root: Path, repeats: int, tags: Tags) -> list[str]:
    widths = (1, 2, 4)
    token = secrets.token_hex(6)
    argvs = []
    for i in range(max(widths)):
        folder = one_step(root / "parallel" / f"b{i}", f"parallel-{token}-{i}")
        argvs.append(build_argv(folder, tags=[tags.new(f"par{i}", token),
                                              tags.new(f"par{i}", token, local=True)],
                                metadata=folder / "metadata.json", progress="plain"))
    results: dict[int, list[tuple[float, list[float], float, float]]] = {k: [] for k in widths}
    problems: list[str] = []
    for r in range(1 + repeats):
        for k in widths if r % 2 else widths[::-1]:
            batch = run_batch(argvs[:k], root, problems)
            if r:
                results[k].append(batch)
    rows = []
    for k in widths:
        walls = [b[0] for b in results[k]]
        each = [w for b in results[k] for w in b[1]]
        rows.append((str(k), spread(walls), spread(each), ms(med(walls) / k),
                     spread([b[2] / k for b in results[k]]),
                     spread([b[3] / k for b in results[k]])))
    return [
        "### K cached builds at once (buildorch's argv, plain progress, each its own image)",
        "", *table(("K", "batch wall ms", "each build's wall ms", "batch wall / K ms",
                    "client CPU per build ms", "engine CPU per build ms"), rows),
        *(["", "Problems:", *(f"- {p}" for p in problems)] if problems else []),
    ]


def run_batch(argvs: Sequence[Argv], root: Path,
              problems: list[str]) -> tuple[float, list[float], float, float]:
    """Start every command at once; (batch wall, each one's wall, their CPU, the engine's)."""
    done: list[tuple[float, float]] = []
    lock = threading.Lock()

    def one(argv: Argv) -> None:
        began = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=root, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        with lock:
            done.append((time.perf_counter() - began, usage.ru_utime + usage.ru_stime))
            if proc.returncode:
                problems.append(f"{shlex.join(argv[-1:])}: exit {proc.returncode}")

    engine_before = engine().cpu()
    start = time.perf_counter()
    threads = [threading.Thread(target=one, args=(a,)) for a in argvs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (time.perf_counter() - start, [w for w, _c in done], sum(c for _w, c in done),
            engine().cpu() - engine_before)


# -- 8 buildorch on a generated pipeline ----------------------------------------------------


def make_graph(images: int, chain: int) -> Graph:
    """A chain (chain-1 -> ... -> chain-L), images fanned out from its head, independent
    images; every image `RUN sleep 1` (cached runs never sleep)."""
    links = [f"chain-{i + 1}" for i in range(chain)]
    topo = [Image(n, 1, (links[i - 1],) if i else ()) for i, n in enumerate(links)]
    rest = images - chain
    topo += [Image(f"fan-{i + 1}", 1, (links[0],)) for i in range(rest // 2)]
    topo += [Image(f"solo-{i + 1}", 1) for i in range(rest - rest // 2)]
    return Graph(list(topo), [i.name for i in topo], links)


@dataclass(frozen=True)
class Orch:
    """A buildorch to run: the working tree's `.venv/bin/buildorch`, or a commit's
    `buildorch/` exported (git archive) and run by the same interpreter with PYTHONPATH and
    -P, so that the editable install's finder (after PathFinder) does not take over."""

    label: str  # e.g. "bdcbbfb (HEAD)"
    key: str  # folder-safe
    prefix: tuple[str, ...]
    env: tuple[tuple[str, str], ...]

    def argv(self, *args: str) -> Argv:
        return [*self.prefix, *args]

    def environ(self) -> dict[str, str]:
        return {**child_env(), **dict(self.env)}


def child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def orch_source(rev: str, root: Path) -> Orch:
    if rev == "worktree":
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "buildorch"], cwd=REPO,
                               capture_output=True, text=True, check=False).stdout.strip()
        return Orch("working tree" + (" (uncommitted changes in buildorch/)" if dirty else ""),
                    "worktree", (str(BUILDORCH),), ())
    commit = subprocess.run(["git", "rev-parse", "--short", rev], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout.strip()
    folder = root / f"src-{commit}"
    folder.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", commit, "buildorch"], cwd=REPO, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    python = str(REPO / ".venv" / "bin" / "python")
    label = commit if rev == commit else f"{commit} ({rev})"
    return Orch(label, commit, (python, "-P", "-m", "buildorch"),
                (("PYTHONPATH", str(folder)),))


@dataclass
class OrchRun:
    label: str
    wall: float = 0.0
    own_cpu: float = 0.0
    children_cpu: float = 0.0
    engine_cpu: float = 0.0
    t0: float = 0.0
    returncode: int = 0
    lines: list[tuple[float, str]] = field(default_factory=list)  # (seconds, line)
    record: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)


_RECORD_RE = re.compile(r"record in (\S+record\.json)")


def run_orch(label: str, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> OrchRun:
    """Run a command, its output time-stamped as it arrives; its own CPU and its children's
    from its zombie's /proc stat (before it is reaped)."""
    run = OrchRun(label)
    engine_before = engine().cpu()
    run.t0 = time.time()
    start = time.perf_counter()
    proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace")
    assert proc.stdout is not None
    for line in proc.stdout:
        run.lines.append((time.perf_counter() - start, line.rstrip("\n")))
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
    run.wall = time.perf_counter() - start
    run.own_cpu, run.children_cpu = proc_cpu(proc.pid)
    run.returncode = proc.wait()
    run.engine_cpu = engine().cpu() - engine_before
    if run.returncode:
        tail = " / ".join(line for _t, line in run.lines[-3:])
        run.problems.append(f"{label}: exit {run.returncode}: {tail[:300]}")
    for _t, line in reversed(run.lines):
        match = _RECORD_RE.search(line)
        if match:
            run.record = json.loads((cwd / match.group(1)).read_text())
            break
    return run


def build_args(jobs: int, *extra: str) -> Argv:
    return ["build", "-f", "pipeline.yaml", "--backend", "docker", "-j", str(jobs),
            "--progress", "plain", *extra]


def record_phases(run: OrchRun) -> dict[str, float]:
    """From the run record: start-up, per image (median), end of run."""
    record = run.record or {}
    images = [e for e in record.get("images", {}).values() if e.get("started")]
    if not images:
        return {}
    started = [e["started"] for e in images]
    ended = [e["ended"] for e in images]
    return {
        "command start -> first build started": min(started) - run.t0,
        "per image: started -> ended (median)": med(e["ended"] - e["started"] for e in images),
        "per image: started -> ended (sum over images)": sum(e["ended"] - e["started"]
                                                             for e in images),
        "last build ended -> record written": record["ended"] - max(ended),
        "record written -> exit": run.t0 + run.wall - record["ended"],
    }


def cached_check(run: OrchRun) -> None:
    for name, entry in (run.record or {}).get("images", {}).items():
        total, cached = entry.get("total_steps"), entry.get("cached_steps")
        if total is None or cached != total:
            run.problems.append(f"{run.label}: {name}: {cached}/{total} steps cached")


def kinds_of(procs: Sequence[Proc], orch_pid: int) -> tuple[dict[str, list[float]], float]:
    """The docker processes buildorch ran (the docker CLI, not its plugin), by kind: each
    one's lifetime; and the union of their lifetimes (wall time with at least one running)."""
    top = [p for p in procs if p.pid != orch_pid and p.argv
           and Path(p.argv[0]).name == "docker"]
    kinds: dict[str, list[float]] = {}
    for p in top:
        kinds.setdefault(p.kind, []).append(p.ended - p.started)
    union, reach = 0.0, float("-inf")
    for p in sorted(top, key=lambda p: p.started):
        if p.ended > reach:
            union += p.ended - max(p.started, reach)
            reach = p.ended
    return kinds, union


@dataclass
class Traced:
    kinds: dict[str, list[float]]
    union: float  # wall with a docker process running
    life: float  # buildorch's process: exec -> exit
    wall: float


def traced_run(orch: Orch, jobs: int, folder: Path) -> Traced:
    out = folder / f"strace-j{jobs}.txt"
    run = run_orch(f"strace-j{jobs}", strace_argv(out, orch.argv(*build_args(jobs))), folder,
                   orch.environ())
    procs = parse_strace(out)
    own = procs[0]  # the traced command itself
    kinds, union = kinds_of(procs, own.pid)
    return Traced(kinds, union, own.ended - own.started, run.wall)


@dataclass
class OrchResults:
    folder: Path
    cold: OrchRun
    runs: dict[int, list[OrchRun]] = field(default_factory=lambda: {1: [], 4: []})
    startup: dict[str, list[OrchRun]] = field(
        default_factory=lambda: {"`build --dry-run`": [], "`plan`": []})
    traced: dict[int, Traced] = field(default_factory=dict)


def measure_orchs(root: Path, repeats: int, graph: Graph, tags: Tags,
                  orchs: Sequence[Orch]) -> dict[str, OrchResults]:
    """Each buildorch's cold build (its own pipeline folder and token), then the cached
    runs, dry runs and plans, interleaved: every buildorch and -j in each round, so that
    a load that comes and goes (a shared machine) falls on all of them alike."""
    results: dict[str, OrchResults] = {}
    for orch in orchs:
        token = secrets.token_hex(6)
        folder = root / f"pipeline-{orch.key}"
        graphgen.write_inputs(folder, graph, token, NAMING, estimates=False)
        tags.made.update(NAMING.tag(i.name, token) for i in graph.images)
        cold = run_orch("cold", orch.argv(*build_args(4)), folder, orch.environ())
        results[orch.key] = OrchResults(folder, cold)
        print(f"  {orch.label}: cold build {cold.wall:.2f} s", file=sys.stderr)
    for r in range(repeats):
        turns = [(o, j) for o in orchs for j in (1, 4)]
        shift = r % len(turns)
        for orch, jobs in turns[shift:] + turns[:shift]:
            res = results[orch.key]
            run = run_orch(f"{orch.key} r{r + 1} -j {jobs}", orch.argv(*build_args(jobs)),
                           res.folder, orch.environ())
            cached_check(run)
            res.runs[jobs].append(run)
        for orch in orchs:
            res, env = results[orch.key], orch.environ()
            res.startup["`build --dry-run`"].append(
                run_orch("dry", orch.argv(*build_args(4, "--dry-run")), res.folder, env))
            res.startup["`plan`"].append(run_orch(
                "plan", orch.argv("plan", "-f", "pipeline.yaml", "--backend", "docker"),
                res.folder, env))
        print(f"  round {r + 1}/{repeats}", file=sys.stderr)
    for jobs in (1, 4):
        for orch in orchs:
            results[orch.key].traced[jobs] = traced_run(orch, jobs, results[orch.key].folder)
    return results


def buildorch_section(res: OrchResults, graph: Graph, repeats: int, orch: Orch) -> list[str]:
    cold, runs, startup, traced = res.cold, res.runs, res.startup, res.traced
    n = len(graph.images)
    lines = [f"### buildorch {orch.label} on a generated pipeline ({n} images: a chain of "
             f"{len(graph.chain)}, fan-out, independent; every step cached)", "",
             f"Cold build first (untimed, fills the cache): {cold.wall:.2f} s. Cached runs: "
             f"{repeats} at each -j, interleaved with the other buildorch's runs.", ""]
    rows = []
    for jobs in (1, 4):
        rs = runs[jobs]
        rows.append((f"`build -j {jobs}`, cached", spread([r.wall for r in rs], 1),
                     spread([r.wall / n for r in rs]), spread([r.own_cpu for r in rs]),
                     spread([r.own_cpu / n for r in rs]),
                     spread([r.children_cpu / n for r in rs]),
                     spread([r.engine_cpu / n for r in rs])))
    for label, rs in startup.items():
        rows.append((label, spread([r.wall for r in rs], 1), "-",
                     spread([r.own_cpu for r in rs]), "-", "-", "-"))
    lines += table(("command", "wall s", "wall per image ms", "buildorch's own CPU ms",
                    "own CPU per image ms", "children CPU per image ms",
                    "engine CPU per image ms"), rows)
    phase_keys = list(record_phases(runs[1][0])) if runs[1] else []
    lines += ["", "From the run records (ms):", "",
              *table(("phase", "-j 1", "-j 4"),
                     [(k, *(spread([record_phases(r).get(k, float("nan")) for r in runs[j]])
                            for j in (1, 4))) for k in phase_keys])]
    lines += ["", "One more cached run at each -j under strace (-f --seccomp-bpf -e "
              "trace=execve): the docker CLI processes buildorch started (exec -> exit; "
              "their plugin and git children inside), and buildorch alone:", ""]
    krows = []
    for kind in sorted({k for t in traced.values() for k in t.kinds}):
        cells = []
        for jobs in (1, 4):
            values = traced[jobs].kinds.get(kind, [])
            cells += [str(len(values)), f"{sum(values) * 1000:.0f}", ms(med(values))]
        krows.append((f"`{kind}`", *cells))
    totals: dict[str, Callable[[Traced], float]] = {
        "wall with a docker process running (union)": lambda t: t.union,
        "buildorch's process, exec -> exit": lambda t: t.life,
        "buildorch alone (no docker process running)": lambda t: t.life - t.union,
        "the traced run's wall (strace's cost included)": lambda t: t.wall,
    }
    for label, value in totals.items():
        krows.append((label, "", ms(value(traced[1])), "", "", ms(value(traced[4])), ""))
    lines += table(("process", "-j 1: count", "sum ms", "median ms", "-j 4: count", "sum ms",
                    "median ms"), krows)
    problems = [p for rs in [*runs.values(), *startup.values(), [cold]] for r in rs
                for p in r.problems]
    lines += ["", "Problems:", *(f"- {p}" for p in problems)] if problems else []
    return lines


# -- 9 cold hand-off along the chain: buildorch against bake --------------------------------


_STEP = re.compile(r"^#(\d+) \[[^\]]*\] (.*)$")
_DONE = re.compile(r"^#(\d+) DONE ")
_PREFIX = re.compile(r"^\[([A-Za-z0-9_.-]+)\] (.*)$")
_ATTEMPT = re.compile(r"^==> ([A-Za-z0-9_.-]+): started")


def marks(run: OrchRun, graph: Graph, token: str, naming: graphgen.Naming) -> Timeline:
    """When each image's first own step appeared and its export said DONE (bake: one
    stream; buildorch: its `[image] ` lines), and buildorch's record and `==>` lines."""
    m = Timeline()
    groups: dict[str, list[tuple[float, str]]] = {}
    for stamp, line in run.lines:
        prefixed = _PREFIX.match(line)
        if prefixed:
            groups.setdefault(prefixed.group(1), []).append((stamp, prefixed.group(2)))
            m.first_output.setdefault(prefixed.group(1), stamp)
        else:
            groups.setdefault("", []).append((stamp, line))
            attempt = _ATTEMPT.match(line)
            if attempt:
                m.attempt.setdefault(attempt.group(1), stamp)
    for lines in groups.values():
        exporter_of: dict[str, str] = {}
        for stamp, line in lines:
            step = _STEP.match(line)
            for image in graph.images:
                if step and f"RUN echo {token}-{image.name} >" in step.group(2):
                    m.first_step.setdefault(image.name, stamp)
                if f"naming to {naming.tag(image.name, token)}" in line:
                    exporter_of[line.split()[0].lstrip("#")] = image.name
            done = _DONE.match(line)
            if done and done.group(1) in exporter_of:
                m.stored.setdefault(exporter_of[done.group(1)], stamp)
    for name, entry in (run.record or {}).get("images", {}).items():
        if entry.get("started") and entry.get("ended"):
            m.started[name] = entry["started"] - run.t0
            m.ended[name] = entry["ended"] - run.t0
    return m


HANDOFF_PARTS = (  # (label, from, to, whose): dep -> dep, link: dep -> dependent, own
    ("dependency stored -> its build process ended (buildx exits)", "stored", "ended", "dep"),
    ("-> dependent started (scheduler)", "ended", "started", "link"),
    ("-> `==> X: started` (dependency check: `docker image inspect`)", "started", "attempt",
     "own"),
    ("-> first output line (`docker buildx build` starts)", "attempt", "first_output", "own"),
    ("-> first step (Dockerfile, named context, base)", "first_output", "first_step", "own"),
)


def own_process_links(m: Timeline, links: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The links whose dependent started its own build after its dependency's ended (a
    process per image); not those built in one bake session (started before it ended)."""
    return [(a, b) for a, b in links
            if a in m.ended and b in m.started and m.started[b] >= m.ended[a] - 0.001]


def handoff_parts(results: Sequence[tuple[OrchRun, Timeline]],
                  links: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    parts = []
    for label, a_key, b_key, who in HANDOFF_PARTS:
        values = []
        for _r, m in results:
            a_map: dict[str, float] = getattr(m, a_key)
            b_map: dict[str, float] = getattr(m, b_key)
            for dep, dependent in own_process_links(m, links):
                x = dep if who in ("dep", "link") else dependent
                y = dependent if who == "link" else x
                if x in a_map and y in b_map:
                    values.append(b_map[y] - a_map[x])
        parts.append((label, spread(values)))
    return parts


def handoff_section(root: Path, repeats: int, graph: Graph, tags: Tags,
                    orchs: Sequence[Orch]) -> list[str]:
    bake = ["docker", "buildx", "bake", "-f", "docker-bake.hcl", "--progress", "plain"]
    tools: dict[str, tuple[Argv, dict[str, str]]] = {"bake": (bake, child_env())}
    for orch in orchs:
        # -v: every build's output, `[image] `-prefixed, as it comes (the time stamps)
        tools[f"buildorch {orch.label}"] = (orch.argv(*build_args(4, "-v")), orch.environ())
    results: dict[str, list[tuple[OrchRun, Timeline]]] = {t: [] for t in tools}
    for r in range(repeats):
        order = list(tools)
        for i, tool in enumerate(order[r % len(order):] + order[:r % len(order)]):
            token = secrets.token_hex(6)
            folder = root / "handoff" / f"r{r + 1}-{i}"
            graphgen.write_inputs(folder, graph, token, NAMING, estimates=False,
                                  bake_naming=BAKE_NAMING)
            naming = BAKE_NAMING if tool == "bake" else NAMING
            argv, env = tools[tool]
            run = run_orch(f"r{r + 1} {tool}", argv, folder, env)
            results[tool].append((run, marks(run, graph, token, naming)))
            tags.remove(naming.tag(i.name, token) for i in graph.images)
            print(f"  {run.label}: {run.wall:.2f} s", file=sys.stderr)
    links = list(zip(graph.chain, graph.chain[1:], strict=False))
    rows = []
    for tool in tools:
        rs = results[tool]
        hand = [m.first_step[b] - m.stored[a] for _r, m in rs for a, b in links
                if a in m.stored and b in m.first_step]
        link = [m.stored[b] - m.stored[a] - 1 for _r, m in rs for a, b in links
                if a in m.stored and b in m.stored]
        total = [sum(m.first_step[b] - m.stored[a] for a, b in links
                     if a in m.stored and b in m.first_step) for _r, m in rs]
        rows.append((tool, spread([r.wall for r, _m in rs], 1), spread(hand), spread(link),
                     spread(total, 1)))
    lines = [f"### Cold hand-off along the chain ({len(graph.chain)} images, each `RUN echo "
             f"<token>` + `RUN sleep 1`; {len(graph.images)} images in all): buildorch -j 4 "
             f"against bake, {repeats} runs each, a fresh token per run", "",
             *table(("tool", "wall s", "hand-off: dependency stored -> dependent's first "
                     "step, ms (per link)", "link: dependency stored -> dependent stored, "
                     "minus its 1 s sleep, ms", "hand-offs summed along the chain, s"), rows)]
    for orch in orchs:
        rs = results[f"buildorch {orch.label}"]
        own = sum(len(own_process_links(m, links)) for _r, m in rs)
        lines += ["", f"buildorch {orch.label}: the hand-off in parts, over the {own} of "
                  f"{len(links) * len(rs)} links whose dependent ran in a build process of "
                  "its own, started after its dependency's ended (ms per link; times at "
                  "which output lines reached this script, and the run record):", ""]
        lines += table(("part", "ms"), handoff_parts(rs, links)) if own else [
            "(none: every link of the chain was built in one session)"]
    problems = [p for rs in results.values() for r, _m in rs for p in r.problems]
    lines += ["", "Problems:", *(f"- {p}" for p in problems)] if problems else []
    return lines


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=7, help="timed runs of each case")
    parser.add_argument("--upload-repeats", type=int, default=3,
                        help="first uploads of each context (each leaves a build-cache record)")
    parser.add_argument("--orch-repeats", type=int, default=5,
                        help="cached buildorch runs at each -j")
    parser.add_argument("--handoff-repeats", type=int, default=3,
                        help="cold runs of each tool on the chain")
    parser.add_argument("--images", type=int, default=12, help="images in the pipeline")
    parser.add_argument("--chain", type=int, default=6, help="links of its chain")
    parser.add_argument("--refs", type=int, default=12, help="refs for inspect and rm")
    parser.add_argument("--buildorch", action="append", metavar="REV",
                        help="a commit whose buildorch/ to run (git archive), or `worktree` "
                             "for .venv/bin/buildorch as checked out; repeatable; default HEAD")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="these sections only")
    parser.add_argument("--no-results", action="store_true",
                        help="print only; do not append to benchmarks/results/")
    args = parser.parse_args(argv)
    if min(args.repeats, args.upload_repeats, args.orch_repeats, args.handoff_repeats) < 1:
        parser.error("repeats must be at least 1")
    if args.chain < 2 or args.images < args.chain:
        parser.error("--chain at least 2, --images at least --chain")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    stack_env()
    info = machine_info(docker=True)  # first: the load average before this script's own
    if not engine().pids:
        print(f"no dockerd pid in {DOCKERD_PID}: engine CPU will read 0", file=sys.stderr)
    fresh_folder(OUT_ROOT, MARKER, "build_overhead.py")
    plugin = plugin_path()
    graph = make_graph(args.images, args.chain)
    orchs = [orch_source(rev, OUT_ROOT) for rev in args.buildorch or ["HEAD"]]
    tags = Tags()
    wanted = args.only or SECTIONS
    r = args.repeats

    def buildorch_all() -> list[str]:
        results = measure_orchs(OUT_ROOT, args.orch_repeats, graph, tags, orchs)
        out: list[str] = []
        for orch in orchs:
            out += ["", *buildorch_section(results[orch.key], graph, args.orch_repeats, orch)]
        return out[1:]

    runners: dict[str, Callable[[], list[str]]] = {
        "process": lambda: process_section(OUT_ROOT, r, plugin, tags),
        "cached": lambda: cached_section(OUT_ROOT, r, plugin, tags),
        "split": lambda: split_section(OUT_ROOT, r, tags),
        "named": lambda: named_section(OUT_ROOT, r, tags),
        "upload": lambda: upload_section(OUT_ROOT, r, args.upload_repeats),
        "store": lambda: store_section(OUT_ROOT, r, args.refs, tags),
        "parallel": lambda: parallel_section(OUT_ROOT, r, tags),
        "buildorch": buildorch_all,
        "handoff": lambda: handoff_section(OUT_ROOT, args.handoff_repeats, graph, tags, orchs),
    }
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    body: list[str] = []
    try:
        for name in SECTIONS:
            if name in wanted:
                print(f"{name} ...", file=sys.stderr)
                load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
                started = time.perf_counter()
                body += ["", *runners[name](), "", f"(load average before this part: {load})"]
                print(f"{name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    finally:
        tags.remove()
    head = [f"## {now}: {', '.join(n for n in SECTIONS if n in wanted)}; {r} repeats", "",
            *machine_lines(info),
            f"- buildorch measured: {', '.join(o.label for o in orchs)} (a commit: its "
            "buildorch/ exported with git archive, run as `.venv/bin/python -P -m buildorch` "
            "with PYTHONPATH on it; bytecode cached by the first run)",
            f"- buildx plugin: {plugin or 'not found'}; image store: `docker info`: "
            f"{store_driver()}",
            "- figures: median (min-max) over the repeats, interleaved round-robin after one "
            "untimed warm-up round unless said; client CPU: wait4 of the command (the docker "
            "CLI, its plugin, git); engine CPU: dockerd + containerd (/proc/<pid>/stat, own "
            "and reaped children) over the command's span",
            f"- command: `{shlex.join(['benchmarks/build_overhead.py', *sys.argv[1:]])}`"]
    section = "\n".join([*head, *body]) + "\n"
    print(section)
    if not args.no_results:
        append_results(RESULTS, section)
        print(f"appended to {RESULTS.relative_to(REPO)}", file=sys.stderr)
    return 0


def store_driver() -> str:
    return subprocess.run(["docker", "info", "--format", "{{.Driver}} {{json .DriverStatus}}"],
                          capture_output=True, text=True, check=False).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
