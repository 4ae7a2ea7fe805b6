"""The markdown summary for $GITHUB_STEP_SUMMARY: outcome, table, failures; what a build
printed shown as text (no markdown, HTML or broken fences), and under GitHub's size cap."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from buildorch.run.recorded import RecordedRun, parse_record
from buildorch.run.reporters.step_summary import (
    SUMMARY_BYTES,
    code,
    code_block,
    markdown_summary,
    text,
)
from tests.run.reporters.event_strategies import texts

DIGEST = "sha256:" + "1a" * 32


def make_record(**images: dict[str, Any]) -> RecordedRun:
    return parse_record({
        "id": "R1", "pipeline": "shop", "backend": "docker", "started": 100.0, "ended": 104.5,
        "outcome": "failed", "publish_wanted": True,
        "images": {name: {"name": name, **image} for name, image in images.items()}}, "test")


RECORD = make_record(
    ok={"state": "succeeded", "duration": 1.25, "digest": DIGEST, "cached_steps": 1,
        "total_steps": 2},
    cached={"state": "succeeded", "duration": 0.5, "digest": DIGEST, "cached_steps": 2,
            "total_steps": 2},
    old={"state": "unchanged", "digest": DIGEST, "unchanged_from": "R0",
         "note": "as built in run R0"},
    bad={"state": "failed", "duration": 0.5, "total_steps": 1,
         "log": ".buildorch/runs/R1/bad.log",
         "failure": {"message": "exit | <b>3</b>", "dockerfile": "bad/Dockerfile", "line": 3,
                     "stage": "build", "step": "RUN echo `x`; exit 3",
                     "tail": ["a", "```", "</details>"]}},
    child={"state": "skipped", "reason": "bad failed"},
)


def test_the_summary_of_a_run_with_every_kind_of_end() -> None:
    wide = "`" + DIGEST + "`"
    assert markdown_summary(RECORD) == "\n".join([
        "### buildorch run `R1`: failed",
        "",
        "**failed** in 4.5s; images: 1 done, 1 cached, 1 unchanged, 1 failed, 1 skipped; "
        "3/5 steps cached (60%)",
        "",
        "| Image | State | Duration | Cached steps | Digest |",
        "|---|---|---|---|---|",
        f"| ok | done | 1.2s | 1/2 (50%) | {wide} |",
        f"| cached | cached | 0.5s | 2/2 (100%) | {wide} |",
        f"| old | unchanged (run R0) | - | - | {wide} |",
        "| bad | failed | 0.5s | 0/1 (0%) | - |",
        "| child | skipped | - | - | - |",
        "",
        "- old: as built in run R0",
        "",
        "- nothing was published: tags are pushed only when every build succeeds",
        "",
        "#### bad failed at `bad/Dockerfile:3` (stage build)",
        "",
        r"Error: exit \| \<b\>3\</b\>",
        "",
        "Command: ``RUN echo `x`; exit 3``",
        "",
        "Log: `.buildorch/runs/R1/bad.log`",
        "",
        "<details><summary>Last lines of the log</summary>",
        "",
        "````text",
        "a",
        "```",
        "</details>",
        "````",
        "",
        "</details>",
        "",
    ])


def test_a_run_without_steps_has_no_hit_rate_and_a_published_run_lists_its_tags() -> None:
    record = make_record(old={"state": "unchanged", "digest": DIGEST, "unchanged_from": "R0"})
    record = record.model_copy(update={"outcome": "succeeded", "published": ("reg/old:1",)})
    summary = markdown_summary(record)
    assert "**succeeded** in 4.5s; images: 1 unchanged\n" in summary
    assert "- published `reg/old:1`" in summary
    assert "nothing was published" not in summary


def test_failures_past_the_size_cap_are_counted_not_shown() -> None:
    tail = ["x" * 1000] * 20
    record = make_record(**{f"image-{n}": {"state": "failed", "failure": {
        "message": "boom", "tail": tail}} for n in range(100)})
    summary = markdown_summary(record)
    assert len(summary.encode()) < SUMMARY_BYTES
    shown = summary.count("failed\n\nError: boom")
    assert 10 < shown < 100
    assert summary.rstrip().endswith(f"{100 - shown} more failures: see the run's record.")


def read_escaped(shown: str) -> str:
    """`shown` as CommonMark reads it, failing on any character markdown acts on."""
    read, chars = [], iter(shown)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            assert escaped in ACTIVE, f"a stray backslash in {shown!r}"
            read.append(escaped)
        else:
            assert char not in ACTIVE, f"{char!r} unescaped in {shown!r}"
            read.append(char)
    return "".join(read)


ACTIVE = "\\`*_[]<>|!~&$@#"


@settings(max_examples=300, deadline=None)
@given(texts)
def test_text_reads_back_as_itself_on_one_line(value: str) -> None:
    shown = text(value)
    assert "\n" not in shown and "\r" not in shown
    assert read_escaped(shown) == value.replace("\r\n", " ").replace("\r", " ").replace(
        "\n", " ")


@settings(max_examples=300, deadline=None)
@given(texts)
def test_a_code_span_or_block_holds_any_text(value: str) -> None:
    span = code(value)
    ticks = len(span) - len(span.lstrip("`"))
    inner = span[ticks:-ticks]
    assert "`" * ticks not in inner and "\n" not in span
    block = code_block(value)
    fence = block.split("text\n", 1)[0]
    body = block[len(fence) + len("text\n"):-len(fence)]
    assert fence not in body and len(fence) >= 3


def test_the_counts_come_in_a_fixed_order_whatever_the_plans() -> None:
    record = make_record(child={"state": "skipped"}, bad={"state": "failed"},
                         ok={"state": "succeeded", "total_steps": 1})
    assert "images: 1 done, 1 failed, 1 skipped;" in markdown_summary(record)
