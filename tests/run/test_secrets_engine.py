"""Secrets and SSH on the real engine: they arrive, and no secret value escapes anywhere."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import MakeProject

pytestmark = pytest.mark.engine

BASE = os.environ.get("BUILDORCH_BASE_IMAGE", "localhost:5000/busybox:latest")
REGISTRY = os.environ.get("BUILDORCH_REGISTRY", "localhost:5000")
DATA = Path(__file__).resolve().parent.parent / "data"

LEAKY = """\
version: 1
name: leaky
images:
  leaky:
    context: leaky
    secrets:
      - {id: tok, env: BO_LEAK_TOKEN}
      - {id: cred, src: secrets/cred.txt}
    tags: ["%s"]
"""

# The RUN prints one secret on purpose: buildorch must scrub it from what it shows and keeps.
# Secrets are not part of BuildKit's cache key: a fresh RUN_TOKEN keeps the step from being
# CACHED (and so from printing nothing).
LEAKY_DOCKERFILE = f"""\
FROM {BASE}
RUN --mount=type=secret,id=tok --mount=type=secret,id=cred \\
    echo RUN_TOKEN && echo "printing: $(cat /run/secrets/tok)" && \\
    sha256sum /run/secrets/tok | cut -d' ' -f1 > /hash-tok && \\
    sha256sum /run/secrets/cred | cut -d' ' -f1 > /hash-cred && sleep 3
"""


def cmdlines() -> list[str]:
    found = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            found.append(path.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return found


def image_blobs(tag: str, folder: Path) -> Iterator[tuple[str, bytes]]:
    """Every blob of the image as `docker save` exports it (an OCI layout), decompressed."""
    archive = folder / "image.tar"
    subprocess.run(["docker", "save", "--output", str(archive), tag], check=True)
    with tarfile.open(archive) as outer:
        for member in outer.getmembers():
            if not member.isfile():
                continue
            data = outer.extractfile(member).read()  # type: ignore[union-attr]
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            yield member.name, data


def files_in_layers(blobs: list[tuple[str, bytes]], wanted: set[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for _, data in blobs:
        if not tarfile.is_tarfile(io.BytesIO(data)):
            continue  # a manifest, index or config
        with tarfile.open(fileobj=io.BytesIO(data)) as layer:
            for member in layer.getmembers():
                if member.name in wanted and member.isfile():
                    found[member.name] = layer.extractfile(member).read()  # type: ignore[union-attr]
    return found


def test_secrets_arrive_and_leak_nowhere(engine: str, make_project: MakeProject) -> None:
    token_value = f"env-secret-{uuid.uuid4().hex}"
    cred_value = f"file-secret-{uuid.uuid4().hex}"
    tag = f"{REGISTRY}/leaktest/{uuid.uuid4().hex[:10]}:1"
    dockerfile = LEAKY_DOCKERFILE.replace("RUN_TOKEN", uuid.uuid4().hex)
    path = make_project(LEAKY % tag, files={"leaky/Dockerfile": dockerfile,
                                            "secrets/cred.txt": cred_value})
    folder = path.parent
    env = {**os.environ, "BO_LEAK_TOKEN": token_value}
    values = (token_value, cred_value)

    plan = subprocess.run([sys.executable, "-m", "buildorch", "plan", "-f", str(path),
                           "--format", "json"], cwd=folder, env=env, capture_output=True,
                          text=True, check=True)
    dry = subprocess.run([sys.executable, "-m", "buildorch", "build", "-f", str(path),
                          "--dry-run"], cwd=folder, env=env, capture_output=True, text=True,
                         check=True)

    child = subprocess.Popen([sys.executable, "-m", "buildorch", "build", "-f", str(path),
                              "--backend", "docker"], cwd=folder, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    while child.poll() is None:  # every command line on the machine while the build runs
        seen += [c for c in cmdlines() if "buildx" in c or "buildorch" in c]
        time.sleep(0.05)
    out, err = child.communicate()
    assert child.returncode == 0, out[-3000:] + err
    assert any("buildx build" in c and "id=tok,env=BO_LEAK_TOKEN" in c for c in seen)

    stored = {str(p): p.read_bytes() for p in (folder / ".buildorch").rglob("*") if p.is_file()}
    logs = [text for name, text in stored.items() if name.endswith(".log")]
    assert any(b"printing: ***" in text for text in logs)  # printed by the RUN, then scrubbed
    blobs = list(image_blobs(tag, folder))
    assert any(b'"config"' in data or b"rootfs" in data for _, data in blobs)
    for value in values:
        assert value not in out and value not in err
        assert value not in plan.stdout + plan.stderr and value not in dry.stdout + dry.stderr
        assert not [c for c in seen if value in c]
        assert not [name for name, data in stored.items() if value.encode() in data]
        assert not [name for name, data in blobs if value.encode() in data]

    # and the secrets did arrive: the image holds their hashes
    hashes = files_in_layers(blobs, {"hash-tok", "hash-cred"})
    assert hashes["hash-tok"].strip() == hashlib.sha256(token_value.encode()).hexdigest().encode()
    assert hashes["hash-cred"].strip() == hashlib.sha256(cred_value.encode()).hexdigest().encode()


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path, str]]:
    """A real ssh-agent holding a key made by ssh-keygen."""
    comment = f"bo-agent-{uuid.uuid4().hex[:8]}"
    key = tmp_path / "keys" / "id_ed25519"
    key.parent.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f",
                    str(key)], check=True)
    sock = tmp_path / "agent.sock"
    started = subprocess.run(["ssh-agent", "-a", str(sock), "-s"], check=True,
                             capture_output=True, text=True).stdout
    pid = int(started.split("SSH_AGENT_PID=")[1].split(";")[0])
    env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
    subprocess.run(["ssh-add", "-q", str(key)], env=env, check=True)
    yield env, key, comment
    os.kill(pid, signal.SIGTERM)


SSH_PIPELINE = """\
version: 1
name: sshtest
images:
  agent:
    context: ctx
    dockerfile: Dockerfile.agent
    ssh: [default]
  bykey:
    context: ctx
    dockerfile: Dockerfile.key
    ssh:
      - {id: deploy, paths: [keys/id_ed25519]}
