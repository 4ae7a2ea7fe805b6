"""Benchmark: `buildorch validate` and `buildorch plan` on a generated pipeline of N images.

1. Generates a pipeline of N images (default 2000) with seeded random dependencies into
   `benchmarks/out/plan_scale-n<N>-s<SEED>/` (git-ignored) or `--out DIR`. The topological
   order is a random permutation of the images (and the file lists them in another random
   order); each image depends on 0-3 images earlier in that order, through every kind of
   edge buildorch knows:
     - `depends_on: [x]`                                             (kind depends_on)
     - `contexts: {x: {image: x}}` used as `FROM x` / `COPY --from=x` (kind context)
     - the Dockerfile names x's tag in `FROM` (literally, through a global ARG default or
       through a build arg set in the pipeline)                      (kind from)
     - `COPY --from=localhost:5000/bench/x:1 ...`                    (kind copy)
     - `RUN --mount=type=bind,from=localhost:5000/bench/x:1,...`     (kind mount)
   Implicit references are written in stages the image's target needs. Some images also
   get a "decoy" reference to another image in a stage their target does NOT need: those
   must not become edges, so they are not counted.
2. Checks `buildorch validate` (exit 0, image and dependency counts) and `buildorch plan
   --format json` (N nodes, exactly the expected (source, target, kind) edges, each node's
   depends_on, a topological order). Any failed check makes the script exit 1.
3. Times `buildorch --help`, `validate` and `plan --format json` as subprocesses (wall
   clock, R repeats after one untimed warm-up) and the peak RSS of each run (os.wait4).
   `plan` is timed cold (the caches of the load, `.buildorch/yaml-documents` and
   `.buildorch/dockerfile-analyses`, deleted before each run, untimed) and warm (as the
   previous run left them), interleaved; `validate` runs warm. The input digests' stat
   cache (`.buildorch/stat-cache.json`) is left as it is: warm in both.
4. Prints the results and appends them as a section to benchmarks/results/plan_scale.md.

Run: .venv/bin/python benchmarks/plan_scale.py [--images N] [--seed S] [--repeat R]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import pstats
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from machine import append_results, machine_info, machine_lines, verdict

REPO = Path(__file__).resolve().parent.parent
BUILDORCH = REPO / ".venv" / "bin" / "buildorch"
PYTHON = REPO / ".venv" / "bin" / "python"
TIME = Path("/usr/bin/time")
RESULTS = REPO / "benchmarks" / "results" / "plan_scale.md"
OUT_ROOT = REPO / "benchmarks" / "out"
MARKER = ".plan_scale-generated"  # only folders holding this file are ever deleted

REGISTRY = "localhost:5000/bench"
TAG = "1"
EXTERNAL_BASE = "localhost:5000/busybox:latest"  # not a pipeline image: never an edge

# Targets from the issue (seconds); judged on the median of the timed runs.
PLAN_REQUIRED_S = 3.0
PLAN_GOAL_S = 1.0
HELP_REQUIRED_S = 0.3
# Issue 11: with the Dockerfile analyses cached, a warm plan of 2,000 images; a cold one
# no slower than before the cache (the baseline, when one is given).
WARM_PLAN_REQUIRED_S = 1.0
WARM_PLAN_GOAL_S = 0.5
# What buildorch keeps of a load, in the folder it runs in (workdir.YAML_DOCUMENTS and
# workdir.DOCKERFILE_ANALYSES): the parsed pipeline and the Dockerfile analyses.
LOAD_CACHES = (REPO / ".buildorch" / "yaml-documents",
               REPO / ".buildorch" / "dockerfile-analyses")

# How often each edge kind is drawn for a dependency (before fallbacks).
KIND_WEIGHTS = {"depends_on": 2, "context": 2, "from": 2, "copy": 2, "mount": 2}
SERVICE_WORDS = (
    "auth", "billing", "cart", "catalog", "checkout", "search", "media", "notify",
    "orders", "pricing", "profile", "ratings", "report", "ship", "stock", "gateway",
)

Triple = tuple[str, str, str]  # (source, target, kind): one edge


# -- generation ------------------------------------------------------------------------


@dataclass
class ImagePlan:
    """What the generator decided for one image, before writing files."""

    name: str
    target: str | None  # runtime | test | None (the last stage: test)
    tagged: bool
    depends_on: list[str] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)  # named contexts, each {image: x}
    build_base: str = "${BASE_IMAGE}"  # FROM of the `build` stage
    runtime_base: str = "${RUNTIME_IMAGE}"  # FROM of the `runtime` stage
    global_args: list[str] = field(default_factory=list)  # extra `ARG K=V` lines
    args: dict[str, str] = field(default_factory=dict)  # pipeline `args`
    build_copies: list[str] = field(default_factory=list)  # COPY --from=<ref> in build
    build_mounts: list[str] = field(default_factory=list)  # RUN --mount from=<ref> in build
    decoy_runtime: str | None = None  # a ref in `runtime` when the target does not need it
    decoy_test: str | None = None  # a ref in `test` when the target does not need it
    secret: bool = False
    estimated_seconds: float | None = None


@dataclass
class Generated:
    pipeline: Path
    folder: Path
    images: list[str]  # names, in topological order
    edges: list[Triple]  # every edge buildorch should report (raw, one per declaration)
    decoys: int  # references in unneeded stages that must NOT be edges
    kind_counts: dict[str, int]
    dockerfile_lines: tuple[int, int]  # min, max
    release: list[str]  # the `release` group


def _tag_ref(name: str) -> str:
    return f"{REGISTRY}/{name}:{TAG}"


def _needs_runtime_stage(target: str | None) -> bool:
    # Stages: build, runtime (COPY --from=build), test (FROM build). No target = last (test).
    return target == "runtime"


def plan_images(n: int, seed: int) -> tuple[list[ImagePlan], list[Triple], int]:
    rng = random.Random(seed)
    names = [f"{SERVICE_WORDS[i % len(SERVICE_WORDS)]}-{i:05d}" for i in range(n)]
    rng.shuffle(names)  # the topological order is a random permutation
    plans: list[ImagePlan] = []
    edges: list[Triple] = []
    decoys = 0
    kinds = list(KIND_WEIGHTS)
    weights = list(KIND_WEIGHTS.values())
    for pos, name in enumerate(names):
        target = rng.choices(["runtime", "test", None], weights=[4, 3, 3])[0]
        img = ImagePlan(name, target, tagged=rng.random() < 0.9)
        earlier = plans[:pos]
        deps = _pick_deps(rng, earlier, rng.randint(0, min(3, pos)))
        for dep in deps:
            kind = rng.choices(kinds, weights=weights)[0]
            edges.extend(_place(rng, img, dep, kind))
        decoys += _maybe_decoy(rng, img, earlier, {d.name for d in deps})
        if rng.random() < 0.4:
            img.args["APP_VERSION"] = f"1.{pos}.0"
        img.secret = rng.random() < 0.3
        if rng.random() < 0.3:
            img.estimated_seconds = float(rng.randint(5, 600))
        plans.append(img)
    return plans, edges, decoys


def _pick_deps(rng: random.Random, earlier: list[ImagePlan], k: int) -> list[ImagePlan]:
    chosen: dict[str, ImagePlan] = {}
    while len(chosen) < k:
        # Half the time a recent image (deeper chains), else any earlier one.
        window = earlier[-50:] if rng.random() < 0.5 else earlier
        dep = rng.choice(window)
        chosen[dep.name] = dep
    return list(chosen.values())


def _place(rng: random.Random, img: ImagePlan, dep: ImagePlan, kind: str) -> list[Triple]:
    """Write the dependency into img's plan; return the edges buildorch should see."""
    if kind in ("from", "copy", "mount") and not dep.tagged:
        kind = rng.choice(["depends_on", "context"])  # no tag to reference
    edges: list[Triple] = []
    if kind == "depends_on":
        img.depends_on.append(dep.name)
    elif kind == "context":
        img.contexts.append(dep.name)
        if img.build_base == "${BASE_IMAGE}":
            img.build_base = dep.name  # FROM <named context> AS build
        elif rng.random() < 0.5:
            img.build_copies.append(dep.name)  # COPY --from=<named context>
        else:
            img.build_mounts.append(dep.name)  # RUN --mount=...,from=<named context>
    elif kind == "from":
        ref = _tag_ref(dep.name)
        if img.build_base == "${BASE_IMAGE}":
            style = rng.randrange(3)
            if style == 0:
                img.build_base = ref
            elif style == 1:  # a global ARG default names the tag
                img.global_args.append(f"BASE_REF={ref}")
                img.build_base = "${BASE_REF}"
            else:  # the Dockerfile default is external; the pipeline's build arg wins
                img.global_args.append(f"BASE_REF={EXTERNAL_BASE}")
                img.args["BASE_REF"] = f"${{REGISTRY}}/{dep.name}:${{TAG}}"
                img.build_base = "${BASE_REF}"
        elif _needs_runtime_stage(img.target) and img.runtime_base == "${RUNTIME_IMAGE}":
            img.runtime_base = ref
        else:
            kind = "copy"
            img.build_copies.append(ref)
    elif kind == "copy":
        img.build_copies.append(_tag_ref(dep.name))
    else:
        img.build_mounts.append(_tag_ref(dep.name))
    edges.append((dep.name, img.name, kind))
    # Now and then an implicit edge is also declared explicitly: a second edge, own kind.
    if kind in ("from", "copy", "mount") and rng.random() < 0.1:
        img.depends_on.append(dep.name)
        edges.append((dep.name, img.name, "depends_on"))
    return edges


