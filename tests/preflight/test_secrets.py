"""Secrets and SSH: preflight errors (no engine needed) and warnings."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from buildorch.backends.finch import FinchBackend
from buildorch.backends.flags import spec_text
from buildorch.backends.request import AttrSpec, BuildRequest, SecretRef
from buildorch.cli.main import main
from buildorch.errors import ConfigError
from buildorch.preflight.secrets import check_env_secrets_reach
from buildorch.proc import REDACTED, redact
from buildorch.workdir import RUNS
from tests.conftest import MakeProject

PIPELINE = """\
version: 1
name: s
images:
  base: {context: a}
  app:
    context: a
    depends_on: [base]
    secrets:
      - {id: token, env: BO_TEST_TOKEN}
      - {id: netrc, src: creds/netrc}
      - {id: optional, env: BO_TEST_OPTIONAL, required: false}
    ssh: [default]
"""


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "buildorch", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)


@pytest.fixture
def agent_socket(tmp_path: Path) -> str:
    path = tmp_path / "agent.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))  # a socket where SSH_AUTH_SOCK points; nobody needs to answer
    return str(path)


def base_env(agent: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("BO_TEST_TOKEN", "BO_TEST_OPTIONAL", "SSH_AUTH_SOCK")}
    if agent:
        env["SSH_AUTH_SOCK"] = agent
    return env


def project(make_project: MakeProject, netrc: bool = True) -> Path:
    files = {"a/Dockerfile": "FROM localhost:5000/busybox:latest\n"}
    if netrc:
        files["creds/netrc"] = "machine x login y password z\n"
    return make_project(PIPELINE, files=files)


def test_missing_env_secret_is_exit_2_naming_secret_and_image(
        make_project: MakeProject, agent_socket: str) -> None:
    path = project(make_project)
    result = run(["build", "-f", str(path), "--backend", "docker"], path.parent,
                 base_env(agent_socket))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"buildorch: error: {path}:9: images.app.secrets[0]: secret 'token' of image 'app': "
        "environment variable BO_TEST_TOKEN is not set: export it, or mark the secret "
        "`required: false`")
    assert not (path.parent / RUNS).exists()  # no build started, no record


def test_missing_secret_file_is_exit_2(make_project: MakeProject, agent_socket: str) -> None:
    path = project(make_project, netrc=False)
    env = {**base_env(agent_socket), "BO_TEST_TOKEN": "t0k3n-value"}
    result = run(["build", "-f", str(path), "--backend", "docker"], path.parent, env)
    assert result.returncode == 2
    assert "images.app.secrets[1]: secret 'netrc' of image 'app': file " in result.stderr
    assert "creds/netrc does not exist" in result.stderr
    assert "t0k3n-value" not in result.stderr + result.stdout


def test_missing_agent_is_exit_2(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = project(make_project)
    monkeypatch.setenv("BO_TEST_TOKEN", "t0k3n-value")
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.chdir(path.parent)
    assert main(["build", "-f", str(path), "--backend", "docker"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:12: images.app.ssh[0]: ssh 'default' of image 'app': no SSH agent" in err
    assert "ssh-agent" in err  # says what to do
    assert not (path.parent / RUNS).exists()


def test_dead_agent_socket_is_exit_2(make_project: MakeProject, tmp_path: Path) -> None:
    path = project(make_project)
    env = {**base_env(str(tmp_path / "gone.sock")), "BO_TEST_TOKEN": "x"}
    result = run(["build", "-f", str(path), "--backend", "docker"], path.parent, env)
    assert result.returncode == 2
    assert "is not a socket: is the agent still running?" in result.stderr


def test_missing_ssh_key_path_is_exit_2(make_project: MakeProject) -> None:
    path = make_project(
        "version: 1\nname: s\nimages:\n  a:\n    context: a\n"
        "    ssh: [{id: github, paths: [keys/id_ed25519]}]\n",
        files={"a/Dockerfile": "FROM localhost:5000/busybox:latest\n"})
    result = run(["build", "-f", str(path), "--backend", "docker", "--dry-run"], path.parent,
                 base_env(None))
    assert result.returncode == 2
    assert "images.a.ssh[0]: ssh 'github' of image 'a': " in result.stderr
    assert "keys/id_ed25519 does not exist" in result.stderr


def test_secrets_only_for_the_selection(make_project: MakeProject, agent_socket: str) -> None:
    path = project(make_project)
    result = run(["build", "-f", str(path), "--backend", "docker", "--dry-run", "base"],
                 path.parent, base_env(None))
    assert result.returncode == 0, result.stderr  # `app` is not selected: its needs don't count


def test_dry_run_passes_secrets_by_reference_only(make_project: MakeProject,
                                                  agent_socket: str) -> None:
    path = project(make_project)
    env = {**base_env(agent_socket), "BO_TEST_TOKEN": "t0k3n-value"}
    result = run(["build", "-f", str(path), "--dry-run"], path.parent, env)
    assert result.returncode == 0, result.stderr
    assert "--secret id=token,env=BO_TEST_TOKEN" in result.stdout
    assert "--secret id=netrc,src=creds/netrc" in result.stdout
    assert "id=optional" not in result.stdout  # optional and absent: not passed
    assert "t0k3n-value" not in result.stdout + result.stderr
    assert "password z" not in result.stdout + result.stderr


def test_credential_like_build_args_warn(make_project: MakeProject) -> None:
    path = make_project(
        "version: 1\nname: s\ndefaults:\n  args: {NPM_TOKEN: x}\nimages:\n  a:\n"
        "    context: a\n    args: {DB_PASSWORD: y, KEYBOARD_LAYOUT: us, VERSION: '1'}\n"
        "    tags: [localhost:5000/s/a:1]\n",
        files={"a/Dockerfile": "FROM localhost:5000/busybox:latest\n"})
    result = run(["validate", "-f", str(path)], path.parent, base_env(None))
    assert result.returncode == 0
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 2
    assert f"{path}:4: defaults.args.NPM_TOKEN: build arg 'NPM_TOKEN' looks like a credential" in (
        warnings[0] + warnings[1])
    assert any(f"{path}:8: images.a.args.DB_PASSWORD" in w for w in warnings)
    assert all("secret mount" in w for w in warnings)


def test_redaction_of_values_and_credential_attributes() -> None:
    assert redact("token is hunter22!", ["hunter22!"]) == f"token is {REDACTED}"
    s3 = AttrSpec("s3", (("bucket", "b"), ("access_key_id", "AKIA1"),
                         ("secret_access_key", "s/k"), ("session_token", "t"), ("region", "r")))
    image = AttrSpec("image", (("name", "a,b"), ("secret_access_key", "z")))
    assert ["--export-cache", spec_text(s3.redacted()), spec_text(image.redacted())] == [
        "--export-cache", f"type=s3,bucket=b,access_key_id={REDACTED},secret_access_key="
        f"{REDACTED},session_token={REDACTED},region=r",
        f'type=image,"name=a,b",secret_access_key={REDACTED}']


def test_env_secrets_a_vm_would_not_see_stop_the_run() -> None:
    # runfinch/finch cmd/finch/nerdctl_remote.go `passedEnvs`
    barrier = FinchBackend().env_barrier("Darwin")
    assert barrier is not None
    api = BuildRequest(name="api", context="ctx", dockerfile="ctx/Dockerfile",
                       secrets=(SecretRef("aws", env="AWS_ACCESS_KEY_ID"),
                                SecretRef("npm", src="/home/me/.npmrc")))
    check_env_secrets_reach([api], barrier)
    api = dataclasses.replace(api, secrets=(SecretRef("npm", env="NPM_TOKEN"),))
    with pytest.raises(ConfigError, match=r"image 'api': secret 'npm' comes from an "
                                          r"environment variable, which Finch's VM does not "
                                          r"receive"):
        check_env_secrets_reach([api], barrier)
