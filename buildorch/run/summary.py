"""The end-of-run summary: a table of images, then each failure with its Dockerfile line,
stage and last log lines, and what was (not) published."""

from __future__ import annotations

from buildorch.run.publish import Publication
from buildorch.run.state import RunState
from buildorch.text import table


def summary(state: RunState, result: str, publication: Publication) -> str:
    rows = [("IMAGE", "STATE", "DURATION", "DIGEST")]
    for image in state.plan.images:
        run = state.runs[image.name]
        duration = f"{run.duration:.1f}s" if run.duration is not None else "-"
        shown = run.state.value
        if run.unchanged_from:
            shown += f" (run {run.unchanged_from})"
        rows.append((image.name, shown, duration, run.digest or "-"))
    notes = [f"{name}: {run.note}" for name, run in state.runs.items() if run.note]
    lines = ["", table(rows), *notes, *_failure_lines(state)]
    if publication.error:
        lines.append(publication.error)
    wanted = any(i.publish for i in state.plan.images)
    if wanted and result != "succeeded" and not publication.published:
        lines.append("nothing was published: tags are pushed only when every build succeeds")
    lines.append(f"run {state.run_id} {result}: record in "
                 f"{state.relative(state.folder / 'record.json')}")
    return "\n".join(lines)


def _failure_lines(state: RunState) -> list[str]:
    lines: list[str] = []
    for image in state.plan.images:
        failure = state.runs[image.name].failure
        if failure is None:
            continue
        where = failure.where()
        lines.append(f"\n{image.name} failed{f' at {where}' if where else ''}: "
                     f"{failure.message}")
        lines += [f"  | {t}" for t in failure.tail]
    return lines
