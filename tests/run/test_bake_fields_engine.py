"""bake's fields on the real engine: each one, built through `buildorch build` (docker
backend), has its effect in the result, and each check would fail if buildorch dropped the
field.

One pipeline builds every image in one run (a second run of one image checks
`no_cache_filter`); each test below reads that run's results. What the tests need besides
the stack is made here: an SBOM generator image (no internet: the default
docker/buildkit-syft-scanner cannot be pulled, so `type=sbom` names a generator that follows
moby/buildkit docs/attestations/sbom-protocol.md), a base image that differs between the
registry and the engine's own store (for `pull`), and an HTTP server on loopback serving a
context tarball and a git repository (dumb HTTP protocol) to the engine, which runs on the
host network.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.engine

BASE = os.environ.get("BUILDORCH_BASE_IMAGE", "localhost:5000/busybox:latest")
REGISTRY = os.environ.get("BUILDORCH_REGISTRY", "localhost:5000")
HAS_GIT = shutil.which("git") is not None

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ACCEPT = ", ".join([INDEX, MANIFEST, "application/vnd.docker.distribution.manifest.list.v2+json",
                    "application/vnd.docker.distribution.manifest.v2+json"])
ZSTD_LAYER = "application/vnd.oci.image.layer.v1.tar+zstd"
GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
SPDX = "https://spdx.dev/Document"
SLSA_PREFIX = "https://slsa.dev/provenance/"
ATTESTATION = "attestation-manifest"
IN_TOTO = "application/vnd.in-toto+json"

# Writes one in-toto statement per scanned root, as the SBOM protocol asks.
SCANNER_SCRIPT = """\
#!/bin/sh
set -e
name=$(basename "$BUILDKIT_SCAN_SOURCE")
test -f "$BUILDKIT_SCAN_SOURCE/sbom-target" && seen=yes || seen=no
cat > "$BUILDKIT_SCAN_DESTINATION/$name.spdx.json" <<JSON
{"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://spdx.dev/Document",
 "subject": [], "predicate": {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT",
 "dataLicense": "CC0-1.0", "name": "$name", "packages": [], "comment": "target seen: $seen",
 "creationInfo": {"created": "2024-01-01T00:00:00Z", "creators": ["Tool: bo-test-scanner"]}}}
JSON
"""

SCALARS = {"V": "3.10", "M": "0755", "Y": "yes", "E": "1e3", "T": "~", "N": "null",
           "I": ".inf", "D": "2024-01-01"}


def docker(*args: str) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, check=False,
                            timeout=300)
    assert result.returncode == 0, (args, result.stderr[-2000:])
    return result.stdout.strip()


def registry_get(path: str, accept: str = ACCEPT) -> bytes:
    request = urllib.request.Request(f"http://{REGISTRY}/v2/{path}", headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


def manifest(repo: str, ref: str) -> dict[str, Any]:
    return dict(json.loads(registry_get(f"{repo}/manifests/{ref}")))


def blob_json(repo: str, digest: str) -> dict[str, Any]:
    return dict(json.loads(registry_get(f"{repo}/blobs/{digest}", accept="*/*")))


def split_ref(tag: str) -> tuple[str, str]:
    """`localhost:5000/a/b:1` -> (`a/b`, `1`)."""
    repo, _, ref = tag.partition("/")[2].rpartition(":")
    return repo, ref


def pushed(tag: str) -> tuple[str, dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """The pushed index, its image manifest and its attestation manifests."""
    repo, ref = split_ref(tag)
    index = manifest(repo, ref)
    assert index["mediaType"] == INDEX, index
    images = [m for m in index["manifests"]
              if m.get("annotations", {}).get("vnd.docker.reference.type") != ATTESTATION]
    attestations = [manifest(repo, m["digest"]) for m in index["manifests"]
                    if m.get("annotations", {}).get("vnd.docker.reference.type") == ATTESTATION]
    assert len(images) == 1, index
    return repo, index, manifest(repo, images[0]["digest"]), attestations


def predicates(repo: str, attestations: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """predicate type -> the in-toto statement, from the attestation manifests' layers."""
    found = {}
    for att in attestations:
        for layer in att["layers"]:
            kind = layer["annotations"]["in-toto.io/predicate-type"]
            found[kind] = blob_json(repo, layer["digest"])
    return found


