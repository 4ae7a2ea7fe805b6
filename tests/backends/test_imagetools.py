"""argv contract for `docker buildx imagetools create|inspect`.

Flags as buildx 0.13.1 prints them (`docker buildx imagetools create --help`: --annotation,
--append, --builder, --dry-run, -f/--file, --progress, -t/--tag) and as docker/buildx
commands/imagetools/create.go createCmd defines them (StringArrayVarP "tag" "t", StringVar
"progress"; SOURCE... positional, each a digest, a reference or a descriptor: parseSource);
the log line `pushing <digest> to <tag>` is create.go runCreate's, `--raw` is
commands/imagetools/inspect.go's, printed by util/imagetools/printers.go without a newline.
"""

from __future__ import annotations

import pytest

from buildorch.backends.imagetools import (
    imagetools_create_argv,
    imagetools_inspect_raw_argv,
    index_digests,
)
from buildorch.backends.request import BuilderTls

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64


def test_create_takes_each_tag_and_the_pinned_sources() -> None:
    argv = imagetools_create_argv(["r:5000/app:1", "r:5000/app:latest"],
                                  [f"r:5000/app@{A}", f"r:5000/app@{B}"])
    assert argv == ["docker", "buildx", "imagetools", "create", "--progress", "plain",
                    "--tag", "r:5000/app:1", "--tag", "r:5000/app:latest",
                    f"r:5000/app@{A}", f"r:5000/app@{B}"]


def test_a_docker_host_goes_before_buildx_with_its_tls() -> None:
    tls = BuilderTls("/c/ca.pem", "/c/cert.pem", "/c/key.pem")
    argv = imagetools_create_argv(["r/app:1"], [f"r/app@{A}"], "tcp://h:2376", tls)
    assert argv[:10] == ["docker", "--host", "tcp://h:2376", "--tlsverify",
                         "--tlscacert", "/c/ca.pem", "--tlscert", "/c/cert.pem",
                         "--tlskey", "/c/key.pem"]
    assert argv[10:13] == ["buildx", "imagetools", "create"]


def test_a_buildx_builder_name_goes_after_the_subcommand() -> None:
    # imagetools' root command holds --builder (commands/imagetools/root.go), so its
    # subcommands take it; the builder's registry configuration is then used
    assert imagetools_create_argv(["r/app:1"], [f"r/app@{A}"], "pool")[:6] == [
        "docker", "buildx", "imagetools", "create", "--builder", "pool"]
    assert imagetools_inspect_raw_argv("r/app:1", "pool") == [
        "docker", "buildx", "imagetools", "inspect", "--builder", "pool", "--raw", "r/app:1"]


def test_inspect_raw() -> None:
    assert imagetools_inspect_raw_argv("r/app:1") == [
        "docker", "buildx", "imagetools", "inspect", "--raw", "r/app:1"]


@pytest.mark.parametrize(("tags", "sources"), [([], [f"r/app@{A}"]), (["r/app:1"], [])])
def test_create_needs_a_tag_and_a_source(tags: list[str], sources: list[str]) -> None:
    # create.go: "can't push with no tags specified", "no sources specified"
    with pytest.raises(ValueError):
        imagetools_create_argv(tags, sources)


def test_the_index_digest_is_read_from_the_plain_log() -> None:
    # as buildx 0.13.1 printed it on the local stack
    log = ("#1 [internal] pushing localhost:5000/bo/bb:exp1\n"
           f"#1 0.000 pushing {A} to localhost:5000/bo/bb:exp1\n"
           f"#1 0.000 pushing {A} to docker.io/library/bb:1\n#1 DONE 0.0s\n")
    assert index_digests(log) == {"localhost:5000/bo/bb:exp1": A, "docker.io/library/bb:1": A}
    assert index_digests("#1 DONE 0.0s\n") == {}
