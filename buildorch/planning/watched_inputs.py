"""What each image's build reads from the repository, for `--changed-since`: its context
and local named contexts with the ignore files that filter them, its Dockerfile and its
cache profile, each as a path relative to the repository. Reads the ignore files."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from pathlib import Path

from buildorch.backends.flags import is_local_context
from buildorch.cache.profiles import profile_search_path
from buildorch.inputs.dockerignore import IgnoreMatcher, ignore_file_in_effect, read_ignore
from buildorch.localpaths import is_file
from buildorch.pipeline.loaded import LoadedPipeline, ResolvedImage
from buildorch.pipeline.secret_sources import pipeline_path
from buildorch.planning.changed_since import Folder, Watched

DOCKERIGNORE = ".dockerignore"
OUTSIDE = "{what} is outside the repository (its changes cannot be compared)"

Relative = Callable[[Path], "str | None"]  # a path relative to the repository, or None


class WatchedReader:
    """Reads each ignore file once (folders are often shared by several images)."""

    def __init__(self, pipeline: LoadedPipeline, relative: Relative,
                 cache_config: Path | None = None) -> None:
        self.pipeline = pipeline
        self._relative = relative
        self._relatives: dict[Path, str | None] = {}  # folders are shared: resolved once
        self.profile_folders = profile_search_path(pipeline.folder, cache_config)
        self._matchers: dict[Path | None, IgnoreMatcher] = {}

    def all(self) -> dict[str, Watched]:
        return {name: self.image(image) for name, image in self.pipeline.images.items()}

    def image(self, image: ResolvedImage) -> Watched:
        folders: list[Folder] = []
        files: list[tuple[str, str]] = []
        outside: list[str] = []
        if image.context_dir is not None:
            self._folder(image.context_dir, image.dockerfile, "its context", folders, outside)
        for key, value in image.spec.contexts.items():
            if isinstance(value, str) and is_local_context(value):
                self._folder(pipeline_path(self.pipeline.folder, value), None,
                             f"named context {key}", folders, outside)
        if image.dockerfile is not None:
            self._file(image.dockerfile, "Dockerfile changed", "its Dockerfile", files, outside)
        if image.cache_name is not None:
            for candidate in self._profile_candidates(image.cache_name):
                self._file(candidate, f"cache profile {image.cache_name} changed",
                           f"cache profile {image.cache_name}", files, outside)
        return Watched(tuple(folders), tuple(files), outside[0] if outside else None)

    def _folder(self, folder: Path, dockerfile: Path | None, what: str,
                folders: list[Folder], outside: list[str]) -> None:
        """A folder the build sees, filtered by `<Dockerfile>.dockerignore` where there is
        one, else by its `.dockerignore`; both count where they change (one added beside
        the Dockerfile would take over). Without a Dockerfile file (a named context, an
        inline Dockerfile) only `.dockerignore` is read (namedcontext.go reads
        DefaultDockerignoreName)."""
        rel = self.relative(folder)
        if rel is None:
            outside.append(OUTSIDE.format(what=what))
            return
        candidates = [folder / DOCKERIGNORE]
        if dockerfile is not None:
            candidates.insert(0, dockerfile.with_name(dockerfile.name + DOCKERIGNORE))
        in_effect = ignore_file_in_effect(folder, dockerfile)
        if in_effect in candidates:  # those after it do not decide
            candidates = candidates[:candidates.index(in_effect) + 1]
        names = [self._file_path(c) for c in candidates]
        folders.append(Folder(rel, self._matcher(in_effect),
                              tuple(n for n in names if n is not None)))

    def relative(self, folder: Path) -> str | None:
        if folder not in self._relatives:
            self._relatives[folder] = self._relative(folder)
        return self._relatives[folder]

    def _matcher(self, ignore: Path | None) -> IgnoreMatcher:
        if ignore not in self._matchers:
            display = os.path.relpath(ignore) if ignore is not None else DOCKERIGNORE
            patterns = () if ignore is None else read_ignore(ignore, display)
            self._matchers[ignore] = IgnoreMatcher.of(patterns, display)
        return self._matchers[ignore]

    def _file(self, path: Path, why: str, what: str, files: list[tuple[str, str]],
              outside: list[str]) -> None:
        rel = self._file_path(path)
        if rel is None:
            outside.append(OUTSIDE.format(what=what))
        else:
            files.append((rel, why))

    def _file_path(self, path: Path) -> str | None:
        """A file as git names it: its folder's links resolved, not its own (git reports a
        link that changes, not its target)."""
        folder = self.relative(path.parent)
        return None if folder is None else posixpath.join(folder, path.name)

    def _profile_candidates(self, name: str) -> list[Path]:
        """The profile files looked for, up to the one found (cache/profiles.find_profile):
        one added before it would take over."""
        found: list[Path] = []
        for folder in self.profile_folders:
            for suffix in (".yaml", ".yml"):
                found.append(folder / f"{name}{suffix}")
                if is_file(found[-1]):
                    return found
        return found
