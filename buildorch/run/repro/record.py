"""What a run record holds so that `repro` can rebuild the run on another machine.

The variables as the run resolved them (the pipeline's `vars`, and the `--var` values and
built-ins it used), what the command line chose (`--var`, `--set`, the cache), the git
state of the working tree, and per image its input manifest (the files and settings its
input digest covers: a record from CI names the files that differ on a laptop that has
not CI's `.buildorch/`), the cache it imported and its image config's digest. Paths are
relative to the run's root, so that a checkout at another absolute path can use it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from buildorch import proc
from buildorch.backends.flags import spec_text
from buildorch.jsontypes import Json, JsonObject
from buildorch.pipeline import digest_tags
from buildorch.pipeline.interpolation import VarResolver
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.planning.plan import PlannedImage
from buildorch.workdir import STATE

GIT_TIMEOUT = 30


@dataclass(frozen=True)
class Invocation:
    """What the command line asked, as given."""

    variables: tuple[tuple[str, str], ...] = ()  # --var
    sets: tuple[str, ...] = ()  # --set
    cache: str | None = None  # --cache
    cache_readonly: bool = False
    cache_config: str | None = None  # --cache-config
    push: bool = False
    names: tuple[str, ...] = ()  # IMAGE|GROUP
    reproduces: str | None = None  # the run `repro` rebuilds

    def to_json(self, root: Path) -> JsonObject:
        config = None if self.cache_config is None else relative(self.cache_config, root)
        return {"vars": dict(self.variables), "sets": list(self.sets), "cache": self.cache,
                "cache_readonly": self.cache_readonly, "cache_config": config,
                "push": self.push, "names": list(self.names)}


@dataclass(frozen=True)
class GitState:
    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None  # None: not known (no repository)
    folder: str | None = None  # the run's root under the repository's top ("." at the top)

    def to_json(self) -> JsonObject:
        return {"commit": self.commit, "branch": self.branch, "dirty": self.dirty,
                "folder": self.folder}


def git_state(root: Path, branch: str | None = None) -> GitState:
    """HEAD, whether the tree differs from it (buildorch's own folder aside), and where
    `root` is in the repository. `branch`: the pipeline's GIT_BRANCH where it used it (on
    CI, the environment names the branch of a detached HEAD)."""
    prefix = _git(root, "rev-parse", "--show-prefix")
    if prefix is None:
        return GitState(branch=branch)
    status = _git(root, "status", "--porcelain=v2", "--branch") or ""
    commit, head, dirty = None, None, False
    own = f"{prefix}{STATE}"
    for line in status.splitlines():
        if line.startswith("# branch.oid "):
            oid = line.removeprefix("# branch.oid ")
            commit = None if oid == "(initial)" else oid
        elif line.startswith("# branch.head "):
            name = line.removeprefix("# branch.head ")
            head = None if name == "(detached)" else name
        elif line and not line.startswith("#") and not _path_of(line).startswith(own):
            dirty = True
    branch = branch or head
    folder = prefix.rstrip("/") or "."
    return GitState(commit, branch, dirty, folder)


def _path_of(status_line: str) -> str:
    """The path of a `git status --porcelain=v2` entry (the new one of a rename)."""
    fields = status_line.split(" ")
    kind = fields[0]
    if kind in ("?", "!"):
        return status_line[2:]
    if kind == "1":
        return " ".join(fields[8:])
    if kind == "2":
        return " ".join(fields[9:]).split("\t")[0]
    return " ".join(fields[10:])  # "u": an unmerged path


def _git(root: Path, *args: str) -> str | None:
    try:
        result = proc.run(["git", "-C", str(root), *args], check=False, timeout=GIT_TIMEOUT)
    except (proc.ToolNotFoundError, OSError):
        return None
    return result.output.strip("\n") if result.returncode == 0 else None


def resolved_variables(pipeline: LoadedPipeline) -> dict[str, str | None]:
    """The pipeline's variables as this run resolved them: its `vars`, and the `--var`
    values and built-ins it used; not the tokens `${INPUT_DIGEST}` stands for (each image
    has its own)."""
    resolver = pipeline.variables
    values = resolver.resolved() if isinstance(resolver, VarResolver) else {}
    tokens = digest_tags.builtins()
    return {k: v for k, v in sorted(values.items()) if k not in tokens}


def run_facts(pipeline: LoadedPipeline, invocation: Invocation, root: Path,
              secrets: tuple[str, ...]) -> JsonObject:
    """The record's fields for `repro`, known when the run starts (secrets redacted)."""
    resolved = resolved_variables(pipeline)
    variables: JsonObject = {k: None if v is None else proc.redact(v, secrets)
                             for k, v in resolved.items()}
    shown = Invocation(tuple((k, proc.redact(v, secrets)) for k, v in invocation.variables),
                       tuple(proc.redact(s, secrets) for s in invocation.sets),
                       invocation.cache, invocation.cache_readonly, invocation.cache_config,
                       invocation.push, invocation.names)
    return {"reproduces": invocation.reproduces, "variables": variables,
            "invocation": shown.to_json(root),
            "git": git_state(root, resolved.get("GIT_BRANCH")).to_json()}


def image_facts(image: PlannedImage, metadata: Path | None) -> JsonObject:
    """An image's fields for `repro`: its input manifest, the cache it imports (as specs,
    credentials redacted), and its image config's digest from the build's metadata file."""
    shown = image.request.redacted()
    return {"inputs": None if image.inputs is None else image.inputs.to_json(),
            "cache_imports": [spec_text(s) for s in shown.cache_from],
            "config_digest": None if metadata is None else config_digest(metadata)}


def config_digest(metadata: Path) -> str | None:
    """`containerimage.config.digest` of buildx's and buildctl's metadata file."""
    try:
        data = json.loads(metadata.read_text())
    except (OSError, ValueError):
        return None
    value = data.get("containerimage.config.digest") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def relative(path: str, root: Path) -> str:
    """An absolute `path` under `root`, relative to it; any other as given (a relative
    path is relative to the root already: the run's working folder)."""
    given = Path(path)
    if given.is_absolute() and given.is_relative_to(root):
        return given.relative_to(root).as_posix() or "."
    return path


def relative_paths(value: Json, root: Path) -> Json:
    """Every string of a record that starts with the root's absolute path (the pipeline file
    given as `-f /abs/...`, and the places it declares edges), made relative to the root."""
    prefix = str(root).rstrip("/") + "/"
    if isinstance(value, str):
        return value.removeprefix(prefix) if value.startswith(prefix) else value
    if isinstance(value, list):
        return [relative_paths(v, root) for v in value]
    if isinstance(value, dict):
        return {k: relative_paths(v, root) for k, v in value.items()}
    return value
