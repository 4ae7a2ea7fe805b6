"""Benchmark: remote cache round trips of the example pipeline (registry, S3 sync transport).

Builds `pipelines/example.yaml`, group `ci` (5 images), with
`buildorch build -f pipelines/example.yaml --backend docker ci --cache-config DIR
--cache PROFILE --var GIT_BRANCH=main --var TAG=<unique>` under `CI=true` (so that the
`export: auto` profiles export), each build in a fresh working folder under
`benchmarks/out/cache_roundtrip/r<N>/<scenario>/` (git-ignored), in this order:

  cold-registry  `docker buildx prune -af`, then a build exporting to a fresh registry ref
                 (nothing to import): wall time.
  registry       `docker buildx prune -af`, then a build importing from that ref: wall time,
                 RUN steps reported CACHED / total.
  cold-s3        `docker buildx prune -af`, then a build exporting to a fresh bucket through
                 the sync transport (`type: s3`, `transport: sync`): wall time, bytes up.
  s3             `docker buildx prune -af`, then a build importing from that bucket: wall
                 time, RUN steps CACHED / total, blobs and bytes downloaded.
  s3-again       no wipe, the same content again: the second export must upload 0 blobs.
  uncached       `docker buildx prune -af`, then `--cache none`: the rebuild a cache saves.

The profiles (`registry.yaml`, `s3.yaml`) are written per repeat with a fresh registry
repository and a fresh bucket (created with boto3 at BUILDORCH_S3_ENDPOINT), so every
repeat starts cold. RUN steps are read from buildorch's per-image logs: a step header
`#N [stage k/n] RUN ...` and a later `#N CACHED` (a RUN instruction BuildKit reports under
several ids counts once: CACHED if one said CACHED and none said DONE). S3 transfers come
from the run record (`cache.downloads`, `cache.upload`); the blobs each S3 build added to
the bucket from listings before and after it (untimed), by the kind (layer, cache config,
index) the media types in its export folders give them.

Exits 1 if a build fails, if a RUN step of `registry`, `s3` or `s3-again` is not CACHED
(or the set of RUN steps differs from the cold build's), if a RUN step of a cold or
uncached build is CACHED (then the engine was not wiped and no ratio means anything), or if
the second S3 export uploads any blob. Appends the results to
benchmarks/results/cache_roundtrip.md and prints them.

Needs the local stack: `scripts/stack up` (if DOCKER_HOST is unset, the script reads
`scripts/stack env` itself). Wipes the engine's build cache (`docker buildx prune -af`).
The example forwards an SSH agent: the script starts `ssh-agent` and kills it at the end.

Run: .venv/bin/python benchmarks/cache_roundtrip.py [--repeats R] [--no-results] [--keep-buckets]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import re
import secrets
import shlex
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from machine import append_results, fresh_folder, machine_info, machine_lines, stack_env, verdict

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

REPO = Path(__file__).resolve().parent.parent
BUILDORCH = REPO / ".venv" / "bin" / "buildorch"
PIPELINE = REPO / "pipelines" / "example.yaml"
GROUP = "ci"
BRANCH = "main"
PREFIX = "bench/"  # of the S3 profile
RESULTS = REPO / "benchmarks" / "results" / "cache_roundtrip.md"
OUT = REPO / "benchmarks" / "out" / "cache_roundtrip"
MARKER = ".cache_roundtrip-generated"  # only a folder holding this file is ever deleted
BUILD_TIMEOUT = 900  # seconds

# A pull request never exports under `export: auto`; the benchmark is a CI job on main.
PULL_REQUEST_VARS = ("GITHUB_EVENT_NAME", "BUILDKITE_PULL_REQUEST", "CI_MERGE_REQUEST_IID",
                     "CHANGE_ID")

_RUN_RE = re.compile(r"^#(\d+) \[([^\]]*\d+/\d+)\] (RUN .*)$")
_STATUS_RE = re.compile(r"^#(\d+) (DONE [\d.]+s|CACHED|ERROR.*|CANCELED.*)$")


@dataclass(frozen=True)
class Scenario:
    key: str  # the folder name
    title: str
    profile: str  # registry | s3 | none
    wipe: bool  # `docker buildx prune -af` first
    expect: str  # "cold": no RUN step CACHED; "cached": every RUN step CACHED


SCENARIOS = (
    Scenario("cold-registry", "cold, exporting to the registry", "registry", True, "cold"),
    Scenario("registry", "wiped engine, importing from the registry", "registry", True,
             "cached"),
    Scenario("cold-s3", "cold, exporting to S3 (sync)", "s3", True, "cold"),
    Scenario("s3", "wiped engine, importing from S3 (sync)", "s3", True, "cached"),
    Scenario("s3-again", "engine kept, nothing changed: second S3 export", "s3", False,
             "cached"),
    Scenario("uncached", "wiped engine, `--cache none`", "none", True, "cold"),
)


@dataclass
class Transfer:
    blobs: int = 0
    bytes: int = 0
    seconds: float = 0.0  # summed over images (they run in parallel)
    referenced: int = 0
    entries: int = 0  # downloads: entries looked for, and found in the bucket
    found: int = 0


@dataclass
class Build:
    scenario: Scenario
    repeat: int
    folder: Path
    argv: list[str]
    seconds: float = 0.0
    returncode: int = 0
    record: dict[str, Any] | None = None
    steps: dict[str, dict[str, str]] = field(default_factory=dict)  # image -> RUN -> state
    download: Transfer | None = None
    upload: Transfer | None = None
    warnings: list[str] = field(default_factory=list)
    new_blobs: list[tuple[str, int]] | None = None  # S3: (kind, size) of blobs it added
    problems: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"r{self.repeat}/{self.scenario.key}"

    @property
    def total(self) -> int:
        return sum(len(s) for s in self.steps.values())

    @property
    def cached(self) -> int:
        return sum(state == "CACHED" for s in self.steps.values() for state in s.values())


# -- the stack, the engine, S3 ---------------------------------------------------------


def wipe_engine_cache() -> None:
    subprocess.run(["docker", "buildx", "prune", "-af"], check=True, capture_output=True)


def start_ssh_agent() -> tuple[int, str]:
    """(pid, socket) of a new ssh-agent: the example's worker images forward one."""
    out = subprocess.run(["ssh-agent", "-s"], capture_output=True, text=True,
                         check=True).stdout
    sock = re.search(r"SSH_AUTH_SOCK=([^;]+);", out)
    pid = re.search(r"SSH_AGENT_PID=(\d+);", out)
    if not sock or not pid:
        raise SystemExit(f"ssh-agent -s said something unexpected: {out!r}")
    return int(pid.group(1)), sock.group(1)


