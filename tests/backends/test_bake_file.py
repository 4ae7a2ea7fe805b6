"""bake_file: a BuildRequest as a `docker buildx bake` 0.13.1 target means what docker_argv
means for `docker buildx build`.

Contracts from docker/buildx sources (as cited in buildorch/backends/bake_file.py): bake/bake.go
(Target struct keys, validTargetNameChars, toBuildOpt), controller/build/build.go RunBuild
(`--push`/`--load` folded into the outputs, buildx#2302), controller/pb/path.go
ResolveOptionPaths (which paths build makes absolute), bake/hcl.go + hclsyntax (JSON strings
are templates). Each was also run against the 0.13.1 binary (test_bake_file_engine.py)."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buildorch.backends.bake_file import (
    bake_argv,
    bake_definition,
    bake_problem,
    bake_target,
    outputs,
    target_name_problem,
    template_literal,
)
from buildorch.backends.docker import docker_argv
from buildorch.backends.flags import secret_spec, spec_text
from buildorch.backends.request import (
    AttrSpec,
    BuilderTls,
    BuildRequest,
    SecretRef,
    SshRef,
    Ulimit,
    Unsupported,
)
from tests.backends.sample_requests import FULL, MINIMAL

ROOT = Path("/repo/work")
# FULL without what bake 0.13.1 cannot carry (extra hosts, network) and without the pair
# `docker buildx build` itself refuses (--no-cache with --no-cache-filter)
BAKEABLE = dataclasses.replace(FULL, extra_hosts=(), network=None, no_cache=False)
DISABLED = AttrSpec.parse("type=provenance,disabled=true")


def test_every_field_is_mapped() -> None:
    target = bake_target(BAKEABLE, ROOT, {})
    assert target == {
        "context": "/repo/work/svc/api",
        "dockerfile": "/repo/work/svc/api/Dockerfile",
        "target": "runtime",
        "args": {"A": "1", "B": "x y"},
        "contexts": {"base": "docker-image://r/base@sha256:abc", "src": "/repo/src"},
        "secret": ["id=tok,env=TOKEN", "id=netrc,src=/home/u/.netrc"],
        "ssh": ["default", "github=/k1,/k2"],
        "platforms": ["linux/amd64", "linux/arm64"],
        "labels": {"team": "core"},
        "tags": ["r/api:1", "r/api:latest"],
        "cache-from": ["type=registry,ref=r/cache:api"],
        "cache-to": ["type=registry,ref=r/cache:api,mode=max"],
        "attest": ["type=sbom,generator=r/scanner:1", "type=provenance,mode=max"],
        "annotations": ["org.opencontainers.image.title=API"],
        # the image attributes: the push spelled out as docker_argv does
        "output": ["type=oci,dest=/repo/work/out.tar",
                   "type=image,push=true,compression=zstd,oci-mediatypes=true"],
        "no-cache-filter": ["deps"],
        "ulimits": ["nofile=1024:2048"],
        "shm-size": "134217728",
        "pull": True,
    }


def test_minimal_request_is_context_and_dockerfile() -> None:
    assert bake_target(MINIMAL, ROOT, {}) == {"context": "/repo/work",
                                              "dockerfile": "/repo/work/Dockerfile"}
    assert bake_target(dataclasses.replace(MINIMAL, no_cache=True), ROOT, {})["no-cache"] is True


def test_linked_context_names_the_target() -> None:
    request = dataclasses.replace(MINIMAL, named_contexts=(
        ("dep", "docker-image://buildorch.local/p/a:run@sha256:ab"), ("other", "docker-image://x")))
    target = bake_target(request, ROOT, {"dep": "a"})
    assert target["contexts"] == {"dep": "target:a", "other": "docker-image://x"}
    with pytest.raises(ValueError, match="no named context 'nope'"):
        bake_target(request, ROOT, {"nope": "a"})
    with pytest.raises(ValueError, match="validTargetNameChars"):
        bake_target(request, ROOT, {"dep": "a.b"})


def test_local_paths_are_absolute_against_root_as_build_makes_them() -> None:
    """controller/pb/path.go ResolveOptionPaths: filepath.Abs of the context, Dockerfile,
    local and oci-layout named contexts, secret src, SSH paths, local cache src/dest and
    output dest (not `-`); other cache types and remote contexts as written."""
    request = BuildRequest(
        name="a", context="../svc", dockerfile="/abs/Dockerfile",
        named_contexts=(("src", "./lib/"), ("layout", "oci-layout://.buildorch/a.oci@sha256:ab"),
                        ("git", "https://github.com/o/r.git#main"),
                        ("ssh", "git@github.com:o/r.git")),
        secrets=(SecretRef("f", src="secrets/f"), SecretRef("e", env="E")),
        ssh=(SshRef("k", ("keys/id", "/abs/sock")),),
        cache_from=(AttrSpec.parse("type=local,src=cache"),
                    AttrSpec.parse("type=registry,ref=r/c:1")),
        cache_to=(AttrSpec.parse("type=local,dest=cache,mode=max"),
                  AttrSpec.parse("type=s3,bucket=b,name=x")),
        outputs=(AttrSpec.parse("type=local,dest=out"), AttrSpec.parse("type=tar,dest=-")))
    target = bake_target(request, ROOT, {})
    assert target["context"] == "/repo/svc"
    assert target["dockerfile"] == "/abs/Dockerfile"
    assert target["contexts"] == {"src": "/repo/work/lib",
                                  "layout": "oci-layout:///repo/work/.buildorch/a.oci@sha256:ab",
                                  "git": "https://github.com/o/r.git#main",
                                  "ssh": "git@github.com:o/r.git"}
    assert target["secret"] == ["id=f,src=/repo/work/secrets/f", "id=e,env=E"]
    assert target["ssh"] == ["k=/repo/work/keys/id,/abs/sock"]
    assert target["cache-from"] == ["type=local,src=/repo/work/cache", "type=registry,ref=r/c:1"]
    assert target["cache-to"] == ["type=local,dest=/repo/work/cache,mode=max",
                                  "type=s3,bucket=b,name=x"]
    assert target["output"] == ["type=local,dest=/repo/work/out", "type=tar,dest=-"]
    with pytest.raises(ValueError, match="not absolute"):
        bake_target(request, Path("rel"), {})


@pytest.mark.parametrize(("change", "reason"), [
    ({"name": "svc.api"}, "validTargetNameChars"),
    ({"load_archive": ".buildorch/a.image.tar", "load": True}, "tarball"),
    ({"push_by_digest": True, "push": True}, "by digest"),
    ({"cache_to": (AttrSpec.parse("type=s3,bucket=b,secret_access_key=K"),)}, "credentials"),
    ({"context": "https://user:tok@github.com/o/r.git"}, "credentials"),
    ({"context": "https://github.com/o/r.git#main"}, "remote main context"),
    ({"context": "git@github.com:o/r.git"}, "remote main context"),
    ({"dockerfile": "-"}, "standard input"),
    ({"extra_hosts": (("db", "10.0.0.1"),)}, "extra-hosts"),
    ({"network": "host"}, "network"),
    ({"network": "none"}, "network"),
    ({"no_cache": True, "no_cache_filter": ("deps",)}, "--no-cache-filter"),
    ({"attest": (AttrSpec.parse("type=provenance,mode=min"), DISABLED)}, "two attestations"),
    ({"builder": "tcp://h:2376", "builder_tls": BuilderTls("ca.pem")}, "TLS"),
])
def test_what_bake_cannot_carry(change: dict[str, object], reason: str) -> None:
    request = dataclasses.replace(MINIMAL, **change)  # type: ignore[arg-type]
    problem = bake_problem(request)
    assert problem is not None and reason in problem
    with pytest.raises(ValueError, match=r"^a: |^svc\.api: "):
        bake_target(request, ROOT, {})


def test_what_bake_carries_as_build_does() -> None:
    for change in ({"network": "default"}, {"no_cache": True}, {"no_cache_filter": ("x",)},
                   {"attest": (AttrSpec.parse("type=sbom"), DISABLED)}, {"name": "-Ab_9"}):
        assert bake_problem(dataclasses.replace(MINIMAL, **change)) is None


def test_target_names() -> None:
    for good in ("a", "api-test", "A_1", "-x", "0"):
        assert target_name_problem(good) is None
    for bad in ("", "a.b", "a/b", "a b", "é", "a:1", "${x}", "a*"):
        assert target_name_problem(bad) is not None


def test_invalid_requests_raise_as_docker_argv_does() -> None:
    for change in ({"context": "ftp://host/ctx"},
                   {"image_attrs": (("name", "x"),), "push": True, "tags": ("r/a:1",)},
                   {"annotations": (("a b", "v"),)}):
        request = dataclasses.replace(MINIMAL, **change)
        with pytest.raises(Unsupported):
            docker_argv(request)
        with pytest.raises(Unsupported):
            bake_target(request, ROOT, {})


# --- outputs: docker_argv's --push/--load as buildx 0.13.1 folds them into the outputs ------

def texts(request: BuildRequest) -> list[str]:
    return [", ".join(f"{k}={v}" for k, v in (("type", s.type), *s.attrs))
            for s in outputs(request)]


def test_push_and_load_become_outputs() -> None:
    tagged = dataclasses.replace(MINIMAL, tags=("r/a:1",))
    assert texts(dataclasses.replace(tagged, push=True)) == ["type=image, push=true"]
    assert texts(dataclasses.replace(tagged, load=True)) == ["type=docker"]
    assert texts(dataclasses.replace(tagged, push=True, load=True)) == [
        "type=image, push=true", "type=docker"]
    assert texts(tagged) == []


def test_push_sets_push_on_image_outputs_and_adds_none_beside_them() -> None:
    """controller/build/build.go RunBuild: `--push` sets push=true on each image output (a
    registry output is one, pushing); only without any does it add `type=image,push=true`."""
    image = AttrSpec.parse("type=image,push=false,name=r/x:1")
    registry = AttrSpec.parse("type=registry,ref=ignored")
    local = AttrSpec.parse("type=local,dest=/o")
    pushed = dataclasses.replace(MINIMAL, push=True)
    assert texts(dataclasses.replace(pushed, outputs=(local, image))) == [
        "type=local, dest=/o", "type=image, name=r/x:1, push=true"]
    assert texts(dataclasses.replace(pushed, outputs=(registry,))) == [
        "type=registry, ref=ignored"]
    assert texts(dataclasses.replace(pushed, outputs=(local,))) == [
        "type=local, dest=/o", "type=image, push=true"]


def test_load_adds_a_docker_output_unless_one_goes_to_the_store() -> None:
    """RunBuild: `--load` is met by a `type=docker` output without dest, else one is added."""
    loaded = dataclasses.replace(MINIMAL, load=True)
    to_store = AttrSpec.parse("type=docker,name=x")
    to_file = AttrSpec.parse("type=docker,dest=/x.tar")
    assert texts(dataclasses.replace(loaded, outputs=(to_store,))) == ["type=docker, name=x"]
    assert texts(dataclasses.replace(loaded, outputs=(to_file,))) == [
        "type=docker, dest=/x.tar", "type=docker"]


def test_exporter_attributes_spell_the_image_outputs_out() -> None:
    attrs = dataclasses.replace(MINIMAL, image_attrs=(("compression", "zstd"),))
    assert texts(attrs) == ["type=image, compression=zstd"]
    assert texts(dataclasses.replace(attrs, load=True, rewrite_timestamp=True)) == [
        "type=docker, compression=zstd, rewrite-timestamp=true"]
    assert texts(dataclasses.replace(attrs, push=True, load=True)) == [
        "type=image, push=true, compression=zstd", "type=docker, compression=zstd"]


# --- the file ------------------------------------------------------------------------------

def test_definition_escapes_templates_in_every_string() -> None:
    """HCL reads JSON strings, map keys included, as templates: `$${` and `%%{` are literal."""
    request = dataclasses.replace(MINIMAL, args=(("A", "${HOME}"), ("${K}", "%{ if x }")),
                                  labels=(("l", "$${x} 100% $"),))
    definition = bake_definition({"a": bake_target(request, ROOT, {})})
    target = definition["target"]["a"]  # type: ignore[index]
    assert target["args"] == {"A": "$${HOME}", "$${K}": "%%{ if x }"}
    assert target["labels"] == {"l": "$$${x} 100% $"}
    assert target["context"] == "/repo/work"
    assert json.loads(json.dumps(definition)) == definition
    assert template_literal("no templates $ % {}") == "no templates $ % {}"


def test_definition_checks_names_and_links() -> None:
    with pytest.raises(ValueError, match="validTargetNameChars"):
        bake_definition({"a.b": {"context": "/x"}})
    with pytest.raises(ValueError, match="names no target"):
        bake_definition({"b": {"context": "/x", "contexts": {"dep": "target:a"}}})
    chain = bake_definition({"a": {"context": "/a"},
                             "b": {"context": "/b", "contexts": {"dep": "target:a"}}})
    assert list(chain["target"]) == ["a", "b"]  # type: ignore[call-overload]


def test_bake_argv() -> None:
    assert bake_argv("/run/bake.json", ["a", "-b"], "/run/m.json", None) == [
        "docker", "buildx", "bake", "-f", "/run/bake.json", "--progress", "plain",
        "--metadata-file", "/run/m.json", "--", "a", "-b"]
    assert bake_argv("b.json", ["a"], "m.json", "mybuilder")[:5] == [
        "docker", "buildx", "bake", "--builder", "mybuilder"]
    assert bake_argv("b.json", ["a"], "m.json", "tcp://h:2375")[:5] == [
        "docker", "--host", "tcp://h:2375", "buildx", "bake"]
    for file, targets in (("bake.hcl", ["a"]), ("bake", ["a"]), ("b.json", []),
                          ("b.json", ["a.b"])):
        with pytest.raises(ValueError):
            bake_argv(file, targets, "m.json", None)


@pytest.mark.parametrize("builder", [None, "mybuilder", "tcp://h:2375", "unix:///run/d.sock"])
def test_builder_goes_where_docker_argv_puts_it(builder: str | None) -> None:
    build = docker_argv(dataclasses.replace(MINIMAL, builder=builder))
    bake = bake_argv("b.json", ["a"], "m.json", builder)
    at = build.index("build")
    assert bake[:at] == build[:at] and bake[at] == "bake"
    assert bake[at + 1:bake.index("-f")] == build[at + 1:build.index("--progress")]


# --- every flag docker_argv emits has its counterpart, or bake_problem says why not ----------

TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
               max_size=12)
KEY = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
PATH = st.sampled_from(["out", "../o", "/abs/o", "./x/"])


def specs(kinds: list[str], key: str) -> st.SearchStrategy[AttrSpec]:
    return st.builds(lambda kind, path: AttrSpec(kind, ((key, path),)),
                     st.sampled_from(kinds), PATH)


REQUESTS = st.builds(
    BuildRequest,
    name=st.sampled_from(["a", "api-test", "svc.api", "-x"]),
    context=st.sampled_from([".", "svc/api", "../other", "/abs/ctx", "ftp://h/x",
                             "https://github.com/o/r.git#main"]),
    dockerfile=st.sampled_from(["Dockerfile", "svc/api/Dockerfile", "/abs/Dockerfile"]),
    target=st.sampled_from([None, "", "runtime"]),
    args=st.lists(st.tuples(KEY, TEXT), max_size=3).map(tuple),
    named_contexts=st.lists(st.tuples(KEY, st.sampled_from([
        "docker-image://r/b@sha256:ab", "../src", ".", "oci-layout://l@sha256:ab",
        "https://github.com/o/r.git", "git@github.com:o/r.git"])), max_size=3,
        unique_by=lambda kv: kv[0]).map(tuple),
    secrets=st.lists(st.one_of(st.builds(SecretRef, KEY, src=PATH),
                               st.builds(SecretRef, KEY, env=KEY)), max_size=2).map(tuple),
    ssh=st.lists(st.builds(SshRef, KEY, st.lists(PATH, max_size=2).map(tuple)),
                 max_size=2).map(tuple),
    platforms=st.lists(st.sampled_from(["linux/amd64", "linux/arm64"]), max_size=2,
                       unique=True).map(tuple),
    # a label's name never holds `=` (the pipeline refuses it: `--label` cuts at the first)
    labels=st.lists(st.tuples(TEXT.filter(lambda k: "=" not in k), TEXT), max_size=2
                    ).map(tuple),
    tags=st.lists(st.sampled_from(["r/a:1", "r/a:2"]), max_size=2).map(tuple),
    cache_from=st.lists(st.one_of(specs(["local"], "src"), specs(["registry"], "ref")),
                        max_size=2).map(tuple),
    cache_to=st.lists(st.one_of(specs(["local"], "dest"), specs(["registry"], "ref")),
                      max_size=2).map(tuple),
    outputs=st.lists(st.one_of(specs(["local", "tar", "oci", "docker"], "dest"),
                               st.sampled_from([AttrSpec("docker"), AttrSpec("registry"),
                                                AttrSpec("tar", (("dest", "-"),))])),
                     max_size=2).map(tuple),
    push=st.booleans(), push_by_digest=st.booleans(), load=st.booleans(),
    network=st.sampled_from([None, "default", "host", "none"]),
    no_cache=st.booleans(), metadata_file=st.sampled_from([None, "m.json"]),
    builder=st.sampled_from([None, "b", "tcp://h:1"]),
    attest=st.lists(st.sampled_from([DISABLED, AttrSpec.parse("type=provenance,mode=max"),
                                     AttrSpec.parse("type=sbom")]), max_size=2).map(tuple),
    image_attrs=st.sampled_from([(), (("compression", "zstd"),)]),
    annotations=st.lists(st.tuples(st.sampled_from(
        ["org.x", "com.example:build", "index:org.y", "a b"]), TEXT), max_size=2).map(tuple),
    pull=st.booleans(),
    extra_hosts=st.lists(st.tuples(KEY, st.just("10.0.0.1")), max_size=1).map(tuple),
    shm_size=st.one_of(st.none(), st.integers(1, 1 << 30)),
    ulimits=st.lists(st.builds(Ulimit, st.sampled_from(["nofile", "nproc"]),
                               st.integers(0, 9), st.integers(10, 99)), max_size=2).map(tuple),
    no_cache_filter=st.lists(KEY, max_size=2).map(tuple),
    rewrite_timestamp=st.booleans(),
    load_archive=st.sampled_from([None, "a.tar"]),
)
FLAGS_WITHOUT_VALUE = {"--pull", "--no-cache", "--push", "--load"}


def parsed(argv: list[str]) -> tuple[list[tuple[str, str]], str]:
    """docker_argv's (flag, value) pairs after `build`, and the context."""
    pairs, rest = [], argv[argv.index("build") + 1:-1]
    while rest:
        flag = rest.pop(0)
        pairs.append((flag, "" if flag in FLAGS_WITHOUT_VALUE else rest.pop(0)))
    return pairs, argv[-1]


