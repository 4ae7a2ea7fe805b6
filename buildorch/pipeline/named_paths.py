"""The local paths an image's fields name besides its context (pure): named-context
folders, secret files and SSH keys, each with the field that names it. The loader checks
them; `doctor` asks whether Finch's VM can see them."""

from __future__ import annotations

from collections.abc import Iterator

from buildorch.backends.flags import is_local_context
from buildorch.pipeline.model import Image

# (field, key or index): as LoadedPipeline.field_path takes it after the image's name
Field = tuple[str, str | int]


def named_paths(spec: Image) -> Iterator[tuple[Field, str]]:
    for key, value in spec.contexts.items():
        if isinstance(value, str) and is_local_context(value):
            yield ("contexts", key), value
    for i, secret in enumerate(spec.secrets):
        if secret.src is not None:
            yield ("secrets", i), secret.src
    for i, ssh in enumerate(spec.ssh):
        for key in ssh.paths:
            yield ("ssh", i), key
