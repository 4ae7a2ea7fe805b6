"""The end-of-run summary, rendered from the record."""

from __future__ import annotations

from buildorch.run.recorded import parse_record
from buildorch.run.summary import summary
from tests.run.record_samples import DIGEST, record


def test_the_summary_has_each_images_state_duration_cached_steps_and_digest() -> None:
    text = summary(parse_record(record(), "r"), "rec.json")
    assert text.splitlines()[1:6] == [
        "IMAGE  STATE               DURATION  CACHED  DIGEST",
        f"base   cached              2.5s      2/2     {DIGEST}",
        "api    failed              2.5s      1/3     -",
        "web    skipped             -         -       -",
        f"old    unchanged (run R0)  -         -       {DIGEST}",
    ]


def test_a_failure_names_stage_dockerfile_line_command_log_and_its_last_lines() -> None:
    text = summary(parse_record(record(), "r"), "rec.json")
    assert ("api failed at api/Dockerfile:3, stage build: exit code: 3\n"
            "  command: RUN exit 3\n"
            "  log: .buildorch/runs/R/api.log\n"
            "  | oops\n"
            "  | bad") in text
    assert "nothing was published: tags are pushed only when every build succeeds" in text
    assert text.endswith("run 20261201T050000Z-abcdef failed in 12.0s, 60% of steps cached: "
                         "record in rec.json")
