"""Benchmark: the live view's own CPU cost on a 200-image run (issue 12: "the view must not
cost more than a few percent of one core with 200 images").

1. Generates (seeded) N images (default 200) with skip_unchanged.py's graph (each on 0-3
   earlier images through named contexts, a small context copied in, one RUN step) into
   `benchmarks/out/live_view_cpu-n<N>-s<SEED>/` (git-ignored), and builds them once, cold,
   with `--progress plain` (untimed for the comparison: every later build is fully cached).
2. Runs `buildorch build --backend docker --cache none` R times with `--progress tty` and
   R times with `--progress plain`, alternating, each with a pseudo-terminal of 40 rows and
   120 columns as its stdout and stderr (the same terminal for both: plain lines cost their
   writes too), drained by this script. For each run it takes buildorch's *own* CPU time
   (user + system of all its threads), without its children's (the docker CLI processes
   buildorch starts are its children, and waiting for them adds their time to buildorch's
   children's times, never to its own): the script waits for buildorch's exit without
   reaping it (`waitid(WEXITED | WNOWAIT)`), reads utime and stime of the zombie from
   `/proc/<pid>/stat` (fields 14 and 15: the whole thread group's, children excluded;
   fields 16 and 17 are the waited-for children's), then reaps it with `wait4` and checks
   that wait4's total is own + children. The view's cost is the median own CPU of the tty
   runs minus that of the plain runs, as a share of one core over the tty runs' median
   wall time. Checks, from each run record: every image built (and counts the RUN and
   COPY steps that did not come from cache: the engine's build cache is shared).
3. Replays in-process, in real time, the events of the last plain run (rebuilt from its
   record and its per-image logs: each image's log lines spread evenly over its recorded
   start and end, read by `run.progress_lines` into steps and cached steps as a build
   reads them) into the live reporter (a forced terminal of 40 x 120 writing to
   /dev/null), the plain reporter (/dev/null) and a reporter that does nothing, one after
   another, R times; the CPU time of the whole process (`time.process_time`: every thread,
   so the view's ticker too) minus the do-nothing replay's, per second of wall time.
   `--synthetic-only` skips the engine and replays a generated stream instead (N images,
   4 at once, 10 steps and 30 log lines each, 1.2 s per image).
4. Prints the results and appends them to benchmarks/results/live_view_cpu.md.

Needs the local stack for 1-3 (`scripts/stack up`; if DOCKER_HOST is unset the script reads
`scripts/stack env` itself). It never starts or stops the stack. It removes its images
(tags in localhost:5000/bench-live) from the engine's store at the start (an earlier run's)
and at the end (`--keep-images` keeps them).

Run: .venv/bin/python benchmarks/live_view_cpu.py [--images N] [--seed S] [--repeats R]
         [--replays K] [--synthetic-only] [--keep-images] [--no-results]
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import json
import os
import re
import secrets
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import graphgen
from machine import append_results, fresh_folder, machine_info, machine_lines, stack_env, verdict
from skip_unchanged import child_env, load_average, make_graph, settle, work_steps

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the replay runs this checkout's reporters in-process

from buildorch.run.events import (  # noqa: E402
    Finish,
    ImageFinished,
    ImageQueued,
    ImageStarted,
    LogLine,
    RunFinished,
    RunStarted,
    Start,
    Update,
)
from buildorch.run.progress_lines import ProgressReader  # noqa: E402
from buildorch.run.reporters.live import LiveReporter  # noqa: E402
from buildorch.run.reporters.plain import PlainReporter  # noqa: E402
from buildorch.run.reporting import Reporter  # noqa: E402

BUILDORCH = REPO / ".venv" / "bin" / "buildorch"
RESULTS = REPO / "benchmarks" / "results" / "live_view_cpu.md"
OUT_ROOT = REPO / "benchmarks" / "out"
MARKER = ".live_view_cpu-generated"  # only folders holding this file are ever deleted
ROWS, COLUMNS = 40, 120
NAMING = graphgen.Naming("localhost:5000/bench-live", "bench-live", "live_view_cpu.py",
                         os.environ.get("BUILDORCH_BASE_IMAGE", graphgen.BASE_IMAGE))
TARGET_SHARE = 0.05  # "a few percent of one core": at most 5 %
SETTLE_MOST = 20.0  # seconds to wait for a quiet machine before each build (CPU time, not
# wall time, is compared, so a busy machine disturbs the result less)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REDRAW = re.compile(rb"\r(?:\x1b\[2K\x1b\[1A)*\x1b\[2K")  # rich moving up over a frame


# -- a build in a pseudo-terminal, its own CPU time apart from its children's -----------


@dataclass
class Run:
    mode: str  # "tty" or "plain"
    label: str
    seconds: float = 0.0
    own_cpu: float = 0.0  # buildorch's threads, user + system
    children_cpu: float = 0.0  # what it waited for: the docker CLI processes
    total_cpu: float = 0.0  # wait4's: own + children
    returncode: int = 0
    output_bytes: int = 0
    frames: int = 0
    load: str = ""
    run_id: str = ""
    steps: int = 0  # RUN and COPY steps of all its builds
    steps_ran: int = 0  # of those, not from cache
    problems: list[str] = field(default_factory=list)


def stat_times(pid: int) -> tuple[float, float]:
    """(own, children) CPU seconds of a process from /proc/<pid>/stat: utime + stime (the
    thread group's) and cutime + cstime (its waited-for children's)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()  # field 3 (state) is fields[0]
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return (utime + stime) / CLOCK_TICKS, (cutime + cstime) / CLOCK_TICKS