def absolute(path: str) -> str:
    return os.path.normpath(ROOT / path)


def with_absolute(spec: AttrSpec, key: str) -> AttrSpec:
    return AttrSpec(spec.type, tuple((k, absolute(v) if k == key and v != "-" else v)
                                     for k, v in spec.attrs))


def folded(pairs: list[tuple[str, str]]) -> list[AttrSpec]:
    """The outputs buildx 0.13.1 builds from --output, --push and --load (RunBuild); the
    requests generated hold no `type=image` output, as planning never writes one."""
    specs = [with_absolute(AttrSpec.parse(v), "dest") for f, v in pairs if f == "--output"]
    if ("--push", "") in pairs and not any(s.type in ("image", "registry") for s in specs):
        specs.append(AttrSpec("image", (("push", "true"),)))
    if ("--load", "") in pairs and not any(s.type == "docker" and s.get("dest") is None
                                           for s in specs):
        specs.append(AttrSpec("docker"))
    return specs


def context_value(value: str) -> str:
    if value.startswith("oci-layout://"):
        return "oci-layout://" + absolute(value.removeprefix("oci-layout://"))
    return value if "://" in value or value.startswith("git@") else absolute(value)


def secret_value(value: str) -> str:
    fields = dict(field.split("=", 1) for field in next(csv.reader([value])))
    return secret_spec(SecretRef(fields["id"], src=fields.get("src") and absolute(fields["src"]),
                                 env=fields.get("env")))


