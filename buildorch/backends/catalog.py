"""The backends by name: the one list of names, each the module that implements it.

Light on purpose (no tool module is imported until asked for), since the command line's
parser and the pipeline model read the names.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from buildorch.backends.base import Backend

BackendName = Literal["nerdctl", "finch", "docker", "buildctl"]  # the order `auto` tries
BackendChoice = Literal["auto", BackendName]
BACKEND_NAMES: tuple[BackendName, ...] = get_args(BackendName)
BACKEND_CHOICES: tuple[str, ...] = get_args(BackendChoice)
# What `auto` means where no engine is asked (plan, --dry-run): docker buildx.
OFFLINE_DEFAULT: BackendName = "docker"


def offline_backend(requested: str) -> str:
    """The backend to plan for without asking an engine which one answers."""
    return OFFLINE_DEFAULT if requested == "auto" else requested


def get_backend(name: str) -> Backend:
    if name not in BACKEND_NAMES:
        raise ValueError(f"unknown backend {name!r}")
    from buildorch.backends.base import Backend

    backend = importlib.import_module(f"{__package__}.{name}").BACKEND
    assert isinstance(backend, Backend) and backend.name == name
    return backend
