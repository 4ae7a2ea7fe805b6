"""The requests every backend's argv contract test starts from."""

from __future__ import annotations

import subprocess
from dataclasses import replace

from buildorch.backends.request import AttrSpec, BuildRequest, SecretRef, SshRef, Ulimit

# Every field of the request set; each backend's test replaces what its tool differs in.
FULL = BuildRequest(
    name="api",
    context="svc/api",
    dockerfile="svc/api/Dockerfile",
    target="runtime",
    args=(("A", "1"), ("B", "x y")),
    named_contexts=(("base", "docker-image://r/base@sha256:abc"), ("src", "../src")),
    secrets=(SecretRef("tok", env="TOKEN"), SecretRef("netrc", src="/home/u/.netrc")),
    ssh=(SshRef("default"), SshRef("github", ("/k1", "/k2"))),
    platforms=("linux/amd64", "linux/arm64"),
    labels=(("team", "core"),),
    tags=("r/api:1", "r/api:latest"),
    cache_from=(AttrSpec.parse("type=registry,ref=r/cache:api"),),
    cache_to=(AttrSpec.parse("type=registry,ref=r/cache:api,mode=max"),),
    outputs=(AttrSpec.parse("type=oci,dest=out.tar"),),
    push=True,
    push_by_digest=False,
    load=False,
    network="host",
    no_cache=True,
    metadata_file="meta.json",
    builder="mybuilder",
    attest=(AttrSpec.parse("type=sbom,generator=r/scanner:1"),
            AttrSpec.parse("type=provenance,mode=max")),
    image_attrs=(("compression", "zstd"), ("oci-mediatypes", "true")),
    annotations=(("org.opencontainers.image.title", "API"),),
    pull=True,
    extra_hosts=(("db.internal", "10.0.0.5"),),
    shm_size=134217728,
    ulimits=(Ulimit("nofile", 1024, 2048),),
    no_cache_filter=("deps",),
)


def without_nerdctl_lacks(request: BuildRequest) -> BuildRequest:
    """`request` without what nerdctl (and so Finch) has no flag for."""
    return replace(request, shm_size=None, ulimits=(), no_cache_filter=())
MINIMAL = BuildRequest(name="a", context=".", dockerfile="Dockerfile")


def pairs(argv: list[str], flag: str) -> list[str]:
    """The values that follow each occurrence of `flag`."""
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def tool_help(binary: str, *args: str) -> str:
    """`BINARY ARGS --help`, both streams: where a real tool is installed, the flags it
    documents."""
    done = subprocess.run([binary, *args, "--help"], capture_output=True, text=True,
                          timeout=60, check=False)
    return done.stdout + done.stderr