def _maybe_decoy(
    rng: random.Random, img: ImagePlan, earlier: list[ImagePlan], deps: set[str]
) -> int:
    """A reference in a stage img's target does not need: BuildKit never pulls it."""
    candidates = [e for e in earlier[-200:] if e.tagged and e.name not in deps]
    if not candidates or rng.random() >= 0.25:
        return 0
    ref = _tag_ref(rng.choice(candidates).name)
    if _needs_runtime_stage(img.target):
        img.decoy_test = ref
    elif img.runtime_base == "${RUNTIME_IMAGE}" and rng.random() < 0.5:
        img.runtime_base = ref
    else:
        img.decoy_runtime = ref
    return 1


def dockerfile_text(img: ImagePlan, seed: int) -> str:
    n = img.name
    lines = [
        "# syntax=docker/dockerfile:1",
        f"# {n}: generated by benchmarks/plan_scale.py (seed {seed})",
        f"ARG BASE_IMAGE={EXTERNAL_BASE}",
        f"ARG RUNTIME_IMAGE={EXTERNAL_BASE}",
        *(f"ARG {a}" for a in img.global_args),
        "ARG APP_VERSION=0.0.0",
        "",
        f"FROM {img.build_base} AS build",
        "ARG APP_VERSION",
        "WORKDIR /src",
        "COPY app.sh test.sh ./",
        *(f"COPY --from={ref} /out/ /deps/{i}/" for i, ref in enumerate(img.build_copies)),
        "RUN --mount=type=cache,target=/var/cache/build \\",
        *(f"    --mount=type=bind,from={ref},target=/mnt/dep{i} \\"
          for i, ref in enumerate(img.build_mounts)),
    ]
    if img.secret:
        lines.append("    --mount=type=secret,id=token,required=false \\")
    lines += [
        f"    mkdir -p /out/bin && install -m 755 app.sh /out/bin/{n} \\",
        f'    && echo "{n} $APP_VERSION" > /out/VERSION',
        "",
        f"FROM {img.runtime_base} AS runtime",
    ]
    if img.decoy_runtime:
        lines.append(f"COPY --from={img.decoy_runtime} /out/ /unused/")
    lines += [
        "COPY --from=build /out/ /app/",
        "ENV PATH=/app/bin:$PATH",
        f'CMD ["{n}"]',
        "",
        "FROM build AS test",
    ]
    if img.decoy_test:
        lines.append(f"RUN --mount=type=bind,from={img.decoy_test},target=/unused true")
    lines += [
        "RUN sh ./test.sh \\",
        f"    && test -x /out/bin/{n}",
    ]
    return "\n".join(lines) + "\n"


