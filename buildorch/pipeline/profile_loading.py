"""The cache profiles a pipeline's images name, found, loaded and checked once each."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from buildorch.cache.profiles import CacheProfile, find_profile, profile_search_path
from buildorch.errors import ConfigError, ConfigErrors, Problems
from buildorch.pipeline.interpolation import VarResolver
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.pipeline.validation_errors import config_errors_from
from buildorch.pipeline.variables import interpolate
from buildorch.pipeline.yaml_source import Located, load_yaml


class ProfileLoader:
    """Cache profiles, each loaded once; a profile's own errors are reported once."""

    def __init__(self, p: LoadedPipeline, from_cli: str | None, folder: Path | None,
                 resolver: VarResolver) -> None:
        self.p = p
        self.from_cli = from_cli is not None  # --cache NAME
        self.search = profile_search_path(p.folder, folder)
        self.resolver = resolver
        self.loaded: dict[str, tuple[CacheProfile, Located] | ConfigError] = {}


    def get(self, image: str, name: str | None) -> tuple[CacheProfile | None, Located | None]:
        if name is None:
            return None, None
        if name not in self.loaded:
            found = find_profile(name, self.search)
            if found is None:
                raise self._missing(image, name)  # against each image that names it
            try:
                self.loaded[name] = self._load(found)
            except ConfigError as exc:  # reported once: equal errors are merged
                self.loaded[name] = exc
        entry = self.loaded[name]
        if isinstance(entry, ConfigError):
            raise entry
        return entry

    def _missing(self, image: str, name: str) -> ConfigError:
        folders = ", ".join(os.path.relpath(f) for f in self.search[:3])
        message = f"cache profile '{name}' not found (looked in {folders})"
        if self.from_cli:
            return ConfigError(f"--cache {name}: {message}")
        return self.p.error(message, self.p.field_path(image, "cache"))

    def _load(self, found: Path) -> tuple[CacheProfile, Located]:
        display = os.path.relpath(found)
        source = load_yaml(found, display)
        if not isinstance(source.data, dict):
            raise ConfigError("a cache profile must be a YAML mapping", file=display, line=1)
        problems = Problems()
        data = interpolate(source.data, source, self.resolver, problems)
        problems.raise_if_any()
        try:
            return CacheProfile.model_validate(data), source
        except ValidationError as exc:
            raise ConfigErrors(config_errors_from(exc, CacheProfile, source)) from None
