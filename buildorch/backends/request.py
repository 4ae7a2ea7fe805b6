"""One build request, the same for every backend; backends turn it into argv."""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace

from buildorch.proc import REDACTED

# Attributes that carry credentials (BuildKit's `type=s3` cache takes them only this way).
SENSITIVE_ATTRS = frozenset({"access_key_id", "secret_access_key", "session_token"})


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
class AttrSpec:
    """A cache import or export, or an output: a type plus attributes in order, as buildx
    models them (CacheOptionsEntry, ExportEntry). Each backend renders it into its argv."""

    type: str
    attrs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> AttrSpec:
        """`type=registry,ref=r/c:x,mode=max` (CSV, as buildx and buildctl read it)."""
        fields = [f.partition("=") for f in next(csv.reader([text]))]
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
        return replace(self, attrs=tuple((k, REDACTED if k in SENSITIVE_ATTRS else v)
                                         for k, v in self.attrs))

    def secret_values(self) -> tuple[str, ...]:
        """Credential values it carries, to scrub from whatever a build prints."""
        return tuple(v for k, v in self.attrs if k in SENSITIVE_ATTRS and v)


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

    def redacted(self) -> BuildRequest:
        """The request as buildorch may show or store it (plan, dry run, records); itself
        when it carries no credentials."""
        if not self.secret_values():
            return self
        return replace(self, cache_from=tuple(s.redacted() for s in self.cache_from),
                       cache_to=tuple(s.redacted() for s in self.cache_to),
                       outputs=tuple(s.redacted() for s in self.outputs))

    def secret_values(self) -> tuple[str, ...]:
        """Credential values in its attributes (secrets themselves go by reference)."""
        specs = (*self.cache_from, *self.cache_to, *self.outputs)
        return tuple(value for spec in specs for value in spec.secret_values())
