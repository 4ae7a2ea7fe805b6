"""`build` over a pool of builders (run/pool): the builders of the run, each probed before
anything runs, and what each image asks of them. Everything here fails with exit 2
before a build starts: a builder of another backend, no builder up, an image that no
builder that is up can build."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from buildorch.backends.choice import check
from buildorch.errors import BuildorchError
from buildorch.oci import platforms as oci_platforms
from buildorch.pipeline.builders import pool_of
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.planning.placement import (
    PoolBuilder,
    allowed,
    need_of,
    per_platform,
    unplaceable,
)
from buildorch.planning.plan import Plan
from buildorch.planning.requests import request_tls
from buildorch.run.builder_load import recent_runs
from buildorch.run.pool import PoolEntry, PoolSetup, Wants, last_builders
from buildorch.run.recorded import readable_records

# docker copies a dependency to the builder of its dependent (save and load); buildctl
# passes it by digest through the registry or an OCI layout on the client
POOL_BACKENDS = ("docker", "buildctl")


def pool_setup(pipeline: LoadedPipeline, plan: Plan, given: str | None, backend: str,
               warn: Callable[[str], None]) -> PoolSetup | None:
    """The run's pool, probed; None when the run has one builder."""
    indexes = pool_of(pipeline.model.builders, given)
    if not indexes:
        return None
    if backend not in POOL_BACKENDS:
        raise BuildorchError(
            f"a pool of {backend} builders is not supported: nerdctl and finch load what "
            "they build into the local containerd store, which another builder does not "
            f"read (use backend {' or '.join(POOL_BACKENDS)}, or --builder NAME for one)")
    entries = tuple(_entry(pipeline, i, backend) for i in indexes)
    down = _probe(entries, backend)
    if len(down) == len(entries):
        raise BuildorchError("no builder of the pool answers: " + "; ".join(
            f"{name}: {why}" for name, why in down.items()))
    for name, why in down.items():
        warn(f"builder {name} does not answer ({why}); the run goes on without it")
    wants = {i.name: _wants(pipeline, i.name) for i in plan.images}
    split = splits(plan, backend)
    _check_placeable(plan, entries, wants, down, split)
    # the newest runs of this pipeline (another pipeline's images are other images)
    earlier = recent_runs(readable_records(), plan.pipeline)
    return PoolSetup(entries, wants, last_builders(earlier, wants), down, split)


def splits(plan: Plan, backend: str) -> frozenset[str]:
    """The images a pool builds per platform, each platform on a builder that has it, and
    joins into one index when publishing (run/platform_builds): published images with
    several platforms that no image of the run builds on (a dependent would need the one
    index before the run publishes) and whose only output is the image, on docker (whose
    local store the platforms are pushed from)."""
    dependencies = {d for image in plan.images for d in image.depends_on}
    return frozenset(i.name for i in plan.images
                     if backend == "docker" and len(i.request.platforms) > 1 and i.publish
                     and i.name not in dependencies and not i.request.outputs
                     and i.request.load_archive is None)


def _entry(pipeline: LoadedPipeline, index: int, backend: str) -> PoolEntry:
    builder = pipeline.model.builders[index]
    if builder.backend not in ("auto", backend):
        raise BuildorchError(f"builder {builder.name}: backend {builder.backend}, but the pool's "
                             f"builds go through {backend} (the first builder's): one pool "
                             "takes one backend (pass --builder to pick builders of one)")
    platforms = (frozenset(oci_platforms.normalised(p) for p in builder.platforms)
                 if builder.platforms else None)
    tls = None if builder.tls is None else request_tls(pipeline.folder, builder.tls)
    return PoolEntry(PoolBuilder(builder.name, platforms, frozenset(builder.labels),
                                 builder.max_parallel), builder.address, tls)


def _probe(entries: Sequence[PoolEntry], backend: str) -> dict[str, str]:
    """Builder -> why it does not answer, for those that do not (probed at once)."""
    with ThreadPoolExecutor(max_workers=len(entries)) as workers:
        statuses = list(workers.map(lambda e: check(backend, e.address, e.tls), entries))
    return {e.name: s.detail for e, s in zip(entries, statuses, strict=True) if not s.reachable}


def _wants(pipeline: LoadedPipeline, name: str) -> Wants:
    spec = pipeline.images[name].spec
    return Wants(frozenset(spec.builder_labels), spec.builder)


def _check_placeable(plan: Plan, entries: Sequence[PoolEntry], wants: dict[str, Wants],
                     down: dict[str, str], split: frozenset[str]) -> None:
    """Every image has a builder that is up and fits it (one error line per image)."""
    lines = []
    for image in plan.images:
        want = wants[image.name]
        may = allowed((e.builder for e in entries), want.builder)
        if not may:
            lines.append(f"image {image.name}: its builder {want.builder} is not among the "
                         "run's builders (--builder)")
            continue
        need = need_of(image.name, image.request.platforms, want.labels)
        needs = per_platform(need) if image.name in split else (need,)
        problems = unplaceable(needs, may)  # none fits, up or down: say why
        if not problems:
            problems = unplaceable(needs, [b for b in may if b.name not in down])
            if problems:
                fitting = ", ".join(b.name for b in may if b.name in down)
                lines.append(f"image {image.name}: every builder that fits it is down "
                             f"({fitting})")
                continue
        hint = (" (an image with several platforms is built per platform on the builders that "
                "have each when it is published, no image of the run builds on it, and the "
                "backend is docker)" if len(need.platforms) > 1 and image.name not in split
                and not unplaceable(per_platform(need), may) else "")
        lines += [p.render() + hint for p in problems]
    if lines:
        raise BuildorchError("\n".join(f"cannot place {line}" for line in lines))

