"""Registry cache ls/stats/prune and the export ledger, on real BuildKit cache exports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from buildorch.cache.admin.registry import (
    DAY,
    LEDGER_TAG,
    Blob,
    Entry,
    list_entries,
    prune,
    read_ledger,
    record_export,
    render_entries,
    render_prune,
    render_stats,
    select,
    split_tag,
    stats,
)
from buildorch.oci.registry import ImageRef, Manifest, RegistryClient, digest_of, tag_digest

pytestmark = pytest.mark.engine

NOW = 1_800_000_000.0
IMAGES = ("app", "lib")


@dataclass(frozen=True)
class Repo:
    ref: str
    client: RegistryClient
    name: str
    token: str


@pytest.fixture
def repo() -> Repo:
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


def present(repo: Repo, blobs: tuple[Blob, ...]) -> dict[str, int | None]:
    return {b.digest: repo.client.blob_size(repo.name, b.digest) for b in blobs}


def by_tag(entries: list[Entry]) -> dict[str, Entry]:
    return {e.tag: e for e in entries}


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


# ----------------------------------------------------------------- list and stats

def test_list_gives_sizes_ages_and_splits_tags(engine: str, repo: Repo, tmp_path: Path) -> None:
    main = export(repo, tmp_path, "app-main", "m")
    feature = export(repo, tmp_path, "app-feature-x", "x")
    export(repo, tmp_path, "lib-main", "l", image_manifest=False)   # OCI index form
    export(repo, tmp_path, "tool-main", "t")                        # image not named
    record_export(repo.ref, "app-main", main, NOW - 10 * DAY)
    record_export(repo.ref, "app-feature-x", feature, NOW - 2 * 3600)

    entries = by_tag(list_entries(repo.ref, now=NOW, images=IMAGES))

    assert sorted(entries) == ["app-feature-x", "app-main", "lib-main", "tool-main"]
    assert [(e.image, e.scope) for e in entries.values()] == [
        ("app", "feature-x"), ("app", "main"), ("lib", "main"), ("tool-main", "")]
    for entry in entries.values():
        sizes = present(repo, entry.blobs)
        assert len(sizes) == 4  # cache config, base layer, two RUN layers
        assert entry.size == sum(s for s in sizes.values() if s is not None) > 1_000_000
    assert entries["app-main"].digest == main
    assert entries["app-main"].age_days == pytest.approx(10.0)
    assert entries["app-feature-x"].age_days == pytest.approx(2 / 24)
    assert entries["lib-main"].age_days is None and entries["lib-main"].exported is None

    text = render_entries(list(entries.values()))
    assert re.search(r"^app +main +1\.\d MiB +10\.0d$", text, re.MULTILINE), text
    assert re.search(r"^app +feature-x +1\.\d MiB +2h$", text, re.MULTILINE), text
    assert re.search(r"^tool-main +- +1\.\d MiB +unknown$", text, re.MULTILINE), text


def test_stats_count_shared_blobs_once(engine: str, repo: Repo, tmp_path: Path) -> None:
    export(repo, tmp_path, "app-main", "m")
    export(repo, tmp_path, "app-feature-x", "x")
    export(repo, tmp_path, "app-feature-y", "y")
    export(repo, tmp_path, "lib-main", "l")
    entries = list_entries(repo.ref, now=NOW, images=IMAGES)

    app = next(s for s in stats(entries) if s.image == "app")
    app_entries = [e for e in entries if e.image == "app"]
    unique = {b.digest: b.size for e in app_entries for b in e.blobs}
    assert app.entries == 3
    assert app.size == sum(unique.values()) < sum(e.size for e in app_entries)
    assert len(unique) == 2 + 3 * 2   # base + common layer, then config + own layer each
    assert [(s.scope, s.entries) for s in app.scopes] == [
        ("feature-x", 1), ("feature-y", 1), ("main", 1)]
    assert "total" in render_stats(entries)


# ----------------------------------------------------------------- prune

def test_prune_deletes_old_unprotected_entries_and_their_own_blobs(
        engine: str, repo: Repo, tmp_path: Path) -> None:
    digests = {tag: export(repo, tmp_path, tag, tag) for tag in
               ("app-main", "app-feature-x", "app-feature-y", "lib-main")}
    digests["lib-feature-x"] = export(repo, tmp_path, "lib-feature-x", "lx",
                                      image_manifest=False)
    # app-feature-z: the very manifest of app-feature-y (an unchanged branch re-export)
    tag_digest(f"{repo.ref}:app-feature-z", digests["app-feature-y"])
    # app-feature-w: recorded, then re-exported by a writer whose ledger update was lost
    stale = export(repo, tmp_path, "app-feature-w", "w1")
    export(repo, tmp_path, "app-feature-w", "w2")
    for tag, age in (("app-main", 30), ("app-feature-x", 30), ("app-feature-y", 1),
                     ("lib-feature-x", 30)):
        record_export(repo.ref, tag, digests[tag], NOW - age * DAY)
    record_export(repo.ref, "app-feature-z", digests["app-feature-y"], NOW - 30 * DAY)
    record_export(repo.ref, "app-feature-w", stale, NOW - 30 * DAY)

    before = by_tag(list_entries(repo.ref, now=NOW, images=IMAGES))
    tags_before = sorted(repo.client.tags(repo.name))
    ledger_before = read_ledger(repo.client, repo.name)
    doomed = {"app-feature-x", "lib-feature-x"}
    kept = set(before) - doomed
    kept_blobs = {b.digest for tag in kept for b in before[tag].blobs}
    own_blobs = {b.digest for tag in doomed for b in before[tag].blobs} - kept_blobs
    assert len(own_blobs) == 4   # config + own RUN layer of each deleted entry

    dry = prune(repo.ref, 7, ["main"], dry_run=True, now=NOW, images=IMAGES)
    assert {e.tag for e in dry.deleted_entries} == doomed
    assert {e.tag for e in dry.kept_entries} == kept
    assert {b.digest for b in dry.deleted_blobs} == own_blobs
    assert dry.freed_bytes == sum(b.size for b in dry.deleted_blobs)
    assert sorted(repo.client.tags(repo.name)) == tags_before
    assert None not in present(repo, tuple(b for e in before.values() for b in e.blobs)).values()
    assert read_ledger(repo.client, repo.name).manifest_digest == ledger_before.manifest_digest
    assert "would delete 2 entries and 4 blobs" in render_prune(dry)

    result = prune(repo.ref, 7, ["main"], dry_run=False, now=NOW, images=IMAGES)
    assert {e.tag for e in result.deleted_entries} == doomed
    assert set(result.deleted_blobs) == set(dry.deleted_blobs)
    assert result.freed_bytes == dry.freed_bytes
    assert sorted(repo.client.tags(repo.name)) == sorted([*kept, LEDGER_TAG])
    for tag in doomed:
        assert repo.client.manifest(repo.name, digests[tag]) is None
    assert set(present(repo, result.deleted_blobs).values()) == {None}
    for tag in kept:
        assert None not in present(repo, before[tag].blobs).values(), tag
    assert set(read_ledger(repo.client, repo.name).records) == kept - {"lib-main"}

    again = prune(repo.ref, 7, ["main"], now=NOW, images=IMAGES)
    assert again.deleted_entries == () and again.deleted_blobs == ()
    assert_imports_fully_cached(repo, tmp_path, "app-feature-y", "app-feature-y")
    assert_imports_fully_cached(repo, tmp_path, "lib-main", "lib-main")


def test_prune_without_image_names_protects_by_tag_suffix(
        engine: str, repo: Repo, tmp_path: Path) -> None:
    for tag in ("app-main", "app-release-1.0", "app-feature-x"):
        record_export(repo.ref, tag, export(repo, tmp_path, tag, tag), NOW - 9 * DAY)
    result = prune(repo.ref, 7, ["main", "release/1.0"], dry_run=True, now=NOW)
    assert [e.tag for e in result.deleted_entries] == ["app-feature-x"]


# ----------------------------------------------------------------- ledger

def small_artifact(repo: Repo, tag: str) -> str:
    client, name = repo.client, repo.name
    layer = uuid.uuid4().bytes
    body = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                   "digest": client.upload_blob(name, b"{}"), "size": 2},
        "layers": [{"mediaType": "application/octet-stream",
                    "digest": client.upload_blob(name, layer), "size": len(layer)}],
    }).encode()
    client.put_manifest(name, tag, Manifest("application/vnd.oci.image.manifest.v1+json",
                                            body, digest_of(body)))
    return digest_of(body)


def test_record_export_rewrites_the_ledger_and_deletes_the_old_revision(
        engine: str, repo: Repo) -> None:
    record_export(repo.ref, "app-main", "sha256:" + "a" * 64, 100.0)
    first = read_ledger(repo.client, repo.name)
    record_export(repo.ref, "app-feature-x", "sha256:" + "b" * 64, 200.0)
    second = read_ledger(repo.client, repo.name)

    assert repo.client.tags(repo.name) == [LEDGER_TAG]
    assert first.manifest_digest and second.manifest_digest and second.blob_digest
    assert repo.client.manifest(repo.name, first.manifest_digest) is None
    assert repo.client.blob_size(repo.name, str(first.blob_digest)) is None
    data = repo.client.blob(repo.name, second.blob_digest)
    assert data is not None and json.loads(data) == {"entries": {
        "app-feature-x": {"exported": 200.0, "digest": "sha256:" + "b" * 64},
        "app-main": {"exported": 100.0, "digest": "sha256:" + "a" * 64}}}
    assert list_entries(repo.ref) == []   # the ledger is not an entry


def test_lost_ledger_updates_leave_ages_unknown_and_entries_kept(engine: str,
                                                                 repo: Repo) -> None:
    digests = {f"app-b{i}": small_artifact(repo, f"app-b{i}") for i in range(12)}
    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(lambda tag: record_export(repo.ref, tag, digests[tag], NOW - 30 * DAY),
                      digests))
    recorded = set(read_ledger(repo.client, repo.name).records)
    assert recorded and recorded <= set(digests)
    entries = list_entries(repo.ref, now=NOW, images=IMAGES)
    assert {e.tag for e in entries if e.age_days is not None} == recorded

    result = prune(repo.ref, 7, [], now=NOW, images=IMAGES)
    assert {e.tag for e in result.deleted_entries} == recorded
    assert sorted(repo.client.tags(repo.name)) == sorted(
        [*(set(digests) - recorded), LEDGER_TAG])


# ----------------------------------------------------------------- pure parts

def entry(tag: str, digest: str, age: float | None, blobs: tuple[Blob, ...] = ()) -> Entry:
    image, scope = split_tag(tag, IMAGES)
    return Entry(image, scope, tag, digest, sum(b.size for b in blobs), blobs,
                 None if age is None else NOW - age * DAY, age)


def test_split_tag_takes_the_longest_known_image() -> None:
    assert split_tag("app-api-main", ["app", "app-api"]) == ("app-api", "main")
    assert split_tag("app-main", ["app", "app-api"]) == ("app", "main")
    assert split_tag("other-main", ["app"]) == ("other-main", "")
    assert split_tag("app-", ["app"]) == ("app-", "")


def test_select_keeps_unknown_protected_recent_and_shared_manifests() -> None:
    entries = [entry("app-main", "d1", 30), entry("app-x", "d2", 30),
               entry("app-y", "d3", None), entry("app-z", "d4", 3),
               entry("lib-x", "d4", 30), entry("lib-y", "d2", 40)]
    doomed, kept = select(entries, 7, ["main"])
    assert [e.tag for e in doomed] == ["app-x", "lib-y"]
    assert [e.tag for e in kept] == ["app-main", "app-y", "app-z", "lib-x"]
