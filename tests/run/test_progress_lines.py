"""Reading plain BuildKit progress as it streams: steps, cached steps, cache misses, bases."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from buildorch.run.events import CacheMiss, Step, StepCached
from buildorch.run.progress_lines import ProgressReader

BUSYBOX = "sha256:" + "ab" * 32
CACHE = "localhost:5000/shop/cache:base-main"

# As docker buildx 0.13 printed it on the stack (a cached rebuild of pipelines/example's base).
LOG = f"""#0 building with "default" instance using docker driver

#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 251B done
#1 DONE 0.0s

#4 importing cache manifest from localhost:5000/shop/cache:base-main
#4 ERROR: failed to configure registry cache importer: {CACHE}: not found

#5 [1/3] FROM localhost:5000/busybox:latest@{BUSYBOX}
#5 resolve localhost:5000/busybox:latest@{BUSYBOX} 0.0s done
#5 DONE 0.0s

#6 [2/3] RUN mkdir -p /app
#6 CACHED

#7 [build 3/3] RUN make
#7 0.104 compiling
#6 [2/3] RUN mkdir -p /app
#7 DONE 0.3s

#8 exporting to image
#8 exporting layers done
""".splitlines(keepends=True)


def test_steps_cached_steps_misses_and_bases_are_read_as_they_stream() -> None:
    reader = ProgressReader("base")
    events = [e for line in LOG for e in reader.feed(line)]
    assert events == [
        CacheMiss("base", "localhost:5000/shop/cache:base-main"),
        Step("base", 5, f"[1/3] FROM localhost:5000/busybox:latest@{BUSYBOX}"),
        Step("base", 6, "[2/3] RUN mkdir -p /app"),
        StepCached("base", 6, "[2/3] RUN mkdir -p /app"),
        Step("base", 7, "[build 3/3] RUN make"),
    ]
    # FROM is resolved, neither run nor cached; a vertex named again is the same step
    assert (reader.total_steps, reader.cached_steps) == (2, 1)
    assert reader.bases == {"localhost:5000/busybox:latest": BUSYBOX}


def test_an_import_that_fails_for_another_reason_is_not_a_miss() -> None:
    reader = ProgressReader("a")
    reader.feed("#4 importing cache manifest from r/c:a\n")
    assert reader.feed("#4 ERROR: connection refused\n") == []


@given(st.lists(st.text(max_size=80), max_size=30))
def test_any_output_is_read_without_error(lines: list[str]) -> None:
    reader = ProgressReader("a")
    for line in lines:
        reader.feed(line)
    assert reader.cached_steps <= reader.total_steps


# A wiped engine, the images removed, the registry cache imported: BuildKit downloads each
# step's layers from the cache and says DONE (docker buildx 0.13 on the stack).
LAYER = "sha256:" + "47" * 32
FROM_REMOTE_CACHE = f"""#6 [1/3] RUN echo base > /base.txt
#6 {LAYER} 108B / 108B 0.0s done
#6 extracting {LAYER} done
#6 DONE 0.0s

#7 [2/3] RUN echo ran > /ran.txt
#7 DONE 0.2s

#8 [3/3] RUN cat /x
#8 0.051 {LAYER} printed by the step itself
#8 DONE 0.1s
""".splitlines(keepends=True)


def test_a_step_whose_layers_come_from_the_imported_cache_counts_as_cached() -> None:
    reader = ProgressReader("base")
    events = [e for line in FROM_REMOTE_CACHE for e in reader.feed(line)]
    assert StepCached("base", 6, "[1/3] RUN echo base > /base.txt") in events
    # a step that ran without output, and one whose output names a layer, are not cached
    assert (reader.total_steps, reader.cached_steps) == (3, 1)


# The first run of pipelines/example's worker on the stack (docker buildx 0.13.1), with a
# cache import that found nothing and worker-test sharing its stages: BuildKit names steps
# again under new numbers. Rerun with everything cached, the same build read 4/4 cached.
SOLVED_TWICE = """#5 [build 1/4] WORKDIR /src
#5 DONE 0.0s

#6 [build 2/4] COPY worker.sh test.sh ./
#6 DONE 0.0s

#7 importing cache manifest from localhost:5000/c:worker-main
#7 ERROR: failed to configure registry cache importer: localhost:5000/c:worker-main: not found

#9 [build 2/4] COPY worker.sh test.sh ./
#9 CACHED

#10 [build 3/4] RUN ./build.sh
#10 CANCELED

#11 [build 3/4] RUN ./build.sh
#11 0.177 built
#11 DONE 0.2s

#12 [runtime 1/2] COPY --from=build /out/bin/worker /app/bin/worker
#12 DONE 0.0s
""".splitlines(keepends=True)


def test_a_step_named_again_under_another_number_counts_once_and_ran_if_it_ran_once() -> None:
    reader = ProgressReader("worker")
    events = [e for line in SOLVED_TWICE for e in reader.feed(line)]
    assert [e.vertex for e in events if isinstance(e, Step)] == [5, 6, 10, 12]
    # the COPY ran in #6 (its #9 twin was then served from it): not a cached step
    assert (reader.total_steps, reader.cached_steps) == (4, 0)


def test_a_step_cached_in_every_vertex_it_has_is_cached_once() -> None:
    reader = ProgressReader("a")
    for line in ["#3 [1/2] COPY . .\n", "#3 CACHED\n", "#4 [1/2] COPY . .\n", "#4 CACHED\n",
                 "#5 [2/2] RUN x\n", "#5 CACHED\n"]:
        reader.feed(line)
    assert (reader.total_steps, reader.cached_steps) == (2, 2)
