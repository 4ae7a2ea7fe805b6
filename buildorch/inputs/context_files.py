"""The entries of a build context that BuildKit's context transfer sends, as
tonistiigi/fsutil walks it (fs.go `Walk` over filepath.WalkDir, filter.go `filterFS.Walk`):
symlinks are not followed, a directory that is not excluded is sent even when empty, an
excluded one is skipped unless an exception may re-include something inside it, and is
then sent only as the parent of what is."""

from __future__ import annotations

import enum
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from buildorch.errors import ConfigError
from buildorch.inputs.dockerignore import IgnoreMatcher
from buildorch.inputs.patterns import MatchInfo


class EntryKind(str, enum.Enum):
    FILE = "file"
    SYMLINK = "symlink"
    DIR = "dir"
    OTHER = "other"  # a FIFO, socket or device node: sent as a node, without content


@dataclass(frozen=True)
class ContextEntry:
    path: str  # relative to the context, '/'-separated
    kind: EntryKind
    mode: int  # permission bits with setuid, setgid and sticky (COPY keeps them)
    target: str | None  # a symlink's target, as written
    size: int  # the lstat stamp a stat cache keys on (files)
    mtime_ns: int
    inode: int


def visible_files(context_dir: Path, matcher: IgnoreMatcher) -> tuple[ContextEntry, ...]:
    """Every file, symlink, directory and other node the build can see, sorted by path."""
    found: dict[str, ContextEntry] = {}
    _walk(matcher, found, str(context_dir), "", (), [])
    return tuple(found[path] for path in sorted(found))


def _walk(matcher: IgnoreMatcher, found: dict[str, ContextEntry], folder: str, prefix: str,
          parent: MatchInfo, held: list[ContextEntry]) -> None:
    """`held`: the excluded directories above, walked for what an exception re-includes."""
    for item in _scan(folder, excluded=bool(held)):
        rel = prefix + item.name
        entry = _entry(item, rel)
        if entry is None:  # gone since the folder was read: fsutil skips it too
            continue
        excluded, info = matcher.match(rel, parent)
        is_dir = entry.kind is EntryKind.DIR
        if excluded:
            if is_dir and matcher.walks_into(rel):
                _walk(matcher, found, item.path, rel + "/", info, [*held, entry])
            continue
        for parent_dir in held:  # sent as the parents of what is re-included
            found.setdefault(parent_dir.path, parent_dir)
        found[rel] = entry
        if is_dir:
            _walk(matcher, found, item.path, rel + "/", info, [])


def _scan(folder: str, excluded: bool) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as items:
            return sorted(items, key=lambda item: item.name)
    except PermissionError:
        if excluded:  # fsutil passes over an unreadable folder that is excluded anyway
            return []
        raise ConfigError("cannot read this folder of the build context: permission denied",
                          file=folder) from None
    except OSError as exc:
        raise ConfigError(f"cannot read this folder of the build context: "
                          f"{exc.strerror or exc}", file=folder) from None


def _entry(item: os.DirEntry[str], rel: str) -> ContextEntry | None:
    try:
        info = item.stat(follow_symlinks=False)
        kind = _kind(info.st_mode)
        # as written: Path.readlink would normalise it ("./x" to "x")
        target = os.readlink(item.path) if kind is EntryKind.SYMLINK else None  # noqa: PTH115
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read this entry of the build context: "
                          f"{exc.strerror or exc}", file=item.path) from None
    return ContextEntry(rel, kind, stat.S_IMODE(info.st_mode), target, info.st_size,
                        info.st_mtime_ns, info.st_ino)


def _kind(mode: int) -> EntryKind:
    if stat.S_ISREG(mode):
        return EntryKind.FILE
    if stat.S_ISLNK(mode):
        return EntryKind.SYMLINK
    if stat.S_ISDIR(mode):
        return EntryKind.DIR
    return EntryKind.OTHER
