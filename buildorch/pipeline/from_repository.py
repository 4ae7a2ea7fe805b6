"""A repository's Dockerfiles as a pipeline, for `buildorch init` (pure).

Images. Each Dockerfile gives an image of its last stage (no `target:`, what
`docker build` builds), and one more per other final stage: a named stage that no other
stage of the file uses through `FROM`, `COPY --from=` or `RUN --mount=...,from=` (a
`test` or `dev` stage beside the runtime one). A final stage without a name cannot be
built alone (a target is a stage name), and a stage BuildKit cannot build is left out;
both with a note.

Names. An image is named after its Dockerfile's folder (`services/api/Dockerfile`:
`api`; folders called `docker` or `dockerfiles` say nothing and are passed over), then
the file's own label (`Dockerfile.worker` or `worker.Dockerfile`: `api-worker`), then the
target (`api-test`); a Dockerfile at the repository root without a label is named after
the pipeline. Names that collide take more of their folders (`services-api`,
`libs-api`), then a number. Every name is lowercase letters, digits and single `-`, so it
is also a repository path component of a tag.

Tags. Every image is tagged `<pipeline>-<image>`, the name `docker compose build` gives
an image without one (docker/compose pkg/api/api.go GetImageNameOrDefault), so that its
result is kept. An image that other Dockerfiles build on also gets the references they
name it by (below): the graph links a Dockerfile reference to the image carrying that tag
(DESIGN.md "Implicit edges"), and the build then gives the dependent this run's image.

Dependencies. A `FROM`, `COPY --from=` or `RUN --mount=...,from=` of a stage a build needs
names image P of the repository when the last component of its repository is P's name
(`FROM base`, `FROM mycorp/base:1`, `FROM localhost:5000/mycorp/base` for `base/`), or,
failing that, when it is the name P's folder alone gives and no other image shares it
(`FROM mycorp/api` for `services/api/` beside `libs/api/`), or when it is P's own tag.
Left alone, with a note where it is not obvious: a reference pinned by digest; one that
could be two images; a `FROM` written with a variable (`FROM ${BASE}`: the value is the
user's to give, no guess is made); and a reference P's own Dockerfile also uses
(`node/Dockerfile` built `FROM node:20` wraps the upstream image: another `FROM node:20`
means that upstream image too).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from buildorch.dockerfiles.stages import DockerfileInfo, Reference
from buildorch.errors import ConfigError
from buildorch.oci.reference import ImageRef, InvalidReference, check
from buildorch.pipeline.imported import Imported

DEFAULT_DOCKERFILE = "Dockerfile"
# Folder names that tell nothing about the image built in them.
GENERIC_FOLDERS = frozenset({"docker", "dockerfiles"})
MAX_NAME = 80  # characters of a generated name, before a number that tells it apart
_NOT_NAME = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class ScannedDockerfile:
    path: str  # relative to the repository root, `/`-separated: `services/api/Dockerfile`
    label: str | None  # what the file name adds: `worker` for Dockerfile.worker
    info: DockerfileInfo
    parameterised: frozenset[int]  # stages whose FROM is written with a variable

    @property
    def folder(self) -> str:
        return posixpath.dirname(self.path)


@dataclass(frozen=True)
class _Planned:
    """One image to be: a Dockerfile and the stage it builds."""

    source: ScannedDockerfile
    target: str | None  # None: the last stage
    folders: tuple[str, ...]  # the folder names that may name it, outermost first
    words: tuple[str, ...]  # what follows them in its name: the file's label, the target

    def name(self, depth: int, pipeline: str, target: bool = True) -> str:
        used = self.folders[len(self.folders) - depth:] if depth else ()
        words = [*used, *(self.words if target or not self.target else self.words[:-1])]
        if not used and self.source.label is None:
            words.insert(0, pipeline)  # the root Dockerfile: the repository's own image
        return clean_name("-".join(words))


def clean_name(text: str) -> str:
    """`My_App.v2` -> `my-app-v2`: a pipeline image name that is also a tag's path
    component."""
    return _NOT_NAME.sub("-", text.lower()).strip("-")[:MAX_NAME].strip("-") or "image"


def from_repository(scanned: Sequence[ScannedDockerfile], name: str,
                    prefix: str = ".") -> Imported:
    """The pipeline of `scanned`, named `name` (cleaned); `prefix` is the repository root
    as seen from the pipeline file's folder, which contexts are relative to."""
    pipeline = clean_name(name)
    result = Imported(pipeline)
    planned = [p for s in scanned for p in _images_of(s, result)]
    named = _named(planned, pipeline)
    tags = {image: [f"{pipeline}-{image}"] for image in named}
    _add_dependency_tags(named, _short_names(named, pipeline), tags, result)
    for image, plan in named.items():
        result.images[image] = _fields(plan, prefix, tags[image])
    return result


def _images_of(scanned: ScannedDockerfile, result: Imported) -> list[_Planned]:
    info = scanned.info
    used = {used for used, user, _kind, _line in info.stage_edges() if used != user}
    folders = tuple(f for f in scanned.folder.split("/")
                    if f and f.lower() not in GENERIC_FOLDERS)
    label = (scanned.label,) if scanned.label else ()
    targets: list[str | None] = [None]
    for stage in info.stages[:-1]:
        if stage.index in used:
            continue
        if stage.name is None:
            result.tell(scanned.path, f"stage-{stage.index} (line {stage.line}) is used by no "
                                      "other stage but has no name, so it cannot be a target: "
                                      "left out")
        elif info.target_stage(stage.name).index == stage.index:  # a later duplicate wins
            targets.append(stage.name)
    planned = []
    for target in targets:
        try:
            info.needed_stages(target)
        except ConfigError as exc:
            result.tell(scanned.path, f"{'target ' + target if target else 'the last stage'} "
                                      f"left out: line {exc.line}: {exc.message}")
            continue
        planned.append(_Planned(scanned, target, folders, (*label, *((target,) if target
                                                                     else ()))))
    return planned


