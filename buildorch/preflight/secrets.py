"""Secrets and SSH forwarding: checked before any build starts.

A missing token, key or agent is a clear exit-2 error naming the secret and the image,
not a failure halfway through a run. Only existence is checked here (sources and values
are `pipeline.secret_sources`). Build args that look like credentials get a warning.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from buildorch.backends.base import EnvBarrier
from buildorch.backends.request import BuildRequest
from buildorch.errors import ConfigError, shorten
from buildorch.localpaths import InvalidPath, exists
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.pipeline.model import Ssh
from buildorch.pipeline.secret_sources import pipeline_path, secret_present
from buildorch.pipeline.yaml_source import dotted

# Build args are kept in the image's history: names like these suggest a credential.
_CREDENTIAL_WORDS = {"TOKEN", "PASSWORD", "PASSWD", "PASS", "SECRET", "KEY", "APIKEY",
                     "CREDENTIAL", "CREDENTIALS", "AUTH", "PRIVATE", "PAT"}


def check_secrets(pipeline: LoadedPipeline, names: Iterable[str], env: Mapping[str, str]) -> None:
    for name in names:
        for i, secret in enumerate(pipeline.images[name].spec.secrets):
            if not secret.required or secret_present(secret, pipeline.folder, env):
                continue
            if secret.env is not None:
                problem = (f"environment variable {secret.env} is not set: export it, or mark "
                           "the secret `required: false`")
            else:
                try:
                    shown = shorten(pipeline_path(pipeline.folder, secret.src or ""), 200)
                except InvalidPath as exc:
                    shown = str(exc)
                problem = (f"file {shown} does not exist: create it, or mark the secret "
                           "`required: false`")
            raise pipeline.error(f"secret '{secret.id}' of image '{name}': {problem}",
                                 pipeline.field_path(name, "secrets", i))


def check_ssh(pipeline: LoadedPipeline, names: Iterable[str], env: Mapping[str, str]) -> None:
    for name in names:
        for i, ssh in enumerate(pipeline.images[name].spec.ssh):
            problem = _ssh_problem(ssh, pipeline.folder, env)
            if problem:
                raise pipeline.error(f"ssh '{ssh.id}' of image '{name}': {problem}",
                                     pipeline.field_path(name, "ssh", i))


def _ssh_problem(ssh: Ssh, folder: Path, env: Mapping[str, str]) -> str | None:
    if not ssh.paths:
        sock = env.get("SSH_AUTH_SOCK")
        if not sock:
            return ("no SSH agent: SSH_AUTH_SOCK is not set (start one: eval \"$(ssh-agent)\" "
                    "&& ssh-add), or give key paths: {id: ..., paths: [~/.ssh/id_ed25519]}")
        if not _is_socket(Path(sock)):
            return f"SSH_AUTH_SOCK={sock} is not a socket: is the agent still running?"
        return None
    for raw in ssh.paths:
        try:
            path = pipeline_path(folder, raw)
        except InvalidPath as exc:
            return str(exc)
        if not exists(path):
            return f"{shorten(path, 200)} does not exist"
    return None


def _is_socket(path: Path) -> bool:
    try:
        return stat.S_ISSOCK(path.stat().st_mode)
    except OSError:
        return False


def credential_like_args(pipeline: LoadedPipeline) -> list[str]:
    """Warnings for build args whose names look like credentials."""
    warnings = []
    for name, image in pipeline.images.items():
        for arg in image.spec.args:
            words = set(re.split(r"[^A-Z0-9]+", arg.upper()))
            if words & _CREDENTIAL_WORDS:
                path = pipeline.field_path(name, "args", arg)
                file, line = pipeline.where(path)
                warnings.append(
                    f"{file}:{line}: {dotted(path)}: build arg '{arg}' looks like a "
                    "credential; build args stay in the image's history, so pass it as a "
                    "secret mount instead (secrets: [{id: ..., env: " + arg + "}])")
    return warnings


def check_env_secrets_reach(requests: Iterable[BuildRequest], barrier: EnvBarrier) -> None:
    """An `env=NAME` secret whose NAME the tool would not see (Finch's VM forwards a fixed
    list) fails now, not after every earlier build of the run."""
    for request in requests:
        unseen = barrier.unseen_env_secrets(request)
        if unseen:
            raise ConfigError(
                f"image '{request.name}': secret '{unseen[0]}' comes from an environment "
                f"variable, which {barrier.where} does not receive (it receives only "
                f"{', '.join(sorted(barrier.passes))}); give it as a file (src:)")
