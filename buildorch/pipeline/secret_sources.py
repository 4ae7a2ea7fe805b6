"""Where each secret comes from (a file or an environment variable), whether it is there,
and its value, read only to scrub it from everything buildorch shows or stores."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from buildorch.localpaths import InvalidPath, expand_home, is_file
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.pipeline.model import Secret

MIN_SCRUB_LENGTH = 4  # shorter values would mangle ordinary output if scrubbed


def pipeline_path(folder: Path, value: str) -> Path:
    """A path as the pipeline gives it: `~` expanded, relative to the pipeline's folder."""
    path = expand_home(value)
    return path if path.is_absolute() else folder / path


def secret_present(secret: Secret, folder: Path, env: Mapping[str, str]) -> bool:
    if secret.env is not None:
        return secret.env in env
    try:
        return is_file(pipeline_path(folder, secret.src or ""))
    except InvalidPath:
        return False


def missing_optional_secrets(pipeline: LoadedPipeline, env: Mapping[str, str]
                             ) -> frozenset[tuple[str, str]]:
    """(image, secret id) of `required: false` secrets whose source is absent: not passed."""
    return frozenset(
        (name, secret.id) for name, image in pipeline.images.items()
        for secret in image.spec.secrets
        if not secret.required and not secret_present(secret, pipeline.folder, env))


def secret_values(pipeline: LoadedPipeline, env: Mapping[str, str]) -> list[str]:
    """The values to scrub from every line buildorch shows or stores."""
    values: list[str] = []
    for image in pipeline.images.values():
        for secret in image.spec.secrets:
            if secret.env is not None:
                values.append(env.get(secret.env, ""))
                continue
            try:
                path = pipeline_path(pipeline.folder, secret.src or "")
                if path.stat().st_size <= 65536:
                    text = path.read_text(errors="ignore")
                    values += [text, text.strip(), *text.splitlines()]
            except (OSError, ValueError):  # absent, unreadable, an unknown ~user
                pass
    return sorted({v for v in values if len(v) >= MIN_SCRUB_LENGTH}, key=len, reverse=True)
