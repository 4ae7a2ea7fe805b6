"""Run records read back (`show`, `history`, `repro`, the end-of-run summary).

A record may come from another machine (CI) or be damaged, so it is read through
pydantic models: a record that does not fit is one error line naming the file and
field, exit 2. Fields a reader does not need are ignored, so older and newer records
load.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from buildorch.errors import ConfigError
from buildorch.planning.input_digests import InputManifest
from buildorch.workdir import runs_folder


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)


class RecordedFailure(_Loose):
    message: str
    dockerfile: str | None = None
    line: int | None = None
    stage: str | None = None
    step: str | None = None
    tail: tuple[str, ...] = ()

    def where(self) -> str:
        place = f"{self.dockerfile}:{self.line}" if self.dockerfile and self.line else ""
        stage = f"stage {self.stage}" if self.stage else ""
        return ", ".join(p for p in (place, stage) if p)


class RecordedPlatform(_Loose):
    platform: str
    builder: str
    pushed: str | None = None
    digest: str | None = None
    log: str | None = None


class RecordedImage(_Loose):
    name: str
    state: str
    argv: tuple[str, ...] = ()
    started: float | None = None
    ended: float | None = None
    duration: float | None = None
    digest: str | None = None
    attempts: int = 0
    log: str | None = None
    reason: str | None = None
    failure: RecordedFailure | None = None
    cached_steps: int = 0
    total_steps: int = 0
    input_digest: str | None = None
    unchanged_from: str | None = None
    note: str | None = None
    base_images: dict[str, str] = {}
    builder: str | None = None  # the pool builder it ran on (run/pool)
    lost_on: tuple[str, ...] = ()
    platforms: tuple[RecordedPlatform, ...] = ()  # built per platform over a pool
    # for `repro` (records since it exists): what the input digest covers, the cache
    # imported, the image config's digest
    inputs: dict[str, Any] | None = None
    cache_imports: tuple[str, ...] = ()
    config_digest: str | None = None

    @property
    def manifest(self) -> InputManifest | None:
        """The recorded input manifest; None where it was not recorded, or is of another
        version."""
        return None if self.inputs is None else InputManifest.from_json(self.inputs)


class RecordedInvocation(_Loose):
    vars: dict[str, str] = {}
    sets: tuple[str, ...] = ()
    cache: str | None = None
    cache_readonly: bool = False
    cache_config: str | None = None
    push: bool = False
    names: tuple[str, ...] = ()


class RecordedGit(_Loose):
    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None
    folder: str | None = None  # the run's root under the repository's top


class RecordedNode(_Loose):
    name: str
    context: str | None = None
    dockerfile: str | None = None
    tags: tuple[str, ...] = ()
    publish: tuple[str, ...] = ()


class RecordedBuilder(_Loose):
    """A builder of a run over a pool (run/pool): where it was, why it went down (None: it
    answered throughout), how many of the run's images it built."""

    address: str | None = None
    down: str | None = None
    builds: int = 0
    max_parallel: int | None = None


class RecordedRun(_Loose):
    id: str
    pipeline: str
    file: str | None = None
    backend: str
    started: float
    ended: float | None = None
    outcome: str
    selection: tuple[str, ...] = ()
    images: dict[str, RecordedImage]
    published: tuple[str, ...] = ()
    publish_error: str | None = None
    publish_wanted: bool = False  # whether any image was to be published
    plan: dict[str, Any] | None = None  # read by `node` only, so that none breaks `show`
    # for `repro` (records since it exists)
    reproduces: str | None = None  # the run this one reproduced
    variables: dict[str, str | None] = {}  # as the run resolved them
    invocation: RecordedInvocation | None = None
    git: RecordedGit | None = None
    builders: dict[str, RecordedBuilder] = {}  # a run over a pool of builders, by name

    def node(self, name: str) -> RecordedNode | None:
        """The plan's node of image `name`; None where the plan has none that fits."""
        nodes = self.plan.get("nodes") if self.plan else None
        for node in nodes if isinstance(nodes, list) else ():
            if isinstance(node, dict) and node.get("name") == name:
                try:
                    return RecordedNode.model_validate(node)
                except ValidationError:
                    return None
        return None

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else self.ended - self.started

    def count(self, *states: str) -> int:
        return sum(1 for image in self.images.values() if image.state in states)

    @property
    def cache_hit_rate(self) -> float | None:
        """Steps served from cache over all steps run (None: no step ran)."""
        total = sum(i.total_steps for i in self.images.values())
        return None if not total else sum(i.cached_steps for i in self.images.values()) / total


def parse_record(data: object, source: str) -> RecordedRun:
    try:
        return RecordedRun.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "record"
        raise ConfigError(f"{error['msg']} (not a buildorch run record?)", file=source,
                          field=field) from None


def read_record(path: Path, shown: str | None = None) -> RecordedRun:
    source = shown or str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", file=source) from None
    except ValueError as exc:
        raise ConfigError(f"not JSON: {exc}", file=source) from None
    return parse_record(data, source)


def run_records(root: Path | None = None) -> list[Path]:
    """Every run's record under `root`, newest first (run ids sort by time)."""
    folder = runs_folder(root)
    if not folder.is_dir():
        return []
    return [p / "record.json" for p in sorted(folder.iterdir(), reverse=True)
            if (p / "record.json").is_file()]


def readable_records(root: Path | None = None) -> Iterator[RecordedRun]:
    """The run records under `root` that read, newest first, each read as it is asked for
    (a damaged record is passed over: it only loses its share of what they tell)."""
    for path in run_records(root):
        try:
            yield read_record(path)
        except ConfigError:
            continue


def find_record(given: str, root: Path | None = None) -> Path:
    """A record file, or a run id (`20261201T051336.042Z-831353`, or a unique prefix)."""
    path = Path(given)
    if path.suffix == ".json" or path.is_file():
        return path
    matches = [p for p in run_records(root) if p.parent.name.startswith(given)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ConfigError(f"{given}: no such run under {runs_folder(root)} (see buildorch "
                          "history)")
    raise ConfigError(f"{given}: names {len(matches)} runs; give more of the id")
