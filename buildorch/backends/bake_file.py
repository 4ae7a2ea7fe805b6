"""BuildRequests as one `docker buildx bake` definition (pure): a chain of images built in one
bake invocation, each link reaching the previous one through a `target:` named context, so
that BuildKit hands the result over in-session.

Written for, and checked against, the buildx this project runs: 0.13.1 (`docker buildx
version`: 0.13.1+ds1) with Docker 26.1's BuildKit. The search index holds no docker/buildx
tree at v0.13.1, so the sources read are the versions on either side, each fact then run
against the 0.13.1 binary (tests/backends/test_bake_file_engine.py):

- docker/buildx bake/bake.go at e141c8fa (newest stored) and at 22e025b7 (jedevc/buildx,
  ~v0.10): `validTargetNameChars = [a-zA-Z0-9_-]+`, the `Target` struct (JSON keys are
  its `hcl:` names: `secret`, `output`, `platforms`, `cache-from`, ...), `normalize()`
  (drops duplicates and empty list entries, keeps one `attest` per type), `toBuildOpt`
  (a relative `dockerfile` is joined to the context; an absolute one is kept), and
  `ReadLocalFiles` (the default files, compose ones included, are read only when no `-f`
  is given).
- `network`: buildx#863 gave bake targets a NetworkMode for compose files only and
  buildx#880 tagged it `json:"-" hcl:"-"`; HCL/JSON support came with buildx#2671
  (2024-09, v0.17). On 0.13.1 a `"network"` key is ignored without a word (seen: a RUN
  still had eth0).
- `extra-hosts`: added by buildx#3234 (2025-06, v0.25). On 0.13.1 the key is ignored
  without a word (seen with `--print`): bake 0.13.1 drops unknown keys of a JSON target.
- bake/hcl.go (stored at 0360668c, older) and bake/compose.go `validateComposeFile`: a file
  named `*.json` is parsed as HCL's JSON syntax, never as a compose file; its strings are HCL
  templates (`${...}`, `%{...}`), written `$${` / `%%{` to stand for themselves (seen:
  `${HOME}` fails with "Unknown variable"). HCL variables come from the environment only where
  the file declares a `variable` block, which these files never do.
- controller/build/build.go `RunBuild` (what `docker buildx build` runs; stored at 04000db8):
  `--push` sets `push=true` on every image output or else adds `type=image,push=true`;
  `--load` adds `type=docker` unless a docker output without `dest` is there (buildx#2302,
  marked for the 0.13 branch; seen on 0.13.1: `--load -o type=local` exports both);
  annotations go on every export, as bake's toBuildOpt does; `--no-cache` with
  `--no-cache-filter` is refused there and not in bake (seen). util/buildflags ParseAttests
  refuses two attestations of one type ("duplicate attestation field", seen); bake keeps the
  last one.
- controller/pb/path.go `ResolveOptionPaths` (as stored; commands/build.go runControllerBuild
  calls it): the paths `docker buildx build` makes absolute against its working directory
  (context, Dockerfile, local and `oci-layout://` named contexts, secret `src`, SSH paths,
  `type=local` cache `src`/`dest`, output `dest` other than `-`). bake_target writes the same
  paths absolute against `root`, the working directory buildorch runs builds in, so a
  definition means the same from any directory, and bake's own rules for relative paths (a
  `dockerfile` relative to the context) never apply.

Environment: the buildx 0.13.1 binary reads no `BUILDX_BAKE_*` variable (none is among its
strings; `BUILDX_BAKE_FILE` and `BUILDX_BAKE_GIT_AUTH_*` are later); `BAKE_ALLOW_REMOTE_FS_ACCESS`
concerns remote bake definitions only. `BUILDX_BUILDER`, `BUILDX_NO_DEFAULT_ATTESTATIONS`,
`BUILDX_GIT_*` and `BUILDX_CONFIG` act on bake exactly as on `docker buildx build` (the
shared build package), and `env=` secrets are read from bake's environment as from build's.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from buildorch.backends.flags import (
    annotation_attrs,
    annotation_levels,
    check_main_context,
    docker_builder_flags,
    image_attrs,
    is_local_context,
    is_remote_context,
    secret_spec,
    spec_text,
    ssh_spec,
    timestamp_attrs,
)
from buildorch.backends.request import AttrSpec, BuildRequest, SecretRef, SshRef

# bake/bake.go validTargetNameChars, checked on every target label of the file.
TARGET_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
LINK_PREFIX = "target:"
OCI_LAYOUT = "oci-layout://"
STDIN = "-"


def target_name_problem(name: str) -> str | None:
    """Why bake 0.13.1 refuses `name` as a target's name, if it does."""
    if TARGET_NAME.match(name):
        return None
    return (f"bake takes target names of letters, digits, '_' and '-' only "
            f"(buildx bake/bake.go validTargetNameChars), not {name!r}")


