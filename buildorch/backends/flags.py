"""Flag values the backends share (pure): CSV fields, secret and SSH specs, cache and
output specs, the image exporter, network modes, named-context kinds, remote main contexts,
attestations and annotations.

docker buildx, buildctl and nerdctl (which hands these values to buildctl unchanged)
read `--secret`, `--cache-from/--cache-to` (`--import-cache/--export-cache`) and
`--output` as one CSV record each (docker/buildx util/buildflags, moby/buildkit
cmd/buildctl/build): a field holding a comma or a quote is quoted as a whole
(`type=image,"name=r/a:1,r/a:2",push=true`, moby/buildkit README.md "Image/Registry";
moby/buildkit#2141). `--ssh` is not CSV: `<id>[=<socket>|<key>[,<key>]]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from buildorch.backends.request import (
    AttrSpec,
    BuilderTls,
    BuildRequest,
    SecretRef,
    SshRef,
    Unsupported,
)
from buildorch.errors import shorten
from buildorch.oci.reference import repository_of

NETWORK_MODES = ("default", "host", "none")
OCI_LAYOUT = "oci-layout://"


def csv_field(field: str) -> str:
    """One CSV field as Go's encoding/csv reads it: quoted when it holds `,` `"` or a newline."""
    if any(c in field for c in ',"\r\n'):
        return '"' + field.replace('"', '""') + '"'
    return field


def csv_join(fields: Iterable[str]) -> str:
    return ",".join(csv_field(f) for f in fields)


def flag_pairs(flag: str, values: Iterable[str]) -> list[str]:
    return [item for value in values for item in (flag, value)]


def spec_text(spec: AttrSpec) -> str:
    """A cache or output spec as one flag value: `type=...,key=value,...`."""
    return csv_join([f"type={spec.type}", *(f"{k}={v}" for k, v in spec.attrs)])


def spec_texts(specs: Iterable[AttrSpec]) -> list[str]:
    return [spec_text(spec) for spec in specs]


def secret_spec(secret: SecretRef) -> str:
    """`id=ID,src=PATH` or `id=ID,env=VAR`: a reference, never the value (buildctl secret.go,
    buildx util/buildflags/secrets.go)."""
    if (secret.src is None) == (secret.env is None):
        raise ValueError(f"secret {secret.id!r} needs exactly one of src or env")
    source = f"src={secret.src}" if secret.src is not None else f"env={secret.env}"
    return csv_join([f"id={secret.id}", source])


def ssh_spec(ssh: SshRef) -> str:
    return f"{ssh.id}={','.join(ssh.paths)}" if ssh.paths else ssh.id


def pushes(req: BuildRequest) -> bool:
    return req.push or req.push_by_digest


def image_output(req: BuildRequest) -> str:
    """The image export with the pipeline's attributes and annotations (`image_output_spec`)."""
    return spec_text(image_output_spec(req))


def image_spec(req: BuildRequest) -> AttrSpec:
    """The `type=image` exporter attributes (README.md "Keys supported by image output").

    push_by_digest pushes `repository@digest` with no tag (`push-by-digest=true`);
    BuildKit refuses a tagged name there ("can't push tagged ref ... by digest",
    moby/buildkit util/push/push.go), so the names are the tags' repositories.
    """
    if pushes(req) and not req.tags:
        raise Unsupported(("tags",), "pushing needs at least one tag to name the repository")
    if req.push_by_digest:
        names = list(dict.fromkeys(repository_of(t) for t in req.tags))
    else:
        names = list(req.tags)
    attrs = [("name", ",".join(names))] if names else []
    attrs.append(("push", "true" if pushes(req) else "false"))
    if req.push_by_digest:
        # name-canonical also names the stored image `name@<digest>`, the pinned form.
        attrs += [("push-by-digest", "true"), ("name-canonical", "true")]
    return AttrSpec("image", tuple(attrs))