def oci_tar_manifests(path: Path) -> list[dict[str, Any]]:
    """Every manifest and index in an OCI layout tarball."""
    found = []
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            if not member.isfile() or member.size > 100_000:
                continue
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            try:
                value = json.loads(data)
            except ValueError:
                continue
            if isinstance(value, dict) and value.get("mediaType") in (INDEX, MANIFEST):
                found.append(value)
    return found


def attestation_refs(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The descriptors of attestation manifests in these indexes."""
    return [d for m in manifests for d in m.get("manifests", [])
            if d.get("annotations", {}).get("vnd.docker.reference.type") == ATTESTATION]


def in_toto_predicates(manifests: list[dict[str, Any]]) -> list[str]:
    """The predicate types of the in-toto layers of these manifests."""
    return [layer["annotations"]["in-toto.io/predicate-type"] for m in manifests
            for layer in m.get("layers", []) if layer["mediaType"] == IN_TOTO]


def oci_tar_config(path: Path) -> dict[str, Any]:
    """The image config in a single-image OCI layout tarball."""
    image = next(m for m in oci_tar_manifests(path) if m["mediaType"] == MANIFEST)
    with tarfile.open(path) as tar:
        config = tar.extractfile(f"blobs/sha256/{image['config']['digest'].split(':')[1]}")
        assert config is not None
        return dict(json.loads(config.read()))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass(frozen=True)
class Run:
    uid: str
    folder: Path
    done: subprocess.CompletedProcess[str]
    record: dict[str, Any]
    tags: dict[str, str]  # image -> its pushed or stored tag

    def run_file(self, name: str) -> Path:
        return self.folder.parent / ".buildorch" / "runs" / str(self.record["id"]) / name

    def out(self, rel: str) -> Path:
        return self.folder / "out" / rel

    def state(self, name: str) -> str:
        return str(self.record["images"][name]["state"])

    def argv(self, name: str) -> list[str]:
        return list(self.record["images"][name]["argv"])


def latest_record(folder: Path) -> dict[str, Any]:
    run = sorted((folder / ".buildorch" / "runs").iterdir())[-1]
    return dict(json.loads((run / "record.json").read_text()))


def buildorch_build(folder: Path, *names: str) -> subprocess.CompletedProcess[str]:
    """Run from `folder`'s parent, as `-f <folder>/pipeline.yaml`: output paths are the
    pipeline's, relative to its folder (and records go to the parent's .buildorch/)."""
    return subprocess.run([sys.executable, "-m", "buildorch", "build", "--backend", "docker",
                           "-f", f"{folder.name}/pipeline.yaml", "-j", "4", *names],
                          cwd=folder.parent, capture_output=True, text=True, check=False,
                          timeout=600)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on loopback, and its URL."""
    folder = tmp_path_factory.mktemp("served")
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def remote_contexts(folder: Path, work: Path, uid: str) -> None:
    """ctx.tar.gz (a Dockerfile and a marker) and repo.git (the same, under `sub/` on branch
    `main`), for the engine to fetch."""
    dockerfile = f"FROM {BASE}\nCOPY marker /marker\n"
    with tarfile.open(folder / "ctx.tar.gz", "w:gz") as tar:
        for name, text in (("Dockerfile", dockerfile), ("marker", f"http-ctx-{uid}\n")):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    if not HAS_GIT:
        return
    (work / "sub").mkdir()
    (work / "sub" / "Dockerfile").write_text(dockerfile)
    (work / "sub" / "marker").write_text(f"git-ctx-{uid}\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "ctx"],
                 ["clone", "-q", "--bare", ".", str(folder / "repo.git")]):
        subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True)
    subprocess.run(["git", "update-server-info"], cwd=folder / "repo.git", check=True)


def sbom_scanner(folder: Path, uid: str) -> str:
    (folder / "scan.sh").write_text(SCANNER_SCRIPT)
    (folder / "Dockerfile").write_text(
        f'FROM {BASE}\nCOPY scan.sh /scan.sh\nCMD ["/bin/sh", "/scan.sh"]\n')
    tag = f"{REGISTRY}/bo-bake-{uid}/sbom-scanner:1"
    docker("buildx", "build", "--quiet", "--provenance=false", "--push", "-t", tag, str(folder))
    return tag


