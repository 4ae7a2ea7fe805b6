"""Benchmark: how long `buildorch --help`, `validate`, `plan` and `graph` take to answer.

1. Generates pipelines of 20 and 200 images (`--images`) with plan_scale's generator
   (imported from benchmarks/plan_scale.py, seeded) into
   `benchmarks/out/cli_latency-n<N>-s<SEED>/` (git-ignored), and runs plan_scale's checks
   of validate's and plan's answers on each. A failed check makes the script exit 1.
2. Times each command as a subprocess, `python -P -m buildorch ...` with `PYTHONPATH` set
   to this checkout (wall clock and CPU time, R repeats after one untimed warm-up, peak RSS
   of one more run), with PYTHONDONTWRITEBYTECODE removed from the environment so that the
   warm-up caches bytecode, as an installed package has it. With `--baseline-src DIR` (a
   `git worktree` of another commit) the same command with `PYTHONPATH=DIR` runs
   interleaved with this checkout's, and the section gets the ratios.
3. With `--imports`, runs each command once more under `-X importtime` and lists what it
   imports: the packages that cost most, and the heavy ones it loads at all.
4. Prints the results and appends them as a section to benchmarks/results/cli_latency.md,
   with a met / NOT met verdict for the issue's target: validate, plan and graph of 20
   images under 0.3 s (wall-clock median), and `--help` under 0.3 s.

Run: .venv/bin/python benchmarks/cli_latency.py [--images 20,200] [--repeat R]
         [--baseline-src DIR] [--imports]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from machine import append_results, machine_info, machine_lines, verdict
from plan_scale import OUT_ROOT, PYTHON, REPO, Generated, Timing, check, generate
from plan_scale import measure_side_by_side as measure

RESULTS = REPO / "benchmarks" / "results" / "cli_latency.md"

# Target from the issue (seconds), on the wall-clock median: each of these commands on a
# pipeline of TARGET_IMAGES images (and --help) answers under it.
LATENCY_S = 0.3
TARGET_IMAGES = 20
COMMANDS = ("validate", "plan", "graph")
# Third-party packages a command should load only where it uses them.
HEAVY = ("networkx", "pydantic", "boto3", "botocore", "yaml", "rich", "dockerfile")


@dataclass(frozen=True)
class Side:
    """One checkout of buildorch, run as `PYTHONPATH=src python -P -m buildorch`."""

    label: str  # "" for this checkout, " (baseline)" for the other one
    src: Path

    def python(self, *options: str) -> list[str]:
        # -P (Python 3.11): the working directory (this checkout) does not go before PYTHONPATH.
        return ["env", f"PYTHONPATH={self.src}", str(PYTHON), "-P", *options]

    def argv(self, *rest: str) -> list[str]:
        return self.python("-m", "buildorch", *rest)


def command_args(command: str, file: str) -> list[str]:
    if command == "plan":
        return ["plan", "-f", file, "--format", "json"]
    return [command, "-f", file]


def _display(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def check_side(side: Side) -> str:
    """The buildorch package `side` imports; exits if it is not the one in side.src."""
    result = subprocess.run(side.python("-c", "import buildorch; print(buildorch.__file__)"),
                            cwd=REPO, capture_output=True, text=True, check=False)
    found = Path(result.stdout.strip()).resolve()
    if result.returncode != 0 or not found.is_relative_to(side.src.resolve()):
        raise SystemExit(f"PYTHONPATH={side.src}: imports buildorch from {found or '?'} "
                         f"({result.stderr.strip()[-500:]})")
    return str(found)


def describe_commit(src: Path) -> str:
    out = subprocess.run(["git", "-C", str(src), "log", "-1", "--format=%h %s"],
                         capture_output=True, text=True, check=False).stdout.strip()
    return out if len(out) <= 80 else out[:77] + "..."


# -- imports ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Imports:
    command: str  # with " (baseline)" for the baseline
    images: int  # 0 for --help
    total_ms: float  # all imports (self times summed)
    buildorch_ms: float
    top: list[tuple[str, float]]  # third-party and stdlib packages by self time
    heavy: list[str]  # HEAVY packages it loaded


def imports_of(command: str, images: int, side: Side, rest: Sequence[str]) -> Imports:
    """One run under -X importtime: self import time summed per top-level package."""
    result = subprocess.run(side.python("-X", "importtime", "-m", "buildorch", *rest), cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            check=False)
    per_package: dict[str, float] = {}
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            root = match.group(2).split(".")[0]
            per_package[root] = per_package.get(root, 0.0) + int(match.group(1)) / 1000
    others = sorted(((k, v) for k, v in per_package.items() if k != "buildorch"),
                    key=lambda kv: -kv[1])
    return Imports(command + side.label, images, sum(per_package.values()),
                   per_package.get("buildorch", 0.0), others[:5],
                   [h for h in HEAVY if h in per_package])


# -- report ----------------------------------------------------------------------------


def report(args: argparse.Namespace, gens: list[Generated], info: dict[str, str],
           timings: dict[tuple[str, int], list[Timing]], imports: list[Imports],
           problems: list[str], sides: list[Side]) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    sizes = " and ".join(str(len(g.images)) for g in gens)
    lines = [
        f"## {now}: {sizes} images, seed {args.seed}",
        "",
        *machine_lines(info),
        *(f"- pipeline: {len(g.images)} images, {len(g.edges)} edges "
          f"(plan_scale's generator), {_display(g.pipeline)}" for g in gens),
        f"- plan check (plan_scale's checks of validate and plan): "
        f"{'passed' if not problems else 'FAILED'}",
        *(f"  - {p}" for p in problems),
        *(f"- {'this checkout' if not s.label else 'baseline'}: `PYTHONPATH={_display(s.src)} "
          f"python -P -m buildorch` ({describe_commit(s.src)})" for s in sides),
        f"- timing: wall clock of a subprocess, {args.repeat} runs after 1 warm-up "
        f"{'interleaved with the baseline ' if len(sides) > 1 else ''}(bytecode cached by "
        "the warm-up); peak RSS of one more run",
        "",
        "| command | images | wall min (s) | wall median (s) | wall max (s) | CPU median (s) "
        "| peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (_label, n), pair in timings.items():
        for t in pair:
            lines.append(f"| {t.label} | {n or '-'} | {t.min:.3f} | {t.median:.3f} "
                         f"| {max(t.seconds):.3f} | {statistics.median(t.cpu_seconds):.3f} "
                         f"| {t.peak_rss_kib / 1024:.0f} |")
    if len(sides) > 1:
        lines += ["", "Side by side with the baseline (ratio = this checkout / baseline, below 1 "
                  "is faster):", "",
                  "| command | images | this (s) | baseline (s) | wall median ratio "
                  "| CPU median ratio |", "|---|---:|---:|---:|---:|---:|"]
        for (label, n), pair in timings.items():
            ours, base = pair
            cpu = statistics.median(ours.cpu_seconds) / statistics.median(base.cpu_seconds)
            lines.append(f"| {label} | {n or '-'} | {ours.median:.3f} | {base.median:.3f} "
                         f"| {ours.median / base.median:.3f} | {cpu:.3f} |")
    lines += _verdicts(timings, sides)
    if imports:
        lines += ["", "Imports, one run under `-X importtime` (self times summed per top-level "
                  "package; heavy: which of " + ", ".join(HEAVY) + " it loads):", "",
                  "| command | images | all imports (ms) | buildorch (ms) "
                  "| most costly others (ms) | heavy |", "|---|---:|---:|---:|---|---|"]
        for imp in imports:
            top = ", ".join(f"{k} {v:.0f}" for k, v in imp.top)
            lines.append(f"| {imp.command} | {imp.images or '-'} | {imp.total_ms:.0f} "
                         f"| {imp.buildorch_ms:.0f} | {top} | {', '.join(imp.heavy) or '-'} |")
    return "\n".join(lines) + "\n"


def _verdicts(timings: dict[tuple[str, int], list[Timing]], sides: list[Side]) -> list[str]:
    head = "| target (from the issue, on the wall-clock median) | this (s) | |"
    rule = "|---|---:|---|"
    if len(sides) > 1:
        head += " baseline (s) | |"
        rule += "---:|---|"
    lines = ["", head, rule]
    for (label, n), pair in timings.items():
        if n not in (0, TARGET_IMAGES):
            continue
        what = f"`{label}`" if n == 0 else f"{label} of {n} images"
        row = f"| {what} < {LATENCY_S:g} s"
        for t in pair:
            row += f" | {t.median:.3f} | {verdict(t.median, LATENCY_S, inclusive=False)}"
        lines.append(row + " |")
    return lines


# -- main ------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--images", default=f"{TARGET_IMAGES},200",
                        help="pipeline sizes, comma-separated (default 20,200)")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--repeat", type=int, default=11, help="timed runs per command")
    parser.add_argument("--baseline-src", type=Path, metavar="DIR",
                        help="another checkout (a git worktree): run its buildorch "
                             "(PYTHONPATH=DIR) interleaved with this one and report the ratios")
    parser.add_argument("--imports", action="store_true",
                        help="also run each command once under -X importtime and list imports")
    parser.add_argument("--no-results", action="store_true",
                        help="print only; do not append to benchmarks/results/cli_latency.md")
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(n) for n in args.images.split(",")]
    except ValueError:
        parser.error("--images: comma-separated numbers")
    if args.repeat < 1 or min(args.sizes) < 1:
        parser.error("--images and --repeat must be at least 1")
    if args.baseline_src is not None and not (args.baseline_src / "buildorch").is_dir():
        parser.error(f"--baseline-src {args.baseline_src}: no buildorch/ folder there")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    info = machine_info()  # first: the load average before this script adds its own
    # An installed package has its bytecode cached; let the warm-up runs write it.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sides = [Side("", REPO)]
    if args.baseline_src is not None:
        sides.append(Side(" (baseline)", args.baseline_src.resolve()))
    for side in sides:
        print(f"PYTHONPATH={side.src}: {check_side(side)}", file=sys.stderr)
    gens: list[Generated] = []
    problems: list[str] = []
    for n in args.sizes:
        gen = generate(OUT_ROOT / f"cli_latency-n{n}-s{args.seed}", n, args.seed)
        gens.append(gen)
        problems += [f"{n} images: {p}" for p in check(gen)]
    for problem in problems:
        print(f"CHECK FAILED: {problem}", file=sys.stderr)
    timings: dict[tuple[str, int], list[Timing]] = {}
    imports: list[Imports] = []
    runs: list[tuple[str, int, list[str]]] = [("--help", 0, ["--help"])]
    runs += [(c, len(g.images), command_args(c, _display(g.pipeline)))
             for g in gens for c in COMMANDS]
    for label, n, rest in runs:
        print(f"timing {label} ({n or '-'} images)", file=sys.stderr)
        timings[label, n] = measure([(label + s.label, s.argv(*rest)) for s in sides],
                                    args.repeat)
        if args.imports:
            imports += [imports_of(label, n, s, rest) for s in sides]
    section = report(args, gens, info, timings, imports, problems, sides)
    print(section)
    if not args.no_results:
        append_results(RESULTS, section)
        print(f"appended to {RESULTS.relative_to(REPO)}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