def s3_client() -> S3Client:
    import boto3

    return boto3.client("s3", endpoint_url=os.environ["BUILDORCH_S3_ENDPOINT"],
                        region_name="us-east-1")


def bucket_blobs(s3: S3Client, bucket: str) -> dict[str, int]:
    """The bucket's blob objects (sync layout, under the profiles' prefix): key -> size."""
    blobs: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                             Prefix=f"{PREFIX}oci/blobs/"):
        for obj in page.get("Contents", []):
            blobs[obj.get("Key", "")] = obj.get("Size", 0)
    return blobs


def blob_kinds(folder: Path) -> dict[str, str]:
    """Digest hex -> kind (layer, cache config, index, manifest...) of every blob a build's
    S3 export folders describe: from the media types in their JSON documents."""
    kinds: dict[str, str] = {}
    for layout in folder.glob(".buildorch/runs/*/cache-out/*"):
        documents = [layout / "index.json", *layout.glob("blobs/sha256/*")]
        for path in documents:
            try:
                if path.stat().st_size > 1024**2 or path.read_bytes()[:1] != b"{":
                    continue
                stack: list[object] = [json.loads(path.read_bytes())]
            except (OSError, ValueError):
                continue
            while stack:
                item = stack.pop()
                if isinstance(item, list):
                    stack.extend(item)
                elif isinstance(item, dict):
                    stack.extend(item.values())
                    digest, media = item.get("digest"), item.get("mediaType")
                    if isinstance(digest, str) and isinstance(media, str):
                        kinds[digest.removeprefix("sha256:")] = _kind(media)
    return kinds