def generate(folder: Path, n: int, seed: int) -> Generated:
    plans, edges, decoys = plan_images(n, seed)
    if folder.exists():
        if not (folder / MARKER).exists():
            raise SystemExit(f"{folder} exists and was not made by this script; not touching it")
        shutil.rmtree(folder)
    (folder / "cache-config").mkdir(parents=True)
    (folder / MARKER).write_text("generated by benchmarks/plan_scale.py\n")
    (folder / "cache-config" / "bench.yaml").write_text(
        "# Cache in a local folder (never used: the benchmark only plans).\n"
        "type: local\ndir: .buildorch/cache\nmode: max\nscope: branch\nexport: always\n"
    )
    images: dict[str, dict[str, Any]] = {}
    rng = random.Random(seed + 1)
    services = [p.name for p in plans if p.target == "runtime"]
    release = sorted(rng.sample(services, min(20, len(services))))
    listed = list(plans)
    rng.shuffle(listed)  # the file does not list images in build order
    sizes: list[int] = []
    for img in listed:
        ctx = folder / "contexts" / img.name
        ctx.mkdir(parents=True)
        text = dockerfile_text(img, seed)
        sizes.append(text.count("\n"))
        (ctx / "Dockerfile").write_text(text)
        (ctx / "app.sh").write_text(f"#!/bin/sh\necho {img.name}\n")
        (ctx / "test.sh").write_text("#!/bin/sh\nset -e\ntest -f /out/VERSION\n")
        images[img.name] = _image_entry(img)
    by_target: dict[str, list[str]] = {"runtime": [], "test": [], "none": []}
    for img in plans:
        by_target[img.target or "none"].append(img.name)
    doc: dict[str, Any] = {
        "version": 1,
        "name": "bench",
        "vars": {"REGISTRY": REGISTRY, "TAG": TAG},
        "defaults": {
            "platforms": ["linux/amd64"],
            "cache": "bench",
            "labels": {"org.opencontainers.image.source": "benchmarks/plan_scale.py",
                       "bench.seed": str(seed)},
            "args": {"APP_VERSION": "0.0.0"},
        },
        "images": images,
        # No `default` group: `plan` without names selects every image.
        "groups": {
            "services": by_target["runtime"],
            "tests": by_target["test"],
            "misc": by_target["none"],
            "ci": ["services", "tests"],
            "release": release,
        },
    }
    pipeline = folder / "pipeline.yaml"
    header = (f"# Generated by benchmarks/plan_scale.py: {n} images, seed {seed}, "
              f"{len(edges)} edges.\n")
    pipeline.write_text(header + yaml.safe_dump(doc, sort_keys=False, default_flow_style=None,
                                                width=100))
    kind_counts: dict[str, int] = {}
    for _s, _t, kind in edges:
        kind_counts[kind] = kind_counts.get(kind, 0) + 1
    return Generated(pipeline, folder, [p.name for p in plans], edges, decoys, kind_counts,
                     (min(sizes), max(sizes)), release)