def pull_base(folder: Path, uid: str) -> str:
    """One reference, two images: `registry` pushed, `local` only in the engine's store,
    which the docker driver prefers unless the build pulls."""
    tag = f"{REGISTRY}/bo-bake-{uid}/pullbase:1"
    for where in ("registry", "local"):
        (folder / where).mkdir()
        (folder / where / "Dockerfile").write_text(
            f"FROM {BASE}\nRUN echo {where}-{uid} > /marker\n")
    docker("buildx", "build", "--quiet", "--provenance=false", "--push", "-t", tag,
           str(folder / "registry"))
    docker("buildx", "build", "--quiet", "--provenance=false", "--load", "-t", tag,
           str(folder / "local"))
    return tag


def pipeline(uid: str, url: str, scanner: str) -> tuple[str, dict[str, str]]:
    """Images share fields where their checks cannot mask each other (fewer builds)."""
    tags = {name: f"{REGISTRY}/bo-bake-{uid}/{name}:1" for name in ("published", "attested")}
    scalars = "\n".join(f"      {k}: {v}" for k, v in SCALARS.items())  # unquoted on purpose
    git_image = textwrap.indent(textwrap.dedent(f"""\
        remote-git:
          context: {url}/repo.git#main:sub
          outputs: ["type=local,dest=out/remote-git"]
        """), "  ") if HAS_GIT else ""
    text = f"""\
version: 1
name: bo-bake-{uid}
defaults:
  context: src
images:
  _common:
    description: "a template: args, labels and an output to replace"
    dockerfile: inherited.Dockerfile
    args: {{A: common-a, B: common-b}}
    labels: {{bo.l1: common, bo.l2: common}}
    outputs: ["type=local,dest=out/from-template"]
  inherited:
    inherits: [_common]
    description: "built from the template"
    args: {{B: own-b}}
    labels: {{bo.l2: own}}
    outputs: ["type=local,dest=out/inherited", "type=oci,dest=out/inherited-oci.tar"]
  files:
    dockerfile: files.Dockerfile
    outputs: ["type=local,dest=out/local", "type=tar,dest=out/image.tar",
              "type=oci,dest=out/image-oci.tar"]
  oci-provenance:
    dockerfile: files.Dockerfile
    attest: ["type=provenance,mode=min"]
    outputs: ["type=oci,dest=out/provenance-oci.tar"]
  cacheonly:
    dockerfile: files.Dockerfile
    outputs: ["type=cacheonly"]
  published:
    dockerfile: zstd.Dockerfile
    tags: ["{tags['published']}"]
    push: true
    outputs: ["type=image,compression=zstd,oci-mediatypes=true"]
    annotations:
      org.opencontainers.image.description: "manifest-{uid}"
      "index:org.example.index-note": "index-{uid}"
      "com.example:colon": "colon-{uid}"
  attested:
    dockerfile: files.Dockerfile
    tags: ["{tags['attested']}"]
    push: true
    attest: ["type=sbom,generator={scanner}", "type=provenance,mode=max"]
  runtime:
    dockerfile: runtime.Dockerfile
    extra_hosts: {{bo-extra.test: 10.1.2.3}}
    shm_size: 96m
    ulimits: ["nofile=1024:2048"]
    args:
{scalars}
    outputs: ["type=local,dest=out/runtime"]
  inline:
    dockerfile_inline: |
      FROM {BASE}
      RUN echo inline-{uid} > /inline.txt
    outputs: ["type=local,dest=out/inline"]
  nocache:
    dockerfile: nocache.Dockerfile
    no_cache_filter: [fresh]
    outputs: ["type=local,dest=out/nocache"]
  pulled:
    dockerfile: pull.Dockerfile
    pull: true
    outputs: ["type=local,dest=out/pulled"]
  unpulled:
    dockerfile: pull.Dockerfile
    outputs: ["type=local,dest=out/unpulled"]
  remote-http:
    context: {url}/ctx.tar.gz
    outputs: ["type=local,dest=out/remote-http"]
  mx:
    matrix: {{py: [3.10, "3.12"]}}
    name: mx-${{py}}
    dockerfile: matrix.Dockerfile
    args: {{PY: "${{py}}"}}
    outputs: ["type=local,dest=out/mx-${{py}}"]
  mx-user:
    dockerfile: matrix-user.Dockerfile
    depends_on: [mx]
    contexts: {{mxbase: {{image: mx-3.12}}}}
    outputs: ["type=local,dest=out/mx-user"]
{git_image}"""
    return text, tags


