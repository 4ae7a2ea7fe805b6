"""`--skip-unchanged`: which images an earlier successful build of the same inputs serves,
and their tags (re)applied without a build.

An earlier build is reused only while its output still exists: the image in the local
store (one `image inspect` for all of them), the manifest in the registry where it was
pushed by digest, its files where it wrote files. Otherwise the image is built, and the
reason is kept for the summary.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from buildorch import proc
from buildorch.backends.base import Backend
from buildorch.backends.request import BuilderTls
from buildorch.oci.reference import ImageRef, InvalidReference
from buildorch.oci.registry import RegistryClient, RegistryError
from buildorch.planning.plan import PlannedImage
from buildorch.planning.requests import LOCAL_NAMESPACE
from buildorch.run.earlier_builds import BuildIndex, EarlierBuild
from buildorch.run.state import RunState, fill

INSPECT_TIMEOUT = 120
INSPECT_CALLS = 4  # at once, each for a share of the images
MIN_CHUNK = 16  # images per call, below which another process costs more than it saves


@dataclass
class Reuse:
    unchanged: dict[str, EarlierBuild] = field(default_factory=dict)
    rebuilt: dict[str, str] = field(default_factory=dict)  # image -> why not reused
    stored: dict[str, list[str]] = field(default_factory=dict)  # image id -> its tags


def find_unchanged(state: RunState, backend: Backend, index: BuildIndex) -> Reuse:
    reuse = Reuse()
    candidates: dict[str, EarlierBuild] = {}
    for image in state.plan.images:
        earlier = index.by_input.get(image.input_digest or "")
        if earlier is None:
            continue
        if image.request.no_cache:
            reuse.rebuilt[image.name] = "no_cache: built every time"
            continue
        candidates[image.name] = earlier
    reuse.stored = _stored(state, backend, candidates)
    for name, earlier in candidates.items():
        problem = _missing(state, backend, state.image(name), earlier, reuse.stored)
        if problem:
            reuse.rebuilt[name] = f"built again: {problem}"
        else:
            reuse.unchanged[name] = earlier
    return reuse


def _missing(state: RunState, backend: Backend, image: PlannedImage, earlier: EarlierBuild,
             stored: Mapping[str, list[str]]) -> str | None:
    """Why the earlier build's output cannot serve this run, or None."""
    lost = [f for f in earlier.files if not (state.root / f).exists()]
    if lost:
        return f"{lost[0]}, written by run {earlier.run}, no longer exists"
    if earlier.digest is None:
        return None
    short = earlier.digest[:19]
    if backend.local_store:
        if earlier.digest not in stored:
            return f"{short} from run {earlier.run} is no longer in the local image store"
        return None
    if earlier.repository is None:
        return f"{short} from run {earlier.run} was neither loaded nor pushed"
    if not _in_registry(earlier.repository, earlier.digest):
        return f"{earlier.repository}@{short} from run {earlier.run} is not in the registry"
    return None


def _stored(state: RunState, backend: Backend,
            candidates: Mapping[str, EarlierBuild]) -> dict[str, list[str]]:
    """The candidates' images the local store holds: id -> its tags."""
    by_builder: dict[tuple[str | None, BuilderTls | None], list[str]] = {}
    for name, earlier in candidates.items():
        if earlier.digest is not None:
            request = state.image(name).request
            by_builder.setdefault((request.builder, request.builder_tls), []).append(
                earlier.digest)
    calls = [argv for (builder, tls), digests in by_builder.items()
             for chunk in _chunks(sorted(set(digests)))
             if (argv := backend.stored_argv(chunk, builder, tls)) is not None]
    found: dict[str, list[str]] = {}
    with ThreadPoolExecutor(max_workers=INSPECT_CALLS) as pool:
        for out in pool.map(lambda argv: proc.capture(argv, cwd=state.root,
                                                      timeout=INSPECT_TIMEOUT)[1], calls):
            found.update(_parse_inspect(out.decode(errors="replace")))
    return found


def _chunks(items: list[str]) -> list[list[str]]:
    """`image inspect` asks the daemon for one image after another (docker/cli
    inspect.go): a few calls at once share the wait."""
    size = max(MIN_CHUNK, -(-len(items) // INSPECT_CALLS))
    return [items[i:i + size] for i in range(0, len(items), size)]


def _parse_inspect(output: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in output.splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("Id"), str):
            tags = data.get("RepoTags")
            found[data["Id"]] = [str(t) for t in tags] if isinstance(tags, list) else []
    return found


def _in_registry(repository: str, digest: str) -> bool:
    try:
        ref = ImageRef.parse(repository)
        return RegistryClient(ref.host).manifest(ref.repository, digest) is not None
    except (InvalidReference, RegistryError, OSError):
        return False


def retag(state: RunState, backend: Backend, reuse: Reuse,
          building: Iterable[str]) -> dict[str, str]:
    """Give each reused image its tags again, and its run-scoped name where an image built
    in this run depends on it; returns the images that could not be tagged, with why."""
    needed_by_build = {d for name in building for d in state.image(name).depends_on}
    failed: dict[str, str] = {}
    for name, earlier in reuse.unchanged.items():
        if earlier.digest is None:
            continue
        image = state.image(name)
        have = set(reuse.stored.get(earlier.digest, ()))
        for tag in fill(image.request.tags, {}, state.run_id):
            scoped = tag.startswith(LOCAL_NAMESPACE + "/")
            if tag in have or (scoped and name not in needed_by_build):
                continue
            argv = backend.tag_argv(earlier.digest, tag, image.request.builder,
                                    image.request.builder_tls)
            if argv is None:
                continue
            code, _out, err = proc.capture(argv, cwd=state.root, timeout=INSPECT_TIMEOUT)
            if code != 0:
                failed[name] = f"tagging {tag} failed: {err.strip()[-200:]}"
                break
            if scoped:
                state.run_tagged.add(name)
    return failed


def output_files(image: PlannedImage, run_id: str) -> tuple[str, ...]:
    """The files and folders an image's outputs write, as the index keeps them."""
    dests = (spec.get("dest") for spec in image.request.outputs)
    return tuple(d for d in fill([d for d in dests if d and d != "-"], {}, run_id)
                 if run_id not in d)
