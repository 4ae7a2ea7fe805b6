"""A plan turned into the reproduction of a recorded run (pure): each image's external base
images pinned to the digests the run resolved them to, the cache the run imported
imported again, and nothing exported or published.

A pin is a named context keyed as BuildKit's Dockerfile frontend looks a `FROM` up
(`context_key`), whose source is the image at the recorded digest:
`--build-context localhost:5000/busybox=docker-image://localhost:5000/busybox:latest@sha256:...`
(seen replacing a `FROM` on the stack's docker buildx 0.13, with the cache of the
unpinned build still hitting and the same digest). Only references outside the run are
pinned: not this run's own names (`buildorch.local/...`), nor a reference a named context
already serves (a pipeline image), nor a pipeline image's tag.

A pin is not neutral for an image whose timestamps are rewritten (`reproducible`): BuildKit
keeps a base image's layers as they are only for a `FROM` it resolves itself (the exporter
learns them from `containerimage.base.config`, moby/buildkit#4663) and rewrites those of a
named context (seen on the stack: the busybox layer rewritten, another digest). Such an
image is pinned only where its base image moved since the run; where the registry does not
say, it is left unpinned, with a warning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from buildorch.backends.base import Backend
from buildorch.backends.flags import REWRITE_TIMESTAMP, spec_text
from buildorch.backends.request import AttrSpec, BuildRequest
from buildorch.errors import BuildorchError
from buildorch.oci.reference import ImageRef, context_key
from buildorch.planning.plan import Plan, PlannedImage, with_request
from buildorch.planning.requests import LOCAL_NAMESPACE
from buildorch.proc import REDACTED
from buildorch.run.recorded import RecordedImage, RecordedRun

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Reproduction:
    plan: Plan
    pins: Mapping[str, Pairs]  # image -> (key, source) of each base image pinned
    notes: tuple[str, ...]  # one warning each


CurrentDigest = Callable[[str], str | None]  # what a reference names now (None: unknown)


def base_pins(recorded: RecordedImage, named: Iterable[str], pipeline_tags: frozenset[str],
              current: CurrentDigest | None = None) -> tuple[Pairs, list[str]]:
    """The named contexts that pin `recorded`'s external base images, and notes. `named`:
    the keys the request has already; `pipeline_tags`: every pipeline image's tags
    (tagged_name); `current`: for an image whose timestamps are rewritten, what each
    reference names now (only one that moved is pinned)."""
    taken = set(named)
    pins, notes = [], []
    for ref, digest in sorted(recorded.base_images.items()):
        key = context_key(ref)
        own = ref.startswith(f"{LOCAL_NAMESPACE}/") or key in taken
        if own or ImageRef.parse(ref).tagged_name() in pipeline_tags:
            continue
        now = current(ref) if current is not None else None
        if current is not None and now == digest:
            continue  # the FROM finds the run's base image itself
        if current is not None and now is None:
            notes.append(f"{recorded.name}: cannot tell whether base image {ref} still is "
                         f"the run's {digest[:19]} (its registry does not answer): not "
                         "pinned, as a pin changes the layers of an image whose timestamps "
                         "are rewritten")
            continue
        if current is not None:
            notes.append(f"{recorded.name}: base image {ref} is {(now or '')[:19]} now, "
                         f"{digest[:19]} in the run: pinned to the run's, though BuildKit then "
                         "rewrites its layers' timestamps too (the digest will differ)")
        taken.add(key)
        pins.append((key, f"docker-image://{ref}@{digest}"))
    return tuple(pins), notes


def rewrites_timestamps(request: BuildRequest) -> bool:
    """Whether the image kept, or a file written, has its timestamps rewritten."""
    return request.rewrite_timestamp or any(
        o.get(REWRITE_TIMESTAMP) == "true" for o in request.outputs)


def tagged_names(tags: Iterable[str]) -> frozenset[str]:
    return frozenset(ImageRef.parse(tag).tagged_name() for tag in tags)


def cache_imports(image: PlannedImage, recorded: RecordedImage) -> tuple[tuple[AttrSpec, ...],
                                                                          str | None]:
    """What the build imports: the run's own imports where this checkout's profile names
    others (an environment variable in its `ref`, another branch), with a note saying so.
    Imports the record redacted (credentials) cannot be used as recorded."""
    now = tuple(spec_text(s) for s in image.request.redacted().cache_from)
    recorded_specs = recorded.cache_imports
    if not recorded_specs or recorded_specs == now or any(REDACTED in s for s in recorded_specs):
        return image.request.cache_from, None
    try:
        specs = tuple(AttrSpec.parse(text) for text in recorded_specs)
    except ValueError:
        return image.request.cache_from, None
    here = ", ".join(now) or "none"
    return specs, (f"{image.name}: imports the recorded run's cache "
                   f"({', '.join(recorded_specs)}), not this checkout's ({here})")


def reproduction(plan: Plan, record: RecordedRun, backend: Backend,
                 pipeline_tags: frozenset[str], current: CurrentDigest) -> Reproduction:
    images, pins, notes = [], {}, []
    for image in plan.images:
        recorded = record.images[image.name]
        pinned, pin_notes = base_pins(
            recorded, (k for k, _ in image.request.named_contexts), pipeline_tags,
            current if rewrites_timestamps(image.request) else None)
        imports, note = cache_imports(image, recorded)
        notes += [*pin_notes, *([note] if note else [])]
        if recorded.state == "unchanged":
            notes.append(f"{image.name}: run {record.id} reused an earlier build of it (run "
                         f"{recorded.unchanged_from}): its base images are not pinned")
        request = dataclasses.replace(
            image.request, named_contexts=(*image.request.named_contexts, *pinned),
            cache_from=imports, cache_to=())
        if request.push or request.push_by_digest:  # planning was asked not to push
            raise BuildorchError(
                f"repro: {image.name} would be pushed during its build (push: true on backend "
                f"{backend.name}); repro never pushes: add --set {image.name}.push=false, or "
                "use a backend with a local image store")
        images.append(_replanned(image, request, backend))
        pins[image.name] = pinned
    return Reproduction(dataclasses.replace(plan, images=tuple(images), publish=()), pins,
                        tuple(notes))


def _replanned(image: PlannedImage, request: BuildRequest, backend: Backend) -> PlannedImage:
    """The image with its new request: argv rendered again; no cache export, no publishing.
    Its input manifest stays the plan's: pins and cache are not inputs, so the recorded
    run's inputs and these compare."""
    return dataclasses.replace(
        with_request(image, request, backend),
        publish=(), cache=dataclasses.replace(image.cache, exports=(), sync_upload=None))
