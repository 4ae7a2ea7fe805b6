"""The end-of-run summary, from the run's record (so `show RUN_ID` prints it again): a
table of images (state, duration, cached steps, digest), then each failure with its
stage, Dockerfile line, command and last log lines, and what was (not) published."""

from __future__ import annotations

from buildorch.run.events import shown_state
from buildorch.run.recorded import RecordedImage, RecordedRun
from buildorch.text import table


def _state(image: RecordedImage) -> str:
    if image.unchanged_from:
        return f"unchanged (run {image.unchanged_from})"
    return shown_state(image.state, image.cached_steps, image.total_steps)


def summary(record: RecordedRun, record_path: str) -> str:
    pooled = any(image.builder for image in record.images.values())  # a pool: say where
    rows = [("IMAGE", "STATE", *(("BUILDER",) if pooled else ()), "DURATION", "CACHED",
             "DIGEST")]
    for image in record.images.values():
        duration = f"{image.duration:.1f}s" if image.duration is not None else "-"
        steps = f"{image.cached_steps}/{image.total_steps}" if image.total_steps else "-"
        where = (image.builder or "-",) if pooled else ()
        rows.append((image.name, _state(image), *where, duration, steps, image.digest or "-"))
    notes = [f"{image.name}: {image.note}" for image in record.images.values() if image.note]
    notes += [f"{image.name} {p.platform}: built on {p.builder}, "
              f"{p.digest or p.pushed or 'no digest'}"
              for image in record.images.values() for p in image.platforms]
    notes += [f"{image.name}: ran again after builder {', then '.join(image.lost_on)} stopped "
              "answering" for image in record.images.values() if image.lost_on]
    lines = ["", table(rows), *notes, *_failure_lines(record)]
    if record.publish_error:
        lines.append(record.publish_error)
    if record.publish_wanted and record.outcome != "succeeded" and not record.published:
        lines.append("nothing was published: tags are pushed only when every build succeeds")
    lines.append(f"run {record.id} {record.outcome}{_totals(record)}: record in {record_path}")
    return "\n".join(lines)


def _totals(record: RecordedRun) -> str:
    took = f" in {record.duration:.1f}s" if record.duration is not None else ""
    rate = record.cache_hit_rate
    return took + (f", {rate:.0%} of steps cached" if rate is not None else "")


def _failure_lines(record: RecordedRun) -> list[str]:
    lines: list[str] = []
    for image in record.images.values():
        failure = image.failure
        if failure is None:
            continue
        where = failure.where()
        lines.append(f"\n{image.name} failed{f' at {where}' if where else ''}: "
                     f"{failure.message}")
        if failure.step:
            lines.append(f"  command: {failure.step}")
        if image.log:
            lines.append(f"  log: {image.log}")
        lines += [f"  | {t.rstrip()}" for t in failure.tail]
    return lines