def _image_entry(img: ImagePlan) -> dict[str, Any]:
    entry: dict[str, Any] = {"context": f"contexts/{img.name}"}
    if img.target:
        entry["target"] = img.target
    if img.depends_on:
        entry["depends_on"] = img.depends_on
    if img.contexts:
        entry["contexts"] = {c: {"image": c} for c in img.contexts}
    if img.args:
        entry["args"] = img.args
    if img.secret:
        entry["secrets"] = [{"id": "token", "env": "BENCH_TOKEN", "required": False}]
    if img.tagged:
        entry["tags"] = [f"${{REGISTRY}}/{img.name}:${{TAG}}"]
    if img.estimated_seconds is not None:
        entry["estimated_seconds"] = img.estimated_seconds
    return entry


# -- checks ----------------------------------------------------------------------------


def _run_captured(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False,
                          env=child_env(argv))


def check(gen: Generated) -> list[str]:
    """Problems found in validate's and plan's output; empty when all is as expected."""
    problems: list[str] = []
    file = str(gen.pipeline.relative_to(REPO)) if gen.pipeline.is_relative_to(REPO) else str(
        gen.pipeline)
    n = len(gen.images)
    expected = set(gen.edges)
    if len(expected) != len(gen.edges):
        problems.append("generator bug: duplicate (source, target, kind) edges")
    pairs = {(s, t) for s, t, _k in gen.edges}

    validate = _run_captured([str(BUILDORCH), "validate", "-f", file])
    if validate.returncode != 0:
        problems.append(f"validate exited {validate.returncode}: {validate.stderr.strip()}")
    else:
        match = re.search(r"ok \((\d+) images, (\d+) dependencies\)", validate.stdout)
        if match is None:
            problems.append(f"validate printed an unexpected line: {validate.stdout.strip()}")
        elif (int(match.group(1)), int(match.group(2))) != (n, len(pairs)):
            problems.append(f"validate: {match.group(0)}, expected {n} images and "
                            f"{len(pairs)} dependencies (distinct source -> target pairs)")

    plan = _run_captured([str(BUILDORCH), "plan", "-f", file, "--format", "json"])
    if plan.returncode != 0:
        problems.append(f"plan exited {plan.returncode}: {plan.stderr.strip()[:2000]}")
        return problems
    data = json.loads(plan.stdout)
    nodes = [node["name"] for node in data["nodes"]]
    if len(nodes) != n or set(nodes) != set(gen.images):
        problems.append(f"plan: {len(nodes)} nodes ({len(set(nodes))} distinct), expected {n}")
    got_list = [(e["from"], e["to"], e["kind"]) for e in data["edges"]]
    got = set(got_list)
    if len(got_list) != len(gen.edges):
        problems.append(f"plan: {len(got_list)} edges, expected {len(gen.edges)}")
    if len(got) != len(got_list):
        problems.append(f"plan: {len(got_list) - len(got)} duplicate (from, to, kind) edges")
    for label, diff in (("missing", expected - got), ("unexpected", got - expected)):
        if diff:
            shown = ", ".join(f"{s}->{t} ({k})" for s, t, k in sorted(diff)[:5])
            problems.append(f"plan: {len(diff)} {label} edges, e.g. {shown}")
    preds: dict[str, set[str]] = {name: set() for name in gen.images}
    for s, t in pairs:
        preds[t].add(s)
    wrong = [node["name"] for node in data["nodes"]
             if set(node["depends_on"]) != preds.get(node["name"], set())]
    if wrong:
        problems.append(f"plan: {len(wrong)} nodes with wrong depends_on, e.g. {wrong[:3]}")
    position = {name: i for i, name in enumerate(data["order"])}
    late = [(s, t) for s, t in pairs if position.get(s, -1) >= position.get(t, -1)]
    if len(position) != n or late:
        problems.append(f"plan: order is not a topological order of all images "
                        f"({len(position)} listed, {len(late)} edges backwards)")
    problems += _check_selection(file, gen, preds)
    return problems


