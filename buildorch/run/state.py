"""What the builds of one run share: its id and folder, the plan's images, each image's
record, the digests built so far, and the values to scrub from everything shown."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.pipeline.secret_sources import secret_values
from buildorch.planning.plan import Plan, PlannedImage
from buildorch.planning.requests import LOCAL_NAMESPACE
from buildorch.run.record import ImageRun


def fill(argv: Iterable[str], digests: Mapping[str, str], run_id: str) -> list[str]:
    """Replace the plan's placeholders with this run's values."""
    out = []
    for arg in argv:
        if "{" in arg:
            for name, digest in digests.items():
                arg = arg.replace(f"{{digest:{name}}}", digest)
            arg = arg.replace("{run_id}", run_id)
        out.append(arg)
    return out


def scrub_values(pipeline: LoadedPipeline, plan: Plan, env: Mapping[str, str]) -> tuple[str, ...]:
    """What to scrub from every line shown or stored: secret values, and the credentials a
    cache spec carries (`credentials: forward`), longest first."""
    values = {*secret_values(pipeline, env),
              *(v for image in plan.images for v in image.request.secret_values())}
    return tuple(sorted(values, key=len, reverse=True))


@dataclass
class RunState:
    run_id: str
    root: Path
    folder: Path  # .buildorch/runs/<id> under root
    plan: Plan
    secrets: tuple[str, ...]  # values scrubbed from logs, records and messages
    runs: dict[str, ImageRun] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)  # built in this run

    def __post_init__(self) -> None:
        self.images = {i.name: i for i in self.plan.images}
        self.runs = self.runs or {i.name: ImageRun(i.name) for i in self.plan.images}

    def image(self, name: str) -> PlannedImage:
        return self.images[name]

    def run_tags(self, name: str) -> list[str]:
        """The run-scoped local names image `name` is stored under for its dependents."""
        tags = fill(self.images[name].request.tags, {}, self.run_id)
        return [t for t in tags if t.startswith(LOCAL_NAMESPACE + "/")]

    def relative(self, path: Path) -> str:
        return os.path.relpath(path, self.root)
