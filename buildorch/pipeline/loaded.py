"""A loaded pipeline: the validated model, each image resolved, and where each value was
written (file and line, or the `--set` that gave it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from buildorch.cache.profiles import CacheProfile
from buildorch.dockerfiles.per_platform import PlatformAnalyses
from buildorch.errors import ConfigError
from buildorch.pipeline.model import Image, Pipeline
from buildorch.pipeline.validation_errors import Origins, locate
from buildorch.pipeline.yaml_source import Located, Path_, dotted


@dataclass(frozen=True)
class ResolvedImage:
    name: str
    spec: Image  # what it inherits and defaults merged in
    context_dir: Path | None  # None: a remote context (`remote_context`)
    dockerfile: Path | None  # None: written inline, or inside a remote context
    dockerfile_display: str
    # The Dockerfile as built for each of the image's platforms; None when it is inside a
    # remote context (only the builder fetches it: no implicit edges, no stages known).
    info: PlatformAnalyses | None
    cache: CacheProfile | None
    cache_name: str | None
    cache_source: Located | None = None  # the profile's file, for errors that name it
    remote_context: str | None = None


@dataclass(frozen=True)
class LoadedPipeline:
    path: Path
    display: str
    folder: Path
    model: Pipeline
    images: Mapping[str, ResolvedImage]
    source: Located
    origins: Origins
    variables: Callable[[str], str | None] = lambda _name: None  # pipeline vars and built-ins
    # each image a matrix entry expanded to -> that entry's key under `images`
    matrix_entries: Mapping[str, str] = field(default_factory=dict)

    @property
    def branch(self) -> str | None:
        return self.variables("GIT_BRANCH")

    def entry_key(self, image: str) -> str:
        """The key under `images` of the entry `image` is written as (a matrix's, or its own)."""
        return self.matrix_entries.get(image, image)

    def where(self, path: Path_) -> tuple[str, int | None]:
        return locate(path, self.source, self.origins)

    def field_path(self, image: str, field: str, *rest: str | int) -> Path_:
        """Where an image's merged field was written: on the image, else in `defaults`.

        `rest` continues the path: a list index (lists are replaced whole) or a mapping key
        (mappings merge key by key, so the key decides)."""
        key = rest[0] if rest and isinstance(rest[0], str) else None
        owner = self._owner(image, field, key, set())
        return ("images", owner, field, *rest) if owner else ("defaults", field, *rest)

    def _owner(self, image: str, field: str, key: str | None, seen: set[str]) -> str | None:
        """The image or template whose own fields give `field` (the last it inherits
        from wins), or None: `defaults`."""
        own = self.model.images.get(image)
        if own is None or image in seen:
            return None
        seen.add(image)
        if field in own.model_fields_set and (key is None or key in getattr(own, field)):
            return image
        for parent in reversed(own.inherits):
            found = self._owner(parent, field, key, seen)
            if found:
                return found
        return None

    def error(self, message: str, path: Path_) -> ConfigError:
        file, line = self.where(path)
        return ConfigError(message, file=file, line=line, field=dotted(path))