def network_mode(network: str | None) -> str | None:
    """`default` (or unset) means BuildKit's own; only `host` and `none` are forced."""
    if network is not None and network not in NETWORK_MODES:
        raise Unsupported(("network",), f"network {network!r} is not supported by BuildKit: "
                                        f"use {', '.join(NETWORK_MODES)}")
    return None if network in (None, "default") else network


def docker_builder_flags(address: str | None, tls: BuilderTls | None = None
                         ) -> tuple[list[str], list[str]]:
    """Where `docker buildx build|bake` builds: a docker host URL goes before `buildx`
    (`--host`, with its TLS: docker_tls_flags), a buildx builder name after the subcommand
    (`--builder`)."""
    if address is None:
        return [], []
    if "://" in address:
        return ["--host", address, *docker_tls_flags(tls)], []
    return [], ["--builder", address]


def docker_tls_flags(tls: BuilderTls | None) -> list[str]:
    """The docker CLI's global TLS flags (docker/cli cli/flags/options.go InstallFlags):
    `--tlsverify` (TLS, and check the daemon's certificate), `--tlscacert`, and the client's
    `--tlscert`/`--tlskey`. A CLI plugin (buildx) parses the same global flags (cli/cobra.go
    SetupPluginRootCommand) and dials the daemon with them. Where the pipeline gives no key
    pair, docker still sends ~/.docker's cert.pem and key.pem if they exist
    (SetDefaultOptions)."""
    if tls is None:
        return []
    flags = ["--tlsverify", "--tlscacert", tls.ca]
    flags += ["--tlscert", tls.cert] if tls.cert else []
    return flags + (["--tlskey", tls.key] if tls.key else [])


def docker_tls_problem(tls: BuilderTls) -> str | None:
    """docker's client has no server-name flag: it checks the daemon's certificate against
    the host of `--host` (docker/cli cli/flags/options.go has --tlsverify, --tlscacert,
    --tlscert and --tlskey only)."""
    if tls.server_name is not None:
        return ("docker has no flag for a TLS server name (docker/cli cli/flags/options.go): "
                "it checks the daemon's certificate against the address's host; leave "
                "server_name out, or use backend buildctl (--tlsservername)")
    return None


def is_local_context(source: str) -> bool:
    """A directory, as opposed to what BuildKit fetches itself (`docker-image://`, `https://`,
    `git://`, `target:`), which goes as `--opt context:NAME=VALUE` (docker/buildx
    build/opt.go), or an `oci-layout://` store. Like the plan, anything with `://` is not local."""
    return "://" not in source and not source.startswith(("target:", "git@"))


# What BuildKit's named-context loader takes besides a local folder (moby/buildkit
# frontend/dockerui/namedcontext.go: docker-image, git (also `git@host:...`), http(s),
# oci-layout, and local/input, which clients set themselves).
REMOTE_CONTEXT_SCHEMES = ("docker-image", "oci-layout", "git", "http", "https")


def context_scheme_problem(source: str) -> str | None:
    """Why BuildKit would refuse `source` as a named context, if it would."""
    scheme, sep, _ = source.partition("://")
    if sep and scheme not in REMOTE_CONTEXT_SCHEMES:
        return (f"BuildKit takes no {shorten(scheme)}:// named context (it takes a folder, "
                f"{', '.join(s + '://' for s in REMOTE_CONTEXT_SCHEMES)} or git@host:repo)")
    return None


# --- Fields of bake's targets: attestations, annotations, run limits, remote contexts ------

# A main build context BuildKit fetches itself (moby/buildkit frontend/dockerui/context.go:
# DetectGitContext takes what dfgitutil.ParseGitRef does, `git://`, `ssh://`, `git@host:...`
# and http(s) URLs ending in `.git`, each with `#ref:subdir`; DetectHTTPContext any other
# http(s) URL, a tarball or a bare Dockerfile). docker/buildx build/url.go IsRemoteURL agrees.
REMOTE_CONTEXT_PREFIXES = ("https://", "http://", "git://", "ssh://", "git@")
GIT_SSH_PREFIXES = ("ssh://", "git@")  # buildx util/buildflags IsGitSSH: gitutil's SSH protocol


