"""Fuzzing the loader and the commands that read a pipeline: generated pipelines (built as
data, and as raw YAML text with tags, anchors, merge keys and bad bytes), Dockerfiles,
cache profiles and `--set`/`--var` values. Every example must end in exit 0, or exit 2
with one line `buildorch: error: ...` per configuration error found, never a traceback,
within a time and memory bound.

Each example is one of four kinds, so that the generated inputs reach every layer:
- sensible: valid values only; these get past loading into the graph, the planner and
  the backends' argv (most end in exit 0);
- mistakes: sensible, but now and then a value a user could plausibly get wrong (an
  unknown image, an invalid tag, a context a backend cannot take, a cycle);
- noise: now and then any YAML value at all in place of a field's;
- raw: YAML text pieced together from tags, anchors, merge keys and bad bytes.

CI runs a fixed number of examples from a fixed seed; a longer run:
    BUILDORCH_FUZZ_EXAMPLES=20000 .venv/bin/pytest tests/pipeline/test_fuzz.py -q
(`BUILDORCH_FUZZ_SEED=N` picks another sequence; `--hypothesis-show-statistics` shows
how the examples ended.)
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from unittest import mock

import yaml
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st

from buildorch.cli.main import main
from buildorch.errors import SHOWN_ERRORS

EXAMPLES = int(os.environ.get("BUILDORCH_FUZZ_EXAMPLES", "500"))
SEED = int(os.environ.get("BUILDORCH_FUZZ_SEED", "20261130"))
SECONDS_PER_EXAMPLE = 15.0  # generous: the machine is shared and noisy
MAX_RSS_MIB = 1500
T = TypeVar("T")
Strategy = st.SearchStrategy

# -- any value ---------------------------------------------------------------------------

SPECIAL = [
    "", " ", "a", "b", "base", "api", "A", "a b", "..", "1", "default", "ci", "-x", "x" * 300,
    "${X}", "${X:-d}", "${env.HOME}", "${env.NOPE:-x}", "$$", "${", "${1}", "${A:-${B:-c}}",
    "~", "~/x", "~nosuchuser-fz/x", "/", "../a", "a/../../..", "\n", "\x07", "\t",
    "localhost:5000/x:1", "localhost:5000/busybox:latest", "UPPER/x", "r/a@sha256:" + "a" * 64,
    "x:", "docker-image://r/x", "docker-image://r/x:", "target:x", "oci-layout:///tmp",
    "oci-layout:///tmp@sha256:" + "b" * 64, "git://h/r", "https://h/r.git#main:dir",
    "linux/amd64", "linux/arm/v7", "windows/amd64", "bad//plat", "amd64", "linux/a.b",
    "host", "none", "bridge", "type=registry,ref=r/c", "\u00a0", "é", "\ufeff",
]
text = st.one_of(st.sampled_from(SPECIAL), st.text(max_size=12))
name = st.one_of(st.sampled_from(["a", "b", "c", "api", "base", "default", "ci", "g", "A",
                                  "1x", "a.b", "-", ""]), st.text(max_size=6))
scalar = st.one_of(text, st.integers(-5, 10**12), st.floats(allow_nan=True),
                   st.booleans(), st.none())
key = st.one_of(text, st.integers(-5, 99), st.booleans(), st.none())  # what YAML keys may be
value = st.recursive(scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(key, inner, max_size=3)), max_leaves=6)

# -- pools of sensible values, and of plausible mistakes ---------------------------------

IMAGES = ["a", "b", "c", "api"]
# Image `a` is the base that Dockerfiles name in FROM, COPY --from and RUN --mount=from,
# in every spelling; the other images' tags are their own.
TAGS = {"a": ["localhost:5000/org/base:1", "localhost:5000/org/base", "base", "base:latest",
              "docker.io/library/base:latest", "docker.io/org/base", "org/base:v2",
              "index.docker.io/org/base:v2"],
        "b": ["localhost:5000/org/b:1", "b"], "c": ["org/c:2"], "api": ["docker.io/org/api"]}
ALL_TAGS = [tag for tags in TAGS.values() for tag in tags]
BAD_TAGS = ["r/a@sha256:" + "a" * 64, "Base", "x:", "a b"]  # a digest is not a tag
PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/riscv64", "windows/amd64"]
BAD_PLATFORMS = ["amd64x", "bad//plat", ""]
LABELS = ["arm", "x86"]  # every builder has both, but by mistake
CONTEXTS = ["a", "b", "docker-image://localhost:5000/busybox:1", "https://h/r.git#main:dir"]
# an oci-layout digest: right for buildctl and docker, not for nerdctl and finch
BAD_CONTEXTS = ["nope", "target:build", "oci-layout:///tmp", "git://h/r", "~nosuchuser-fz/x",
                "oci-layout:///tmp@sha256:" + "b" * 64]
FROM_REFS = [*TAGS["a"], "scratch", "r/a@sha256:" + "a" * 64, "$BASE", "binaries-$TARGETOS",
             "localhost:5000/org/base-${TARGETARCH}", "${TARGETOS}-img", "golang:${GO%.*}",
             "localhost:5000/org/base:1@sha256:" + "c" * 64]
BAD_FROM_REFS = ["Build", "@@", "x:", "${NOPE:?gone}", "${A:+b}", "'q'", '"q', "Base",
                 "${GO:#1}", "${GO//x}", "${GO#\\x}",
                 "img-${TARGETPLATFORM//\\//-}"]  # wrong under `# escape=\``
DIRECTIVES = ["# syntax=docker/dockerfile:1", "# escape=`", "# check=skip=all"]
GLOBAL_LINES = ["ARG TARGETOS", "ARG TARGETARCH=riscv64", "ARG X=${BASE}", "ARG TARGETPLATFORM",
                "ARG GO=1.22.3"]
BAD_GLOBAL_LINES = ["# escape=\u00a0`", "ARG X=${X}${X}", "FOO bar", "# escape=`\n# escape=\\"]
BODY_LINES = [
    "RUN true", "COPY --from=base / /", "COPY --from=localhost:5000/org/base:1 / /",
    "RUN --mount=from=base:latest,target=/m true", "RUN --mount=type=cache,target=/c true",
    "RUN <<EOF\nx\nEOF", "WORKDIR /", "", "ARG TARGETOS", "HEALTHCHECK NONE",
    "ONBUILD COPY --from=x / /", "COPY --from=docker.io/org/base / /",
]
# a backslash continuation is wrong under `# escape=\``
BAD_BODY_LINES = ["RUN a \\\n b", "RUN <<EOF\nx", "\\", "FOO bar", "COPY --from= / /",
                  "COPY --from", "FROM", "RUN \x00", "COPY --from=Build / /", "COPY --from=$X / /",
                  "COPY --from=build / /", "COPY --from=9 / /"]
SETS = ["b.target=build", "*.target=runtime", "a.tags=localhost:5000/org/base:9", "*.args.K=v",
        "*.args.K=${X}", "*.args.BASE=localhost:5000/org/base:1", "*.platforms=linux/arm64",
        "b.contexts.x=a", "b.depends_on=a", "*.network=host", "*.push=true",
        "m.args.K=v", "m-*.labels.org.x=v"]  # a matrix entry's key, and its images
BAD_SETS = ["a.=x", "a.b.target=x", "a.bogus=1", "a.args=x", "*.=", "=", "a", "a.target",
            "nope.target=x", "a.depends_on=a", "a.network=bridge", "a.contexts.x=target:x",
            "*.tags=b", "m.name=x", "m-*.matrix=x", "m.depends_on=m"]
YAML_PIECES = [
    "version: 1\n", "name: p\n", "images:\n", "  a: {context: a}\n", "  b: {context: b}\n",
    "  c:\n    <<: *d\n    target: build\n", "x: &d {context: a, target: runtime}\n",
    "vars: &v {X: *v}\n", "vars: {X: !!float abc}\n", "  a: {context: a, push: !!bool maybe}\n",
    "y: !!timestamp x\n", "z: !!binary '%%%'\n", "w: !!python/name:os.system\n",
    "l: &l [1, 2]\nm: [*l, *l, *l]\n", "? [a]\n: b\n", "%YAML 1.1\n---\n", "...\n",
    "- a\n", "\t", "a: b: c\n", "{", "[[[[[[[[[[", "'unterminated\n", "groups: {g: [g]}\n",
    "defaults: {contexts: {q: {image: nope}}}\n", "  a: {context: a, tags: ['A:1']}\n",
    "  a: {context: a, args: {V: 3.10, M: 0755, Y: yes, N: ~, T: 2024-01-01}}\n",
    "  _t: {args: {V: .inf}, labels: {k: 1e3}}\n  b: {inherits: [_t], context: b}\n",
    "services: {web: {build: .}}\n", "target: {api: {context: .}}\n",
    "  m: {matrix: {py: [3.10, 3.12]}, name: 'm-${py}', context: a}\n",
    "  m: {matrix: {py: [], os: *d}, name: m}\n", "  n: {name: x, context: a}\n",
]
# matrix images: axes (a mapping value is named `${it.k}`), and plausible mistakes
AXES: dict[str, list[object]] = {"py": ["3.11", "3.12"], "os": ["alpine", "debian"],
                                 "it": [{"k": "a", "v": "1"}, {"k": "b", "v": "2"}]}
BAD_MATRICES: list[object] = [{}, {"py": []}, {"py": "3.11"}, ["py"], {"1x": ["a"]},
                              {"env": ["a"]}, {"py": [["a"]]}, {"py": [None]},
                              {"it": [{"1k": "a"}]}, {"py": ["a", "a"]}, {"py-v": ["a"]}]
BAD_NAMES: list[object] = ["${nope}", "a", "m", "m-${py}/x", "_m-${py}", "m-${it}", "${py.k}",
                           ["m"], "b${py:+x}"]
# bake's fields: sensible values, and plausible mistakes
OUTPUTS = ["type=local,dest=out", "type=tar,dest=o.tar", "type=oci,dest=o.tar", "type=docker",
           "type=cacheonly", "type=image,compression=zstd", "type=image,oci-mediatypes=true"]
BAD_OUTPUTS = ["type=registry", "type=local", "type=image,push=true", "dest=x", "type=s3",
               '"type=local,dest=a', "type=image,name=x", "type=tar,dest=-",
               'type=local,dest="x', 'type=local,"dest=x"y']
ATTESTS = ["type=sbom", "type=provenance,mode=max", "type=provenance,mode=min",
           "type=provenance,disabled=true"]
BAD_ATTESTS = ["type=slsa", "type=provenance,mode=full", "mode=max", "type=sbom,disabled=x"]
SIZES = ["64m", "1g", "2GiB", "1024", "0"]
BAD_SIZES = ["lots", "-1", "1x", "1.2.3m", "1.5", "8192p", "9223372036854775808"]
HOSTS = ["db:10.0.0.2", "v6=::1", "gw=host-gateway"]
BAD_HOSTS = ["db", "db:nowhere", ":1.2.3.4", "db=[::1]", "db=[10.0.0.1]", "db=fe80::1%eth0"]
ULIMITS = ["nofile=1024:2048", "nproc=64", "core=-1"]
BAD_ULIMITS = ["files=1", "nofile", "nofile=x:y", "nproc=5:3", "nofile=1024:",
               "nofile=1:9223372036854775808"]
INLINE = ["FROM scratch AS build\nFROM build AS runtime\nFROM build AS test\n",
          "FROM localhost:5000/org/base:1 AS build\nFROM build AS runtime\nFROM build AS test\n"]
REMOTE = ["https://h/r.git#main:dir", "git@github.com:o/r.git", "http://127.0.0.1:1/c.tar"]
COMMANDS = [["validate"], ["plan", "--format", "json"], ["plan"], ["graph", "--stages"],
            ["graph", "--format", "dot"], ["plan", "--backend", "buildctl", "--format", "json"],
            ["plan", "--backend", "nerdctl"], ["validate", "--backend", "finch"],
            ["plan", "--backend", "docker", "--push"]]


def pick(values: list[str]) -> Strategy[str]:
    return st.sampled_from(values)


@dataclass(frozen=True)
class Kind:
    """How far an example strays from sensible input."""

    mistakes: bool = False  # now and then a plausible mistake from the BAD_ pools
    noise: bool = False  # now and then any value at all in place of a field's

    def rarely(self, bad: Strategy[T], good: Strategy[T], one_in: int = 25) -> Strategy[T]:
        if not self.mistakes:
            return good
        return st.sampled_from(range(one_in)).flatmap(lambda n: bad if n == 0 else good)

    def maybe(self, good: Strategy[object]) -> Strategy[object]:
        if not self.noise:
            return good
        return st.sampled_from(range(8)).flatmap(lambda n: value if n == 0 else good)


@dataclass(frozen=True)
class Example:
    pipeline: bytes
    dockerfiles: tuple[str, str]
    profile: str
    command: list[str]
    sets: list[str]
    variables: list[str]
    selection: list[str]


# -- pipelines ---------------------------------------------------------------------------

def image_fields(k: Kind, own: str | None, deps: list[str]) -> dict[str, Strategy[object]]:
    """An image's optional fields (`own` None for `defaults`); `deps` are the images it may
    depend on without a cycle."""
    bad_dep = pick(["nope", *IMAGES])
    dep = k.rarely(bad_dep, pick(deps)) if deps else bad_dep
    context_value: Strategy[object] = k.rarely(pick(BAD_CONTEXTS), pick(CONTEXTS))
    if deps or k.mistakes:
        context_value = st.one_of(context_value, st.fixed_dictionaries({"image": k.maybe(dep)}))
    tags = st.lists(k.rarely(pick(BAD_TAGS + ALL_TAGS), pick(TAGS[own])), max_size=3,
                    unique=True) if own else k.rarely(st.lists(pick(ALL_TAGS)), st.just([]))
    secret = st.fixed_dictionaries({"id": k.maybe(pick(["tok", "npm"]))}, optional={
        "required": k.maybe(st.booleans())}).flatmap(lambda d: st.one_of(
            pick(["a/Dockerfile", "~/x"]).map(lambda src: d | {"src": src}),
            pick(["HOME", "NOPE_FZ"]).map(lambda env: d | {"env": env})))
    ssh = st.one_of(st.just("default"), st.fixed_dictionaries(
        {"id": k.maybe(st.just("default"))},
        optional={"paths": st.lists(k.rarely(pick(["~nosuchuser-fz/id", "nope"]), pick(["a"])),
                                    max_size=2)}))
    strings = k.rarely(text, pick(FROM_REFS[:9]), 5)
    return {
        "dockerfile": k.rarely(pick(["Other", "/nope"]), pick(["Dockerfile", "../a/Dockerfile"])),
        "target": k.rarely(pick(["", "Build", "nope"]), pick(["build", "runtime", "test"])),
        "depends_on": st.lists(dep, max_size=2) if deps else k.rarely(
            st.lists(dep, max_size=1), st.just([])),
        "contexts": st.dictionaries(
            k.rarely(pick(["build", "context", "Base"]), pick([*FROM_REFS[:9], "x"])),
            context_value, max_size=2),
        "args": st.dictionaries(pick(["BASE", "TARGETOS", "X", "K"]), strings, max_size=3),
        "labels": st.dictionaries(pick(["org.x", "k"]), strings, max_size=2),
        "tags": tags,
        "platforms": st.lists(k.rarely(pick(BAD_PLATFORMS), pick(PLATFORMS)), max_size=2),
        "secrets": st.lists(k.rarely(st.fixed_dictionaries(
            {"id": st.just("x")}, optional={"src": text, "env": text}), secret), max_size=2),
        "ssh": st.lists(ssh, max_size=2),
        "cache": k.rarely(st.just("nope"), pick(["c", "none"])),
        # pushing an image without tags is a mistake
        "push": st.booleans() if own else k.rarely(st.just(True), st.just(False)),
        "no_cache": st.booleans(),
        "network": k.rarely(st.just("bridge"), pick(["host", "none", "default"])),
        "builder": k.rarely(st.just("nope"), st.just("local")),
        "builder_labels": st.lists(k.rarely(pick(["gpu", ""]), pick(LABELS)), max_size=2),
        "estimated_seconds": k.rarely(pick(["inf", "-1", "0"]), st.floats(1, 1e9)),
        **bake_fields(k, own, deps),
    }


def bake_fields(k: Kind, own: str | None, deps: list[str]) -> dict[str, Strategy[object]]:
    """The fields bake users write (outputs, attest, inherits, ...); an image inherits from
    the template `_t` or the images it may depend on (`defaults` only by mistake)."""
    one_limit = k.rarely(st.one_of(st.booleans(), pick(["5:3", "1:2:3", "-1:5"])),
                         st.one_of(st.integers(-1, 4096), pick(["1024:2048", "-1", "5:-1"]),
                                   st.fixed_dictionaries({"soft": st.integers(-2, 9),
                                                          "hard": st.integers(-1, 9)})))
    limits = st.one_of(st.lists(k.rarely(pick(BAD_ULIMITS), pick(ULIMITS)), max_size=2),
                       st.dictionaries(k.rarely(pick(["files"]), pick(["nofile", "nproc"])),
                                       one_limit, max_size=2))
    return {
        "inherits": st.lists(k.rarely(pick(["nope", "api", "a"]), pick(["_t", *deps])),
                             max_size=2) if own else k.rarely(st.just(["_t"]), st.just([])),
        "description": text,
        "outputs": st.lists(k.rarely(pick(BAD_OUTPUTS), pick(OUTPUTS)), max_size=2),
        "attest": st.lists(k.rarely(pick(BAD_ATTESTS), pick(ATTESTS)), max_size=2),
        "annotations": st.dictionaries(pick(["org.x", "index:k", "manifest[linux/amd64]:k"]),
                                       text, max_size=2),
        "pull": st.booleans(),
        "extra_hosts": st.one_of(st.lists(k.rarely(pick(BAD_HOSTS), pick(HOSTS)), max_size=2),
                                 st.dictionaries(pick(["db", "x"]), pick(["10.0.0.1", "::1"]))),
        "shm_size": st.one_of(k.rarely(pick(BAD_SIZES), pick(SIZES)), st.integers(0, 1 << 40)),
        "ulimits": limits,
        "dockerfile_inline": k.rarely(text, pick(INLINE)),  # with a remote context: a mistake
        "no_cache_filter": st.lists(k.rarely(pick(["nope", ""]), pick(["build", "runtime"])),
                                    max_size=2),
    }


def image(k: Kind, own: str, deps: list[str]) -> Strategy[object]:
    fields = {key: k.maybe(strategy) for key, strategy in image_fields(k, own, deps).items()}
    context = k.rarely(pick(["nope", "../a", "~nosuchuser-fz/a", "https://"]),
                       pick(["a", "b"] * 15 + REMOTE))
    spec = st.fixed_dictionaries({"context": k.maybe(context)}, optional=fields)
    return k.maybe(spec if k.mistakes else spec.map(_publishable))


def _publishable(spec: dict[str, object]) -> dict[str, object]:
    """Sensible: an image pushed without tags is a mistake, so pushed ones have tags."""
    return spec if spec.get("tags") else {**spec, "push": False}


def matrix_images(k: Kind) -> Strategy[dict[str, object]]:
    """None, a matrix entry `m` on image `a`, or that and an image built on all of its images
    (`depends_on: [m]`) and on one of them (a named context)."""
    def entry(axes: list[str], context: str) -> dict[str, object]:
        refs = "-".join("${it.k}" if a == "it" else f"${{{a}}}" for a in axes)
        return {"matrix": {a: AXES[a] for a in axes}, "name": f"m-{refs}", "context": context,
                "args": {"V": refs}, "tags": [f"localhost:5000/org/m:{refs}"],
                "depends_on": ["a"]}

    def first(axes: list[str]) -> str:
        return "m-" + "-".join("a" if a == "it" else str(AXES[a][0]) for a in axes)

    sensible = st.tuples(st.lists(pick(list(AXES)), min_size=1, max_size=2, unique=True),
                         pick(["a", "b"]))
    no_name: dict[str, object] = {"name": None}
    wrong: Strategy[dict[str, object]] = st.one_of(pick(["matrix", "name"]).flatmap(
        lambda f: st.sampled_from(BAD_MATRICES if f == "matrix" else BAD_NAMES).map(
            lambda v: {f: v})), st.just(no_name))

    def spoil(e: dict[str, object], bad: dict[str, object]) -> dict[str, object]:
        spoilt = e | bad
        return {f: v for f, v in spoilt.items() if v is not None}

    template = sensible.map(lambda t: (entry(*t), first(t[0])))
    template = k.rarely(st.tuples(template, wrong).map(
        lambda t: (spoil(t[0][0], t[1]), t[0][1])), template, 4)
    user = template.map(lambda t: {"m": t[0], "mu": {
        "context": "b", "depends_on": ["m"], "contexts": {"base": {"image": t[1]}}}})
    return st.one_of(st.just({}), st.just({}), template.map(lambda t: {"m": t[0]}), user)


def pipelines(k: Kind) -> Strategy[bytes]:
    # Sensible builders have every label and build any platform (or all of PLATFORMS), and
    # TLS only over tcp:// on a backend that carries it; a/Dockerfile exists in every example.
    tls_file = k.rarely(pick(["nope.pem", "~nosuchuser-fz/ca.pem", ""]), st.just("a/Dockerfile"))
    tls = st.fixed_dictionaries({"ca": k.maybe(tls_file)}, optional={
        "server_name": k.maybe(pick(["buildkit", "h"]))}).flatmap(lambda d: k.rarely(
            st.just({**d, "cert": "a/Dockerfile"}), st.just({**d, "cert": "a/Dockerfile",
                                                              "key": "a/Dockerfile"})))
    labels = k.rarely(st.lists(pick(["", "gpu", *LABELS]), max_size=2), st.just(LABELS))
    builder = st.fixed_dictionaries({"name": k.maybe(st.just("local")), "labels": labels},
                                    optional={
        "backend": k.maybe(k.rarely(st.just("podman"), pick(
            ["auto", "docker", "nerdctl", "finch", "buildctl"]))),
        "address": k.maybe(pick(["unix:///run/buildkit/buildkitd.sock", "tcp://h:1"])),
        "platforms": k.rarely(st.lists(pick(BAD_PLATFORMS + PLATFORMS), max_size=2),
                              pick([[], PLATFORMS])),
        "max_parallel": k.maybe(k.rarely(st.just(-1), st.integers(1, 9)))})
    over_tls = st.fixed_dictionaries({
        "name": st.just("local"), "backend": k.rarely(pick(["auto", "nerdctl"]),
                                                      st.just("buildctl")),
        "address": k.rarely(st.just("unix:///run/bk.sock"), st.just("tcp://h:1")),
        "tls": k.maybe(tls), "labels": labels})
    builder = st.sampled_from(range(8)).flatmap(lambda n: over_tls if n == 0 else builder)
    member = k.rarely(pick(["c", "g", "h", "nope", "m", "m-3.11"]), pick(["a", "b"]))
    template = k.maybe(st.fixed_dictionaries({}, optional={
        key: k.maybe(strategy) for key, strategy in image_fields(k, None, []).items()
        if key != "inherits"}))
    images = st.tuples(
        st.fixed_dictionaries({"a": image(k, "a", []), "b": image(k, "b", ["a"]),
                               "_t": template}, optional={
            "c": image(k, "c", ["a", "b"]), "api": image(k, "api", ["a", "b"])}),
        k.rarely(st.dictionaries(name, image(k, "c", []), max_size=1), st.just({})),
        matrix_images(k)).map(lambda t: t[0] | t[1] | t[2])
    defaults = {key: k.maybe(strategy) for key, strategy in image_fields(k, None, []).items()}
    document = st.fixed_dictionaries(
        {"version": k.maybe(st.just(1)), "name": k.maybe(pick(["p", "q"])),
         "images": k.maybe(images),
         "builders": k.maybe(k.rarely(st.lists(builder, max_size=2), st.lists(
             builder, min_size=1, max_size=1)))},
        optional={"vars": k.maybe(st.dictionaries(pick(["X", "B", "A"]),
                                                  k.rarely(text, pick(TAGS["a"]), 5), max_size=3)),
                  "defaults": k.maybe(st.fixed_dictionaries({}, optional=defaults)),
                  "groups": k.maybe(st.dictionaries(
                      k.rarely(pick(["a", "h"]), pick(["default", "g"])),
                      st.lists(member, max_size=3), max_size=2))})
    return document.map(lambda d: yaml.safe_dump(d, allow_unicode=True).encode())


raw_yaml = st.tuples(st.lists(pick(YAML_PIECES), max_size=8),
                     st.one_of(st.just(b""), st.binary(max_size=4))).map(
    lambda t: "".join(t[0]).encode() + t[1])

# -- Dockerfiles, cache profiles, command lines ------------------------------------------

def stage(k: Kind, names: Strategy[str], earlier: list[str]) -> Strategy[list[str]]:
    """A FROM line and its body, naming images and only the `earlier` stages."""
    platform = k.rarely(pick(["--platform= ", "--platform=$NOPE ", "--platform=x//y "]),
                        pick(["", "", "--platform=$BUILDPLATFORM ", "--platform=linux/arm64 ",
                              "--platform=$TARGETPLATFORM "]))
    from_line = st.tuples(platform, k.rarely(pick(BAD_FROM_REFS), pick(FROM_REFS + earlier)),
                          names).map(lambda t: f"FROM {t[0]}{t[1]}{t[2]}")
    uses = [f"COPY --from={e} / /" for e in earlier]
    uses += [f"RUN --mount=from={e},target=/m true" for e in earlier]
    body = st.lists(k.rarely(pick(BAD_BODY_LINES), pick(BODY_LINES + uses)), max_size=3)
    return st.tuples(from_line, body).map(lambda t: [t[0], *t[1]])


def dockerfiles(k: Kind) -> Strategy[str]:
    """Shaped like real Dockerfiles: directives, global ARGs, stages per OS picked with
    $TARGETOS, and the stages pipelines name as targets; with noise, lines in any order."""
    directives = st.lists(pick(DIRECTIVES), max_size=2, unique=True)
    global_args = st.lists(k.rarely(pick(BAD_GLOBAL_LINES), pick(GLOBAL_LINES)), max_size=2)
    # `FROM base AS base` names the stage itself: a cycle, as BuildKit reports it
    per_os = st.lists(stage(k, k.rarely(pick(["", " as Stage-linux", " AS 1x", " AS base"]),
                                        pick([" AS binaries-linux", " AS binaries-windows"])),
                            []), max_size=2)
    shaped = st.tuples(
        directives, global_args, per_os, stage(k, st.just(" AS build"), []),
        stage(k, st.just(" AS runtime"), ["build"]),
        stage(k, st.just(" AS test"), ["build", "runtime"])).map(
        lambda t: [*t[0], "ARG BASE=localhost:5000/org/base:1", "ARG GO=1.22.3", *t[1],
                   *(line for lines in (*t[2], *t[3:]) for line in lines)])
    shuffled = st.lists(st.one_of(
        stage(k, pick(["", " AS build"]), ["build"]).map("\n".join),
        pick([*DIRECTIVES, *GLOBAL_LINES, *BAD_GLOBAL_LINES, *BODY_LINES, *BAD_BODY_LINES]),
        st.text(max_size=10)), max_size=8)
    lines = st.one_of(shaped, shaped, shuffled) if k.noise else shaped
    return lines.map(lambda lines: "\n".join(lines) + "\n")


def profiles(k: Kind) -> Strategy[str]:
    sensible = st.one_of(
        st.fixed_dictionaries({"type": st.just("registry"), "ref": k.rarely(
            pick(["localhost:5000/Cache", ""]), pick(["localhost:5000/cache", "r/c:tag"]))},
            optional={"mode": pick(["min", "max"]), "scope": st.just("global"),
                      "export": pick(["auto", "always", "never"])}),
        st.fixed_dictionaries({"type": st.just("s3"), "bucket": k.rarely(
            pick(["B_", ""]), st.just("b"))}, optional={
                "transport": pick(["auto", "native", "sync"]),
                "credentials": pick(["daemon", "forward"]),
                "endpoint_url": st.just("http://127.0.0.1:1")}),
        st.fixed_dictionaries({"type": st.just("local"), "dir": k.rarely(
            st.just("~nosuchuser-fz/c"), pick(["cache", "~/c"]))}),
        st.fixed_dictionaries({"type": pick(["inline", "gha"])}))
    if not k.noise:
        return sensible.map(yaml.safe_dump)
    noisy = st.fixed_dictionaries({"type": pick(
        ["registry", "s3", "local", "inline", "gha", "ftp"])}, optional={
        field: value for field in ("ref", "bucket", "dir", "mode", "transport", "credentials",
                                   "scope", "export", "url", "x")})
    return st.one_of(sensible.map(yaml.safe_dump), noisy.map(yaml.safe_dump),
                     st.text(max_size=30))


def command_line(k: Kind) -> Strategy[tuple[list[str], list[str], list[str]]]:
    """`--set` and `--var` values and the images selected."""
    sets = st.lists(k.rarely(st.one_of(pick(BAD_SETS), text), pick(SETS)), max_size=2)
    variables = st.lists(st.tuples(k.rarely(name, pick(["X", "B"])),
                                   k.rarely(text, pick(TAGS["a"]))).map(
        lambda t: f"{t[0]}={t[1]}"), max_size=2)
    selection = st.lists(k.rarely(st.one_of(name, pick(IMAGES)), pick(["a", "b"])), max_size=2)
    return st.tuples(sets, variables, selection)


def examples(k: Kind, pipeline: Strategy[bytes] | None = None) -> Strategy[Example]:
    return st.builds(
        lambda p, files, prof, cmd, line: Example(p, files, prof, cmd, *line),
        pipelines(k) if pipeline is None else pipeline,
        st.tuples(dockerfiles(k), dockerfiles(k)), profiles(k),
        pick([" ".join(c) for c in COMMANDS]).map(str.split), command_line(k))


SENSIBLE, MISTAKES, NOISE = Kind(), Kind(mistakes=True), Kind(mistakes=True, noise=True)
any_example = st.one_of(examples(SENSIBLE), examples(MISTAKES), examples(NOISE),
                        examples(NOISE, raw_yaml))

# -- running one ---------------------------------------------------------------------------

@contextlib.contextmanager
def inside(folder: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def write(folder: Path, example: Example) -> None:
    for context, text_ in zip(("a", "b"), example.dockerfiles, strict=True):
        (folder / context).mkdir()
        (folder / context / "Dockerfile").write_text(text_, errors="surrogateescape")
    (folder / "cache-config").mkdir()
    (folder / "cache-config" / "c.yaml").write_text(example.profile, errors="surrogateescape")
    (folder / ".git").mkdir()  # the cache-config search stops here
    (folder / "p.yaml").write_bytes(example.pipeline)


def argv_of(example: Example) -> list[str]:
    argv = [*example.command, "-f", "p.yaml"]
    argv += [f"--set={v}" for v in example.sets] + [f"--var={v}" for v in example.variables]
    if example.command[0] != "validate":
        argv += ["--", *example.selection]
    return argv


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    # no AWS credentials to find, and no instance metadata service to wait for
    aws = {"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
           "AWS_EC2_METADATA_DISABLED": "true"}
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            mock.patch.dict(os.environ, aws):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: usage line and error, exit 2
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def outcome(code: int, err: str) -> str:
    """The kind of result, for `--hypothesis-show-statistics`: exit 0, or the error's words."""
    if code != 2:
        return f"exit {code}"
    message = err.strip().splitlines()[-1].removeprefix("buildorch: error: ")
    return "exit 2: " + re.sub(r"^[^:]*:\d+: ", "", message)[:40]


