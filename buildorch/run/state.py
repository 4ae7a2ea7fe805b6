"""What the builds of one run share: its id and folder, the plan's images, each image's
record, the digests built so far, and the values to scrub from everything shown."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from buildorch.backends.request import BuilderTls
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.pipeline.secret_sources import MIN_SCRUB_LENGTH, secret_values
from buildorch.planning.chains import run_tags_of
from buildorch.planning.plan import Plan, PlannedImage
from buildorch.run.platform_index import PushedPlatform
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


def _longest_first(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values), key=len, reverse=True))


def scrub_values(pipeline: LoadedPipeline, plan: Plan,
                 env: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(secret values, credential values): secrets are scrubbed from everything shown or
    stored; the credentials a request carries (`credentials: forward`) are redacted on
    its specs, so only logs and messages are scrubbed of them. As for secrets, values
    shorter than MIN_SCRUB_LENGTH are left alone (they would mangle ordinary output)."""
    credentials = (v for image in plan.images for v in image.request.secret_values()
                   if len(v) >= MIN_SCRUB_LENGTH)
    return _longest_first(secret_values(pipeline, env)), _longest_first(credentials)


@dataclass
class RunState:
    run_id: str
    root: Path
    folder: Path  # .buildorch/runs/<id> under root
    plan: Plan
    secrets: tuple[str, ...]  # values scrubbed from argv, logs, records and messages
    credentials: tuple[str, ...] = ()  # forwarded credential values: scrubbed from logs
    runs: dict[str, ImageRun] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)  # built (or reused) in this run
    run_tagged: set[str] = field(default_factory=set)  # reused images given a run-scoped name
    reused: set[str] = field(default_factory=set)  # images an earlier build serves
    # other names the run stores images under, removed with the run-scoped names: (builder,
    # name) of the images a builder session built again for its members (run/chain_build)
    extra_tags: set[tuple[str | None, BuilderTls | None, str]] = field(default_factory=set)
    # images a pool built per platform: each platform pushed by digest, joined when publishing
    platform_pushes: dict[str, tuple[PushedPlatform, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.images = {i.name: i for i in self.plan.images}
        self.runs = self.runs or {i.name: ImageRun(i.name, input_digest=i.input_digest)
                                  for i in self.plan.images}
        self.log_scrub = _longest_first((*self.secrets, *self.credentials))

    def image(self, name: str) -> PlannedImage:
        return self.images[name]

    def run_tags(self, name: str) -> list[str]:
        """The run-scoped local names image `name` is stored under for its dependents."""
        return fill(run_tags_of(self.images[name]), {}, self.run_id)

    def relative(self, path: Path) -> str:
        return os.path.relpath(path, self.root)
