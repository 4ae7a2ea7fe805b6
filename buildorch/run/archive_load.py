"""Loading the tarball a reproducible build wrote into the local image store, then removing it.

Docker's docker driver unpacks every image it loads itself, and BuildKit cannot rewrite the
timestamps of an image it unpacks (moby/buildkit#4230). So such an image is written as a
docker (or OCI) tarball with `rewrite-timestamp=true` and loaded afterwards, as buildx itself
loads for drivers without an image store (docker/buildx build/build.go: the `type=docker`
output piped to `docker load`). The store must then hold it under the digest the build
reported, since dependents are checked against that digest and --skip-unchanged looks images
up by it: with the containerd image store the loaded image's id is that digest (seen on
Docker 26.1); the classic store names an image by its config's digest instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from buildorch import proc
from buildorch.backends.base import Backend
from buildorch.backends.request import BuildRequest
from buildorch.run.failures import TAIL_LINES, Failure
from buildorch.run.state import fill

# Runs one command of the build (stoppable, its output in the image's log): its exit code,
# its output lines, and whether it was stopped.
Child = Callable[[list[str]], tuple[int, list[str], bool]]
CONFIG_DIGEST = "containerimage.config.digest"


@dataclass(frozen=True)
class Loaded:
    digest: str | None = None  # the id the local store holds the image under
    failure: Failure | None = None
    stopped: bool = False


def archive_of(request: BuildRequest, root: Path, run_id: str) -> Path | None:
    """The tarball the build writes for the run to load (None: the builder loads itself)."""
    if request.load_archive is None:
        return None
    return root / fill([request.load_archive], {}, run_id)[0]


def discard_archive(request: BuildRequest, root: Path, run_id: str) -> None:
    """A failed or stopped build's tarball, whole or partial: it can be large."""
    path = archive_of(request, root, run_id)
    if path is not None:
        path.unlink(missing_ok=True)


def load_archive(backend: Backend, request: BuildRequest, root: Path, run_id: str,
                 built: str, child: Child) -> Loaded:
    """Load the tarball of a build that reported digest `built`, check what the store holds
    under its first tag, and remove the tarball whatever happened."""
    assert request.load_archive is not None and request.tags, "a request that loads a tarball"
    relative = fill([request.load_archive], {}, run_id)[0]
    path = root / relative
    argv = backend.load_archive_argv(relative, request.builder, request.builder_tls)
    assert argv is not None, f"backend {backend.name} loads no tarball"
    try:
        code, lines, stopped = child(argv)
    finally:
        path.unlink(missing_ok=True)
    if stopped:
        return Loaded(stopped=True)
    if code != 0:
        return Loaded(failure=Failure(
            message=f"loading the built image into the image store failed (exit code {code}): "
                    f"{proc.render_argv(argv)}",
            tail=tuple(line.rstrip("\n") for line in lines[-TAIL_LINES:])))
    tag = fill([request.tags[0]], {}, run_id)[0]
    found = stored_id(backend, tag, request)
    config = _config_digest(request, root, run_id)
    problem = loaded_problem(tag, found, built, config)
    return Loaded(failure=Failure(message=problem)) if problem else Loaded(digest=found)


def loaded_problem(tag: str, found: str, built: str, config: str | None) -> str | None:
    """None when the store holds `tag` as what was built: its digest (the containerd image
    store) or its config's digest (the classic store's image id)."""
    if found and found in (built, config):
        return None
    return (f"after loading, {tag} holds {found or 'nothing'}, not the {built} the build "
            "reported")


def stored_id(backend: Backend, tag: str, request: BuildRequest) -> str:
    """What the store of `request`'s builder holds under `tag` ("": nothing, or no store)."""
    argv = backend.inspect_argv([tag], request.builder, request.builder_tls)
    if argv is None:
        return ""
    done = proc.run(argv, check=False, timeout=60)
    return done.output.strip() if done.returncode == 0 else ""


def _config_digest(request: BuildRequest, root: Path, run_id: str) -> str | None:
    """The image config's digest from the build's metadata file (buildx writes it)."""
    if request.metadata_file is None:
        return None
    try:
        value = json.loads((root / fill([request.metadata_file], {}, run_id)[0]).read_text())
    except (OSError, ValueError):
        return None
    digest = value.get(CONFIG_DIGEST) if isinstance(value, dict) else None
    return digest if isinstance(digest, str) else None