def check_output(code: int, out: str, err: str, command: list[str]) -> None:
    assert code in (0, 2), (code, err)
    if code == 2:
        lines = err.splitlines()
        if lines[0].startswith("usage: "):  # argparse's own form
            assert len(lines) == 2 and lines[1].startswith("buildorch"), err
        else:
            # every configuration error found, one line each, after any warnings
            errors = [line for line in lines if not line.startswith("buildorch: warning: ")]
            assert errors == lines[len(lines) - len(errors):], err
            assert 1 <= len(errors) <= SHOWN_ERRORS + 1, err
            assert all(line.startswith("buildorch: error: ") for line in errors), err
        assert out == "", out
    elif "--format" in command and "json" in command:
        refuse: Callable[[str], object] = lambda c: (_ for _ in ()).throw(ValueError(c))  # noqa: E731
        json.loads(out, parse_constant=refuse)


@seed(SEED)
@settings(max_examples=EXAMPLES, deadline=None, derandomize="BUILDORCH_FUZZ_SEED" not in os.environ,
          suppress_health_check=list(HealthCheck), database=None)
@given(any_example)
def test_any_input_ends_in_success_or_exit_2_with_error_lines(example: Example) -> None:
    argv = argv_of(example)
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp), example)
        started = time.monotonic()
        with inside(Path(tmp)):
            code, out, err = run(argv)
        elapsed = time.monotonic() - started
    assert elapsed < SECONDS_PER_EXAMPLE, (argv, elapsed)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert peak < MAX_RSS_MIB, peak
    event(outcome(code, err))
    check_output(code, out, err, example.command)
