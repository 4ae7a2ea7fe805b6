"""Real BuildKit cache exports to a fresh repository of the local registry, for the
registry admin's tests (`test_registry.py`, `test_registry_ledger.py`)."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from buildorch.cache.admin.entries import Entry
from buildorch.oci.reference import ImageRef
from buildorch.oci.registry import RegistryClient

IMAGES = ("app", "lib")


@dataclass(frozen=True)
class Repo:
    ref: str
    client: RegistryClient
    name: str
    token: str


def new_repo() -> Repo:
    """A repository of its own in the local stack's registry."""
    token = uuid.uuid4().hex[:12]
    ref = f"{os.environ['BUILDORCH_REGISTRY']}/admintest-{token}/cache"
    parsed = ImageRef.parse(ref)
    return Repo(ref, RegistryClient(parsed.host), parsed.repository, token)


def dockerfile(repo: Repo, content: str) -> str:
    return (f"FROM {os.environ['BUILDORCH_BASE_IMAGE']}\n"
            f"RUN echo {repo.token} > /common\nRUN echo {content} > /own\n")


def build(folder: Path, *flags: str) -> str:
    result = subprocess.run(["docker", "buildx", "build", "--progress", "plain", *flags,
                             str(folder)], capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def export(repo: Repo, tmp_path: Path, tag: str, content: str,
           image_manifest: bool = True) -> str:
    """A real cache export of a two-RUN Dockerfile to <repo>:<tag>; its manifest digest."""
    folder = tmp_path / f"{tag}-{content}"
    folder.mkdir()
    (folder / "Dockerfile").write_text(dockerfile(repo, content))
    attrs = f"type=registry,ref={repo.ref}:{tag},mode=max,oci-mediatypes=true"
    build(folder, "--cache-to", attrs + (",image-manifest=true" if image_manifest else ""))
    manifest = repo.client.manifest(repo.name, tag)
    assert manifest is not None
    return manifest.digest


def present(repo: Repo, digests: Iterable[str]) -> dict[str, int | None]:
    return {digest: repo.client.blob_size(repo.name, digest) for digest in digests}


def by_tag(entries: list[Entry]) -> dict[str, Entry]:
    return {e.name: e for e in entries}


def assert_imports_fully_cached(repo: Repo, tmp_path: Path, tag: str, content: str) -> None:
    subprocess.run(["docker", "buildx", "prune", "-af"], check=True, capture_output=True)
    folder = tmp_path / f"import-{tag}"
    folder.mkdir()
    (folder / "Dockerfile").write_text(dockerfile(repo, content))
    log = build(folder, "--cache-from", f"type=registry,ref={repo.ref}:{tag}")
    runs = re.findall(r"^#(\d+) \[[^\]]*\] RUN ", log, re.MULTILINE)
    assert len(runs) == 2, log
    for step in runs:
        assert re.search(rf"^#{step} CACHED$", log, re.MULTILINE), log