def ssh_value(value: str) -> str:
    key, sep, paths = value.partition("=")
    return f"{key}={','.join(absolute(p) for p in paths.split(','))}" if sep else value


def cache_value(value: str, key: str) -> str:
    spec = AttrSpec.parse(value)
    return spec_text(with_absolute(spec, key)) if spec.type == "local" else value


def expected(pairs: list[tuple[str, str]], context: str) -> dict[str, object]:
    """The bake target docker_argv's flags stand for (bake/bake.go Target keys), outputs
    aside."""
    values: dict[str, list[str]] = {}
    for flag, value in pairs:
        values.setdefault(flag, []).append(value)
    target: dict[str, object] = {"context": absolute(context),
                                 "dockerfile": absolute(values["--file"][0])}
    one = {"--target": "target", "--shm-size": "shm-size"}
    target.update((key, values[flag][0]) for flag, key in one.items() if flag in values)
    maps: dict[str, tuple[str, Callable[[str], str]]] = {
        "--build-arg": ("args", str), "--label": ("labels", str),
        "--build-context": ("contexts", context_value)}
    for flag, (key, value_of) in maps.items():
        if flag in values:
            items = (v.split("=", 1) for v in values[flag])
            target[key] = {k: value_of(v) for k, v in items}
    lists: dict[str, tuple[str, Callable[[str], str]]] = {
        "--secret": ("secret", secret_value), "--ssh": ("ssh", ssh_value),
        "--tag": ("tags", str), "--attest": ("attest", str),
        "--annotation": ("annotations", str), "--ulimit": ("ulimits", str),
        "--no-cache-filter": ("no-cache-filter", str),
        "--cache-from": ("cache-from", lambda v: cache_value(v, "src")),
        "--cache-to": ("cache-to", lambda v: cache_value(v, "dest"))}
    for flag, (key, value_of) in lists.items():
        if flag in values:
            target[key] = [value_of(v) for v in values[flag]]
    if "--platform" in values:
        target["platforms"] = values["--platform"][0].split(",")
    target.update((flag[2:], True) for flag in ("--pull", "--no-cache") if flag in values)
    return target