"""


def test_ssh_agent_answers_inside_the_build(engine: str, make_project: MakeProject,
                                            agent: tuple[dict[str, str], Path, str]) -> None:
    env, key, comment = agent
    token = uuid.uuid4().hex
    # agentq asks the agent at $SSH_AUTH_SOCK for its identities (SSH agent protocol);
    # built static so that it runs on the busybox base.
    gcc = shutil.which("gcc")
    assert gcc, "gcc is needed to build the agent client for this test"
    path = make_project(SSH_PIPELINE, files={
        "ctx/Dockerfile.agent": f"FROM {BASE}\nCOPY agentq /agentq\n"
                                f"RUN --mount=type=ssh echo {token} && /agentq\n",
        "ctx/Dockerfile.key": f"FROM {BASE}\nCOPY agentq /agentq\n"
                              f"RUN --mount=type=ssh,id=deploy echo {token} && /agentq\n",
    })
    folder = path.parent
    subprocess.run([gcc, "-static", "-O2", "-o", str(folder / "ctx" / "agentq"),
                    str(DATA / "agentq.c")], check=True)
    assert key == folder / "keys" / "id_ed25519"  # where the pipeline says it is
    result = subprocess.run([sys.executable, "-m", "buildorch", "build", "-f", str(path),
                             "--backend", "docker"], cwd=folder, env=env, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    logs = {p.stem: p.read_text() for p in (folder / ".buildorch").rglob("*.log")}
    assert "identities: 1" in logs["agent"] and f"comment: {comment}" in logs["agent"]
    assert "identities: 1" in logs["bykey"]  # BuildKit's own agent, loaded from the key file
    record = json.loads(next((folder / ".buildorch").rglob("record.json")).read_text())
    argv = record["images"]["bykey"]["argv"]
    assert argv[argv.index("--ssh") + 1] == "deploy=keys/id_ed25519"  # a path, never the key
