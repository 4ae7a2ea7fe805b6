"""`.dockerignore` cases, each with the entries of one standard context that a build must
not see, worked out by hand from Docker's rules. tests/inputs/test_context_files.py
checks buildorch against these expectations; tests/inputs/test_dockerignore_engine.py
checks the same cases against what the real engine copies with `COPY . /ctx`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DOCKERFILE = "FROM scratch\nCOPY . /ctx\n"
# The standard context: files (a "->" names a symlink's target, "|" a FIFO), then modes.
TREE = (
    "Dockerfile", "a.txt", "b.txt", "c.md", ".env", ".hidden/x", "run.sh",
    "link.txt -> a.txt", "fifo |",
    "src/main.py", "src/util.py", "src/test_main.py", "src/lib/deep.py", "src/lib/deep.txt",
    "docs/readme.md", "docs/guide/intro.md", "build/out.bin", "build/keep.txt",
    "node_modules/pkg/index.js", "node_modules/pkg/README.md",
    "file with space.txt", "weird[1].txt", "star*.txt", "q?.txt", "back\\slash.txt", "ü.txt",
)
EMPTY_DIRS = ("empty",)


def entry_names(item: str) -> str:
    return item.split(" -> ")[0].removesuffix(" |")


NAMES = frozenset(entry_names(item) for item in TREE)
MODES = {"run.sh": 0o755, "src/lib/deep.py": 0o4755, "docs/guide": 0o750, "build": 0o700}
TOP_TXT = frozenset({"a.txt", "b.txt", "link.txt", "file with space.txt", "weird[1].txt",
                     "star*.txt", "q?.txt", "back\\slash.txt", "ü.txt"})
SRC = frozenset({"src/main.py", "src/util.py", "src/test_main.py", "src/lib/deep.py",
                 "src/lib/deep.txt"})
NODE_MODULES = frozenset({"node_modules/pkg/index.js", "node_modules/pkg/README.md"})


@dataclass(frozen=True)
class Case:
    name: str
    ignore: str | None  # the context's .dockerignore (None: there is none)
    excluded: frozenset[str] = frozenset()  # files, links and the FIFO the build must not see
    gone_dirs: frozenset[str] = frozenset()  # folders it must not see
    beside: str | None = None  # <Dockerfile>.dockerignore beside the Dockerfile
    dockerfile: str = "ctx/Dockerfile"  # relative to the case's folder


def _set(*items: str) -> frozenset[str]:
    return frozenset(items)


CASES = (
    Case("no ignore file", None),
    Case("empty ignore file", ""),
    Case("plain name", "a.txt", _set("a.txt")),
    Case("star stays in the top folder", "*.txt", TOP_TXT),
    Case("question mark is one character, ü too", "?.txt", _set("a.txt", "b.txt", "ü.txt")),
    Case("range", "[a-b].txt", _set("a.txt", "b.txt")),
    Case("bang inside brackets is a plain character", "[!a].txt", _set("a.txt")),
    Case("caret negates brackets", "[^a].txt", _set("b.txt", "ü.txt")),
    Case("double star at the start", "**/*.py", SRC - {"src/lib/deep.txt"}),
    Case("double star in the middle", "src/**/*.txt", _set("src/lib/deep.txt")),
    Case("double star at the end keeps the folder", "src/**", SRC, _set("src/lib")),
    Case("double star alone", "**", NAMES | {".dockerignore"},
         _set(".hidden", "src", "src/lib", "docs", "docs/guide", "build", "node_modules",
              "node_modules/pkg", "empty")),
    Case("leading slash", "/a.txt", _set("a.txt")),
    Case("trailing slash", "src/", SRC, _set("src", "src/lib")),
    Case("exception inside an excluded folder", "src\n!src/lib/deep.py",
         SRC - {"src/lib/deep.py"}),
    Case("exception with a glob pattern", "**/*.md\n!docs/readme.md",
         _set("c.md", "docs/guide/intro.md", "node_modules/pkg/README.md")),
    Case("exception overridden by a later pattern", "*.txt\n!a.txt\n!b.txt\na*",
         TOP_TXT - {"b.txt"}),
    Case("the ignore file and the Dockerfile themselves", ".dockerignore\nDockerfile",
         _set(".dockerignore", "Dockerfile")),
    Case("comments and blank lines", "# a.txt\n\n   \n\t\nb.txt\n  # c.md\n", _set("b.txt")),
    Case("dot and dot-dot are cleaned", "./a.txt\nsrc/../b.txt\n../c.md\nbuild/./out.bin\n",
         _set("a.txt", "b.txt", "build/out.bin")),
    Case("spaces around are trimmed, inside kept", "  a.txt  \nfile with space.txt\n",
         _set("a.txt", "file with space.txt")),
    Case("escaped glob characters", "weird\\[1\\].txt\nstar\\*.txt\nq\\?.txt\n",
         _set("weird[1].txt", "star*.txt", "q?.txt")),
    Case("escaped backslash", "back\\\\slash.txt", _set("back\\slash.txt")),
    Case("dotfiles", ".*", _set(".env", ".hidden/x", ".dockerignore"), _set(".hidden")),
    Case("nested folder", "src/lib", _set("src/lib/deep.py", "src/lib/deep.txt"),
         _set("src/lib")),
    Case("star is one folder level", "*/*.md", _set("docs/readme.md")),
    Case("double star matches no folder too", "docs/**/*.md",
         _set("docs/readme.md", "docs/guide/intro.md")),
    Case("double star then a name glob", "**/deep.*",
         _set("src/lib/deep.py", "src/lib/deep.txt")),
    Case("double star then a folder", "**/lib", _set("src/lib/deep.py", "src/lib/deep.txt"),
         _set("src/lib")),
    Case("exception naming a parent does not re-include", "src/lib\n!src",
         _set("src/lib/deep.py", "src/lib/deep.txt"), _set("src/lib")),
    Case("folder pruned without exceptions", "node_modules", NODE_MODULES,
         _set("node_modules", "node_modules/pkg")),
    Case("everything but a folder and the Dockerfile", "*\n!src\n!Dockerfile",
         (NAMES | {".dockerignore"}) - SRC - {"Dockerfile"},
         _set(".hidden", "docs", "docs/guide", "build", "node_modules", "node_modules/pkg",
              "empty")),
    Case("glob exception walks excluded folders", "build\nnode_modules\n!**/keep.txt",
         _set("build/out.bin") | NODE_MODULES, _set("node_modules", "node_modules/pkg")),
    Case("modes and symlinks are kept", "b.txt", _set("b.txt")),
    Case("BOM and CRLF line ends", "\ufeffa.txt\r\nb.txt\r\n", _set("a.txt", "b.txt")),
    Case("unicode names", "ü*", _set("ü.txt")),
    Case("a bar is an alternative: patternmatcher fails to escape it", "nothing*|.md",
         _set("c.md", "docs/readme.md", "docs/guide/intro.md", "node_modules/pkg/README.md")),
    Case("braces repeat (also unescaped), they do not expand", "[a-b]{1}.txt\n*.{md,txt}",
         _set("a.txt", "b.txt")),
    Case("POSIX class inside brackets", "src/test_[[:lower:]]*.py", _set("src/test_main.py")),
    Case("Dockerfile.dockerignore beside the Dockerfile wins", "a.txt", _set("b.txt"),
         beside="b.txt"),
    Case("<name>.dockerignore beside a Dockerfile in another folder", "a.txt",
         _set("b.txt", "Dockerfile"), beside="b.txt\nDockerfile\n",
         dockerfile="other/app.Dockerfile"),
    Case("an empty <name>.dockerignore still wins", "a.txt", beside=""),
)


def tree_files(case: Case) -> frozenset[str]:
    """The files, links and FIFO of the case's context (the ignore files among them)."""
    names = set(NAMES)
    if case.ignore is not None:
        names.add(".dockerignore")
    if case.beside is not None and case.dockerfile == "ctx/Dockerfile":
        names.add("Dockerfile.dockerignore")
    return frozenset(names)


def tree_dirs() -> frozenset[str]:
    return frozenset({str(Path(n).parents[i]) for n in NAMES
                      for i in range(len(Path(n).parents) - 1)} | set(EMPTY_DIRS))


def make_case(folder: Path, case: Case) -> tuple[Path, Path]:
    """Write the case's context and Dockerfile under `folder`; (context, Dockerfile)."""
    context = folder / "ctx"
    for item in TREE:
        name = entry_names(item)
        path = context / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if " -> " in item:
            path.symlink_to(item.split(" -> ")[1])
        elif item.endswith(" |"):
            os.mkfifo(path)
        else:
            path.write_text(DOCKERFILE if name == "Dockerfile" else f"{name}\n")
    for name in EMPTY_DIRS:
        (context / name).mkdir()
    for name, mode in MODES.items():
        (context / name).chmod(mode)
    if case.ignore is not None:
        (context / ".dockerignore").write_bytes(case.ignore.encode())
    dockerfile = folder / case.dockerfile
    dockerfile.parent.mkdir(parents=True, exist_ok=True)
    dockerfile.write_text(DOCKERFILE)
    if case.beside is not None:
        dockerfile.with_name(dockerfile.name + ".dockerignore").write_text(case.beside)
    return context, dockerfile
