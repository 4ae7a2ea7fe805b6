from __future__ import annotations

from pathlib import Path

from buildorch.run.failures import analyse, is_transient

DATA = Path(__file__).resolve().parent.parent / "data"


def test_failed_run_step_from_a_real_log() -> None:
    # Captured from `docker buildx build --progress plain` on the local stack.
    failure = analyse((DATA / "failed_run_step.log").read_text().splitlines(), 1)
    assert failure.line == 3
    assert failure.stage == "build"
    assert failure.step == "RUN echo to-stderr >&2;     exit 3"
    assert failure.message.endswith("did not complete successfully: exit code: 3")
    assert failure.tail == ("0.139 to-stderr",)
    assert not failure.transient
    assert failure.where() == "Dockerfile:3, stage build"


def test_connection_refused_is_transient() -> None:
    lines = ["#1 [internal] load metadata for localhost:5000/x",
             'ERROR: failed to solve: failed to do request: Head "http://localhost:5000/v2/x/'
             'manifests/latest": dial tcp 127.0.0.1:5000: connect: connection refused']
    failure = analyse(lines, 1)
    assert failure.transient
    assert failure.message.startswith("failed to do request")


def test_a_failing_run_is_never_transient_even_if_it_mentions_a_network_error() -> None:
    lines = ["#6 [2/2] RUN curl http://x",
             "#6 0.2 curl: (7) Failed to connect: Connection refused",
             '#6 ERROR: process "/bin/sh -c curl http://x" did not complete successfully: '
             "exit code: 7"]
    assert not is_transient(lines)


def test_daemon_gone_is_transient() -> None:
    assert is_transient(["Cannot connect to the Docker daemon at unix:///x.sock. Is the "
                         "docker daemon running?"])


def test_unknown_output_falls_back_to_last_line() -> None:
    failure = analyse(["something odd"], 2)
    assert failure.message == "something odd" and failure.line is None
    assert analyse([], 2).message == "exit code 2"
