"""A loaded pipeline: the validated model, each image resolved, and where each value was
written (file and line, or the `--set` that gave it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
    spec: Image  # defaults merged in
    context_dir: Path
    dockerfile: Path
    dockerfile_display: str
    info: PlatformAnalyses  # the Dockerfile as built for each of the image's platforms
    cache: CacheProfile | None
    cache_name: str | None
    cache_source: Located | None = None  # the profile's file, for errors that name it


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

    @property
    def branch(self) -> str | None:
        return self.variables("GIT_BRANCH")

    def where(self, path: Path_) -> tuple[str, int | None]:
        return locate(path, self.source, self.origins)

    def field_path(self, image: str, field: str, *rest: str | int) -> Path_:
        """Where an image's merged field was written: on the image, else in `defaults`.

        `rest` continues the path: a list index (lists are replaced whole) or a mapping key
        (mappings merge key by key, so the key decides)."""
        own = self.model.images[image]
        if field in own.model_fields_set and not (
                rest and isinstance(rest[0], str) and rest[0] not in getattr(own, field)):
            return ("images", image, field, *rest)
        return ("defaults", field, *rest)

    def error(self, message: str, path: Path_) -> ConfigError:
        file, line = self.where(path)
        return ConfigError(message, file=file, line=line, field=dotted(path))