def dockerfiles(uid: str, pull_tag: str) -> dict[str, str]:
    args = "".join(f"ARG {k}\n" for k in SCALARS)
    values = " ".join(f'"${k}"' for k in SCALARS)
    return {
        "files.Dockerfile": f"FROM {BASE}\nRUN echo files-{uid} > /hello && touch /sbom-target\n",
        "zstd.Dockerfile": f"FROM {BASE}\nRUN echo zstd-{uid} > /zstd\n",
        "inherited.Dockerfile": (f"FROM {BASE}\nARG A\nARG B\nCOPY marker /marker\n"
                                 'RUN echo "$A $B" > /args.txt\n'),
        "runtime.Dockerfile": (
            f"FROM {BASE}\nRUN echo {uid} && (grep bo-extra.test /etc/hosts || true) > /hosts"
            " && df -k /dev/shm | tail -n 1 > /shm && ulimit -Sn > /nofile-soft"
            f" && ulimit -Hn > /nofile-hard\n{args}RUN printf '%s|' {values} > /scalars\n"),
        "nocache.Dockerfile": (
            f"FROM {BASE} AS keep\nRUN echo {uid} && cat /proc/sys/kernel/random/uuid > /k\n"
            f"FROM {BASE} AS fresh\nRUN echo {uid} && cat /proc/sys/kernel/random/uuid > /f\n"
            f"FROM {BASE}\nCOPY --from=keep /k /k\nCOPY --from=fresh /f /f\n"),
        "pull.Dockerfile": f"FROM {pull_tag}\nRUN cp /marker /seen\n",
        "matrix.Dockerfile": f"FROM {BASE}\nARG PY\nRUN echo \"$PY-{uid}\" > /py\n",
        "matrix-user.Dockerfile": "FROM mxbase\nRUN cp /py /seen\n",
        "marker": f"defaults-context-{uid}\n",
    }


@pytest.fixture(scope="module")
def run(engine: str, tmp_path_factory: pytest.TempPathFactory,
        served: tuple[Path, str]) -> Iterator[Run]:
    uid = uuid.uuid4().hex[:10]
    work = tmp_path_factory.mktemp("bake")
    remote_contexts(served[0], tmp_path_factory.mktemp("git-work"), uid)
    scanner = sbom_scanner(tmp_path_factory.mktemp("scanner"), uid)
    pull_tag = pull_base(tmp_path_factory.mktemp("pull"), uid)
    text, tags = pipeline(uid, served[1], scanner)
    (work / "pipeline.yaml").write_text(text)
    for name, content in dockerfiles(uid, pull_tag).items():
        (work / "src").mkdir(exist_ok=True)
        (work / "src" / name).write_text(content)
    # no out/ folder: buildorch makes the folder of a tar/oci dest, which buildx only opens
    # --keep-going: one field that fails leaves the others' results to check
    done = buildorch_build(work, "--keep-going")
    # The images this left in the engine's store (the pushed ones, the scanner, the local
    # pull base) have names of their own, so they stay: each `docker image rm` costs
    # seconds of containerd garbage collection on a busy engine.
    yield Run(uid, work, done, latest_record(work.parent), tags)


def test_every_image_builds_and_the_published_ones_are_pushed(run: Run) -> None:
    assert run.done.returncode == 0, run.done.stdout[-4000:] + run.done.stderr[-3000:]
    assert sorted(run.record["published"]) == sorted(run.tags.values())


# --- outputs ---------------------------------------------------------------------------------


def test_output_local_writes_the_image_files_into_dest(run: Run) -> None:
    assert (run.out("local") / "hello").read_text() == f"files-{run.uid}\n"
    assert (run.out("local") / "bin" / "busybox").is_file()  # the whole root filesystem
    assert run.state("files") == "succeeded"