def is_remote_context(source: str) -> bool:
    return source.startswith(REMOTE_CONTEXT_PREFIXES)


def is_git_ssh(source: str) -> bool:
    """A git context fetched over SSH: llb.Git mounts the SSH agent with id `default` for it
    (moby/buildkit client/llb/source.go, AttrMountSSHSock)."""
    return source.startswith(GIT_SSH_PREFIXES)


def check_main_context(source: str) -> None:
    """A folder or a remote context; no other scheme is a build context."""
    if "://" in source and not is_remote_context(source):
        raise Unsupported(("context",), f"{shorten(source)!r} is not a build context: give a "
                          "folder, an http(s) URL or a git URL (git@host:org/repo.git#ref:dir)")


# Go's strconv.ParseBool, which buildx reads `disabled=` with (util/buildflags/attests.go)
# and BuildKit's image exporter `push=`.
_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def go_bool(text: str) -> bool | None:
    """`text` as Go's strconv.ParseBool reads it; None where it refuses it."""
    if text in _GO_TRUE:
        return True
    return False if text in _GO_FALSE else None


PROVENANCE = "provenance"  # the attestation type buildx adds by default


def attest_disabled(spec: AttrSpec) -> bool:
    value = spec.get("disabled")
    disabled = False if value is None else go_bool(value)
    if disabled is None:
        raise Unsupported(("attest",), f"type={spec.type}: disabled={value!r} is not a boolean")
    return disabled


def enabled_attests(specs: Iterable[AttrSpec]) -> list[AttrSpec]:
    """The attestations to ask BuildKit for, without buildx's `disabled` key. Only buildx adds
    one by default (provenance, docker/buildx build/opt.go); BuildKit itself, so buildctl and
    nerdctl, attaches none unless asked: a disabled spec is simply left out there."""
    return [AttrSpec(s.type, tuple((k, v) for k, v in s.attrs if k != "disabled"))
            for s in specs if not attest_disabled(s)]


def attest_value(spec: AttrSpec) -> str:
    """The frontend option's value, `--opt attest:TYPE=VALUE` (moby/buildkit
    frontend/attestations/parse.go reads it as CSV; docs/attestations/sbom.md and
    slsa-provenance.md: `--opt attest:sbom=`, `--opt attest:provenance=mode=max`)."""
    return csv_join(f"{k}={v}" for k, v in spec.attrs)


# Exporters that write an image manifest, which annotations go on (moby/buildkit
# docs/annotations.md: `annotation.KEY=VALUE` on the `image` or `oci` (and related) exporters).
IMAGE_EXPORTERS = frozenset({"image", "oci", "docker"})
CACHE_ONLY = "cacheonly"  # buildx's "fake exporter to opt out of default behaviors" (opt.go)


# buildx's annotation levels, written `TYPE[,TYPE]:KEY` with an optional `[platform]` after
# each type (docker/buildx util/buildflags/export.go ParseAnnotations; exptypes/annotations.go).
ANNOTATION_TYPES = ("index", "index-descriptor", "manifest", "manifest-descriptor")
_ANNOTATION_TYPE = re.compile(r"^([a-z-]+)(?:\[([A-Za-z0-9_/-]+)\])?$")