def _named(planned: Sequence[_Planned], pipeline: str) -> dict[str, _Planned]:
    """Each image by its name. Dockerfiles whose names collide take one more folder each,
    as long as they have one (all the images of a file alike: `services-api` and
    `services-api-test`), then images whose names still collide (`api` with target
    `test` beside a folder `api-test`); those left get a number (`api-2`), in path order."""
    depth = {p.source.path: min(1, len(p.folders)) for p in planned}
    _deepen(planned, depth, lambda plan: plan.name(depth[plan.source.path], pipeline,
                                                   target=False))
    _deepen(planned, depth, lambda plan: plan.name(depth[plan.source.path], pipeline))
    named: dict[str, _Planned] = {}
    for plan in planned:
        base = image = plan.name(depth[plan.source.path], pipeline)
        number = 1
        while image in named:
            number += 1
            image = f"{base}-{number}"
        named[image] = plan
    return named


def _deepen(planned: Sequence[_Planned], depth: dict[str, int],
            name: Callable[[_Planned], str]) -> None:
    """Give the Dockerfiles of images whose `name` collides one more folder, until none
    collides or none has one more."""
    while True:
        owners: dict[str, set[str]] = {}
        for plan in planned:
            owners.setdefault(name(plan), set()).add(plan.source.path)
        grow = {path for paths in owners.values() if len(paths) > 1 for path in paths}
        folders = {plan.source.path: len(plan.folders) for plan in planned}
        grow = {path for path in grow if depth[path] < folders[path]}
        if not grow:
            return
        for path in grow:
            depth[path] += 1


def _short_names(named: Mapping[str, _Planned], pipeline: str) -> dict[str, list[str]]:
    """The images by the name their innermost folder alone gives them."""
    short: dict[str, list[str]] = {}
    for image, plan in named.items():
        short.setdefault(plan.name(min(1, len(plan.folders)), pipeline), []).append(image)
    return short


def _add_dependency_tags(named: Mapping[str, _Planned], short: Mapping[str, list[str]],
                         tags: dict[str, list[str]], result: Imported) -> None:
    """Tag each image with the references other Dockerfiles name it by."""
    owner = {ImageRef.parse(t[0]).tagged_name(): image for image, t in tags.items()}
    for image, plan in named.items():
        for ref in _references(plan):
            producer = _producer(ref, image, named, short, owner, result)
            if producer is None:
                continue
            tag = ref.ref.partition("@")[0]
            key = ImageRef.parse(tag).tagged_name()
            if key not in owner:  # else the producer has it already, in some spelling
                owner[key] = producer
                tags[producer].append(tag)


def _references(plan: _Planned) -> Iterable[Reference]:
    """The images the build of `plan` names, but FROMs written with a variable."""
    for ref in plan.source.info.external_references(plan.target):
        if not (ref.kind == "from" and ref.stage in plan.source.parameterised):
            yield ref


def _producer(ref: Reference, image: str, named: Mapping[str, _Planned],
              short: Mapping[str, list[str]], owner: Mapping[str, str],
              result: Imported) -> str | None:
    """The image of the repository `ref` names, if exactly one."""
    try:
        check(ref.ref)
        parsed = ImageRef.parse(ref.ref)
        check(ref.ref.partition("@")[0], digest=False)
    except InvalidReference:
        return None
    if parsed.digest is not None:
        return None  # pinned on purpose
    last = parsed.repository.rsplit("/", 1)[-1]
    found = {last} if last in named else set(short.get(last, ()))
    found |= {owner[key] for key in [parsed.tagged_name()] if key in owner}
    found.discard(image)
    where = f"{named[image].source.path}:{ref.line}: {_instruction(ref)}"
    if len(found) > 1:
        result.tell(image, f"{where} could name image {' or '.join(sorted(found))}: "
                           "no dependency; add depends_on and a tag by hand")
        return None
    producer = next(iter(found), None)
    if producer is None:
        return None
    if _wraps(named[producer].source.info, parsed):
        result.tell(image, f"{where} is left to the registry: image {producer} is itself "
                           "built on that repository")
        return None
    return producer


def _wraps(info: DockerfileInfo, parsed: ImageRef) -> bool:
    """Whether a Dockerfile names the repository of `parsed` anywhere."""
    for ref in info.image_references():
        other = ImageRef.parse(ref.ref)
        if (other.domain, other.repository) == (parsed.domain, parsed.repository):
            return True
    return False


def _instruction(ref: Reference) -> str:
    return {"from": f"FROM {ref.ref}", "copy": f"COPY --from={ref.ref}"}.get(
        ref.kind, f"RUN --mount=from={ref.ref}")


def _fields(plan: _Planned, prefix: str, tags: list[str]) -> dict[str, object]:
    source = plan.source
    fields: dict[str, object] = {
        "context": _literal(posixpath.normpath(posixpath.join(prefix, source.folder or ".")))}
    filename = posixpath.basename(source.path)
    if filename != DEFAULT_DOCKERFILE:
        fields["dockerfile"] = _literal(filename)
    if plan.target:
        fields["target"] = plan.target
    fields["tags"] = tags
    return fields


def _literal(text: str) -> str:
    """`text` as the pipeline reads it back: `$$` is a `$` (no `${...}` expanded)."""
    return text.replace("$", "$$")
