"""What `repro` loads and selects again from a run record (pure): the variables as the run
resolved them, its `--set` values and cache choice, and the images to rebuild.

The recorded variables are given back as `--var`, so that values the run took from its
machine (the environment, the branch CI named, the commit) are the same here: the cache
references, which name the branch, then match the ones the run imported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from buildorch.backends.catalog import BACKEND_NAMES
from buildorch.errors import ConfigError, shorten
from buildorch.pipeline.overrides import parse_set
from buildorch.proc import REDACTED
from buildorch.run.recorded import RecordedRun

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
SHOWN_NAMES = 10


@dataclass(frozen=True)
class Replay:
    variables: tuple[tuple[str, str], ...]  # as --var
    sets: tuple[str, ...]  # as --set
    cache: str | None  # --cache
    cache_config: str | None  # --cache-config, relative to the root
    push: bool  # the recorded --push (what is published decides attestations)
    notes: tuple[str, ...]  # what could not be replayed, one warning each


def replay(record: RecordedRun) -> Replay:
    invocation = record.invocation
    given = dict(invocation.vars) if invocation else {}
    values = {**given, **{k: v for k, v in record.variables.items() if v is not None}}
    hidden = sorted(k for k, v in values.items() if REDACTED in v)
    sets = invocation.sets if invocation else ()
    notes = [f"variable {name} was redacted in the record (it holds a secret's value): "
             "it takes this machine's value" for name in hidden]
    notes += [f"--set {shorten(s)} was redacted in the record: left out" for s in sets
              if REDACTED in s]
    if not record.variables and invocation is None:
        notes.append(f"run {record.id}'s record holds no variables (an older buildorch): "
                     "the pipeline takes this machine's values")
    return Replay(tuple((k, v) for k, v in sorted(values.items()) if k not in hidden),
                  tuple(s for s in sets if REDACTED not in s),
                  invocation.cache if invocation else None,
                  invocation.cache_config if invocation else None,
                  invocation.push if invocation else False, tuple(notes))


def check_record(record: RecordedRun, source: str) -> None:
    """What `repro` relies on beyond the record's shape: a backend buildorch has, each image
    under its own name, base-image digests that are digests, and `--set` values of the
    form `--set` takes."""
    if not record.file:
        raise ConfigError("names no pipeline file", file=source, field="file")
    if record.backend not in BACKEND_NAMES:
        raise ConfigError(f"no backend {shorten(record.backend)!r} (backends: "
                          f"{', '.join(BACKEND_NAMES)})", file=source, field="backend")
    for index, item in enumerate(record.invocation.sets if record.invocation else ()):
        try:  # the record's --set, not this command line's: name the record's field
            if REDACTED not in item:
                parse_set(item)
        except ConfigError as exc:
            raise ConfigError(exc.message, file=source, field=f"invocation.sets.{index}") from None
    for key, image in record.images.items():
        if image.name != key:
            raise ConfigError(f"names image {shorten(image.name)!r}", file=source,
                              field=f"images.{shorten(key)}.name")
        for ref, digest in image.base_images.items():
            if not DIGEST.fullmatch(digest):
                raise ConfigError(f"{shorten(digest)!r} is not a sha256 digest", file=source,
                                  field=f"images.{shorten(key)}.base_images.{shorten(ref)}")


def check_names(record: RecordedRun, names: Sequence[str], source: str) -> None:
    """Each IMAGE given is one the run built."""
    for name in names:
        if name not in record.images:
            known = ", ".join(list(record.images)[:SHOWN_NAMES])
            raise ConfigError(f"run {record.id} has no image {shorten(name)!r} (images: "
                              f"{known})", file=source)


def selection(record: RecordedRun, names: Sequence[str]) -> tuple[str, ...]:
    """The IMAGEs given, else what the run selected (its images, when it says nothing)."""
    if names:
        return tuple(names)
    return record.selection or tuple(record.images)


def check_closure(record: RecordedRun, needed: Iterable[str],
                  depends_on: Mapping[str, Iterable[str]], source: str) -> None:
    """What the selection is built on must be in the record too: its digests are compared,
    and its base images pinned, from there."""
    for name in needed:
        if name in record.images:
            continue
        users = sorted(u for u, deps in depends_on.items() if name in deps)
        why = f" ({', '.join(users[:3])} depends on it)" if users else ""
        raise ConfigError(f"image {shorten(name)!r} is not in run {record.id}{why}: the "
                          "pipeline changed since; give the images to rebuild", file=source)