def drain(fd: int, log: TextIO | None, counts: dict[str, int], keep: bytearray) -> None:
    """Read the terminal until every writer is gone (EIO)."""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            return
        if not data:
            return
        counts["bytes"] += len(data)
        counts["frames"] += len(REDRAW.findall(data))
        keep.extend(data[-4096:])
        del keep[:-65536]
        if log is not None:
            log.write(data.decode(errors="replace"))


def run_in_terminal(run: Run, argv: Sequence[str], folder: Path) -> Run:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    env = {k: v for k, v in child_env().items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    counts = {"bytes": 0, "frames": 0}
    tail = bytearray()
    run.load = load_average()
    with (folder / "logs" / f"{run.label}.log").open("w") as log:
        reader = threading.Thread(target=drain, args=(master, log, counts, tail))
        reader.start()
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=folder, stdin=slave, stdout=slave, stderr=slave,
                                env=env, start_new_session=True)
        os.close(slave)
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # a zombie: still readable
        run.seconds = time.perf_counter() - start
        run.own_cpu, run.children_cpu = stat_times(proc.pid)
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = run.returncode = os.waitstatus_to_exitcode(status)
        reader.join()
    os.close(master)
    run.total_cpu = usage.ru_utime + usage.ru_stime
    run.output_bytes, run.frames = counts["bytes"], counts["frames"]
    # ticks are 10 ms: own + children within a few ticks of wait4's total
    if abs(run.own_cpu + run.children_cpu - run.total_cpu) > 0.1:
        run.problems.append(f"{run.label}: /proc says {run.own_cpu:.2f} + "
                            f"{run.children_cpu:.2f} s, wait4 {run.total_cpu:.2f} s")
    if run.returncode != 0:
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", tail.decode(errors="replace"))
        errors = [line.strip() for line in text.splitlines() if "ERROR" in line]
        run.problems.append(f"{run.label}: exit {run.returncode}"
                            + (f" (`{errors[-1][:300]}`)" if errors else ""))
    return run


def build_argv(mode: str) -> list[str]:
    return [str(BUILDORCH), "build", "-f", "pipeline.yaml", "--backend", "docker", "--cache",
            "none", "--progress", mode]


def latest_run_folder(folder: Path) -> Path:
    return sorted((folder / ".buildorch" / "runs").iterdir())[-1]


def check_built(run: Run, folder: Path, names: Sequence[str]) -> None:
    """Every image built; how many RUN and COPY steps ran rather than came from cache (a
    figure, not a failure: the engine's build cache is shared, and another user may prune
    it; buildorch's own work hardly depends on it)."""
    record = json.loads((latest_run_folder(folder) / "record.json").read_text())
    run.run_id = record["id"]
    images: dict[str, Any] = record["images"]
    if sorted(images) != sorted(names):
        run.problems.append(f"{run.label}: {len(images)} images in the record")
    states = Counter(image["state"] for image in images.values())
    if set(states) != {"succeeded"}:
        run.problems.append(f"{run.label}: " + ", ".join(
            f"{count} {state}" for state, count in sorted(states.items())))
    for image in images.values():
        log = folder / str(image.get("log"))
        steps = work_steps(log.read_text(errors="replace")) if log.exists() else []
        run.steps += len(steps)
        run.steps_ran += sum(1 for _h, states in steps if "CACHED" not in states)


# -- replaying a run's events in-process ----------------------------------------------


