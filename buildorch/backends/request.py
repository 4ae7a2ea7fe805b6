"""One build request, the same for every backend; backends turn it into argv."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace

from buildorch.proc import REDACTED

# Attributes that carry credentials (BuildKit's `type=s3` cache takes them only this way).
ACCESS_KEY_ID = "access_key_id"
SECRET_ACCESS_KEY = "secret_access_key"
SESSION_TOKEN = "session_token"
SENSITIVE_ATTRS = frozenset({ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN})


class Unsupported(ValueError):
    """A request a backend cannot carry out as asked. `field` names the image field it
    comes from (`("network",)`, `("contexts", "base")`), so that it can be reported
    against the pipeline's file and line."""

    def __init__(self, field: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SecretRef:
    """A secret passed by reference: a file path or an environment variable name."""

    id: str
    src: str | None = None
    env: str | None = None


@dataclass(frozen=True)
class SshRef:
    id: str
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ulimit:
    """`nofile=1024:2048` (docker/go-units ulimit syntax): a limit a RUN step runs with."""

    name: str
    soft: int
    hard: int

    def text(self) -> str:
        return f"{self.name}={self.soft}:{self.hard}"


@dataclass(frozen=True)
class AttrSpec:
    """A cache import or export, or an output: a type plus attributes in order, as buildx
    models them (CacheOptionsEntry, ExportEntry). Each backend renders it into its argv."""

    type: str
    attrs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> AttrSpec:
        """`type=registry,ref=r/c:x,mode=max` (CSV, as buildx and buildctl read it)."""
        fields = [f.partition("=") for f in next(csv.reader([text]), [])]
        if any(not sep for _, sep, _ in fields):
            raise ValueError(f"{text!r}: every field is key=value")
        kind = next((value for key, _, value in fields if key == "type"), "")
        if not kind:
            raise ValueError(f"{text!r}: no type=")
        return cls(kind, tuple((key, value) for key, _, value in fields if key != "type"))

    def get(self, key: str) -> str | None:
        return next((value for k, value in self.attrs if k == key), None)

    def redacted(self) -> AttrSpec:
        """The spec as buildorch may show or store it: credential values as ***."""
        if not self.secret_values():
            return self
        return replace(self, attrs=_redacted(self.attrs))

    def secret_values(self) -> tuple[str, ...]:
        """Credential values it carries, to scrub from whatever a build prints."""
        return _sensitive(self.attrs)


# `scheme://userinfo@host...`: a URL context may carry a token (`https://TOKEN@github.com/...`,
# `https://x-access-token:TOKEN@github.com/...`).
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/@#?]+)@")


def url_credential(url: str) -> str | None:
    """The secret part of a URL's userinfo: the password, or over http(s) a lone user name
    (a token); `ssh://git@host` names a user, not a secret."""
    match = _USERINFO.match(url)
    if match is None:
        return None
    user, colon, password = match.group(2).partition(":")
    if colon:
        return password or None
    return user if match.group(1).lower() in ("http://", "https://") else None


def redact_url(url: str) -> str:
    secret = url_credential(url)
    if secret is None:
        return url
    match = _USERINFO.match(url)
    assert match is not None
    user, colon, _ = match.group(2).partition(":")
    shown = f"{user}:{REDACTED}" if colon else REDACTED
    return f"{match.group(1)}{shown}@{url[match.end():]}"


def _redacted(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple((k, REDACTED if k in SENSITIVE_ATTRS else v) for k, v in pairs)


def _sensitive(pairs: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    return tuple(v for k, v in pairs if k in SENSITIVE_ATTRS and v)


@dataclass(frozen=True)
class BuilderTls:
    """TLS to a builder at a `tcp://` address: file paths as the tool is given them, and the
    name the daemon's certificate is checked against where it is not the address's host."""

    ca: str
    cert: str | None = None
    key: str | None = None
    server_name: str | None = None


@dataclass(frozen=True)
class BuildRequest:
    name: str
    context: str
    dockerfile: str
    target: str | None = None
    args: tuple[tuple[str, str], ...] = ()
    named_contexts: tuple[tuple[str, str], ...] = ()  # name -> docker-image://..., a path, ...
    secrets: tuple[SecretRef, ...] = ()
    ssh: tuple[SshRef, ...] = ()
    platforms: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    tags: tuple[str, ...] = ()
    cache_from: tuple[AttrSpec, ...] = ()
    cache_to: tuple[AttrSpec, ...] = ()
    outputs: tuple[AttrSpec, ...] = ()
    push: bool = False
    push_by_digest: bool = False  # push the manifest without any tag (tags come at the end)
    load: bool = False
    network: str | None = None
    no_cache: bool = False
    metadata_file: str | None = None  # where the backend writes the built digest
    builder: str | None = None  # backend-specific address of the builder
    builder_tls: BuilderTls | None = None  # TLS to a `tcp://` builder
    # Attestations, each `type=sbom[,...]` or `type=provenance,mode=min|max` (buildx
    # --attest). A provenance spec with `disabled=true` asks for none where a backend would
    # attach one by default (buildx does).
    attest: tuple[AttrSpec, ...] = ()
    # Attributes for the image exporter from the pipeline's `type=image` output
    # (`compression=zstd`, `oci-mediatypes=true`, ...); never `name` or `push`.
    image_attrs: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()  # on the image manifest
    pull: bool = False  # re-resolve base images even when known
    extra_hosts: tuple[tuple[str, str], ...] = ()  # host -> IP, for RUN steps
    shm_size: int | None = None  # bytes of /dev/shm for RUN steps
    ulimits: tuple[Ulimit, ...] = ()
    no_cache_filter: tuple[str, ...] = ()  # stages built without cache
    # The Dockerfile's text when it is written inline: the run writes it at `dockerfile`.
    dockerfile_inline: str | None = None
    # `reproducible: true`: built at SOURCE_DATE_EPOCH (one of `args`), without default
    # provenance; `rewrite_timestamp`: the image kept (loaded, pushed, stored) has its file
    # timestamps rewritten to it, where the builder can (`rewrite-timestamp=true`).
    reproducible: bool = False
    rewrite_timestamp: bool = False
    # A loaded image whose timestamps the builder cannot rewrite as it loads (the docker
    # driver unpacks what it loads): the tarball the build writes instead, which the run
    # loads into the local store (`Backend.load_archive_argv`) and then removes.
    load_archive: str | None = None

    def redacted(self) -> BuildRequest:
        """The request as buildorch may show or store it (plan, dry run, records); itself
        when it carries no credentials. Build args and labels named like a credential
        attribute are redacted too."""
        if not self.secret_values():
            return self
        return replace(self, cache_from=tuple(s.redacted() for s in self.cache_from),
                       cache_to=tuple(s.redacted() for s in self.cache_to),
                       outputs=tuple(s.redacted() for s in self.outputs),
                       args=_redacted(self.args), labels=_redacted(self.labels),
                       context=redact_url(self.context),
                       named_contexts=tuple((k, redact_url(v)) for k, v in self.named_contexts))

    def secret_values(self) -> tuple[str, ...]:
        """Credential values it carries (secrets themselves go by reference)."""
        specs = (*self.cache_from, *self.cache_to, *self.outputs)
        urls = (self.context, *(v for _, v in self.named_contexts))
        return (*(value for spec in specs for value in spec.secret_values()),
                *_sensitive(self.args), *_sensitive(self.labels),
                *(secret for url in urls if (secret := url_credential(url))))
