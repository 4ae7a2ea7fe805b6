"""Which backends answer here, and what they can do (effects: runs their probes).

Also picks the backend for `--backend auto`: the catalog's order (nerdctl, then finch,
then docker buildx, then buildctl), the first whose builder answers.
"""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from buildorch import proc
from buildorch.backends.base import Backend, ToolVersion
from buildorch.backends.capabilities import Capabilities
from buildorch.backends.catalog import BACKEND_NAMES, get_backend
from buildorch.backends.request import BuilderTls
from buildorch.errors import BuildorchError

PROBE_TIMEOUT = 20


@dataclass(frozen=True)
class BackendStatus:
    name: str
    binary: str | None
    version: ToolVersion | None = None
    reachable: bool = False
    detail: str = ""
    capabilities: Capabilities = field(default_factory=Capabilities)
    # the platforms its BuildKit reports, where the probe's answer names them
    platforms: tuple[str, ...] | None = None


def last_line(text: str) -> str:
    """A failed probe's error is its last line (stdout may hold a partial answer before it)."""
    return next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")


def answer(argv: list[str], timeout: float = PROBE_TIMEOUT) -> proc.Result | None:
    """What the tool said; None: nothing within `timeout` (a `tcp://` builder whose
    packets are dropped leaves the client waiting on its own longer timeouts)."""
    try:
        return proc.run(argv, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def check(name: str, address: str | None = None, tls: BuilderTls | None = None) -> BackendStatus:
    backend = get_backend(name)
    binary = shutil.which(backend.binary)
    if binary is None:
        return BackendStatus(name, None, detail=f"'{backend.binary}' not found on PATH")
    if tls is not None and (problem := backend.tls_problem(tls)):
        return BackendStatus(name, binary, detail=problem)
    # both at once: each is a tool process (for docker, two with its plugin's metadata)
    with ThreadPoolExecutor(max_workers=2) as pool:
        asked = pool.submit(answer, backend.version_argv(address, tls))
        probe = answer(backend.probe_argv(address, tls))
        said = asked.result()
    version = (backend.tool_version(said.output)
               if said is not None and said.returncode == 0 else None)
    if probe is None:
        return BackendStatus(name, binary, version, False,
                             f"builder does not answer within {PROBE_TIMEOUT}s")
    if probe.returncode != 0:
        return BackendStatus(name, binary, version, False,
                             f"builder does not answer: {last_line(probe.output)}")
    return BackendStatus(name, binary, version, True, "ok", backend.capabilities(probe.output),
                         backend.engine_platforms(probe.output))


def engine_platforms(status: BackendStatus, address: str | None,
                     tls: BuilderTls | None = None) -> tuple[str, ...] | None:
    """The platforms the answering builder of `status` reports: from its probe, else from
    the backend's cheap call for them (one more process; None: no answer names any)."""
    if not status.reachable or status.platforms is not None:
        return status.platforms
    backend = get_backend(status.name)
    argv = backend.platforms_argv(address, tls)
    if argv is None:
        return None
    said = answer(argv)
    if said is None or said.returncode != 0:
        return None
    return backend.engine_platforms(said.output)


def choose(requested: str, address: str | None,
           tls: BuilderTls | None = None) -> tuple[Backend, BackendStatus, str]:
    """The backend to use, what it can do, and a line saying why it was chosen; with `tls`,
    `auto` passes over the backends that cannot use it."""
    if requested != "auto":
        status = check(requested, address, tls)
        if not status.reachable:
            raise BuildorchError(f"backend {requested}: {status.detail}")
        shown = status.version.text if status.version else "version unknown"
        return get_backend(requested), status, f"backend {requested} ({shown})"
    tried: list[str] = []
    for name in BACKEND_NAMES:
        status = check(name, address, tls)
        if status.reachable:
            skipped = f"; skipped {', '.join(tried)}" if tried else ""
            return get_backend(name), status, f"backend {name} (auto{skipped})"
        tried.append(f"{name}: {status.detail}")
    raise BuildorchError("no backend answers: " + "; ".join(tried)
                         + " (start a BuildKit engine, or pass --backend and --builder)")