def bake_problem(req: BuildRequest) -> str | None:
    """Why `req` cannot be one target of a bake 0.13.1 definition meaning exactly what
    `docker_argv(req)` means; None when it can. The target is named `req.name`."""
    return next((problem for problem in _problems(req) if problem), None)


def _problems(req: BuildRequest) -> Iterable[str | None]:
    yield target_name_problem(req.name)
    if req.load_archive is not None:
        yield "a reproducible image loaded through a tarball is written by its own build"
    if req.push_by_digest:
        yield "pushing by digest is left to single builds"
    if req.secret_values():
        yield "the request carries credentials, which a bake file would hold in clear"
    if req.builder_tls is not None:
        yield "a builder reached over TLS is left to single builds (its flags go on each call)"
    if is_remote_context(req.context):
        yield ("a remote main context is left to single builds (where its Dockerfile is read "
               "from was not run through bake here)")
    if STDIN in (req.context, req.dockerfile):
        yield "bake takes no context or Dockerfile from standard input"
    if req.extra_hosts:
        yield "bake 0.13.1 has no extra-hosts (buildx#3234, v0.25) and ignores the key"
    if req.network not in (None, "default"):
        yield "bake 0.13.1 ignores `network` in a file (buildx#880; read from v0.17, buildx#2671)"
    if req.no_cache and req.no_cache_filter:
        yield "docker buildx build refuses --no-cache with --no-cache-filter; bake would not"
    if any("\r" in text and ("${" in text or "%{" in text) for text in _texts(req)):
        yield ("bake 0.13.1 reads a template marker in a string that holds a carriage return "
               "differently (seen: `\\r$$${` read back as written, not as `\\r$${`)")
    if any(unicodedata.normalize("NFC", text) != text for text in _texts(req)):
        yield ("bake normalizes every string of its file to Unicode NFC (seen: U+2F800 read "
               "back as U+4E3D), so a string that is not NFC would change")
    types = [spec.type for spec in req.attest]
    if len(set(types)) < len(types):
        yield "docker buildx build refuses two attestations of one type; bake keeps the last"


def _texts(req: BuildRequest) -> Iterable[str]:
    """The request's strings that go into the bake file as HCL templates."""
    yield from (req.context, req.dockerfile, req.target or "", *req.tags, *req.platforms,
                *req.no_cache_filter)
    for pairs in (req.args, req.labels, req.annotations, req.named_contexts, req.image_attrs):
        for key, value in pairs:
            yield from (key, value)
    for secret in req.secrets:
        yield from (secret.id, secret.src or "", secret.env or "")
    for ssh in req.ssh:
        yield from (ssh.id, *ssh.paths)
    yield from (spec_text(spec) for spec in (*req.cache_from, *req.cache_to, *req.outputs,
                                               *req.attest))