Event = Start | Update | Finish


@dataclass(frozen=True)
class Timed:
    at: float  # seconds from the run's start
    event: Event


def recorded_stream(run_folder: Path) -> list[Timed]:
    """A run's events rebuilt from its record and logs: each image started and finished
    when the record says, its log lines (and the steps they show) spread evenly between."""
    record = json.loads((run_folder / "record.json").read_text())
    images: dict[str, Any] = record["images"]
    t0 = record["started"]
    stream = [Timed(0.0, RunStarted(record["id"], record["pipeline"], record["backend"],
                                    tuple(images), record["options"]["jobs"], 60.0,
                                    {n: 1.0 for n in images}))]
    stream += [Timed(0.0, ImageQueued(n, ())) for n in images]
    for name, image in images.items():
        if image["started"] is None or image["ended"] is None:  # it never started
            continue
        start, end = image["started"] - t0, image["ended"] - t0
        lines = (run_folder / f"{name}.log").read_text(errors="replace").splitlines()
        stream += image_events(name, start, end, lines, image)
    stream.append(Timed(record["ended"] - t0, RunFinished(record["id"], "succeeded",
                                                          record["ended"] - t0, {}, "r", "")))
    return sorted(stream, key=lambda t: t.at)


def image_events(name: str, start: float, end: float, lines: Sequence[str],
                 image: Mapping[str, Any]) -> Iterator[Timed]:
    yield Timed(start, ImageStarted(name, 1))
    reader = ProgressReader(name)
    step = (end - start) / max(len(lines), 1)
    for number, line in enumerate(lines):
        at = start + number * step
        yield Timed(at, LogLine(name, line))
        for event in reader.feed(line + "\n"):
            yield Timed(at, event)
    yield Timed(end, ImageFinished(name, "succeeded", end - start, image.get("digest"),
                                   reader.cached_steps, reader.total_steps))


def generated_stream(images: int, jobs: int = 4, steps: int = 10, lines: int = 30,
                     seconds: float = 1.2) -> list[Timed]:
    """N images, `jobs` at once, each `seconds` long with `steps` steps (all cached) and
    `lines` log lines a step."""
    names = tuple(f"img-{n:03d}" for n in range(images))
    stream = [Timed(0.0, RunStarted("R", "bench", "docker", names, jobs, 60.0,
                                    {n: seconds for n in names}))]
    stream += [Timed(0.0, ImageQueued(n, ())) for n in names]
    for number, name in enumerate(names):
        start = (number // jobs) * seconds
        log = []
        for s in range(steps):
            log += [f"#{s + 1} [{s + 1}/{steps}] RUN step {s} of {name}", f"#{s + 1} CACHED"]
            log += [f"#{s + 1} sha256:{'ab' * 32} done"] * (lines - 2)
        stream += image_events(name, start, start + seconds, log, {"digest": "sha256:" + "c" * 64})
    end = (images + jobs - 1) // jobs * seconds
    stream.append(Timed(end, RunFinished("R", "succeeded", end, {}, "r", "")))
    return sorted(stream, key=lambda t: t.at)


class NullReporter:
    def started(self, event: Start) -> None:
        pass

    def update(self, event: Update) -> None:
        pass

    def finished(self, event: Finish) -> None:
        pass


def deliver(reporter: Reporter, event: Event) -> None:
    if isinstance(event, RunStarted | ImageStarted):
        reporter.started(event)
    elif isinstance(event, ImageFinished | RunFinished):
        reporter.finished(event)
    else:
        reporter.update(event)


@dataclass
class Replay:
    reporter: str
    seconds: float
    cpu: float
    events: int
    frames: int = 0


def replay(name: str, make: Callable[[TextIO], Reporter], stream: Sequence[Timed]) -> Replay:
    """The stream in real time (each event at its time), CPU of the whole process."""
    with Path(os.devnull).open("w") as sink:
        reporter = make(sink)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for timed in stream:
            wait = timed.at - (time.perf_counter() - wall0)
            if wait > 0:
                time.sleep(wait)
            deliver(reporter, timed.event)
        seconds = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
    frames = reporter.renders if isinstance(reporter, LiveReporter) else 0
    return Replay(name, seconds, cpu, len(stream), frames)


def live_on(sink: TextIO) -> Reporter:
    from rich.console import Console

    return LiveReporter(console=Console(file=sink, force_terminal=True, width=COLUMNS,
                                        height=ROWS))


REPORTERS: dict[str, Callable[[TextIO], Reporter]] = {
    "none": lambda sink: NullReporter(), "plain": PlainReporter, "live": live_on}


def replays(stream: Sequence[Timed], repeats: int) -> list[Replay]:
    done: list[Replay] = []
    for round_ in range(repeats):
        for name in ("none", "plain", "live") if round_ % 2 == 0 else ("live", "plain", "none"):
            print(f"replay {round_ + 1}/{repeats}: {name} ...", file=sys.stderr)
            done.append(replay(name, REPORTERS[name], stream))
    return done


# -- the engine part ------------------------------------------------------------------


def remove_images(token: str | None) -> int:
    out = subprocess.run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"],
                         capture_output=True, text=True, check=False).stdout
    mine = [t for t in out.split() if t.startswith(NAMING.repository + "/")
            and (token is None or t.endswith(f":{token}"))]
    procs = [subprocess.Popen(["docker", "image", "rm", *mine[i::4]], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for i in range(4) if mine[i::4]]
    for proc in procs:
        proc.wait()
    return len(mine)


def engine_runs(args: argparse.Namespace, folder: Path, names: Sequence[str]) -> list[Run]:
    (folder / "logs").mkdir()
    runs: list[Run] = []
    print("cold build ...", file=sys.stderr)
    settle(most=SETTLE_MOST)
    cold = run_in_terminal(Run("plain", "cold"), build_argv("plain"), folder)
    check_built(cold, folder, names)
    runs.append(cold)
    for number in range(1, args.repeats + 1):
        modes = ("tty", "plain") if number % 2 else ("plain", "tty")
        for mode in modes:
            print(f"round {number}/{args.repeats}: --progress {mode} ...", file=sys.stderr)
            settle(most=SETTLE_MOST)
            run = run_in_terminal(Run(mode, f"r{number}-{mode}"), build_argv(mode), folder)
            check_built(run, folder, names)
            runs.append(run)
    return runs


# -- the report -----------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(args: argparse.Namespace, info: Mapping[str, str], runs: Sequence[Run],
           played: Sequence[Replay], stream_note: str, graph_note: str) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [f"## {now}: {args.images} images, seed {args.seed}, {args.repeats} repeats",
             "", *machine_lines(info)]
    if graph_note:
        lines.append(graph_note)
    timed = [r for r in runs if r.label != "cold"]
    if timed:
        lines += engine_section(timed, runs[0])
    lines += replay_section(played, stream_note)
    problems = [p for r in runs for p in r.problems]
    lines += ["", f"Checks: {'; '.join(problems) if problems else 'passed'}", ""]
    return "\n".join(lines)