# what bake_argv carries (--progress, --builder, --metadata-file), what bake_problem refuses
# (--add-host, --network but `default`), and what the target carries
HANDLED = {"--progress", "--builder", "--metadata-file", "--file", "--target", "--build-arg",
           "--build-context", "--secret", "--ssh", "--platform", "--label", "--tag",
           "--cache-from", "--cache-to", "--attest", "--annotation", "--output", "--push",
           "--load", "--network", "--shm-size", "--ulimit", "--no-cache-filter", "--pull",
           "--no-cache", "--add-host"}


def check_counterparts(request: BuildRequest) -> None:
    try:
        argv = docker_argv(request)
    except Unsupported:
        with pytest.raises(ValueError):  # an Unsupported, or bake_problem's refusal
            bake_target(request, ROOT, {})
        return
    pairs, context = parsed(argv)
    flags = {flag for flag, _ in pairs}
    assert flags <= HANDLED, f"docker_argv emits {flags - HANDLED}, unknown to bake_file"
    problem = bake_problem(request)
    if "--add-host" in flags or any(f == "--network" and v != "default" for f, v in pairs):
        assert problem is not None
    if problem is not None:
        with pytest.raises(ValueError, match="^" + re.escape(request.name)):
            bake_target(request, ROOT, {})
        return
    target = bake_target(request, ROOT, {})
    written = target.pop("output", [])
    assert isinstance(written, list)
    assert [AttrSpec.parse(text) for text in written] == folded(pairs)
    assert target == expected(pairs, context)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(REQUESTS)
