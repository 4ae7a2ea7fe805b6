"""The text `buildorch cache ls|stats|prune` prints, one format for registry and S3 (pure).

An entry is a row: [PIPELINE] IMAGE BRANCH/SCOPE SIZE AGE [NOTE]. PIPELINE is shown
when some entry knows its pipeline (S3 names do; registry tags do not), NOTE when some
entry has one (the S3 transport, `incomplete`); an entry whose name could not be split
shows the name as its image and `-` as its scope.
"""

from __future__ import annotations

from collections.abc import Sequence

from buildorch.cache.admin.entries import (
    Entry,
    ImageStats,
    PruneResult,
    ScopeStats,
    shared_size,
    sort_key,
    stats,
)
from buildorch.text import human_age, human_size, plural, table

NOTHING = "no cache entries"


def _entries(count: int) -> str:
    return plural(count, "entry", "entries")


def _note(entry: Entry) -> str:
    notes = [entry.kind if entry.kind != "registry" else "",
             "" if entry.complete else "incomplete"]
    return ", ".join(note for note in notes if note)


def entry_table(entries: Sequence[Entry], alongside: Sequence[Entry] = ()) -> str:
    """The entries, one row each, in pipeline, image and scope order; the optional
    columns are those the entries need, or entries shown `alongside` them."""
    ordered = sorted(entries, key=sort_key)
    pipelines = any(e.pipeline for e in (*ordered, *alongside))
    notes = any(_note(e) for e in (*ordered, *alongside))
    rows = [[*(["PIPELINE"] if pipelines else []), "IMAGE", "BRANCH/SCOPE", "SIZE", "AGE",
             *(["NOTE"] if notes else [])]]
    rows += [[*([e.pipeline or "-"] if pipelines else []), e.image or e.name, e.scope or "-",
              human_size(e.size), human_age(e.age_days), *([_note(e)] if notes else [])]
             for e in ordered]
    return table(rows)


def render_entries(entries: Sequence[Entry]) -> str:
    """`cache ls`: one line per entry."""
    return entry_table(entries) if entries else NOTHING


def render_stats(entries: Sequence[Entry]) -> str:
    """`cache stats`: per image, its entries and size, then a line per scope; the total."""
    if not entries:
        return NOTHING
    lines: list[str] = []
    for image in stats(entries):
        lines.append(f"{_title(image)}: {_entries(image.entries)}, {human_size(image.size)}")
        lines.append(table([_scope_row(scope) for scope in image.scopes]))
    lines.append(f"total: {_entries(len(entries))}, {human_size(shared_size(entries))} "
                 "(blobs shared between entries counted once)")
    return "\n".join(lines)


def _title(image: ImageStats) -> str:
    if image.image is None:
        return "names not split into image and scope"
    return f"{image.pipeline}/{image.image}" if image.pipeline else image.image


def _scope_row(scope: ScopeStats) -> list[str]:
    kinds = ", ".join(kind for kind in scope.kinds if kind != "registry")
    return [f"  {scope.scope}", _entries(scope.entries), human_size(scope.size),
            plural(scope.blobs, "blob", "blobs"), human_age(scope.age_days), kinds]


def render_prune(result: PruneResult) -> str:
    """`cache prune`: what was (or would be) deleted and kept, and a summary."""
    verb = "would delete" if result.dry_run else "deleted"
    deleted, kept = result.deleted_entries, result.kept_entries
    lines = ([f"{verb} {_entries(len(deleted))}:", entry_table(deleted, kept)] if deleted
             else [f"{verb} no entry"])
    if kept:
        lines += [f"kept {_entries(len(kept))}:", entry_table(kept, deleted)]
    summary = (f"{verb} {_entries(len(deleted))} and "
               f"{plural(len(result.deleted_blobs), 'blob', 'blobs')} "
               f"({human_size(result.freed_bytes)}); kept {_entries(len(kept))}")
    if result.reclaimed_later and not result.dry_run:
        summary += "; the registry's garbage-collect reclaims the space"
    return "\n".join([*lines, summary])
