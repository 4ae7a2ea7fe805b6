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


# A COPY of a missing file on a first run (no cache entry yet), as docker buildx 0.13.1
# printed it on the stack: BuildKit quotes no output of the step, so the tail is the log's
# last lines, where the cache import that found nothing is an error block of its own.
MISSING_COPY_FIRST_RUN = """#5 importing cache manifest from localhost:5000/c:api-main
#5 ERROR: failed to configure registry cache importer: localhost:5000/c:api-main: not found

#6 [internal] load build context
#6 transferring context: 2B done
#6 DONE 0.0s

#7 [2/2] COPY app.sh /app.sh
#7 ERROR: failed to calculate checksum of ref 1a2b::3c4d: "/app.sh": not found
------
 > importing cache manifest from localhost:5000/c:api-main:
------
------
 > [2/2] COPY app.sh /app.sh:
------
Dockerfile:2
--------------------
   1 |     FROM busybox
   2 | >>> COPY app.sh /app.sh
--------------------
ERROR: failed to solve: failed to calculate checksum of ref 1a2b::3c4d: "/app.sh": not found
""".splitlines()


def test_a_cache_import_that_found_nothing_is_left_out_of_the_tail() -> None:
    failure = analyse(MISSING_COPY_FIRST_RUN, 1)
    assert (failure.dockerfile, failure.line, failure.step) == (
        "Dockerfile", 2, "COPY app.sh /app.sh")
    assert not any("importing cache manifest" in t for t in failure.tail)
    assert failure.tail[0] == "#6 [internal] load build context"
    assert " > [2/2] COPY app.sh /app.sh:" in failure.tail  # the failing step's block stays
    assert failure.tail[-1].startswith("ERROR: failed to solve")


def test_a_cache_import_that_failed_otherwise_stays_in_the_tail() -> None:
    refused = [t.replace("not found", "connection refused") if "importer" in t else t
               for t in MISSING_COPY_FIRST_RUN]
    failure = analyse(refused, 1)
    assert " > importing cache manifest from localhost:5000/c:api-main:" in failure.tail
