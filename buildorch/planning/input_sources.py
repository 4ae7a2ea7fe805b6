"""Read what each image's input digest covers from disk: its Dockerfile and the files of
its context and local named contexts that its `.dockerignore` lets through.

Files are hashed in parallel, and only those the stat cache under `.buildorch/` does not
know; a folder shared by several images is read once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from buildorch.backends.flags import is_local_context
from buildorch.errors import ConfigError
from buildorch.inputs.context_files import ContextEntry, EntryKind, visible_files
from buildorch.inputs.dockerignore import IgnoreMatcher, ignore_file_in_effect, read_ignore
from buildorch.inputs.hashing import hash_files, tree_digest
from buildorch.inputs.stat_cache import StatCache
from buildorch.oci.reference import context_key
from buildorch.pipeline.loaded import LoadedPipeline, ResolvedImage
from buildorch.pipeline.secret_sources import pipeline_path
from buildorch.planning.input_digests import ImageSources, Tree


class SourceReader:
    def __init__(self, pipeline: LoadedPipeline, root: Path) -> None:
        self.pipeline = pipeline
        self.root = root
        self.cache = StatCache.in_workdir(root)
        self._trees: dict[tuple[Path, Path | None], Tree] = {}

    def read(self, names: Iterable[str]) -> dict[str, ImageSources]:
        """Each image's sources; the stat cache is saved once all are read."""
        sources = {name: self.image(self.pipeline.images[name]) for name in names}
        self.cache.save()
        return sources

    def image(self, image: ResolvedImage) -> ImageSources:
        if image.context_dir is None:  # remote: only the builder fetches it
            return ImageSources(None, None, {})
        # A named context, and a context built with an inline Dockerfile (written to the run
        # folder), only ever use their folder's own `.dockerignore` (dockerui namedcontext.go).
        named = {context_key(key): self.tree(pipeline_path(self.pipeline.folder, value))
                 for key, value in image.spec.contexts.items()
                 if isinstance(value, str) and is_local_context(value)}
        return ImageSources(self._dockerfile(image),
                            self.tree(image.context_dir, image.dockerfile), named)

    def _dockerfile(self, image: ResolvedImage) -> str | None:
        if image.dockerfile is None:  # written inline: the request carries its text
            return ""
        try:
            data = image.dockerfile.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read the Dockerfile: {exc.strerror}",
                              file=image.dockerfile_display) from None
        return "sha256:" + hashlib.sha256(data).hexdigest()

    def tree(self, folder: Path, dockerfile: Path | None = None) -> Tree:
        """`dockerfile`: the one a build of this context uses, whose own ignore file wins;
        None: only the folder's `.dockerignore` applies."""
        ignore = ignore_file_in_effect(folder, dockerfile)
        key = (folder, ignore)
        if key not in self._trees:
            self._trees[key] = self._read_tree(folder, ignore)
        return self._trees[key]

    def _read_tree(self, folder: Path, ignore: Path | None) -> Tree:
        if not folder.is_dir():  # a named context that is a file or missing: its name only
            return Tree("missing:" + str(folder), ())
        patterns = read_ignore(ignore, _shown(ignore)) if ignore is not None else ()
        entries = visible_files(folder, IgnoreMatcher.of(patterns))
        digests = hash_files(folder, entries, self.cache)
        return Tree(tree_digest(entries, digests), tuple(
            (entry.path, _held(entry, digests)) for entry in entries))


def ignore_files(image: ResolvedImage, folder: Path) -> list[Path]:
    """The ignore files the build of `image` reads: its context's and its local named
    contexts' (`folder`: the pipeline's)."""
    found = []
    if image.context_dir is not None:
        found.append(ignore_file_in_effect(image.context_dir, image.dockerfile))
    found += [ignore_file_in_effect(pipeline_path(folder, value), None)
              for value in image.spec.contexts.values()
              if isinstance(value, str) and is_local_context(value)]
    return [f for f in found if f is not None]


def check_ignore_files(pipeline: LoadedPipeline) -> list[ConfigError]:
    """Each ignore file of the pipeline's builds that cannot be read or used, once."""
    errors = []
    for path in sorted({f for i in pipeline.images.values()
                        for f in ignore_files(i, pipeline.folder)}):
        try:
            read_ignore(path, _shown(path))
        except ConfigError as exc:
            errors.append(exc)
    return errors


def _held(entry: ContextEntry, digests: dict[str, str]) -> str:
    """What a path holds, for `why` to tell a changed file from a changed mode."""
    if entry.kind is EntryKind.FILE:
        return f"{digests[entry.path]} {entry.mode:o}"
    if entry.kind is EntryKind.SYMLINK:
        return f"-> {entry.target}"
    return f"{entry.kind.value} {entry.mode:o}"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
