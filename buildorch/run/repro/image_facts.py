"""What an image is made of, read where it is kept: its layers (diff ids), creation time,
runtime config and platform, so that `repro` can say why two digests differ.

From the local image store (`image inspect` of docker or nerdctl, docker-compatible JSON:
`RootFS.Layers`, `Created`, `Config`), or from a registry by digest (the manifest, the
platform's manifest of an index, and the config blob: `rootfs.diff_ids`, `created`,
`config`). An image that is in neither is simply not known.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from buildorch import proc
from buildorch.backends.base import Backend
from buildorch.oci.reference import LATEST, ImageRef, InvalidReference
from buildorch.oci.registry import RegistryClient, RegistryError, digest_of

INSPECT_TIMEOUT = 120
SHOWN_CONFIG = ("Cmd", "Entrypoint", "Env", "ExposedPorts", "Healthcheck", "Labels",
                "OnBuild", "Shell", "StopSignal", "User", "Volumes", "WorkingDir")
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")
REGISTRY_TRIES = 3  # repositories asked per image


@dataclass(frozen=True)
class ImageFacts:
    layers: tuple[str, ...]  # diff ids, bottom first
    created: str | None
    config: tuple[tuple[str, str], ...]  # the runtime config's set fields, as JSON text
    platform: str | None
    where: str  # `the local image store`, `localhost:5000/shop/api`


def facts_of(data: Mapping[str, object], where: str) -> ImageFacts | None:
    """From docker-compatible `image inspect` JSON, or an OCI image config (lower case)."""
    rootfs = data.get("RootFS") or data.get("rootfs")
    layers = (rootfs.get("Layers") or rootfs.get("diff_ids")) if isinstance(rootfs, dict) else None
    if not isinstance(layers, list):
        return None
    created = data.get("Created") or data.get("created")
    config = data.get("Config") or data.get("config") or {}
    fields = tuple((k, json.dumps(config[k], sort_keys=True)) for k in SHOWN_CONFIG
                   if isinstance(config, dict) and config.get(k))
    parts = [data.get(k) or data.get(k.lower()) for k in ("Os", "Architecture", "Variant")]
    platform = "/".join(str(p) for p in parts if p) or None
    return ImageFacts(tuple(str(x) for x in layers), None if created is None else str(created),
                      fields, platform, where)


def stored_facts(backend: Backend, digests: Iterable[str],
                 address: str | None) -> dict[str, ImageFacts]:
    """The images of `digests` the local store holds (one `image inspect` for all)."""
    wanted = sorted(set(digests))
    argv = backend.stored_argv(wanted, address) if wanted else None
    if argv is None:
        return {}
    try:
        output = proc.run(argv, check=False, timeout=INSPECT_TIMEOUT).output
    except (proc.ToolNotFoundError, OSError):
        return {}
    found: dict[str, ImageFacts] = {}
    for line in output.splitlines():
        try:
            data = json.loads(line) if line.startswith("{") else None
        except ValueError:
            continue
        facts = facts_of(data, "the local image store") if isinstance(data, dict) else None
        if facts is not None and data is not None and data.get("Id") in wanted:
            found[str(data["Id"])] = facts
    return found


def registry_facts(tags: Iterable[str], digest: str,
                   platform: str | None = None) -> ImageFacts | None:
    """The image `digest` in the first of the tags' repositories that holds it (where a
    run pushed it)."""
    repositories = []
    for tag in tags:
        try:
            ref = ImageRef.parse(tag)
        except InvalidReference:
            continue
        if (ref.host, ref.repository) not in repositories:
            repositories.append((ref.host, ref.repository))
    for host, repository in repositories[:REGISTRY_TRIES]:
        try:
            facts = _from_registry(RegistryClient(host), repository, digest, platform)
        except (RegistryError, ValueError, KeyError, TypeError):
            continue
        if facts is not None:
            return facts
    return None


def _from_registry(client: RegistryClient, repository: str, digest: str,
                   platform: str | None) -> ImageFacts | None:
    manifest = client.manifest(repository, digest)
    if manifest is None:
        return None
    data = json.loads(manifest.body)
    if manifest.media_type in INDEX_TYPES or "manifests" in data:
        chosen = _platform_manifest(data["manifests"], platform)
        if chosen is None:
            return None
        manifest = client.manifest(repository, chosen)
        if manifest is None:
            return None
        data = json.loads(manifest.body)
    blob = client.blob(repository, data["config"]["digest"])
    config = json.loads(blob) if blob is not None else None
    if not isinstance(config, dict):
        return None
    return facts_of(config, f"{client.host}/{repository}")


def _platform_manifest(entries: list[dict[str, object]], platform: str | None) -> str | None:
    """The manifest for `platform` (else the first image's): not an attestation's
    (`unknown/unknown`)."""
    images = []
    for entry in entries:
        about = entry.get("platform")
        if not isinstance(about, dict) or about.get("os") == "unknown":
            continue
        parts = [about.get("os"), about.get("architecture"), about.get("variant")]
        images.append(("/".join(str(p) for p in parts if p), str(entry["digest"])))
    for name, digest in images:
        if name == platform:
            return digest
    return images[0][1] if images else None


def current_digest(ref: str) -> str | None:
    """The digest a reference's tag names in its registry now; None where the registry does
    not say (unreachable, unknown, no such tag)."""
    try:
        parsed = ImageRef.parse(ref)
        manifest = RegistryClient(parsed.host).manifest(parsed.repository,
                                                        parsed.tag or LATEST)
    except (RegistryError, InvalidReference, ValueError):
        return None
    if manifest is None:
        return None
    return manifest.digest or digest_of(manifest.body)
