"""Which builder of a pool builds an image (pure; issue 14, placement and failover).

A build fits a builder that has every platform it produces (a builder that lists none
builds any) and every label it asks for. Among the fitting builders that are up and have
a free slot, placement prefers local cache over spreading load: the builder that built
the image last (its cache holds the image's steps), then one that built its dependencies
in this run (their layers are there, no registry round trip), then the least loaded
relative to its `max_parallel`, then the name, so that the same state gives the same
answer in every run.

Platforms are compared as strings: callers pass them normalised (`oci.platforms`), as the
pipeline loader does. A need without platforms builds for the builder's own platform, so
every builder has what it asks for.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from buildorch.oci import platforms as oci_platforms


@dataclass(frozen=True)
class PoolBuilder:
    name: str
    platforms: frozenset[str] | None  # None: it builds any platform
    labels: frozenset[str]
    max_parallel: int


@dataclass(frozen=True)
class Need:
    """What one build asks of its builder: the platforms that build produces together."""

    image: str
    platforms: frozenset[str]
    labels: frozenset[str]


@dataclass(frozen=True)
class Problem:
    """An image no builder of the pool can build, and why (a configuration error)."""

    image: str
    reason: str

    def render(self) -> str:
        return f"image {self.image}: {self.reason}"


def need_of(image: str, platforms: Iterable[str], labels: Iterable[str]) -> Need:
    """What image `image` asks of its builder, its platforms as written in the pipeline
    (normalised here)."""
    return Need(image, frozenset(oci_platforms.normalised(p) for p in platforms),
                frozenset(labels))


def allowed(builders: Iterable[PoolBuilder], only: str | None) -> list[PoolBuilder]:
    """The builders an image may go to: all, or only the one its `builder:` names."""
    return [b for b in builders if only in (None, b.name)]


def fits(need: Need, builder: PoolBuilder) -> bool:
    has_platforms = builder.platforms is None or need.platforms <= builder.platforms
    return has_platforms and need.labels <= builder.labels


def per_platform(need: Need) -> tuple[Need, ...]:
    """One need per platform, for an image built per platform on whichever builder has it
    and joined into one index afterwards (sorted: the same order every run)."""
    return tuple(Need(need.image, frozenset({p}), need.labels) for p in sorted(need.platforms))


def unplaceable(needs: Iterable[Need], builders: Sequence[PoolBuilder]) -> list[Problem]:
    """Every image with a need no builder fits, one problem each, sorted by image: checked
    before anything runs so that such a pipeline fails with exit 2, not half-way through.
    The caller passes the builders of the run (after `--builder` and the probe)."""
    reasons: dict[str, list[str]] = {}
    ordered = sorted(needs, key=lambda n: (n.image, sorted(n.platforms), sorted(n.labels)))
    for need in ordered:
        if not any(fits(need, b) for b in builders):
            found = reasons.setdefault(need.image, [])
            reason = _why_unfit(need, builders)
            if reason not in found:
                found.append(reason)
    return [Problem(image, "; ".join(found)) for image, found in reasons.items()]


def _why_unfit(need: Need, builders: Sequence[PoolBuilder]) -> str:
    """Names what nobody has first (the typo or the missing machine), else the combination."""
    if not builders:
        return "no builder to build it"
    platforms = {p for b in builders for p in b.platforms or ()}
    labels = {label for b in builders for label in b.labels}
    any_platform = any(b.platforms is None for b in builders)
    missing_platforms = frozenset() if any_platform else need.platforms - platforms
    missing_labels = need.labels - labels
    parts = []
    if missing_platforms:
        parts.append(f"{_some('platform', missing_platforms)}: {_nobody(missing_platforms)} "
                     f"(builders: {_platforms_of(builders)})")
    if missing_labels:
        parts.append(f"{_some('label', missing_labels)}: {_nobody(missing_labels)} "
                     f"(labels: {', '.join(sorted(labels)) or 'none'})")
    if parts:
        return "; ".join(parts)
    wanted = [w for w in (_some("platform", need.platforms), _some("label", need.labels)) if w]
    count = len(need.platforms) + len(need.labels)
    return (f"no builder has {'both' if count == 2 else 'all of'} {' and '.join(wanted)} "
            f"(builders: {_summary(builders)})")


def _some(kind: str, items: Iterable[str]) -> str:
    names = sorted(items)
    if not names:
        return ""
    return f"{kind}{'s' if len(names) > 1 else ''} {', '.join(names)}"


def _nobody(items: Collection[str]) -> str:
    return "no builder has them" if len(items) > 1 else "no builder has it"


def _platforms_of(builders: Sequence[PoolBuilder]) -> str:
    return ", ".join(f"{b.name}: {_platform_list(b)}"
                     for b in sorted(builders, key=lambda b: b.name))


def _summary(builders: Sequence[PoolBuilder]) -> str:
    """Each builder with its platforms and labels: what the combination could come from."""
    return "; ".join(f"{b.name}: {_platform_list(b)}"
                     + (f" [{', '.join(sorted(b.labels))}]" if b.labels else "")
                     for b in sorted(builders, key=lambda b: b.name))


def _platform_list(builder: PoolBuilder) -> str:
    if builder.platforms is None:
        return "any"
    return ", ".join(sorted(builder.platforms)) or "none"


def can_place(need: Need, builders: Sequence[PoolBuilder], down: frozenset[str]) -> bool:
    """Whether some builder that is up fits, now or when a slot frees: when not (its
    builders went down during the run), the caller fails the build instead of waiting."""
    return any(fits(need, b) and b.name not in down for b in builders)


def _free(builder: PoolBuilder, load: Mapping[str, int]) -> bool:
    return load.get(builder.name, 0) < builder.max_parallel


def _ratio(builder: PoolBuilder, load: Mapping[str, int]) -> Fraction:
    # exact, so that 1/3 and 2/6 tie and the name decides
    return Fraction(load.get(builder.name, 0), max(builder.max_parallel, 1))


def choose(need: Need, builders: Sequence[PoolBuilder], load: Mapping[str, int],
           down: frozenset[str], last_builder: Mapping[str, str],
           dependency_builders: Sequence[str]) -> str | None:
    """The builder for `need` now, or None when every fitting builder is down or full (the
    caller waits for a slot, see `can_place`). `load`: builds running per builder;
    `last_builder`: image -> the builder of its last recorded build; `dependency_builders`:
    the builder each of its dependencies ran on in this run (one entry per dependency, so
    the builder holding more of them wins)."""
    open_ = [b for b in builders if fits(need, b) and b.name not in down and _free(b, load)]
    if not open_:
        return None
    last = last_builder.get(need.image)
    best = min(open_, key=lambda b: (b.name != last, -dependency_builders.count(b.name),
                                     _ratio(b, load), b.name))
    return best.name


def retry_target(need: Need, failed_on: str, builders: Sequence[PoolBuilder],
                 load: Mapping[str, int], down: frozenset[str]) -> str | None:
    """Where a build that was running on `failed_on` when it went down runs again (the
    caller retries it once): another fitting builder that is up, the least loaded.

    It waits for a free slot like any other build rather than exceeding `max_parallel`:
    the limit is the builder's capacity (its machine's or pod's CPU and memory), which
    matters most when the pool has just lost a builder, and several retries at once would
    otherwise all land on one survivor. None: no slot now (the caller keeps it pending,
    first in line) or no fitting builder left (`can_place` says which)."""
    return choose(need, builders, load, down | {failed_on}, {}, ())

