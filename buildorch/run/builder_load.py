"""How busy each builder of a pool has been lately, from the run records of one pipeline
(`doctor -f`; pure, from records read back).

A build counts for the builder its record names (`builder`: where it ran last, after any
retry elsewhere); an image built per platform counts a build on each platform's builder (its
`builder` lists them all). A run counts as down for a builder whose entry in the record's
`builders` says why it went down (before the run, or during it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice

from buildorch.run.recorded import RecordedRun

RECENT_RUNS = 20  # also how many a pool run reads for where each image was built last


@dataclass(frozen=True)
class BuilderLoad:
    runs: int  # the pipeline's recorded runs looked at
    builds: int  # images built on the builder in them
    used_in: int  # runs it built at least one image in
    down_in: int  # runs it was down in


def recent_runs(records: Iterable[RecordedRun], pipeline: str,
                limit: int = RECENT_RUNS) -> list[RecordedRun]:
    """The first `limit` runs of `pipeline` among `records` (newest first: only as many
    are taken from the iterable as needed, so it may read records lazily)."""
    return list(islice((r for r in records if r.pipeline == pipeline), limit))


def builds_on(run: RecordedRun) -> Counter[str]:
    """Builder -> how many builds of the run it ran, read from its images (as the record's
    `builders` section counts them when the run writes it: run/pool `to_json`)."""
    found: Counter[str] = Counter()
    for image in run.images.values():
        if image.platforms:
            found.update(part.builder for part in image.platforms)
        elif image.builder:
            found.update(image.builder.split(", "))
    return found


def builder_loads(runs: Sequence[RecordedRun], names: Iterable[str]) -> dict[str, BuilderLoad]:
    """Each of the builders `names`' load over `runs`."""
    built = [builds_on(run) for run in runs]
    loads = {}
    for name in names:
        counts = [found[name] for found in built]
        down = sum(1 for run in runs
                   if name in run.builders and run.builders[name].down is not None)
        loads[name] = BuilderLoad(len(runs), sum(counts), sum(1 for c in counts if c), down)
    return loads