def _kind(media_type: str) -> str:
    for word, kind in (("layer", "layer"), ("cacheconfig", "cache config"),
                       ("index", "index"), ("manifest", "manifest"), ("config", "config")):
        if word in media_type:
            return kind
    return media_type


def bucket_contents(s3: S3Client, bucket: str) -> tuple[int, int]:
    """(objects, bytes) in the bucket."""
    count = size = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            count += 1
            size += obj.get("Size", 0)
    return count, size


def delete_bucket(s3: S3Client, bucket: str) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys: list[ObjectIdentifierTypeDef] = [{"Key": obj["Key"]} for obj in
                                               page.get("Contents", []) if "Key" in obj]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    s3.delete_bucket(Bucket=bucket)


_ACCEPT = ", ".join(("application/vnd.oci.image.manifest.v1+json",
                     "application/vnd.oci.image.index.v1+json",
                     "application/vnd.docker.distribution.manifest.v2+json",
                     "application/vnd.docker.distribution.manifest.list.v2+json"))


def registry_entry_blobs(ref: str) -> dict[str, int]:
    """The blobs (digest -> size) a registry cache entry `host/repo:tag` names, with its
    manifest: what an import can fetch at most. Empty if the entry cannot be read."""
    host, _, rest = ref.partition("/")
    repository, _, tag = rest.rpartition(":")
    request = urllib.request.Request(f"http://{host}/v2/{repository}/manifests/{tag}",
                                     headers={"Accept": _ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
            digest = response.headers.get("Docker-Content-Digest", f"manifest:{ref}")
    except (urllib.error.URLError, OSError):
        return {}
    manifest = json.loads(body)
    blobs = {digest: len(body)}
    descriptors = [manifest.get("config") or {}, *manifest.get("layers", []),
                   *manifest.get("manifests", [])]
    for item in descriptors:
        if isinstance(item.get("digest"), str) and isinstance(item.get("size"), int):
            blobs[item["digest"]] = item["size"]
    return blobs


# -- profiles and builds ---------------------------------------------------------------


def write_profiles(folder: Path, registry_ref: str, bucket: str) -> None:
    folder.mkdir(parents=True)
    (folder / "registry.yaml").write_text(
        "# Generated by benchmarks/cache_roundtrip.py\n"
        f"type: registry\nref: {registry_ref}\nmode: max\nscope: branch\n"
        f"default_branch: {BRANCH}\nexport: auto\n")
    (folder / "s3.yaml").write_text(
        "# Generated by benchmarks/cache_roundtrip.py\n"
        f"type: s3\nbucket: {bucket}\nregion: us-east-1\nprefix: {PREFIX}\n"
        f"endpoint_url: {os.environ['BUILDORCH_S3_ENDPOINT']}\nuse_path_style: true\n"
        f"transport: sync\nmode: max\nscope: branch\ndefault_branch: {BRANCH}\n"
        "export: auto\n")


def command(profiles: Path, profile: str, tag: str) -> list[str]:
    return [str(BUILDORCH), "build", "-f", str(PIPELINE), "--backend", "docker", GROUP,
            "--cache-config", str(profiles), "--cache", profile, "--var", f"GIT_BRANCH={BRANCH}",
            "--var", f"TAG={tag}", "--progress", "plain"]


def build_env(agent_sock: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PULL_REQUEST_VARS}
    env.update(CI="true", SSH_AUTH_SOCK=agent_sock)
    return env


def run_build(scenario: Scenario, repeat: int, root: Path, profiles: Path, token: str,
              env: Mapping[str, str], s3: S3Client, bucket: str) -> Build:
    folder = root / scenario.key
    folder.mkdir(parents=True)
    tag = f"{token}-r{repeat}-{scenario.key}"
    build = Build(scenario, repeat, folder, command(profiles, scenario.profile, tag))
    if scenario.wipe:
        wipe_engine_cache()  # untimed
    before = bucket_blobs(s3, bucket) if scenario.profile == "s3" else {}
    with (folder / "output.log").open("w") as log:
        log.write(f"# {shlex.join(build.argv)} (cwd {folder})\n")
        log.flush()
        start = time.perf_counter()
        try:
            proc = subprocess.run(build.argv, cwd=folder, env=dict(env), stdout=log,
                                  stderr=subprocess.STDOUT, check=False, timeout=BUILD_TIMEOUT)
            build.returncode = proc.returncode
        except subprocess.TimeoutExpired:
            build.returncode = -1
        build.seconds = time.perf_counter() - start
    if build.returncode != 0:
        tail = (folder / "output.log").read_text(errors="replace").splitlines()[-15:]
        build.problems.append(f"{build.label}: exited {build.returncode}; see "
                              f"{folder}/output.log\n" + "\n".join(tail))
    if scenario.profile == "s3":
        kinds = blob_kinds(folder)
        added = sorted(set(bucket_blobs(s3, bucket).items()) - set(before.items()))
        build.new_blobs = [(kinds.get(key.rsplit("/", 1)[-1], "?"), size)
                           for key, size in added]
    build.record = read_record(folder)
    if build.record is None:
        build.problems.append(f"{build.label}: no run record in {folder}/.buildorch/runs/")
        return build
    read_outcome(build, build.record)
    return build


def read_record(folder: Path) -> dict[str, Any] | None:
    records = sorted((folder / ".buildorch" / "runs").glob("*/record.json"))
    if len(records) != 1:
        return None
    try:
        data = json.loads(records[0].read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def run_steps(lines: Iterable[str]) -> dict[str, str]:
    """Each RUN step ("[stage k/n] RUN ...") of one build log -> CACHED, ran or unknown."""
    keys: dict[str, str] = {}  # step id -> RUN step
    states: dict[str, set[str]] = {}
    for line in lines:
        header = _RUN_RE.match(line)
        if header:
            keys[header.group(1)] = key = f"[{header.group(2)}] {header.group(3)}"
            states.setdefault(key, set())
            continue
        status = _STATUS_RE.match(line)
        if status and status.group(1) in keys:
            states[keys[status.group(1)]].add(status.group(2).split()[0])
    return {key: "ran" if "DONE" in s else "CACHED" if "CACHED" in s else "unknown"
            for key, s in states.items()}


def read_outcome(build: Build, record: Mapping[str, Any]) -> None:
    """RUN steps from the per-image logs, S3 transfers and warnings from the record."""
    download: Transfer | None = None
    upload: Transfer | None = None
    for name, image in sorted(record.get("images", {}).items()):
        if image.get("state") != "succeeded":
            build.problems.append(f"{build.label}: {name} {image.get('state')}: "
                                  f"{image.get('reason')}")
        log = build.folder / str(image.get("log") or f"missing-{name}.log")
        try:
            build.steps[name] = run_steps(log.read_text(errors="replace").splitlines())
        except OSError:
            build.problems.append(f"{build.label}: {name}: no log at {log}")
        cache = image.get("cache") or {}
        build.warnings += [f"{name}: {w}" for w in cache.get("warnings", [])]
        for item in cache.get("downloads", []):
            download = download or Transfer()
            download.blobs += int(item.get("blobs_downloaded", 0))
            download.bytes += int(item.get("bytes_downloaded", 0))
            download.referenced += int(item.get("blobs_referenced", 0))
            download.seconds += float(item.get("seconds", 0.0))
            download.entries += 1
            download.found += bool(item.get("found"))
        if "upload" in cache:
            item = cache["upload"]
            upload = upload or Transfer()
            upload.blobs += int(item.get("blobs_uploaded", 0))
            upload.bytes += int(item.get("bytes_uploaded", 0))
            upload.referenced += int(item.get("blobs_referenced", 0))
            upload.seconds += float(item.get("seconds", 0.0))
    build.download, build.upload = download, upload


def registry_refs(record: Mapping[str, Any]) -> list[str]:
    """The registry cache refs the run exported to (from the plan's argv)."""
    refs = []
    for node in record.get("plan", {}).get("nodes", []):
        argv = node.get("argv", [])
        for flag, value in itertools.pairwise(argv):
            attrs = dict(p.split("=", 1) for p in value.split(",") if "=" in p)
            if flag == "--cache-to" and attrs.get("type") == "registry":
                refs.append(attrs["ref"])
    return refs


def remove_tags(build: Build) -> None:
    """The images a build tagged (untimed), so that repeats do not fill the image store."""
    tags = [t for node in (build.record or {}).get("plan", {}).get("nodes", [])
            for t in node.get("tags", []) if "{" not in t]
    if tags:
        subprocess.run(["docker", "image", "rm", *tags], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)


# -- checks ------------------------------------------------------------------------------


def check(build: Build, cold: Build | None) -> None:
    """The scenario's premise: cold builds ran every RUN step, cached ones hit every one."""
    if build.returncode != 0 or build.record is None:
        return
    if not build.total:
        build.problems.append(f"{build.label}: no RUN step found in the logs")
    for image, steps in sorted(build.steps.items()):
        for step, state in steps.items():
            if build.scenario.expect == "cached" and state != "CACHED":
                build.problems.append(f"{build.label}: [{image}] `{step[:70]}` {state}, "
                                      "not CACHED")
            if build.scenario.expect == "cold" and state != "ran":
                build.problems.append(f"{build.label}: [{image}] `{step[:70]}` {state}: a "
                                      "cold build must run every RUN step")
    if cold is not None and cold.returncode == 0 and build.scenario.expect == "cached":
        expected = {(i, s) for i, steps in cold.steps.items() for s in steps}
        seen = {(i, s) for i, steps in build.steps.items() for s in steps}
        for image, step in sorted(expected ^ seen):
            where = "missing from" if (image, step) in expected else "not in the cold build but in"
            build.problems.append(f"{build.label}: [{image}] `{step[:70]}` {where} this build")
    if build.scenario.profile == "s3" and build.scenario.expect == "cached" and (
            build.download is None or build.download.referenced == 0):
        build.problems.append(f"{build.label}: nothing was downloaded from S3")
    if build.scenario.key == "s3-again":
        if build.upload is None:
            build.problems.append(f"{build.label}: no S3 upload recorded (export skipped or "
                                  "failed); cannot tell what a second export uploads")
        elif build.upload.blobs:
            build.problems.append(f"{build.label}: the second export with nothing changed "
                                  f"uploaded {build.upload.blobs} blobs "
                                  f"({build.upload.bytes} bytes), expected 0")


# -- report ------------------------------------------------------------------------------


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _transfer(t: Transfer | None) -> str:
    if t is None:
        return "-"
    found = f"{t.found}/{t.entries} entries found, " if t.entries else ""
    return (f"{found}{t.blobs} / {t.referenced} blobs, {_size(t.bytes)} ({t.bytes} B), "
            f"{t.seconds:.2f} s")


def _added(blobs: list[tuple[str, int]] | None) -> str:
    """The blobs a build added to the bucket, by kind: "2 (cache config 1, index 1), 3.5 KiB"."""
    if blobs is None:
        return "-"
    kinds: dict[str, int] = {}
    for kind, _bytes in blobs:
        kinds[kind] = kinds.get(kind, 0) + 1
    detail = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    return (f"{len(blobs)}{f' ({detail})' if detail else ''}, "
            f"{_size(sum(size for _k, size in blobs))}")


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(args: argparse.Namespace, info: Mapping[str, str], builds: list[Build],
           stores: list[dict[str, str]]) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    by_key: dict[str, list[Build]] = {}
    for build in builds:
        by_key.setdefault(build.scenario.key, []).append(build)
    problems = [p for b in builds for p in b.problems]
    example = command(Path("DIR"), "PROFILE", "<unique>")
    shown = shlex.join(example).replace(str(REPO) + "/", "")
    lines = [
        f"## {now}: example pipeline, group `{GROUP}`, {args.repeats} repeat(s)",
        "",
        *machine_lines(info),
        f"- command, in a fresh folder per build, with `CI=true` and an ssh-agent: `{shown}`",
        "- profiles per repeat: `registry` (fresh repository `bench-cache-<token>/cache`, "
        "mode max) and `s3` (fresh bucket, `transport: sync`, `use_path_style: true`, "
        "mode max); both `export: auto`, branch main",
        "- checks (failed builds; every RUN step CACHED in registry, s3 and s3-again and the "
        "same RUN steps as the cold build; none CACHED in the cold and uncached builds; the "
        "second S3 export uploads 0 blobs): " + ("passed" if not problems else "FAILED"),
        *(f"  - {p.splitlines()[0]}" for p in problems),
        "",
        "| scenario | wall (s), median (min-max) | / uncached | RUN steps CACHED | "
        "S3 downloaded: entries found, blobs fetched / referenced, size (all images) | "
        "S3 uploaded: blobs sent / referenced, size |",
        "|---|---:|---:|---:|---|---|",
    ]
    uncached = _median([b.seconds for b in by_key.get("uncached", []) if b.returncode == 0])
    for scenario in SCENARIOS:
        runs = by_key.get(scenario.key, [])
        if not runs:
            continue
        walls = [b.seconds for b in runs]
        cached = sorted({f"{b.cached}/{b.total}" for b in runs})
        down = sorted({_transfer(b.download).split(" (")[0] for b in runs})
        down = [d.replace(" entries found", "") for d in down]
        up = sorted({_transfer(b.upload).split(" (")[0] for b in runs})
        ratio = _median(walls) / uncached if uncached == uncached else float("nan")
        lines.append(
            f"| {scenario.key}: {scenario.title} | {_median(walls):.2f} "
            f"({min(walls):.2f}-{max(walls):.2f}) | {ratio:.2f} | {', '.join(cached)} | "
            f"{'; '.join(down)} | {'; '.join(up)} |")
    again = [b for b in by_key.get("s3-again", []) if b.upload is not None]
    if again:
        worst = max(again, key=lambda b: b.upload.blobs if b.upload else 0)
        most = worst.upload.blobs if worst.upload else 0
        lines += ["", "| target (issue 5) | measured | |", "|---|---:|---|",
                  f"| a second export with nothing changed uploads no blob | {most} blobs "
                  f"(most over the repeats; added to the bucket: {_added(worst.new_blobs)}) | "
                  f"{verdict(most, 0, inclusive=True)} |"]
    lines += ["", "Every build (wall time; RUN steps CACHED/total; S3 transfers with exact "
              "bytes and seconds summed over images; the blobs the build added to the bucket "
              "(a listing before and after), by the media type the export's documents give "
              "them; the warnings buildorch recorded on the images' cache):", "",
              "| build | wall (s) | exit | CACHED | S3 down | S3 up | blobs added to the "
              "bucket, by kind | warnings |",
              "|---|---:|---:|---:|---|---|---|---|"]
    for b in builds:
        warnings = "; ".join(w.replace("|", "/")[:120] for w in b.warnings) or "-"
        lines.append(f"| {b.label} | {b.seconds:.2f} | {b.returncode} | {b.cached}/{b.total} | "
                     f"{_transfer(b.download)} | {_transfer(b.upload)} | {_added(b.new_blobs)} | "
                     f"{warnings} |")
    lines += ["", "What the remote caches held after each repeat's exports:", ""]
    lines += [f"- r{i}: {s['registry']}; {s['s3']}" for i, s in enumerate(stores, 1)]
    return "\n".join(lines) + "\n"


def store_sizes(builds: list[Build], s3: S3Client, bucket: str) -> dict[str, str]:
    """The registry entries (unique blobs over the images) and the bucket, as text."""
    record = next((b.record for b in builds if b.scenario.key == "cold-registry" and b.record),
                  None)
    refs = registry_refs(record) if record else []
    blobs: dict[str, int] = {}
    readable = 0
    for ref in refs:
        entry = registry_entry_blobs(ref)
        readable += bool(entry)
        blobs.update(entry)
    registry = (f"registry: {readable}/{len(refs)} entries readable, {len(blobs)} distinct "
                f"blobs with manifests, {_size(sum(blobs.values()))}")
    try:
        objects, size = bucket_contents(s3, bucket)
        s3_text = f"bucket {bucket}: {objects} objects, {_size(size)}"
    except Exception as exc:  # the report must still be written
        s3_text = f"bucket {bucket}: unreadable ({exc})"
    return {"registry": registry, "s3": s3_text}


# -- main ------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of the whole sequence, each with a fresh ref and bucket")
    parser.add_argument("--no-results", action="store_true",
                        help="print only; do not append to benchmarks/results/cache_roundtrip.md")
    parser.add_argument("--keep-buckets", action="store_true",
                        help="do not delete the benchmark's buckets at the end")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    stack_env()
    if "BUILDORCH_S3_ENDPOINT" not in os.environ:
        raise SystemExit("BUILDORCH_S3_ENDPOINT is not set: run `scripts/stack up` (and "
                         "`eval \"$(scripts/stack env)\"`)")
    info = machine_info(docker=True)  # first: the load average before the builds add theirs
    fresh_folder(OUT, MARKER, "cache_roundtrip.py")
    registry = os.environ.get("BUILDORCH_REGISTRY", "localhost:5000")
    s3 = s3_client()
    builds: list[Build] = []
    stores: list[dict[str, str]] = []
    buckets: list[str] = []
    agent_pid, agent_sock = start_ssh_agent()
    try:
        env = build_env(agent_sock)
        for repeat in range(1, args.repeats + 1):
            token = secrets.token_hex(4)
            bucket = f"bench-cache-{token}"
            s3.create_bucket(Bucket=bucket)
            buckets.append(bucket)
            root = OUT / f"r{repeat}"
            profiles = root / "profiles"
            write_profiles(profiles, f"{registry}/bench-cache-{token}/cache", bucket)
            print(f"r{repeat}: registry {registry}/bench-cache-{token}/cache, bucket {bucket}; "
                  f"builds in {root.relative_to(REPO)}/", file=sys.stderr)
            done: list[Build] = []
            for scenario in SCENARIOS:
                cold_key = "cold-s3" if scenario.profile == "s3" else "cold-registry"
                cold = next((b for b in done if b.scenario.key == cold_key), None)
                build = run_build(scenario, repeat, root, profiles, token, env, s3, bucket)
                check(build, cold)
                remove_tags(build)
                done.append(build)
                status = "ok" if not build.problems else "FAILED"
                print(f"{build.label}: {build.seconds:.2f} s, RUN steps CACHED "
                      f"{build.cached}/{build.total}, S3 down {_transfer(build.download)}, "
                      f"up {_transfer(build.upload)} {status}", file=sys.stderr)
                for problem in build.problems:
                    print(f"  {problem}", file=sys.stderr)
            builds += done
            stores.append(store_sizes(done, s3, bucket))
    finally:
        os.kill(agent_pid, signal.SIGTERM)
        if not args.keep_buckets:
            for bucket in buckets:
                try:
                    delete_bucket(s3, bucket)
                except Exception as exc:  # cleanup only: say so and go on
                    print(f"could not delete bucket {bucket}: {exc}", file=sys.stderr)
    section = report(args, info, builds, stores)
    print(section)
    if not args.no_results:
        append_results(RESULTS, section)
        print(f"appended to {RESULTS.relative_to(REPO)}", file=sys.stderr)
    return 0 if all(not b.problems for b in builds) else 1


if __name__ == "__main__":
    sys.exit(main())
