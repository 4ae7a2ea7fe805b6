"""Benchmark: what loading a reproducible image through a tarball costs on Docker's docker
driver, per image, against the plain `--load`.

On the docker driver a `reproducible: true` image is built with `--output type=docker,dest=
<run folder>/<image>.image.tar,rewrite-timestamp=true` and then `docker load --input`ed by
the run (run/archive_load.py), since the driver's own loading cannot rewrite timestamps.

1. Takes the exact argv `buildorch plan --format json --backend docker --cache none` gives the
   example pipeline's images (default: base), once as written (`--load`) and once with
   `--set IMAGE.reproducible=true` (the tarball), with a tag of the benchmark's own and the
   run folder replaced by `benchmarks/out/reproducible_load/`. `--layer-mb N` adds an image
   `big` of a pipeline of its own there: the busybox base and one RUN writing N MiB of
   random bytes (so the cost can be seen to grow with the image).
2. Runs R repeats of each, interleaved, after one untimed warm-up of each, in two states:
   warm (BuildKit's cache holds every step, the image is removed from the store first, so
   what is timed is the export and the load), and cold (`docker buildx prune -af` and the
   image removed first: a whole build). Each run is timed by wall clock: the build, and for
   the tarball also `docker load`; each checks that the store then holds the tag at the
   digest the metadata file reports. A third way, the tarball without rewrite-timestamp,
   tells what of the cost is the rewriting itself (it recompresses the layers).
3. Prints the medians (and the tarball's size) and appends them to
   benchmarks/results/reproducible_load.md.

Needs the local stack: `scripts/stack up` (if DOCKER_HOST is unset, the script reads
`scripts/stack env` itself). It never starts or stops the stack.

Run: .venv/bin/python benchmarks/reproducible_load.py [--image NAME ...] [--layer-mb N]
         [--repeats R] [--no-results]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import machine

REPO = machine.REPO
OUT = REPO / "benchmarks" / "out" / "reproducible_load"
RESULTS = REPO / "benchmarks" / "results" / "reproducible_load.md"
MARKER = ".reproducible_load"
PIPELINE = "pipelines/example.yaml"
BIG = """\
version: 1
name: shop
vars: {REGISTRY: localhost:5000/shop, TAG: dev}
images:
  big: {context: big, tags: ["${REGISTRY}/big:${TAG}"]}
