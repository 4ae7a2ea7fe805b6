"""What earlier runs built, by input digest: `.buildorch/builds.json`, and each input
manifest under `.buildorch/inputs/`.

`--skip-unchanged` looks an image's input digest up here instead of reading every run
record; `why` reads the manifest of an image's last successful build. Both files are
written atomically at the end of a run, merged with what another run may have written
meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from buildorch.jsontypes import Json
from buildorch.planning.input_digests import InputManifest
from buildorch.statefile import write_atomically
from buildorch.workdir import STATE

INDEX = f"{STATE}/builds.json"
MANIFESTS = f"{STATE}/inputs"
KEEP = 5000  # entries, newest first: an index of a long-lived checkout stays small


@dataclass(frozen=True)
class EarlierBuild:
    """One successful build of an image, as a later run may reuse it."""

    image: str
    run: str
    input_digest: str
    digest: str | None  # None: it wrote no image (only files, or cache)
    repository: str | None = None  # pushed by digest to this repository
    files: tuple[str, ...] = ()  # outputs written as files or folders, relative to the root
    ended: float = 0.0


@dataclass
class BuildIndex:
    by_input: dict[str, EarlierBuild] = field(default_factory=dict)
    latest: dict[str, str] = field(default_factory=dict)  # "pipeline/image" -> input digest

    @classmethod
    def load(cls, root: Path) -> BuildIndex:
        """An unreadable or foreign index is an empty one: builds run, nothing breaks."""
        try:
            data = json.loads((root / INDEX).read_text())
            builds = {k: _build(v) for k, v in data["builds"].items()}
            latest = {str(k): str(v) for k, v in data["latest"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls()
        return cls(builds, latest)

    def last_build_of(self, pipeline: str, image: str) -> EarlierBuild | None:
        digest = self.latest.get(f"{pipeline}/{image}")
        return None if digest is None else self.by_input.get(digest)

    def add(self, pipeline: str, builds: Iterable[EarlierBuild]) -> None:
        for build in builds:
            self.by_input[build.input_digest] = build
            self.latest[f"{pipeline}/{build.image}"] = build.input_digest

    def save(self, root: Path) -> None:
        newest = sorted(self.by_input.values(), key=lambda b: b.ended, reverse=True)[:KEEP]
        data = {"version": 1, "builds": {b.input_digest: asdict(b) for b in newest},
                "latest": self.latest}
        write_atomically(root / INDEX, json.dumps(data, separators=(",", ":")))


def _build(value: Mapping[str, Json]) -> EarlierBuild:
    files = value.get("files") or []
    assert isinstance(files, list)
    repository, digest = value.get("repository"), value.get("digest")
    return EarlierBuild(str(value["image"]), str(value["run"]), str(value["input_digest"]),
                        None if digest is None else str(digest),
                        None if repository is None else str(repository),
                        tuple(str(f) for f in files), float(str(value.get("ended") or 0)))


def record_builds(root: Path, pipeline: str, builds: Iterable[EarlierBuild],
                  manifests: Iterable[InputManifest]) -> None:
    """Add this run's successful builds to what is on disk now (another run may have
    finished meanwhile), and keep their input manifests."""
    for manifest in manifests:
        path = manifest_path(root, manifest.digest)
        if not path.exists():
            write_atomically(path, json.dumps(manifest.to_json(), separators=(",", ":")))
    index = BuildIndex.load(root)
    index.add(pipeline, builds)
    index.save(root)


def manifest_path(root: Path, input_digest: str) -> Path:
    return root / MANIFESTS / f"{input_digest.removeprefix('sha256:')}.json"


def read_manifest(root: Path, input_digest: str) -> InputManifest | None:
    try:
        data = json.loads(manifest_path(root, input_digest).read_text())
    except (OSError, ValueError):
        return None
    return InputManifest.from_json(data) if isinstance(data, dict) else None