def test_output_tar_writes_the_files_as_a_tarball(run: Run) -> None:
    with tarfile.open(run.out("image.tar")) as tar:
        hello = tar.extractfile("hello")
        assert hello is not None and hello.read() == f"files-{run.uid}\n".encode()


def test_output_oci_writes_an_oci_layout_and_unpublished_images_get_no_provenance(
        run: Run) -> None:
    """buildorch asks for no attestation on an image it does not publish (buildx would add
    provenance); `attest` asks for one all the same."""
    with tarfile.open(run.out("image-oci.tar")) as tar:
        names = tar.getnames()
        assert "index.json" in names and "oci-layout" in names
    plain = oci_tar_manifests(run.out("image-oci.tar"))
    assert [m["mediaType"] for m in plain].count(MANIFEST) == 1
    assert not attestation_refs(plain) and not in_toto_predicates(plain)
    asked = oci_tar_manifests(run.out("provenance-oci.tar"))
    assert len(attestation_refs(asked)) == 1
    assert [kind[:len(SLSA_PREFIX)] for kind in in_toto_predicates(asked)] == [SLSA_PREFIX]


def test_output_cacheonly_builds_and_exports_nothing(run: Run) -> None:
    """Without `type=cacheonly` the docker driver would store the image and report its
    digest."""
    assert run.state("cacheonly") == "succeeded"
    assert run.record["images"]["cacheonly"]["digest"] is None
    assert "type=cacheonly" in run.argv("cacheonly")
    metadata = json.loads(run.run_file("cacheonly.metadata.json").read_text())
    assert "containerimage.digest" not in metadata and "image.name" not in metadata


def test_image_output_attributes_reach_the_pushed_manifest(run: Run) -> None:
    """compression=zstd,oci-mediatypes=true: the layer this build made is zstd (BuildKit's
    default is gzip); the shared base's stays as it was. (force-compression would recompress
    the base too, leaving a zstd variant of it in the engine that later cache exports of the
    whole suite would carry.)"""
    _, _, image, _ = pushed(run.tags["published"])
    assert image["mediaType"] == MANIFEST
    kinds = [layer["mediaType"] for layer in image["layers"]]
    assert kinds[-1] == ZSTD_LAYER and kinds[0] == GZIP_LAYER, kinds


# --- attest ----------------------------------------------------------------------------------


def test_attest_sbom_attaches_an_spdx_attestation(run: Run) -> None:
    """`type=sbom,generator=IMAGE`: the generator ran on the built root filesystem and its
    SPDX document is an attestation of the pushed image. (The default generator,
    docker/buildkit-syft-scanner, needs Docker Hub: not reachable here.)"""
    repo, _, _, attestations = pushed(run.tags["attested"])
    found = predicates(repo, attestations)
    assert SPDX in found, found.keys()
    statement = found[SPDX]
    assert statement["predicateType"] == SPDX
    assert "Tool: bo-test-scanner" in statement["predicate"]["creationInfo"]["creators"]
    assert statement["predicate"]["comment"] == "target seen: yes"
    assert statement["subject"]  # BuildKit names the image it describes
    assert any(kind.startswith(SLSA_PREFIX) for kind in found)  # published: provenance too


def test_attest_provenance_mode_max_and_the_published_default_min(run: Run) -> None:
    """mode=max records the build's LLB (`buildConfig`); the default on a published image,
    buildx's mode=min, does not."""
    repo, _, _, attestations = pushed(run.tags["attested"])
    full = next(s for kind, s in predicates(repo, attestations).items()
                if kind.startswith(SLSA_PREFIX))
    assert "buildConfig" in full["predicate"]
    repo, _, _, attestations = pushed(run.tags["published"])  # no attest
    minimal = next(s for kind, s in predicates(repo, attestations).items()
                   if kind.startswith(SLSA_PREFIX))
    assert "buildConfig" not in minimal["predicate"]


# --- annotations -----------------------------------------------------------------------------


def test_annotations_reach_the_pushed_manifest_and_index(run: Run) -> None:
    _, index, image, _ = pushed(run.tags["published"])
    assert image["annotations"]["org.opencontainers.image.description"] == f"manifest-{run.uid}"
    assert image["annotations"]["com.example:colon"] == f"colon-{run.uid}"
    assert index["annotations"]["org.example.index-note"] == f"index-{run.uid}"
    assert not [k for k in image["annotations"] if k.startswith("index:")]


