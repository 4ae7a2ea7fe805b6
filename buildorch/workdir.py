"""Where buildorch keeps its own files: `.buildorch/` in the folder it runs in.

Paths are relative to that folder; `{run_id}` is filled in by the run.
"""

from __future__ import annotations

from pathlib import Path

STATE = ".buildorch"
RUNS = f"{STATE}/runs"  # one folder per run: record.json, logs, metadata, cache exports
RUN_DIR = f"{RUNS}/{{run_id}}"
SYNC_OUT = f"{RUN_DIR}/cache-out"  # a fresh S3-sync cache export folder per run
SYNC_IN = f"{STATE}/s3-cache"  # downloaded S3 cache entries, kept between runs
SYNC_BLOB_STORE = f"{STATE}/s3-blobs"  # their blobs, shared by every entry
STAT_CACHE = f"{STATE}/stat-cache.json"  # content digests of context files, by stat
DOCKERFILE_ANALYSES = f"{STATE}/dockerfile-analyses"  # analysis cache (dockerfiles)
YAML_DOCUMENTS = f"{STATE}/yaml-documents"  # parsed pipelines (pipeline/yaml_source)


def runs_folder(root: Path | None = None) -> Path:
    return (root or Path.cwd()) / RUNS


def run_folder(run_id: str, root: Path | None = None) -> Path:
    return runs_folder(root) / run_id
