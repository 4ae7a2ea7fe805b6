"""One build request, the same for every backend; backends turn it into argv."""

from __future__ import annotations

from dataclasses import dataclass


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
    cache_from: tuple[str, ...] = ()  # attribute strings, e.g. type=registry,ref=...
    cache_to: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()  # attribute strings, e.g. type=oci,dest=...
    push: bool = False
    push_by_digest: bool = False  # push the manifest without any tag (tags come at the end)
    load: bool = False
    network: str | None = None
    no_cache: bool = False
    metadata_file: str | None = None  # where the backend writes the built digest
    builder: str | None = None  # backend-specific address of the builder


def repository_of(tag: str) -> str:
    """`localhost:5000/shop/base:dev` -> `localhost:5000/shop/base` (digest dropped too)."""
    name = tag.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    last = last.split(":", 1)[0]
    return f"{head}/{last}" if head else last
