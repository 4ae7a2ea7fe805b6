"""Which backends answer here, and what they can do (effects: runs their probes).

Also picks the backend for `--backend auto`: nerdctl, then finch, then docker buildx,
then buildctl, the first whose builder answers.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field

from buildorch import proc
from buildorch.backends import BACKEND_NAMES, Backend, get_backend
from buildorch.errors import BuildorchError

PROBE_TIMEOUT = 20
ALL_CACHE = frozenset({"registry", "local", "inline", "s3", "gha"})
ALL_OUTPUTS = frozenset({"image", "registry", "local", "tar", "oci", "docker"})


@dataclass(frozen=True)
class BackendStatus:
    name: str
    binary: str | None
    version: str | None = None
    reachable: bool = False
    detail: str = ""
    cache_exporters: frozenset[str] = frozenset()
    outputs: frozenset[str] = frozenset()
    notes: tuple[str, ...] = field(default_factory=tuple)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _last_line(text: str) -> str:
    """A failed probe's error is its last line (stdout may hold a partial answer before it)."""
    return next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")


def check(name: str, address: str | None = None) -> BackendStatus:
    backend = get_backend(name)
    binary = shutil.which(backend.binary)
    if binary is None:
        return BackendStatus(name, None, detail=f"'{backend.binary}' not found on PATH")
    version = proc.run(backend.version_argv(address), check=False, timeout=PROBE_TIMEOUT)
    probe = proc.run(backend.probe_argv(address), check=False, timeout=PROBE_TIMEOUT)
    if probe.returncode != 0:
        return BackendStatus(name, binary, _first_line(version.output), False,
                             f"builder does not answer: {_last_line(probe.output)}")
    caches, notes = _capabilities(backend, probe.output)
    return BackendStatus(name, binary, _first_line(version.output), True, "ok", caches,
                         ALL_OUTPUTS, notes)


def _capabilities(backend: Backend, probe_output: str) -> tuple[frozenset[str], tuple[str, ...]]:
    if backend.name != "docker":
        return ALL_CACHE, (f"digest chaining: {backend.chaining}",)
    try:
        info = json.loads(probe_output)
    except ValueError:  # a named buildx builder (container or remote driver)
        return ALL_CACHE, ("buildx builder with its own BuildKit",)
    status = dict(tuple(pair) for pair in info.get("DriverStatus") or [] if len(pair) == 2)
    if status.get("driver-type") == "io.containerd.snapshotter.v1":
        return frozenset({"registry", "local", "inline", "gha"}), (
            "docker driver with the containerd image store: registry, local and inline cache; "
            "no native s3 cache (needs a standalone BuildKit)",
            f"digest chaining: {backend.chaining}",
        )
    return frozenset({"inline"}), (
        "docker driver on the classic image store: only inline cache export; enable the "
        "containerd image store (daemon.json features.containerd-snapshotter) for more",
    )


def choose(requested: str, address: str | None) -> tuple[Backend, BackendStatus, str]:
    """The backend to use, what it can do, and a line saying why it was chosen."""
    if requested != "auto":
        status = check(requested, address)
        if not status.reachable:
            raise BuildorchError(f"backend {requested}: {status.detail}")
        return get_backend(requested), status, f"backend {requested} ({status.version})"
    tried: list[str] = []
    for name in BACKEND_NAMES:
        status = check(name, address)
        if status.reachable:
            skipped = f"; skipped {', '.join(tried)}" if tried else ""
            return get_backend(name), status, f"backend {name} (auto{skipped})"
        tried.append(f"{name}: {status.detail}")
    raise BuildorchError("no backend answers: " + "; ".join(tried)
                         + " (start a BuildKit engine, or pass --backend and --builder)")


def report(address: str | None) -> tuple[str, bool]:
    lines, any_ok = [], False
    for name in BACKEND_NAMES:
        status = check(name, address)
        any_ok = any_ok or status.reachable
        mark = "ok" if status.reachable else "--"
        lines.append(f"[{mark}] {name}: {status.binary or 'not found'}"
                     + (f", {status.version}" if status.version else "")
                     + ("" if status.reachable else f" ({status.detail})"))
        if status.reachable:
            lines.append(f"     cache export: {', '.join(sorted(status.cache_exporters))}")
            lines.append(f"     outputs: {', '.join(sorted(status.outputs))}")
            lines += [f"     {note}" for note in status.notes]
    return "\n".join(lines), any_ok
