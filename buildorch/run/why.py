"""Why an image will build: which of its inputs changed since its last successful build
(`buildorch why IMAGE`, `plan --explain`)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from buildorch.planning.input_digests import differences
from buildorch.planning.plan import Plan, PlannedImage
from buildorch.run.earlier_builds import BuildIndex, read_manifest

SHOWN_CHANGES = 50  # per image; the rest are counted


def explain(pipeline: str, image: PlannedImage, index: BuildIndex, root: Path) -> list[str]:
    """The first line says what will happen; the others list the changed inputs."""
    if image.inputs is None:
        return ["inputs unknown (a remote context, or built on an image with one): "
                "it builds every time"]
    now = image.inputs.digest
    earlier = index.by_input.get(now)
    if earlier is not None:
        return [f"unchanged since run {earlier.run} (input digest {now[:19]}): "
                "--skip-unchanged reuses that build while its output exists"]
    last = index.last_build_of(pipeline, image.name)
    if last is None:
        return [f"no successful build recorded (input digest {now[:19]}): it builds"]
    head = (f"changed since run {last.run} (input digest {last.input_digest[:19]} -> "
            f"{now[:19]}):")
    before = read_manifest(root, last.input_digest)
    if before is None:
        return [head, "  (the inputs of that build were not kept)"]
    changes = differences(before, image.inputs) or ["what the digest covers changed "
                                                    "(a newer buildorch)"]
    more = len(changes) - SHOWN_CHANGES
    return [head, *(f"  {c}" for c in changes[:SHOWN_CHANGES]),
            *([f"  ... and {more} more"] if more > 0 else [])]


def explain_plan(plan: Plan, names: Collection[str] | None, root: Path) -> dict[str, list[str]]:
    """`explain` for each image of the plan (only `names`, when given), by name."""
    index = BuildIndex.load(root)
    return {i.name: explain(plan.pipeline, i, index, root) for i in plan.images
            if names is None or i.name in names}


def explanation_text(name: str, lines: list[str]) -> str:
    return "\n".join([f"{name}: {lines[0]}", *lines[1:]])
