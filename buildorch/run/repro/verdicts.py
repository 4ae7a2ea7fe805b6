"""Per image, whether a reproduction's digest matches the recorded run's, and why not
(pure).

What was seen on the stack (docker buildx 0.13, Docker 26.1, containerd image store): a
step served by the imported cache keeps its layer and the time the layer was made (the
cache carries it), so a reproduction whose every step comes from the cache has the
recorded digest. A step that runs again makes a new layer when its files carry the time
(a RUN writing files); a COPY of the same files makes the same layer, and then only the
image config's `created` times differ. `reproducible: true` (SOURCE_DATE_EPOCH and
rewritten timestamps) makes both the same, unless its base image was pinned with a named
context, whose layers BuildKit rewrites too (see repro.plan).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from buildorch.backends.request import BuildRequest
from buildorch.planning.plan import PlannedImage
from buildorch.run.recorded import RecordedImage, RecordedRun
from buildorch.run.repro.image_facts import ImageFacts
from buildorch.run.repro.warnings import InputChanges, capped

BUILT = ("succeeded", "unchanged")
SHOWN_FILES = 3
TIMESTAMPS = "set reproducible: true"


@dataclass(frozen=True)
class Verdict:
    image: str
    matches: bool | None  # None: nothing to compare (not built, or no digest)
    text: str

    def line(self) -> str:
        return f"{self.image}: {self.text}"


@dataclass(frozen=True)
class Evidence:
    """What is known about one image beyond the two records."""

    changes: InputChanges | None = None  # None: the recorded inputs are unknown
    differing_dependencies: tuple[str, ...] = ()  # built on, with another digest than recorded
    recorded_facts: ImageFacts | None = None
    new_facts: ImageFacts | None = None
    provenance: bool = False  # the build attaches a provenance attestation
    base_changes: tuple[str, ...] = ()  # `REF: OLD -> NEW`, a base image resolved otherwise
    pinned_rewritten: bool = False  # a base pinned by a named context, timestamps rewritten
    reproducible: bool = False  # built with SOURCE_DATE_EPOCH (and rewritten timestamps)


def verdict(recorded: RecordedImage, new: RecordedImage, evidence: Evidence) -> Verdict:
    name = recorded.name
    if new.state not in BUILT:
        why = f": {new.reason}" if new.reason else ""
        if new.state == recorded.state == "failed":  # a CI failure reproduced
            return Verdict(name, None, f"failed again, as in the recorded run{why}")
        return Verdict(name, None, f"not reproduced: {new.state}{why}")
    if recorded.state not in BUILT:
        built = f"built as {new.digest}" if new.digest else "built, with no digest"
        if recorded.state == "failed":
            return Verdict(name, None, f"{built}, where the recorded run failed: its failure "
                                       "did not happen again")
        return Verdict(name, None, f"{built}; the recorded run did not build it "
                                   f"({recorded.state}): nothing to compare")
    if recorded.digest is None or new.digest is None:
        if recorded.digest == new.digest:
            return Verdict(name, None, "no digest to compare (its outputs are files or cache "
                                       "only)")
        return Verdict(name, False, f"digest differs: {_digest(recorded.digest)} recorded, "
                                    f"{_digest(new.digest)} now")
    if recorded.digest == new.digest:
        return Verdict(name, True, f"digest matches ({new.digest})")
    return Verdict(name, False, f"digest differs: {reason(new, evidence)}")


def _digest(digest: str | None) -> str:
    return digest if digest is not None else "no digest"


def reason(new: RecordedImage, evidence: Evidence) -> str:
    """Why two builds of one image have different digests, the most telling first."""
    changes = evidence.changes
    if changes is not None and changes.own:
        return f"inputs changed ({capped(_changed(changes), SHOWN_FILES)})"
    if evidence.base_changes:
        return f"its base image resolved otherwise ({capped(evidence.base_changes, 2)})"
    if evidence.differing_dependencies:
        built_on = ", ".join(evidence.differing_dependencies)
        return f"built on {built_on}, whose digest differs"
    if evidence.pinned_rewritten:
        return ("its base image was pinned with a named context, and BuildKit rewrites the "
                "timestamps of a named context's layers too (it keeps a base image's layers "
                "only for a FROM it resolves itself)")
    old, now = evidence.recorded_facts, evidence.new_facts
    if old is not None and now is not None:
        return _facts_reason(old, now, new, evidence)
    ran = _steps_ran(new, evidence.reproducible)
    unknown = ("the recorded image is in neither the local image store nor a registry "
               "buildorch can read, so what differs cannot be shown")
    if changes is None:
        unknown += "; the record does not list its inputs"
    return f"{ran}; {unknown}" if ran else unknown


def _changed(changes: InputChanges) -> list[str]:
    return [*changes.files, *changes.settings]


def _steps_ran(new: RecordedImage, reproducible: bool) -> str | None:
    ran = new.total_steps - new.cached_steps
    if ran <= 0:
        return None
    head = f"{ran} of {new.total_steps} steps ran again rather than coming from the cache"
    return head if reproducible else f"{head} (a step's files carry the time it ran: {TIMESTAMPS})"


def _facts_reason(old: ImageFacts, now: ImageFacts, new: RecordedImage,
                  evidence: Evidence) -> str:
    if old.platform != now.platform:
        return f"built for {now.platform}, recorded for {old.platform}"
    if old.layers != now.layers:
        differing = sum(1 for a, b in zip(old.layers, now.layers, strict=False) if a != b)
        differing += abs(len(old.layers) - len(now.layers))
        head = f"{differing} of {max(len(old.layers), len(now.layers))} layers differ"
        ran = _steps_ran(new, evidence.reproducible)
        return f"{head}: {ran}" if ran else head
    fields = _config_changes(old.config, now.config)
    if fields:
        return f"the image config differs: {', '.join(fields)}"
    if old.created != now.created:
        hint = "" if evidence.reproducible else f" ({TIMESTAMPS})"
        return f"only the image config's timestamps differ{hint}"
    if evidence.provenance:
        return ("the layers and config are the same; its provenance attestation records "
                "each build's times and id (reproducible: true leaves it out)")
    return ("the layers and config are the same; the manifest differs (compression, media "
            "types or annotations)")


def _config_changes(old: Collection[tuple[str, str]], new: Collection[tuple[str, str]]
                    ) -> list[str]:
    before, after = dict(old), dict(new)
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def differing_dependencies(image: PlannedImage, record: RecordedRun,
                           new: RecordedRun) -> tuple[str, ...]:
    """What `image` is built on whose digest now differs from the recorded one."""
    return tuple(d for d in image.depends_on if d in new.images and d in record.images
                 and new.images[d].digest != record.images[d].digest)


def needs_facts(recorded: RecordedImage, new: RecordedImage, evidence: Evidence) -> bool:
    """Whether only the images themselves can tell why the digests differ."""
    differ = None not in (recorded.digest, new.digest) and recorded.digest != new.digest
    changed = evidence.changes is not None and evidence.changes.own
    explained = changed or evidence.base_changes or evidence.differing_dependencies
    return differ and new.state in BUILT and not explained and not evidence.pinned_rewritten


def base_changes(recorded: RecordedImage, new: RecordedImage) -> tuple[str, ...]:
    """The base images the reproduction resolved to another digest than the run did."""
    return tuple(f"{ref}: {digest[:19]} -> {new.base_images[ref][:19]}"
                 for ref, digest in sorted(recorded.base_images.items())
                 if ref in new.base_images and new.base_images[ref] != digest)


def attests_provenance(request: BuildRequest, published: bool, tool_default: str) -> bool:
    """Whether the build attaches provenance: asked for, or added by the tool (buildx) to a
    published image where buildorch does not turn it off."""
    specs = [a for a in request.attest if a.type == "provenance"]
    if specs:
        return any(a.get("disabled") != "true" for a in specs)
    return published and tool_default == "tool"