def bake_target(req: BuildRequest, root: Path, linked: Mapping[str, str]) -> dict[str, object]:
    """The bake target for `req`, as values (bake_definition writes them into the file).

    `root` is the absolute working directory buildorch runs builds in (request paths are
    relative to it); `linked` maps a named-context key of the request to the name of the
    bake target, in the same definition, that builds that image: the context becomes
    `target:<name>`. An inline Dockerfile is read from `req.dockerfile`, where the run writes
    it, as for docker_argv. `req.metadata_file` and `req.builder` belong to the whole bake
    (bake_argv), not to a target.
    """
    problem = bake_problem(req)
    if problem is not None:
        raise ValueError(f"{req.name}: {problem}")
    if not root.is_absolute():
        raise ValueError(f"root {root} is not absolute")
    check_main_context(req.context)  # raises as docker_argv does
    local = _Local(root)
    target: dict[str, object] = {"context": local.path(req.context),
                                 "dockerfile": local.path(req.dockerfile)}
    if req.target:
        target["target"] = req.target
    fields: dict[str, object] = {
        "args": dict(req.args),
        "contexts": _contexts(req, local, linked),
        "secret": [secret_spec(local.secret(s)) for s in req.secrets],
        "ssh": [ssh_spec(local.ssh(s)) for s in req.ssh],
        "platforms": list(req.platforms),
        "labels": dict(req.labels),
        "tags": list(req.tags),
        "cache-from": [spec_text(local.cache(s, "src")) for s in req.cache_from],
        "cache-to": [spec_text(local.cache(s, "dest")) for s in req.cache_to],
        "attest": [spec_text(s) for s in req.attest],
        "annotations": [_annotation(k, v) for k, v in req.annotations],
        "output": [spec_text(local.output(s)) for s in outputs(req)],
        "no-cache-filter": list(req.no_cache_filter),
        "ulimits": [u.text() for u in req.ulimits],
    }
    target.update((key, value) for key, value in fields.items() if value)
    if req.shm_size is not None:
        target["shm-size"] = str(req.shm_size)
    if req.pull:
        target["pull"] = True
    if req.no_cache:
        target["no-cache"] = True
    return target


def _contexts(req: BuildRequest, local: _Local, linked: Mapping[str, str]) -> dict[str, str]:
    unknown = set(linked) - {key for key, _ in req.named_contexts}
    if unknown:
        raise ValueError(f"{req.name}: no named context {sorted(unknown)[0]!r} to link")
    contexts = {}
    for key, value in req.named_contexts:
        if key in linked:
            problem = target_name_problem(linked[key])
            if problem is not None:
                raise ValueError(f"{req.name}: context {key!r}: {problem}")
            contexts[key] = LINK_PREFIX + linked[key]
        elif value.startswith(OCI_LAYOUT):
            contexts[key] = OCI_LAYOUT + local.path(value.removeprefix(OCI_LAYOUT))
        else:
            contexts[key] = local.path(value) if is_local_context(value) else value
    return contexts


def _annotation(key: str, value: str) -> str:
    """As docker_argv writes `--annotation` (bake's `annotations` are read by the same
    util/buildflags ParseAnnotations): a key with `:` but no level prefix gets `manifest:`."""
    annotation_attrs([(key, value)])  # the key checks BuildKit makes
    levels, _ = annotation_levels(key)
    return f"manifest:{key}={value}" if ":" in key and not levels else f"{key}={value}"


def outputs(req: BuildRequest) -> list[AttrSpec]:
    """Every export docker_argv asks for, spelled out: bake has no per-target `--push` or
    `--load`. With exporter attributes docker_argv writes the image outputs itself; without,
    its `--push`/`--load` are folded into the outputs as buildx 0.13.1 folds them
    (controller/build/build.go RunBuild)."""
    specs = list(req.outputs)
    attrs = image_attrs(req)
    if req.push or req.load:
        attrs = (*attrs, *timestamp_attrs(req))
    if not attrs:
        specs = _pushed(specs) if req.push else specs
        return _loaded(specs) if req.load else specs
    kept = [AttrSpec("image", (("push", "true"), *attrs))] if req.push else []
    if req.load:
        kept.append(AttrSpec("docker", attrs))
    return specs + (kept or [AttrSpec("image", attrs)])


def _pushed(specs: list[AttrSpec]) -> list[AttrSpec]:
    """`--push`: every image output pushes (`registry` is `image,push=true` already); with
    none, an image output that pushes is added."""
    if not any(spec.type in ("image", "registry") for spec in specs):
        return [*specs, AttrSpec("image", (("push", "true"),))]
    return [AttrSpec(s.type, (*((k, v) for k, v in s.attrs if k != "push"), ("push", "true")))
            if s.type == "image" else s for s in specs]


