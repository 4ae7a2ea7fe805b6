"""Flag values the backends share (pure): CSV fields, secret and SSH specs, cache and
output specs, the image exporter, network modes, named-context kinds.

docker buildx, buildctl and nerdctl (which hands these values to buildctl unchanged)
read `--secret`, `--cache-from/--cache-to` (`--import-cache/--export-cache`) and
`--output` as one CSV record each (docker/buildx util/buildflags, moby/buildkit
cmd/buildctl/build): a field holding a comma or a quote is quoted as a whole
(`type=image,"name=r/a:1,r/a:2",push=true`, moby/buildkit README.md "Image/Registry";
moby/buildkit#2141). `--ssh` is not CSV: `<id>[=<socket>|<key>[,<key>]]`.
"""

from __future__ import annotations

from collections.abc import Iterable

from buildorch.backends.request import AttrSpec, BuildRequest, SecretRef, SshRef, Unsupported
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
    return spec_text(image_spec(req))


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
