"""The package's layers (DESIGN.md "Layout"): each folder imports only those below it.

cli on top, then run, planning, preflight, pipeline, then cache and backends (cache may
use the request and capability types of backends, not the other way round), then
dockerfiles (which reads image references and platforms from oci) and inputs (which
context files a build sees, and their digests), oci and proc.py, on ground modules
(errors, JSON types, text, .buildorch/ paths).
Every import counts, including those inside functions and under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "buildorch"
RANK = {
    "errors": 0, "jsontypes": 0, "text": 0, "textfile": 0.2, "localpaths": 0, "workdir": 0,
    "statefile": 0, "digestcache": 0.1,
    "__init__": 0, "__main__": 8,
    "proc": 0.5, "oci": 1, "dockerfiles": 1.5, "inputs": 1.5, "backends": 2, "cache": 2.5,
    "pipeline": 3, "preflight": 4, "planning": 5, "run": 6, "cli": 7,
}


def _unit(module: str) -> str:
    """`buildorch.cache.s3.client` -> `cache`; `buildorch.proc` -> `proc`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "buildorch":  # a module, or a name of the package (__version__)
                found.update(f"buildorch.{a.name}" if a.name in RANK else "buildorch"
                             for a in node.names)
            elif node.module.startswith("buildorch."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("buildorch."))
    return found


def test_every_folder_imports_only_the_layers_below_it() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts)
        unit = _unit(module)
        for target in sorted(_imports(path)):
            other = _unit(target)
            if other != unit and RANK[other] >= RANK[unit]:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_every_folder_has_a_rank_and_a_docstring_only_init() -> None:
    for path in sorted(PACKAGE.iterdir()):
        if path.name.startswith((".", "_")) and path.name not in ("__init__.py", "__main__.py"):
            continue
        assert path.stem in RANK, f"{path.name}: place it in a layer (DESIGN.md)"
    for init in PACKAGE.rglob("__init__.py"):
        if init.parent == PACKAGE:
            continue  # the version
        body = ast.parse(init.read_text()).body
        assert len(body) == 1 and isinstance(body[0], ast.Expr), f"{init}: a docstring only"
