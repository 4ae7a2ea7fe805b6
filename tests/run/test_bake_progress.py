"""A chain's bake output split into its members' logs (real output of buildx 0.13.1 on
the stack: a -> b -> c through `target:` contexts, c's RUN failing)."""

from __future__ import annotations

from buildorch.run.bake_progress import BakeRouter
from buildorch.run.progress_lines import ProgressReader

DIGEST = "sha256:eb7707b2af0f349d7d08d7933e3147a85bbdf9584aeab57c0689528139a1ea36"
BUSYBOX = "localhost:5000/busybox:latest@" + DIGEST
OUTPUT = f"""\
#0 building with "default" instance using docker driver

#1 [internal] load local bake definitions
#1 reading /tmp/exp/bf/bake.json 528B / 528B done
#1 DONE 0.0s

#2 [a internal] load build definition from Dockerfile
#2 transferring dockerfile: 89B done
#2 DONE 0.0s

#3 [b internal] load build definition from Dockerfile
#3 transferring dockerfile: 63B done
#3 DONE 0.0s

#4 [a internal] load metadata for localhost:5000/busybox:latest
#4 DONE 0.0s

#6 [c internal] load build definition from Dockerfile
#6 transferring dockerfile: 57B done
#6 DONE 0.0s

#9 [c 1/2] FROM {BUSYBOX}
#9 resolve {BUSYBOX} 0.0s done
#9 CACHED

#10 [c 2/2] RUN echo a1 > /a
#10 DONE 0.2s

#11 [a] exporting to image
#11 exporting layers 0.0s done
#11 naming to buildorch.local/bf/a:r1 done
#11 unpacking to buildorch.local/bf/a:r1 done
#11 DONE 0.1s

#12 [c 1/2] RUN echo b1 > /b
#12 DONE 0.2s

#13 [b] exporting to image
#13 exporting layers 0.0s done
#13 naming to buildorch.local/bf/b:r1 done
#13 DONE 0.1s

#14 [c 1/2] RUN exit 3
#14 ERROR: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3
------
 > [c 1/2] RUN exit 3:
------
Dockerfile:2
--------------------
   2 | >>> RUN exit 3
--------------------
ERROR: failed to solve: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3
"""


def routed() -> tuple[dict[str, list[str]], list[str], BakeRouter]:
    router = BakeRouter(("a", "b", "c"))
    logs: dict[str, list[str]] = {"a": [], "b": [], "c": []}
    stored = []
    for line in OUTPUT.splitlines():
        member, shown, done = router.feed(line + "\n")
        logs[member].append(shown)
        if done:
            stored.append(done)
    return logs, stored, router


def test_steps_go_to_the_member_being_built_whatever_their_prefix() -> None:
    logs, stored, router = routed()
    assert "#10 [2/2] RUN echo a1 > /a" in logs["a"]
    assert "#12 [1/2] RUN echo b1 > /b" in logs["b"]
    assert "#14 [1/2] RUN exit 3" in logs["c"]
    assert "#14 ERROR: process \"/bin/sh -c exit 3\" did not complete successfully: " \
           "exit code: 3" in logs["c"]
    assert " > [1/2] RUN exit 3:" in logs["c"] and "Dockerfile:2" in logs["c"]
    assert stored == ["a", "b"] and router.building == "c" and router.unfinished == "c"


def test_a_members_own_vertices_go_to_it_named_as_buildx_build_names_them() -> None:
    logs, _, _ = routed()
    assert "#3 [internal] load build definition from Dockerfile" in logs["b"]
    assert "#6 [internal] load build definition from Dockerfile" in logs["c"]
    assert logs["a"][:2] == ['#0 building with "default" instance using docker driver', ""]
    assert "#11 exporting to image" in logs["a"] and "#11 DONE 0.1s" in logs["a"]
    assert "#13 exporting to image" in logs["b"]
    assert not any("[a " in line or "[b " in line or "[c " in line
                   for log in logs.values() for line in log)


def test_a_link_starts_as_the_one_before_starts_its_export() -> None:
    # seen on a cold chain: b's steps ran while a's image was still being exported
    router = BakeRouter(("a", "b"))
    router.feed("#5 [a 2/2] RUN make")
    router.feed("#6 [a] exporting to image")
    assert router.building == "b" and router.unfinished == "a"
    assert router.feed("#7 [a 2/2] RUN echo b").member == "b"
    assert router.feed("#6 naming to x done").member == "a"
    assert router.feed("#6 DONE 0.3s") == ("a", "#6 DONE 0.3s", "a")
    assert router.unfinished == "b"
    assert router.feed("#7 ERROR: exit code: 1").member == "b"


def test_each_members_log_reads_as_its_own_build() -> None:
    logs, _, _ = routed()
    readers = {name: ProgressReader(name) for name in logs}
    for name, lines in logs.items():
        for line in lines:
            readers[name].feed(line)
    assert readers["a"].total_steps == 1 and readers["a"].cached_steps == 0
    assert readers["a"].bases == {"localhost:5000/busybox:latest": DIGEST}
    assert readers["b"].total_steps == 1 and readers["c"].total_steps == 1