def _check_selection(file: str, gen: Generated, preds: dict[str, set[str]]) -> list[str]:
    """`plan release` lists the group's images plus everything they depend on."""
    plan = _run_captured([str(BUILDORCH), "plan", "-f", file, "--format", "json", "release"])
    if plan.returncode != 0:
        return [f"plan release exited {plan.returncode}: {plan.stderr.strip()[:2000]}"]
    keep: set[str] = set()
    pending = list(gen.release)
    while pending:
        name = pending.pop()
        if name not in keep:
            keep.add(name)
            pending.extend(preds[name])
    data = json.loads(plan.stdout)
    nodes = {node["name"] for node in data["nodes"]}
    edges = {(e["from"], e["to"], e["kind"]) for e in data["edges"]}
    expected = {e for e in gen.edges if e[0] in keep and e[1] in keep}
    if nodes != keep or edges != expected:
        return [f"plan release: {len(nodes)} nodes and {len(edges)} edges, expected "
                f"{len(keep)} and {len(expected)} (the group and its dependencies)"]
    return []


# -- timing ----------------------------------------------------------------------------


@dataclass
class Timing:
    label: str
    command: str
    seconds: list[float]
    cpu_seconds: list[float]
    peak_rss_kib: int
    rss_method: str

    @property
    def min(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def child_env(argv: Sequence[str]) -> dict[str, str]:
    """The environment of a run: this checkout's executables import this checkout's package
    (PYTHONPATH), also when the script runs in a `git worktree` whose .venv is another
    checkout's editable install; every run may cache bytecode, as an installed package has
    it (no PYTHONDONTWRITEBYTECODE, else each run compiles buildorch again)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if argv and argv[0] in (str(BUILDORCH), str(PYTHON)):
        env["PYTHONPATH"] = str(REPO)
    return env


def drop_load_caches() -> None:
    """Before a cold run: no parsed pipeline, no Dockerfile analysis is known."""
    for cache in LOAD_CACHES:
        cache.unlink(missing_ok=True)


def run_timed(argv: Sequence[str]) -> tuple[float, float, int, bytes]:
    """(wall seconds, CPU seconds, exit code, stderr) of one run; stdout goes to /dev/null.

    CPU time (user + system, from os.wait4 for exactly this child) is much less sensitive
    than wall clock to other processes competing for the machine.
    """
    with tempfile.TemporaryFile() as err, Path(os.devnull).open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=err, env=child_env(argv))
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return elapsed, usage.ru_utime + usage.ru_stime, proc.returncode, err.read()


def peak_rss(argv: Sequence[str]) -> tuple[int, str]:
    """(peak RSS in KiB, method) of one more run.

    Not os.wait4 / RUSAGE_CHILDREN of our own child: Python starts children with vfork (or
    fork), and Linux folds the parent's high-water RSS into the child's ru_maxrss at exec,
    so a small command looked as big as this script. GNU time's child is forked from a tiny
    C program, so its %M is the command's own peak.
    """
    if TIME.exists():
        with tempfile.NamedTemporaryFile("r") as report:
            subprocess.run([str(TIME), "-f", "%M", "-o", report.name, *argv], cwd=REPO,
                           env=child_env(argv),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            return int(report.read().split()[-1]), "/usr/bin/time %M"
    with Path(os.devnull).open("wb") as out:
        proc = subprocess.Popen(argv, cwd=REPO, stdout=out, env=child_env(argv))
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss, "os.wait4 (upper bound: includes this script's own peak RSS)"


def measure(label: str, argv: Sequence[str], repeat: int) -> Timing:
    return measure_side_by_side([(label, argv)], repeat)[0]


def measure_side_by_side(commands: Sequence[tuple[str, Sequence[str]]], repeat: int,
                         prepare: Mapping[str, Callable[[], None]] | None = None,
                         ) -> list[Timing]:
    """Each command `repeat` times, interleaved (the order reversed every other round), so
    that a ratio between them is measured under the same load. `prepare[label]`, where
    given, runs (untimed) before each run of that command."""
    before = prepare or {}
    for label, argv in commands:
        before.get(label, _nothing)()
        run_timed(argv)  # warm-up: page cache, .pyc files; not counted
    samples: dict[str, tuple[list[float], list[float]]] = {c[0]: ([], []) for c in commands}
    for round_ in range(repeat):
        for label, argv in commands if round_ % 2 == 0 else list(reversed(commands)):
            before.get(label, _nothing)()
            elapsed, cpu_seconds, code, err = run_timed(argv)
            if code != 0:
                raise SystemExit(f"{_command(argv)} exited {code}: {err.decode()[-2000:]}")
            samples[label][0].append(elapsed)
            samples[label][1].append(cpu_seconds)
    timings = []
    for label, argv in commands:
        before.get(label, _nothing)()
        timings.append(Timing(label, _command(argv) + _SUFFIX.get(label, ""),
                              *samples[label], *peak_rss(argv)))
    return timings


def _nothing() -> None:
    pass


# How the report tells apart runs of one command line.
_SUFFIX = {"plan (cold)": " (cold: no load cache)", "plan": " (warm: load cached)"}


def _command(argv: Sequence[str]) -> str:
    return " ".join(_short(a) for a in argv)


def _short(arg: str) -> str:
    path = Path(arg)
    if path.is_absolute() and path.is_relative_to(REPO):
        return str(path.relative_to(REPO))
    return arg


# -- report ----------------------------------------------------------------------------


def report(
    args: argparse.Namespace, gen: Generated, info: dict[str, str], timings: list[Timing],
    problems: list[str],
) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(gen.kind_counts.items()))
    lines = [
        f"## {now}: {len(gen.images)} images, seed {args.seed}",
        "",
        *machine_lines(info),
        f"- pipeline: {len(gen.images)} images, {len(gen.edges)} edges ({kinds}), "
        f"{gen.decoys} references in unneeded stages (not edges), Dockerfiles "
        f"{gen.dockerfile_lines[0]}-{gen.dockerfile_lines[1]} lines",
        f"- plan check (validate counts; plan nodes, edges, depends_on, order; plan of the "
        f"`release` group = the group and its dependencies): "
        f"{'passed' if not problems else 'FAILED'}",
        *(f"  - {p}" for p in problems),
        f"- timing: wall clock of a subprocess, {args.repeat} runs after 1 warm-up; peak RSS "
        f"of one more run ({timings[0].rss_method if timings else '-'})",
        "",
        "| command | wall min (s) | wall median (s) | wall max (s) | CPU median (s) "
        "| peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for t in timings:
        lines.append(f"| `{t.command}` | {t.min:.3f} | {t.median:.3f} | {max(t.seconds):.3f} "
                     f"| {statistics.median(t.cpu_seconds):.3f} | {t.peak_rss_kib / 1024:.0f} |")
    by_label = {t.label: t for t in timings}
    lines += _baseline_lines(args, by_label)
    lines += ["", "| target (from the issue, on the wall-clock median) | measured (s) | |",
              "|---|---:|---|"]
    plan, cold = by_label.get("plan"), by_label.get("plan (cold)")
    for which, timing, limits in (
            ("cold ", cold, (PLAN_REQUIRED_S, PLAN_GOAL_S)),
            ("warm ", plan, (PLAN_REQUIRED_S, PLAN_GOAL_S, WARM_PLAN_REQUIRED_S,
                             WARM_PLAN_GOAL_S))):
        if timing is None:
            continue
        for i, limit in enumerate(limits):
            outcome = (verdict(timing.median, limit, inclusive=False)
                       if len(gen.images) == 2000 else f"n/a ({len(gen.images)} images)")
            goal = "goal: " if i % 2 else ""
            issue = " (issue 11)" if i >= 2 else ""
            lines.append(f"| {goal}{which}plan of 2,000 images < {limit:g} s{issue} "
                         f"| {timing.median:.3f} | {outcome} |")
    base = by_label.get("plan (baseline)")
    if cold is not None and base is not None:
        lines.append(f"| cold plan no slower than the baseline (issue 11) | "
                     f"{cold.median:.3f} vs {base.median:.3f} "
                     f"| {verdict(cold.median, base.median, inclusive=True)} |")
    help_ = by_label.get("help")
    if help_ is not None:
        lines.append(f"| `--help` < {HELP_REQUIRED_S:g} s | {help_.median:.3f} "
                     f"| {verdict(help_.median, HELP_REQUIRED_S, inclusive=False)} |")
    return "\n".join(lines) + "\n"


def _baseline_lines(args: argparse.Namespace, by_label: dict[str, Timing]) -> list[str]:
    """This checkout against `--baseline`, measured interleaved in this run."""
    if args.baseline is None:
        return []
    lines = ["", f"Side by side with `--baseline {args.baseline}` (interleaved runs; ratio = "
             "this checkout / baseline, below 1 is faster):", "",
             "| command | wall median ratio | CPU median ratio |", "|---|---:|---:|"]
    for label, base_label in (("validate", "validate"), ("plan (cold)", "plan"),
                              ("plan", "plan")):
        ours, base = by_label.get(label), by_label.get(f"{base_label} (baseline)")
        if ours is None or base is None:
            continue
        cpu = statistics.median(ours.cpu_seconds) / statistics.median(base.cpu_seconds)
        shown = "plan (warm)" if label == "plan" else label
        lines.append(f"| {shown} | {ours.median / base.median:.3f} | {cpu:.3f} |")
    return lines


def profile_plan(file: str, out: Path) -> str:
    """cProfile one warm `plan` run in a subprocess; the top functions by cumulative time."""
    prof = out / "plan.prof"
    subprocess.run(
        [str(PYTHON), "-m", "cProfile", "-o", str(prof), "-m", "buildorch", "plan", "-f", file,
         "--format", "json"],
        cwd=REPO, stdout=subprocess.DEVNULL, check=True, env=child_env([str(PYTHON)]),
    )
    text = io.StringIO()
    stats = pstats.Stats(str(prof), stream=text)
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(20)
    return text.getvalue()


# -- main ------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--images", type=int, default=2000, help="images in the pipeline")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per command")
    parser.add_argument("--out", type=Path, help="where to generate (default benchmarks/out/...)")
    parser.add_argument("--no-results", action="store_true",
                        help="print only; do not append to benchmarks/results/plan_scale.md")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile one plan run and print the top functions")
    parser.add_argument("--baseline", type=Path, metavar="BUILDORCH",
                        help="another checkout's buildorch executable: time its validate and "
                             "plan interleaved with this one's, and report the ratios")
    args = parser.parse_args(argv)
    if args.images < 1 or args.repeat < 1:
        parser.error("--images and --repeat must be at least 1")
    return args


def timed(args: argparse.Namespace, file: str) -> list[Timing]:
    """--help; validate (warm); plan cold and warm, side by side; each with the baseline."""
    validate = ["validate", "-f", file]
    plan = ["plan", "-f", file, "--format", "json"]
    timings = [measure("help", [str(BUILDORCH), "--help"], args.repeat)]
    for group in ([("validate", validate)], [("plan (cold)", plan), ("plan", plan)]):
        commands = [(label, [str(BUILDORCH), *rest]) for label, rest in group]
        if args.baseline is not None:  # it has no cache: cold and warm are one
            label, rest = group[-1]
            commands.append((f"{label} (baseline)", [str(args.baseline), *rest]))
        timings += measure_side_by_side(commands, args.repeat,
                                        {"plan (cold)": drop_load_caches})
    if not any(cache.is_file() for cache in LOAD_CACHES):
        print("note: no .buildorch/yaml-documents or dockerfile-analyses after the warm runs: "
              "this checkout keeps no load cache, so warm and cold are the same", file=sys.stderr)
    return timings


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    folder: Path = args.out or OUT_ROOT / f"plan_scale-n{args.images}-s{args.seed}"
    folder = folder.resolve()
    info = machine_info()  # first: the load average before this script adds its own
    started = time.perf_counter()
    gen = generate(folder, args.images, args.seed)
    print(f"generated {gen.pipeline} ({len(gen.images)} images, {len(gen.edges)} edges) "
          f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    file = str(gen.pipeline.relative_to(REPO)) if gen.pipeline.is_relative_to(REPO) else str(
        gen.pipeline)
    problems = check(gen)
    for problem in problems:
        print(f"CHECK FAILED: {problem}", file=sys.stderr)
    timings = timed(args, file) if not any(
        p.startswith(("plan exited", "validate exited")) for p in problems) else []
    section = report(args, gen, info, timings, problems)
    print(section)
    if not args.no_results:
        append_results(RESULTS, section)
        print(f"appended to {RESULTS.relative_to(REPO)}", file=sys.stderr)
    if args.profile:
        print(profile_plan(file, folder))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