def _loaded(specs: list[AttrSpec]) -> list[AttrSpec]:
    """`--load`: a docker output into the store, unless one without `dest` is there."""
    if any(spec.type == "docker" and spec.get("dest") is None for spec in specs):
        return specs
    return [*specs, AttrSpec("docker")]


class _Local:
    """Paths against the run's working directory, as `filepath.Abs` makes them (joined and
    cleaned lexically: controller/pb/path.go ResolveOptionPaths)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, path: str) -> str:
        return os.path.normpath(self.root / path)

    def secret(self, secret: SecretRef) -> SecretRef:
        if not secret.src:
            return secret
        return SecretRef(secret.id, src=self.path(secret.src), env=secret.env)

    def ssh(self, ssh: SshRef) -> SshRef:
        return SshRef(ssh.id, tuple(self.path(p) if p else p for p in ssh.paths))

    def cache(self, spec: AttrSpec, key: str) -> AttrSpec:
        """A `type=local` cache's `src` (import) or `dest` (export)."""
        if spec.type != "local":
            return spec
        return self._attr(spec, key)

    def output(self, spec: AttrSpec) -> AttrSpec:
        """Any output's `dest`, but `-` (standard output)."""
        return self._attr(spec, "dest")

    def _attr(self, spec: AttrSpec, key: str) -> AttrSpec:
        return AttrSpec(spec.type, tuple(
            (k, self.path(v) if k == key and v not in ("", STDIN) else v)
            for k, v in spec.attrs))


def bake_definition(targets: Mapping[str, Mapping[str, object]]) -> dict[str, object]:
    """The bake file (JSON) for `targets` (name -> bake_target). Every string is written so
    that bake reads it back as is: HCL's JSON syntax takes strings, map keys included, as
    templates, so `${` and `%{` are escaped as `$${` and `%%{`. Each `target:` context must
    name a target of the definition."""
    for name, target in targets.items():
        problem = target_name_problem(name)
        if problem is not None:
            raise ValueError(problem)
        contexts = target.get("contexts")
        for value in contexts.values() if isinstance(contexts, Mapping) else ():
            if isinstance(value, str) and value.startswith(LINK_PREFIX) and \
                    value.removeprefix(LINK_PREFIX) not in targets:
                raise ValueError(f"{name}: {value!r} names no target of the definition")
    return {"target": {name: _escaped(dict(target)) for name, target in targets.items()}}


def template_literal(text: str) -> str:
    """`text` as an HCL template that evaluates to `text` (hashicorp/hcl hclsyntax spec:
    `$${` and `%%{` are the literal `${` and `%{`)."""
    return text.replace("${", "$${").replace("%{", "%%{")


def _escaped(value: object) -> object:
    if isinstance(value, str):
        return template_literal(value)
    if isinstance(value, Mapping):
        return {template_literal(str(k)): _escaped(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(item) for item in value]
    return value


def bake_argv(file: str, targets: Sequence[str], metadata_file: str,
              builder: str | None) -> list[str]:
    """`docker [--host H] buildx bake [--builder B] -f FILE --progress plain --metadata-file M
    -- TARGET...`. With `-f` bake reads that file only (no docker-bake.* or compose file
    from the working directory); FILE must end in `.json`, which bake parses as JSON and never
    as a compose file. `--` ends the flags: a target name may start with `-`. The metadata
    file maps each target to its result (`containerimage.digest`, `image.name`) and is
    written only when every target succeeded. Every target is built with `builder` (the
    requests' `builder`, which must be one for the whole definition)."""
    if not file.endswith(".json"):
        raise ValueError(f"bake file {file!r}: name it *.json (read as JSON, not compose)")
    if not targets:
        raise ValueError("no target to bake")
    for name in targets:
        problem = target_name_problem(name)
        if problem is not None:
            raise ValueError(problem)
    host, flags = docker_builder_flags(builder)
    return ["docker", *host, "buildx", "bake", *flags, "-f", file, "--progress", "plain",
            "--metadata-file", metadata_file, "--", *targets]