def clean(run: Run) -> bool:
    """A run like the others: it built everything, every step from cache. The engine's
    build cache is shared: another user's prune makes a run cold, or fails it."""
    return not run.problems and run.steps > 0 and run.steps_ran == 0


def compared(timed: Sequence[Run], mode: str) -> list[Run]:
    """The clean runs of a mode (all of them if none is clean)."""
    runs = [r for r in timed if r.mode == mode]
    return [r for r in runs if clean(r)] or runs


def engine_section(timed: Sequence[Run], cold: Run) -> list[str]:
    tty, plain = compared(timed, "tty"), compared(timed, "plain")
    extra = median([r.own_cpu for r in tty]) - median([r.own_cpu for r in plain])
    share = extra / median([r.seconds for r in tty])
    lines = [
        f"- cold build first (plain, not compared): {cold.seconds:.1f} s, own CPU "
        f"{cold.own_cpu:.2f} s, children {cold.children_cpu:.2f} s, exit {cold.returncode}",
        f"- runs: `buildorch build -f pipeline.yaml --backend docker --cache none --progress "
        "tty|plain` (all built before: cached unless the shared build cache was pruned), "
        f"alternating, stdout and stderr a {ROWS}x{COLUMNS} pseudo-terminal; own CPU of "
        "buildorch's process from /proc/<pid>/stat of its zombie (children excluded), "
        "children's from the same file, total from wait4",
        "- compared: the runs that built every image with every RUN/COPY step from cache "
        "(the engine's build cache is shared; another user's prune makes a run cold or fails "
        "it); the others are listed, marked, and left out of the medians",
        "",
        "| mode | runs | wall median (s) | own CPU median (s) | own CPU / wall | children "
        "CPU median (s) | output (KiB) | frames |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, group in (("tty", tty), ("plain", plain)):
        wall, own = median([r.seconds for r in group]), median([r.own_cpu for r in group])
        lines.append(f"| {mode} | {len(group)} | {wall:.2f} | {own:.2f} | {own / wall:.1%} | "
                     f"{median([r.children_cpu for r in group]):.2f} | "
                     f"{median([r.output_bytes for r in group]) / 1024:.0f} | "
                     f"{median([r.frames for r in group]):.0f} |")
    lines += [
        "",
        f"The view's cost: {extra:+.2f} s of buildorch's own CPU (tty median - plain median) "
        f"over a {median([r.seconds for r in tty]):.1f} s run: {share:.1%} of one core; "
        f"target at most {TARGET_SHARE:.0%}: {verdict(share, TARGET_SHARE, inclusive=True)}.",
        "",
        "| run | mode | wall (s) | own CPU (s) | children CPU (s) | wait4 total (s) | "
        "frames | RUN/COPY steps not cached | load before |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    used = {id(r) for r in (*tty, *plain)}
    lines += [f"| {r.label}{'' if id(r) in used else ' (not compared)'} | "
              f"{r.mode} | {r.seconds:.2f} | {r.own_cpu:.2f} | {r.children_cpu:.2f} | "
              f"{r.total_cpu:.2f} | {r.frames} | {r.steps_ran} of {r.steps} | {r.load} |"
              for r in timed]
    return lines


def replay_section(played: Sequence[Replay], stream_note: str) -> list[str]:
    base = median([r.cpu / r.seconds for r in played if r.reporter == "none"])
    lines = ["", f"- replay: {stream_note}; each reporter R times in real time, in-process; "
             "CPU of the whole process (every thread) per second of wall time, minus the "
             "do-nothing reporter's", "",
             "| reporter | replays | wall median (s) | CPU median (s) | CPU / wall | "
             "its own share of one core | frames |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name in ("none", "plain", "live"):
        group = [r for r in played if r.reporter == name]
        per_wall = median([r.cpu / r.seconds for r in group])
        lines.append(f"| {name} | {len(group)} | {median([r.seconds for r in group]):.1f} | "
                     f"{median([r.cpu for r in group]):.2f} | {per_wall:.2%} | "
                     f"{per_wall - base:.2%} | {median([r.frames for r in group]):.0f} |")
    live = median([r.cpu / r.seconds for r in played if r.reporter == "live"]) - base
    lines.append(f"\nReplayed, the live view costs {live:.2%} of one core; target at most "
                 f"{TARGET_SHARE:.0%}: {verdict(live, TARGET_SHARE, inclusive=True)}.")
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="builds per mode")
    parser.add_argument("--replays", type=int, default=3, help="replays per reporter")
    parser.add_argument("--synthetic-only", action="store_true",
                        help="no engine: replay a generated stream only")
    parser.add_argument("--keep-images", action="store_true")
    parser.add_argument("--no-results", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    info = machine_info(docker=not args.synthetic_only)
    runs: list[Run] = []
    graph_note = ""
    if args.synthetic_only:
        stream = generated_stream(args.images)
        stream_note = (f"a generated stream of {args.images} images, 4 at once, 10 steps "
                       f"and 30 log lines each, 1.2 s per image ({len(stream)} events)")
    else:
        stack_env()
        remove_images(None)
        root = OUT_ROOT / f"live_view_cpu-n{args.images}-s{args.seed}"
        fresh_folder(root, MARKER, "live_view_cpu.py")
        folder = root / "build"
        graph = make_graph(args.images, args.seed)
        token = secrets.token_hex(6)  # fresh: the first build is cold
        graphgen.write_inputs(folder, graph, token, NAMING, estimates=False)
        graph_note = (f"- graph: skip_unchanged.py's, {len(graph.images)} images, "
                      f"{len(graph.edges)} edges, one COPY and one RUN step each; -j 4 "
                      "(the default)")
        try:
            runs = engine_runs(args, folder, [i.name for i in graph.images])
        finally:
            if not args.keep_images:
                remove_images(token)
        plain = compared(runs[1:], "plain")[-1]  # the last clean one, if any
        source = folder / ".buildorch" / "runs" / plain.run_id
        stream = recorded_stream(source)
        stream_note = (f"the events of run {source.name} (plain, cached), rebuilt from its "
                       f"record and logs ({len(stream)} events over {stream[-1].at:.1f} s)")
    played = replays(stream, args.replays)
    section = report(args, info, runs, played, stream_note, graph_note)
    print(section)
    if not args.no_results:
        append_results(RESULTS, section)
    return 1 if any(r.problems for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