def test_every_docker_argv_flag_has_its_bake_counterpart(request: BuildRequest) -> None:
    check_counterparts(request)


@pytest.mark.parametrize("request_", [BAKEABLE, MINIMAL, FULL], ids=["bakeable", "min", "full"])
def test_samples_have_their_counterparts(request_: BuildRequest) -> None:
    check_counterparts(request_)


def test_a_template_marker_beside_a_carriage_return_is_left_to_a_single_build() -> None:
    # buildx 0.13.1 `bake --print` read `\r$$${` (the escape of `\r$${`) back unchanged
    request = dataclasses.replace(MINIMAL, args=(("A", "\r$${"),))
    assert "carriage return" in (bake_problem(request) or "")
    assert bake_problem(dataclasses.replace(MINIMAL, args=(("A", "\r$x"),))) is None
    assert bake_problem(dataclasses.replace(MINIMAL, args=(("A", "a$${"),))) is None


@pytest.mark.parametrize("change", [
    {"target": "\U0002f800"},  # CJK compatibility ideograph: NFC is U+4E3D (CI found it)
    {"args": (("A", "e\u0301"),)},  # decomposed é
    {"labels": (("e\u0301", "x"),)},
    {"annotations": (("org.example.a", "\u212b"),)},  # angstrom sign: NFC is U+00C5
    {"secrets": (SecretRef("s", src="e\u0301.txt"),)},
    {"cache_from": (AttrSpec.parse("type=registry,ref=r/e\u0301:1"),)},
])
def test_a_string_bake_would_normalize_is_left_to_a_single_build(
        change: dict[str, object]) -> None:
    # buildx 0.13.1 `bake --print` read every string of a JSON file back in NFC form
    problem = bake_problem(dataclasses.replace(MINIMAL, **change))  # type: ignore[arg-type]
    assert problem is not None and "NFC" in problem
    assert bake_problem(dataclasses.replace(MINIMAL, args=(("A", "\u00e9\u4e3d"),))) is None
