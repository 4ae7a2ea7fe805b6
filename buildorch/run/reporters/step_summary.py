"""A run's summary as GitHub-flavoured markdown, for `$GITHUB_STEP_SUMMARY` (pure).

Rendered from the record, like the text summary: the outcome, duration and cache hit
rate; a table of images (state, duration, cached/total steps, digest); each failure with
its Dockerfile line, command and last log lines. What a build printed is shown as text,
never as markdown or HTML: prose escaped, logs in a fence longer than any backtick run
inside them.
"""

from __future__ import annotations

import re
from collections import Counter

from buildorch.run.events import shown_state
from buildorch.run.recorded import RecordedImage, RecordedRun

# GitHub refuses a step's summary over 1 MiB; failures' details stop short of it.
SUMMARY_BYTES = 1024 * 1024
_DETAILS_BUDGET = SUMMARY_BYTES - 64 * 1024

# What takes effect inside a line of GitHub markdown: emphasis, code, links, HTML, tables,
# entities, strikethrough, math, mentions and issue links (CommonMark: escape with `\`).
_ACTIVE = re.compile(r"([\\`*_\[\]<>|!~&$@#])")
STATE_ORDER = ("done", "cached", "unchanged", "failed", "cancelled", "interrupted", "skipped")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def markdown_summary(record: RecordedRun) -> str:
    parts = [f"### buildorch run {code(record.id)}: {record.outcome}", "",
             _totals(record), "", *_table(record)]
    notes = [f"- {text(i.name)}: {text(i.note)}" for i in record.images.values() if i.note]
    parts += ["", *notes] if notes else []
    parts += _publication(record)
    details = [_failure(i) for i in record.images.values() if i.failure is not None]
    size = len("\n".join(parts).encode())
    for shown, block in enumerate(details):
        size += len(block.encode()) + 1
        if size > _DETAILS_BUDGET:
            parts += ["", f"{len(details) - shown} more failures: see the run's record."]
            break
        parts += ["", block]
    return "\n".join(parts) + "\n"


def _totals(record: RecordedRun) -> str:
    took = f" in {record.duration:.1f}s" if record.duration is not None else ""
    counts = Counter(shown_state(i.state, i.cached_steps, i.total_steps)
                     for i in record.images.values())
    states = ", ".join(f"{counts[state]} {state}" for state in sorted(counts, key=_rank))
    rate = record.cache_hit_rate
    cached = sum(i.cached_steps for i in record.images.values())
    total = sum(i.total_steps for i in record.images.values())
    hits = f"; {cached}/{total} steps cached ({rate:.0%})" if rate is not None else ""
    return f"**{record.outcome}**{took}; images: {text(states)}{hits}"


def _rank(state: str) -> int:
    return STATE_ORDER.index(state) if state in STATE_ORDER else len(STATE_ORDER)


def _table(record: RecordedRun) -> list[str]:
    rows = ["| Image | State | Duration | Cached steps | Digest |", "|---|---|---|---|---|"]
    for image in record.images.values():
        duration = f"{image.duration:.1f}s" if image.duration is not None else "-"
        steps = (f"{image.cached_steps}/{image.total_steps} "
                 f"({image.cached_steps / image.total_steps:.0%})" if image.total_steps else "-")
        digest = cell_code(image.digest) if image.digest else "-"
        rows.append(f"| {text(image.name)} | {text(_state(image))} | {duration} | {steps} "
                    f"| {digest} |")
    return rows


def _state(image: RecordedImage) -> str:
    if image.unchanged_from:
        return f"unchanged (run {image.unchanged_from})"
    return shown_state(image.state, image.cached_steps, image.total_steps)


def _publication(record: RecordedRun) -> list[str]:
    lines = [f"- published {code(tag)}" for tag in record.published]
    if record.publish_error:
        lines.append(f"- {text(record.publish_error)}")
    if record.publish_wanted and record.outcome != "succeeded" and not record.published:
        lines.append("- nothing was published: tags are pushed only when every build "
                     "succeeds")
    return ["", *lines] if lines else []


def _failure(image: RecordedImage) -> str:
    failure = image.failure
    assert failure is not None
    place = (f" at {code(f'{failure.dockerfile}:{failure.line}')}"
             if failure.dockerfile and failure.line else "")
    stage = f" (stage {text(failure.stage)})" if failure.stage else ""
    lines = [f"#### {text(image.name)} failed{place}{stage}", "", f"Error: {text(failure.message)}"]
    if failure.step:
        lines += ["", f"Command: {code(failure.step)}"]
    if image.log:
        lines += ["", f"Log: {code(image.log)}"]
    if failure.tail:
        lines += ["", "<details><summary>Last lines of the log</summary>", "",
                  code_block("\n".join(failure.tail)), "", "</details>"]
    return "\n".join(lines)


def text(value: str) -> str:
    """`value` shown as it is inside a line: no markdown or HTML in it takes effect."""
    return _ACTIVE.sub(r"\\\1", _LINE_BREAK.sub(" ", value))


def code(value: str) -> str:
    """`value` as a code span: delimited by more backticks than any run of them inside."""
    value = _LINE_BREAK.sub(" ", value)
    ticks = "`" * (_longest_run(value, "`") + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{ticks}{pad}{value}{pad}{ticks}"


def cell_code(value: str) -> str:
    """A code span in a table cell, where GFM splits at `|` even inside code."""
    return code(value).replace("|", "\\|")


def code_block(block: str) -> str:
    fence = "`" * max(3, _longest_run(block, "`") + 1)
    return f"{fence}text\n{_LINE_BREAK.sub(chr(10), block)}\n{fence}"


def _longest_run(value: str, char: str) -> int:
    return max((len(run) for run in re.findall(f"{re.escape(char)}+", value)), default=0)