"""


@dataclass(frozen=True)
class Timing:
    build: float
    load: float = 0.0  # docker load of the tarball; 0 for --load

    @property
    def total(self) -> float:
        return self.build + self.load


# What a build says when another client prunes the shared engine's cache under it (seen on
# the stack while other test runs `docker buildx prune -af`): such a run is timed again.
PRUNED_UNDER_IT = "failed to solve: not found"
RETRIES = {"count": 0}


class PrunedError(Exception):
    pass


def run(argv: Sequence[str]) -> str:
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0 and PRUNED_UNDER_IT in done.stdout + done.stderr:
        raise PrunedError(" ".join(argv))
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(argv)}\n{done.stdout[-2000:]}"
                         f"{done.stderr[-2000:]}")
    return done.stdout


def big_pipeline(megabytes: int) -> str:
    """A pipeline in OUT with one image whose own layer holds `megabytes` MiB."""
    base = os.environ.get("BUILDORCH_BASE_IMAGE", "localhost:5000/busybox:latest")
    (OUT / "big").mkdir()
    (OUT / "big" / "Dockerfile").write_text(
        f"FROM {base}\nRUN dd if=/dev/urandom of=/pad bs=1048576 count={megabytes}\n")
    (OUT / "big.yaml").write_text(BIG)
    return str((OUT / "big.yaml").relative_to(REPO))


def planned(pipeline: str, image: str, reproducible: bool,
            tag: str) -> tuple[list[str], str | None]:
    """The build argv and the tarball buildorch plans for `image`, in OUT, tagged `tag`."""
    extra = ["--set", f"{image}.reproducible=true"] if reproducible else []
    out = run([sys.executable, "-m", "buildorch", "plan", "-f", pipeline, "--backend", "docker",
               "--cache", "none", "--format", "json", "--var", f"TAG={tag}", *extra, image])
    [node] = [n for n in json.loads(out)["nodes"] if n["name"] == image]
    folder = str(OUT.relative_to(REPO))
    argv = [a.replace(".buildorch/runs/{run_id}", folder) for a in node["argv"]]
    archive = node["outputs"]["load_archive"]
    return argv, archive.replace(".buildorch/runs/{run_id}", folder) if archive else None


def built_once(argv: list[str], archive: str | None, ref: str, image: str,
               cold: bool) -> Timing:
    """One timed run; again (at most 3 times) where the cache was pruned under it."""
    for _ in range(3):
        try:
            return _timed(argv, archive, ref, image)
        except PrunedError:
            RETRIES["count"] += 1
            prepare(ref, cold)
            if not cold:  # warm the cache again, untimed
                with contextlib.suppress(PrunedError):
                    _timed(argv, archive, ref, image)
                prepare(ref, cold)
    raise SystemExit(f"pruned under the build 3 times: {' '.join(argv)}")


def _timed(argv: list[str], archive: str | None, ref: str, image: str) -> Timing:
    start = time.perf_counter()
    run(argv)
    build = time.perf_counter() - start
    load = 0.0
    if archive is not None:
        start = time.perf_counter()
        run(["docker", "load", "--input", archive])
        load = time.perf_counter() - start
    metadata = json.loads((OUT / f"{image}.metadata.json").read_text())
    stored = run(["docker", "image", "inspect", "--format", "{{.Id}}", ref]).strip()
    if stored != metadata["containerimage.digest"]:
        raise SystemExit(f"{ref} holds {stored}, not {metadata['containerimage.digest']}")
    return Timing(build, load)


def prepare(ref: str, cold: bool) -> None:
    subprocess.run(["docker", "image", "rm", "-f", ref], capture_output=True, check=False)
    if cold:
        run(["docker", "buildx", "prune", "-af"])


def measure(pipeline: str, image: str, repeats: int) -> tuple[dict[str, list[Timing]], int]:
    """Each way's timings (keyed `STATE: WAY`), and the tarball's size in bytes."""
    tag = f"bench-{secrets.token_hex(4)}"
    ref = f"localhost:5000/shop/{image}:{tag}"
    tarball, archive = planned(pipeline, image, True, tag)
    ways = {"--load": planned(pipeline, image, False, tag),
            "tarball + docker load": (tarball, archive),
            # what of the cost is rewrite-timestamp's own: it rewrites and recompresses layers
            "tarball without rewrite-timestamp + docker load": (
                [a.replace(",rewrite-timestamp=true", "") for a in tarball], archive)}
    times: dict[str, list[Timing]] = {}
    for cold in (False, True):
        for argv, archive in ways.values():  # untimed warm-up
            prepare(ref, cold)
            built_once(argv, archive, ref, image, cold)
        for _ in range(repeats):
            for name, (argv, archive) in ways.items():
                prepare(ref, cold)
                key = f"{'cold' if cold else 'warm'}: {name}"
                times.setdefault(key, []).append(built_once(argv, archive, ref, image, cold))
    size = (REPO / archive).stat().st_size if archive else 0
    prepare(ref, False)
    return times, size


def section(info: dict[str, str], image: str, times: dict[str, list[Timing]], size: int,
            repeats: int) -> str:
    lines = [f"## {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC: image {image}, "
             f"{repeats} repeats", "", *machine.machine_lines(info), f"- tarball: {size} bytes",
             f"- runs timed again after a concurrent prune of the engine's cache so far: "
             f"{RETRIES['count']}",
             "", "| state: way | build (s) | docker load (s) | total (s) |",
             "|---|---:|---:|---:|"]
    medians = {}
    for key, runs in times.items():
        build = statistics.median(t.build for t in runs)
        load = statistics.median(t.load for t in runs)
        total = medians[key] = statistics.median(t.total for t in runs)
        lines.append(f"| {key} | {build:.2f} | {load:.2f} | {total:.2f} |")
    lines.append("")
    for state in ("warm", "cold"):
        extra = medians[f"{state}: tarball + docker load"] - medians[f"{state}: --load"]
        lines.append(f"- {state}: the tarball and its load cost {extra:+.2f} s per image "
                     "(median totals)")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", action="append", help="example images (default: base)")
    parser.add_argument("--layer-mb", type=int, help="also an image of N MiB (`big`)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args()
    machine.stack_env()
    info = machine.machine_info(docker=True)
    machine.fresh_folder(OUT, MARKER, Path(__file__).name)
    images = [(PIPELINE, image) for image in args.image or ["base"]]
    if args.layer_mb:
        images.append((big_pipeline(args.layer_mb), "big"))
    for pipeline, image in images:
        times, size = measure(pipeline, image, args.repeats)
        text = section(info, image, times, size, args.repeats)
        print(text)
        if not args.no_results:
            machine.append_results(RESULTS, text)


if __name__ == "__main__":
    main()
