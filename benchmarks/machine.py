"""What the benchmarks record about the machine, and how they append their results.

Shared by the benchmark scripts in this folder. They import it as `machine`: a script run as
`.venv/bin/python benchmarks/<name>.py` has its own folder first on sys.path.

- `machine_info()`: uname, CPU model, nproc, memory, load average, Python, the git commit
  (marked when buildorch/ has uncommitted changes) and, with `docker=True`, the engine's
  server and buildx versions.
- `machine_lines(info)`: those facts as the bullet lines of a results section.
- `verdict(value, limit, inclusive=...)`: "met" or "NOT met" for a target.
- `append_results(path, section)`: append a section to benchmarks/results/<name>.md.
"""

from __future__ import annotations

import os
import platform
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STACK = REPO / "scripts" / "stack"


def _output(argv: Sequence[str]) -> str:
    """The command's stripped stdout, run in the repository; "?" if it cannot start."""
    try:
        return subprocess.run(argv, cwd=REPO, capture_output=True, text=True,
                              check=False).stdout.strip()
    except OSError:
        return "?"


def machine_info(*, docker: bool = False) -> dict[str, str]:
    """The machine and checkout, as printed in a results section (see `machine_lines`).

    Call it first: the load average should be the one before the benchmark adds its own.
    With docker=True it also asks the engine (DOCKER_HOST as set) for its versions: "engine".
    """
    cpu = "?"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "?"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    loadavg = Path("/proc/loadavg")
    load = " ".join(loadavg.read_text().split()[:3]) if loadavg.exists() else "?"
    dirty = _output(["git", "status", "--porcelain", "--", "buildorch"])
    commit = _output(["git", "rev-parse", "--short", "HEAD"])
    info = {
        "machine": _output(["uname", "-srm"]),
        "cpu": cpu,
        "nproc": _output(["nproc"]),
        "memory": memory,
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "load": load,
        "commit": commit + (" + uncommitted changes in buildorch/" if dirty else ""),
    }
    if docker:
        server = _output(["docker", "version", "--format", "{{.Server.Version}}"])
        buildx = _output(["docker", "buildx", "version"]).split()
        info["engine"] = (f"dockerd {server or '?'} (embedded BuildKit, docker driver), buildx "
                          f"{buildx[1] if len(buildx) > 1 else '?'}")
    return info


def machine_lines(info: Mapping[str, str]) -> list[str]:
    """The commit, machine and (when known) engine lines of a results section."""
    lines = [
        f"- commit: {info['commit']}",
        f"- machine: {info['machine']}; {info['cpu']}; nproc {info['nproc']}; "
        f"memory {info['memory']}; Python {info['python']}; load average before the "
        f"run {info['load']}",
    ]
    if "engine" in info:
        lines.append(f"- engine: {info['engine']}")
    return lines


def verdict(value: float, limit: float, *, inclusive: bool) -> str:
    """"met" if value < limit (value <= limit when inclusive), else "NOT met"."""
    met = value <= limit if inclusive else value < limit
    return "met" if met else "NOT met"


def append_results(results: Path, section: str) -> None:
    """Append a section to results (benchmarks/results/<name>.md, for benchmarks/<name>.py).

    A new file starts with a title naming the benchmark.
    """
    results.parent.mkdir(parents=True, exist_ok=True)
    if not results.exists():
        name = results.stem
        results.write_text(
            f"# {name} results\n\n"
            f"Appended by `benchmarks/{name}.py`; newest last. See benchmarks/README.md.\n"
        )
    with results.open("a") as f:
        f.write("\n" + section)


def stack_env() -> None:
    """Use the local stack's settings when the caller has not exported them."""
    if os.environ.get("DOCKER_HOST") or not STACK.exists():
        return
    out = subprocess.run([str(STACK), "env"], cwd=REPO, capture_output=True, text=True,
                         check=False).stdout
    for line in out.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, value = words[1].split("=", 1)
            os.environ[key] = value


def fresh_folder(folder: Path, marker: str, script: str) -> None:
    """Empty `folder` for a new run; only a folder this script made (it holds `marker`)."""
    if folder.exists():
        if not (folder / marker).exists():
            raise SystemExit(f"{folder} exists and was not made by this script; not touching it")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / marker).write_text(f"generated by benchmarks/{script}; deleted on rerun\n")