# --- what RUN steps run with -----------------------------------------------------------------


def test_extra_hosts_reach_run_steps(run: Run) -> None:
    assert run.out("runtime/hosts").read_text().split() == ["10.1.2.3", "bo-extra.test"]


def test_shm_size_sets_dev_shm(run: Run) -> None:
    """96m = 98304 KiB (BuildKit's default is 64m)."""
    assert run.out("runtime/shm").read_text().split()[1] == "98304"


def test_ulimits_reach_run_steps(run: Run) -> None:
    assert run.out("runtime/nofile-soft").read_text().strip() == "1024"
    assert run.out("runtime/nofile-hard").read_text().strip() == "2048"


# --- the Dockerfile, the cache and base images -----------------------------------------------


def test_dockerfile_inline_is_what_builds(run: Run) -> None:
    assert run.out("inline/inline.txt").read_text() == f"inline-{run.uid}\n"


def test_no_cache_filter_rebuilds_that_stage_only(run: Run) -> None:
    first = {name: run.out(f"nocache/{name}").read_text() for name in ("k", "f")}
    again = buildorch_build(run.folder, "nocache")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-2000:]
    second = {name: run.out(f"nocache/{name}").read_text() for name in ("k", "f")}
    assert second["k"] == first["k"]  # stage `keep`: cached
    assert second["f"] != first["f"]  # stage `fresh`: its RUN ran again
    assert "--no-cache-filter" in latest_record(run.folder.parent)["images"]["nocache"]["argv"]


def test_pull_resolves_base_images_from_the_registry(run: Run) -> None:
    """The engine's store holds a different image under the base's reference: without `pull`
    the docker driver builds on it, with `pull` on the registry's."""
    assert run.out("unpulled/seen").read_text() == f"local-{run.uid}\n"
    assert run.out("pulled/seen").read_text() == f"registry-{run.uid}\n"
    assert "--pull" in run.argv("pulled") and "--pull" not in run.argv("unpulled")


def test_inherits_and_defaults_context(run: Run) -> None:
    """Mappings merge key by key (the image's own last), lists (outputs) are replaced, and
    the context comes from `defaults`. (`description`, on both, has no effect on a build:
    `plan` shows it.)"""
    assert run.out("inherited/args.txt").read_text() == "common-a own-b\n"
    assert run.out("inherited/marker").read_text() == f"defaults-context-{run.uid}\n"
    assert not run.out("from-template").exists()
    labels = oci_tar_config(run.out("inherited-oci.tar"))["config"]["Labels"]
    assert (labels["bo.l1"], labels["bo.l2"]) == ("common", "own")
    assert "_common" not in run.record["images"]  # a template is never built


# --- remote contexts -------------------------------------------------------------------------


def test_remote_http_tarball_context(run: Run) -> None:
    assert run.out("remote-http/marker").read_text() == f"http-ctx-{run.uid}\n"


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed on this machine")
def test_remote_git_context_with_ref_and_subdir(run: Run) -> None:
    assert run.out("remote-git/marker").read_text() == f"git-ctx-{run.uid}\n"


# --- scalars as written ----------------------------------------------------------------------


def test_yaml_scalars_reach_the_build_as_written(run: Run) -> None:
    assert run.out("runtime/scalars").read_text() == "|".join(SCALARS.values()) + "|"


# --- matrix ----------------------------------------------------------------------------------


def test_a_matrix_builds_one_image_per_value_with_its_build_arg(run: Run) -> None:
    """`matrix: {py: [3.10, "3.12"]}` (3.10 unquoted: as written), `name: mx-${py}`; an image
    built on one of them by a named context, and after all of them by the matrix's key."""
    assert [run.state(f"mx-{v}") for v in ("3.10", "3.12")] == ["succeeded", "succeeded"]
    assert run.out("mx-3.10/py").read_text() == f"3.10-{run.uid}\n"
    assert run.out("mx-3.12/py").read_text() == f"3.12-{run.uid}\n"
    assert "PY=3.10" in run.argv("mx-3.10")
    assert run.out("mx-user/seen").read_text() == f"3.12-{run.uid}\n"
    assert "mx" not in run.record["images"]  # the key stands for its images
