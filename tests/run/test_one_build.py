"""One build's outcome (pure parts): which builds must report an image digest."""

from __future__ import annotations

import dataclasses

import pytest

from buildorch.backends.request import AttrSpec
from buildorch.run.one_build import exports_image
from tests.backends.sample_requests import MINIMAL


@pytest.mark.parametrize("outputs", [("type=local,dest=out",), ("type=tar,dest=o.tar",),
                                     ("type=cacheonly",),
                                     ("type=local,dest=out", "type=tar,dest=o.tar")])
def test_a_build_that_only_writes_files_or_nothing_reports_no_digest(
        outputs: tuple[str, ...]) -> None:
    """bake's `output: [type=local,...]` / `[type=cacheonly]` replace the image export:
    buildx's metadata file then has no containerimage.digest, and that is a success."""
    req = dataclasses.replace(MINIMAL, outputs=tuple(AttrSpec.parse(o) for o in outputs))
    assert not exports_image(req)


@pytest.mark.parametrize("change", [
    {},  # no output at all: the backend's default export is an image
    {"outputs": (AttrSpec.parse("type=oci,dest=o.tar"),)},
    {"outputs": (AttrSpec.parse("type=cacheonly"), AttrSpec.parse("type=docker"))},
    {"outputs": (AttrSpec.parse("type=local,dest=out"),), "tags": ("r/a:1",), "load": True},
    {"outputs": (AttrSpec.parse("type=local,dest=out"),), "tags": ("r/a",),
     "push_by_digest": True},
])
def test_a_build_that_writes_an_image_must_report_its_digest(change: dict[str, object]) -> None:
    assert exports_image(dataclasses.replace(MINIMAL, **change))  # type: ignore[arg-type]
