"""One list of backend names: each is a module with its `BACKEND`, and every other list
of names (the command line's choices, the pipeline's `builders[].backend`) derives from it."""

from __future__ import annotations

import pytest

from buildorch.backends.base import Backend
from buildorch.backends.catalog import BACKEND_CHOICES, BACKEND_NAMES, get_backend
from buildorch.cli.parser import build_parser
from buildorch.pipeline.model import Pipeline


def test_each_name_is_a_backend_module_of_that_name() -> None:
    assert BACKEND_NAMES == ("nerdctl", "finch", "docker", "buildctl")  # the order auto tries
    for name in BACKEND_NAMES:
        backend = get_backend(name)
        assert isinstance(backend, Backend) and backend.name == name == backend.binary


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown backend 'podman'"):
        get_backend("podman")


def test_the_command_line_and_the_pipeline_take_the_same_names() -> None:
    assert ("auto", *BACKEND_NAMES) == BACKEND_CHOICES
    build = build_parser()._subparsers._group_actions[0].choices["build"]  # type: ignore[union-attr]
    backend_option = next(a for a in build._actions if a.dest == "backend")
    assert tuple(backend_option.choices) == BACKEND_CHOICES
    schema = Pipeline.model_json_schema()["$defs"]["Builder"]["properties"]["backend"]
    assert tuple(schema["enum"]) == BACKEND_CHOICES


def test_local_store_backends_publish_by_push_and_the_others_through_the_registry() -> None:
    for name in BACKEND_NAMES:
        backend = get_backend(name)
        pushes = backend.push_argv("r/a:1", None) is not None
        assert pushes == backend.local_store, name
