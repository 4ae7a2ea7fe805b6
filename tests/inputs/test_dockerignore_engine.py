"""The `.dockerignore` table (tests/inputs/ignore_cases.py) against the real engine: each
case's context is built with `FROM scratch` + `COPY . /ctx` and exported with
`--output type=local`, and the entries in the image (path, kind, mode, symlink target)
must equal what buildorch's visible_files lists, in every case. Needs the local stack
(`scripts/stack up`); no image is pulled."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from buildorch import proc
from buildorch.inputs.context_files import EntryKind, visible_files
from buildorch.inputs.dockerignore import IgnoreMatcher, ignore_file_for, read_ignore
from tests.inputs.ignore_cases import CASES, Case, make_case

pytestmark = pytest.mark.engine

Seen = set[tuple[str, str, int, str | None]]
PARALLEL = 4


def buildorch_sees(context: Path, dockerfile: Path) -> Seen:
    found = ignore_file_for(context, dockerfile)
    matcher = IgnoreMatcher.of(read_ignore(found, str(found)) if found else ())
    return {(e.path, e.kind.value, e.mode, e.target) for e in visible_files(context, matcher)}


def image_holds(root: Path) -> Seen:
    held: Seen = set()
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            info = path.lstat()
            kind = (EntryKind.DIR if stat.S_ISDIR(info.st_mode) else EntryKind.FILE
                    if stat.S_ISREG(info.st_mode) else EntryKind.SYMLINK
                    if stat.S_ISLNK(info.st_mode) else EntryKind.OTHER)
            target = os.readlink(path) if kind is EntryKind.SYMLINK else None  # noqa: PTH115 (as written)
            held.add((path.relative_to(root).as_posix(), kind.value,
                      stat.S_IMODE(info.st_mode), target))
    return held


def build(folder: Path, case: Case) -> tuple[Seen, Seen]:
    context, dockerfile = make_case(folder, case)
    out = folder / "out"
    proc.run(["docker", "buildx", "build", "--quiet", "--file", str(dockerfile),
              "--output", f"type=local,dest={out}", str(context)], timeout=300)
    return buildorch_sees(context, dockerfile), image_holds(out / "ctx")


def test_buildorch_lists_exactly_what_the_engine_copies(tmp_path: Path, engine: str) -> None:
    folders = [tmp_path / f"case{i:02d}" for i in range(len(CASES))]
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(build, folders, CASES))
    wrong = [f"{case.name!r} ({folder.name}): buildorch only {sorted(ours - theirs)}, "
             f"engine only {sorted(theirs - ours)}"
             for case, folder, (ours, theirs) in zip(CASES, folders, results, strict=True)
             if ours != theirs]
    assert not wrong, "\n".join(wrong)
    assert len(CASES) >= 30