def annotation_levels(key: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """((type, platform), ...) of buildx's `index:`, `manifest[linux/amd64]:`, ... prefix,
    and the key after it; no levels (the manifest, the default) when the key has no such
    prefix: `com.example:build` is a key with a colon."""
    types, sep, rest = key.partition(":")
    levels = []
    for part in types.split(",") if sep else ():
        match = _ANNOTATION_TYPE.match(part)
        if match is None or match.group(1) not in ANNOTATION_TYPES:
            return (), key
        levels.append((match.group(1), match.group(2) or ""))
    return tuple(levels), rest if levels else key


def annotation_attrs(annotations: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """`annotation.KEY=VALUE` exporter attributes: the manifest's, the default level, or
    `annotation-index.KEY` (and the other levels) for a key written with buildx's prefix
    (moby/buildkit exporter/containerimage/exptypes/annotations.go AnnotationKey.String: a
    platform goes with the manifest levels only)."""
    attrs = []
    for written, value in annotations:
        levels, key = annotation_levels(written)
        if not key or any(c.isspace() for c in key):
            # exptypes keyAnnotationRegexp: `^annotation(...)\.(\S+)$`
            raise Unsupported(("annotations",), f"annotation key {written!r}: BuildKit takes "
                              "a key without blanks")
        for kind, platform in levels or (("", ""),):
            where = f"[{platform}]" if platform and kind.startswith("manifest") else ""
            attrs.append((f"annotation{'-' if kind else ''}{kind}{where}.{key}", value))
    return tuple(attrs)


def annotated(spec: AttrSpec, annotations: tuple[tuple[str, str], ...]) -> AttrSpec:
    """`spec` with the annotations when its exporter writes a manifest, as buildx sets them on
    every export (docker/buildx controller/build/build.go)."""
    if spec.type not in IMAGE_EXPORTERS or not annotations:
        return spec
    return AttrSpec(spec.type, (*spec.attrs, *annotation_attrs(annotations)))


def image_attrs(req: BuildRequest) -> tuple[tuple[str, str], ...]:
    """The pipeline's image exporter attributes; buildorch alone names and pushes."""
    taken = [key for key, _ in req.image_attrs if key in ("name", "push")]
    if taken:
        raise Unsupported(("outputs",), f"the image output's {taken[0]!r} comes from the "
                          "image's tags and push setting, not from its attributes")
    return req.image_attrs


# An attribute of the image, oci and docker exporters from BuildKit 0.13 on: layer file
# timestamps after SOURCE_DATE_EPOCH are set to it (moby/buildkit README.md "Image/Registry",
# docs/build-repro.md; exporter/containerimage/opts.go OptKeyRewriteTimestamp).
REWRITE_TIMESTAMP = "rewrite-timestamp"


def timestamp_attrs(req: BuildRequest) -> tuple[tuple[str, str], ...]:
    """`rewrite-timestamp=true` for the image buildorch keeps, where the request asks for it
    and the pipeline's image attributes do not already say."""
    if not req.rewrite_timestamp or any(k == REWRITE_TIMESTAMP for k, _ in req.image_attrs):
        return ()
    return ((REWRITE_TIMESTAMP, "true"),)


def with_rewritten_timestamps(spec: AttrSpec) -> AttrSpec:
    """An export that writes an image (oci, docker) rewriting its timestamps, unless it says."""
    if spec.type not in IMAGE_EXPORTERS or spec.get(REWRITE_TIMESTAMP) is not None:
        return spec
    return AttrSpec(spec.type, (*spec.attrs, (REWRITE_TIMESTAMP, "true")))


def archive_type(req: BuildRequest) -> str:
    """The tarball a loaded image goes through where the builder cannot rewrite timestamps as
    it loads: `docker`, or `oci` for an index (several platforms, or attestations), which
    BuildKit's docker exporter refuses ("docker exporter does not support exporting manifest
    lists, use the oci exporter instead": exporter/oci/export.go, seen on Docker 26.1).
    `docker load` and `nerdctl load` take both."""
    return "oci" if len(req.platforms) > 1 or enabled_attests(req.attest) else "docker"


def image_output_spec(req: BuildRequest) -> AttrSpec:
    """The image exporter with the pipeline's attributes, `rewrite-timestamp` where asked, and
    the annotations."""
    spec = image_spec(req)
    attrs = (*spec.attrs, *image_attrs(req), *timestamp_attrs(req))
    return annotated(AttrSpec(spec.type, attrs), req.annotations)


HOST_GATEWAY = "host-gateway"  # resolved by docker and nerdctl, never by BuildKit itself
