"""`reproducible`: which images ask for it, and the SOURCE_DATE_EPOCH they are built with.

The epoch is the pipeline variable SOURCE_DATE_EPOCH: `--var`, then `vars`, then the
built-in (the environment's SOURCE_DATE_EPOCH, else the commit time of HEAD), so git is
asked only when a reproducible image is planned and nothing else gives it.
"""

from __future__ import annotations

import re

from buildorch.errors import shorten
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.pipeline.yaml_source import Path_

SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"
FIELD = "reproducible"
_UNIX_TIME = re.compile(r"[0-9]{1,18}")  # whole seconds, within Go's int64 (strconv.ParseInt)


def is_reproducible(p: LoadedPipeline, image: str) -> bool:
    """The image's own `reproducible` (or what it inherits, or `defaults`), else the
    pipeline's."""
    own = p.images[image].spec.reproducible
    return p.model.reproducible if own is None else own


def reproducible_path(p: LoadedPipeline, image: str) -> Path_:
    """Where the image's `reproducible` setting is written."""
    if p.images[image].spec.reproducible is None:
        return (FIELD,)
    return p.field_path(image, FIELD)


def source_date_epoch(p: LoadedPipeline, image: str) -> str:
    """The Unix time a reproducible image is built at; a ConfigError at its `reproducible`
    where there is none, or it is not a whole number of seconds."""
    value = p.variables(SOURCE_DATE_EPOCH)
    if value is None:
        raise p.error("SOURCE_DATE_EPOCH comes from the commit time of HEAD, and "
                      f"{p.folder} is in no git repository with a commit: commit, or give "
                      "it (--var SOURCE_DATE_EPOCH=SECONDS, or the environment)",
                      reproducible_path(p, image))
    if not _UNIX_TIME.fullmatch(value):
        raise p.error(f"SOURCE_DATE_EPOCH {shorten(value)!r} is not a Unix time (whole seconds)",
                      reproducible_path(p, image))
    return value
