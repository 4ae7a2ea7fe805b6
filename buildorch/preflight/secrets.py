"""Secrets and SSH forwarding: where each comes from, and whether it is there.

Checked before any build starts, so that a missing token or agent is a clear exit-2
error naming the secret and the image, not a failure halfway through a run. Only
existence is checked here; values are read only to scrub them from output.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from buildorch.errors import ConfigError
from buildorch.pipeline.loader import LoadedPipeline
from buildorch.pipeline.model import Secret, Ssh

# Build args are kept in the image's history: names like these suggest a credential.
_CREDENTIAL_WORDS = {"TOKEN", "PASSWORD", "PASSWD", "PASS", "SECRET", "KEY", "APIKEY",
                     "CREDENTIAL", "CREDENTIALS", "AUTH", "PRIVATE", "PAT"}
MIN_SCRUB_LENGTH = 4  # shorter values would mangle ordinary output if scrubbed


def secret_path(folder: Path, src: str) -> Path:
    path = Path(src).expanduser()
    return path if path.is_absolute() else folder / path


def secret_present(secret: Secret, folder: Path, env: Mapping[str, str]) -> bool:
    if secret.env is not None:
        return secret.env in env
    return secret_path(folder, secret.src or "").is_file()


def missing_optional_secrets(pipeline: LoadedPipeline, env: Mapping[str, str]
                             ) -> frozenset[tuple[str, str]]:
    """(image, secret id) of `required: false` secrets whose source is absent: not passed."""
    return frozenset(
        (name, secret.id) for name, image in pipeline.images.items()
        for secret in image.spec.secrets
        if not secret.required and not secret_present(secret, pipeline.folder, env))


def _where(pipeline: LoadedPipeline, image: str, field: str, index: int) -> tuple[
        str, int | None, str]:
    own = field in pipeline.model.images[image].model_fields_set
    path = ("images", image, field, index) if own else ("defaults", field, index)
    file, line = pipeline.where(path)
    return file, line, ".".join(str(p) for p in path[:-1]) + f"[{index}]"


def check_secrets(pipeline: LoadedPipeline, names: Iterable[str], env: Mapping[str, str]) -> None:
    for name in names:
        for i, secret in enumerate(pipeline.images[name].spec.secrets):
            if not secret.required or secret_present(secret, pipeline.folder, env):
                continue
            file, line, field = _where(pipeline, name, "secrets", i)
            if secret.env is not None:
                problem = (f"environment variable {secret.env} is not set: export it, or mark "
                           "the secret `required: false`")
            else:
                shown = secret_path(pipeline.folder, secret.src or "")
                problem = (f"file {shown} does not exist: create it, or mark the secret "
                           "`required: false`")
            raise ConfigError(f"secret '{secret.id}' of image '{name}': {problem}",
                              file=file, line=line, field=field)


def check_ssh(pipeline: LoadedPipeline, names: Iterable[str], env: Mapping[str, str]) -> None:
    for name in names:
        for i, ssh in enumerate(pipeline.images[name].spec.ssh):
            problem = _ssh_problem(ssh, pipeline.folder, env)
            if problem:
                file, line, field = _where(pipeline, name, "ssh", i)
                raise ConfigError(f"ssh '{ssh.id}' of image '{name}': {problem}",
                                  file=file, line=line, field=field)


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
        path = secret_path(folder, raw)
        if not path.exists():
            return f"{path} does not exist"
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
                own = arg in pipeline.model.images[name].args
                path = ("images", name, "args", arg) if own else ("defaults", "args", arg)
                file, line = pipeline.where(path)
                warnings.append(
                    f"{file}:{line}: {'.'.join(path)}: build arg '{arg}' looks like a "
                    "credential; build args stay in the image's history, so pass it as a "
                    "secret mount instead (secrets: [{id: ..., env: " + arg + "}])")
    return warnings


def secret_values(pipeline: LoadedPipeline, env: Mapping[str, str]) -> list[str]:
    """The values to scrub from every line buildorch shows or stores."""
    values: list[str] = []
    for image in pipeline.images.values():
        for secret in image.spec.secrets:
            if secret.env is not None:
                values.append(env.get(secret.env, ""))
                continue
            path = secret_path(pipeline.folder, secret.src or "")
            try:
                if path.stat().st_size <= 65536:
                    text = path.read_text(errors="ignore")
                    values += [text, text.strip(), *text.splitlines()]
            except OSError:
                pass
    return sorted({v for v in values if len(v) >= MIN_SCRUB_LENGTH}, key=len, reverse=True)
