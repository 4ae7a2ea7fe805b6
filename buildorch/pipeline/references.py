"""What a pipeline's images and groups refer to, checked on each image's fields with
`defaults` merged in: images, builders and group members exist, groups do not
contain themselves, tags and image contexts are references BuildKit accepts, and no
two images share a tag."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from buildorch.backends.flags import context_scheme_problem
from buildorch.errors import Problems, shorten
from buildorch.oci.reference import InvalidReference, check
from buildorch.pipeline import digest_tags
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.pipeline.model import Image

DOCKER_IMAGE = "docker-image://"


def check_references(p: LoadedPipeline, specs: Mapping[str, Image], problems: Problems,
                     broken: Iterable[str] = ()) -> None:
    """Every problem found goes to `problems`. `broken` are images left out because of
    errors of their own: naming them is not another error."""
    builders = {b.name for b in p.model.builders}
    known = frozenset(n for n in p.model.images if not n.startswith("_")) | frozenset(broken)
    for name, spec in specs.items():
        with problems.collecting():
            _check_image(p, name, spec, known, builders)
    with problems.collecting():
        _check_groups(p, known)


def _check_image(p: LoadedPipeline, name: str, spec: Image, specs: frozenset[str],
                 builders: set[str]) -> None:
    for i, dep in enumerate(spec.depends_on):
        if dep not in specs:
            raise p.error(unknown("image", dep, specs), p.field_path(name, "depends_on", i))
        if dep == name:
            raise p.error("an image cannot depend on itself", p.field_path(name, "depends_on", i))
    for key, ctx in spec.contexts.items():
        where = p.field_path(name, "contexts", key)
        if not isinstance(ctx, str):
            if ctx.image in p.model.groups and ctx.image not in specs:
                members = p.model.groups[ctx.image]
                shown = ", ".join(members[:3]) + (", ..." if len(members) > 3 else "")
                raise p.error(f"'{ctx.image}' is a group (or a matrix) of images ({shown}); a "
                              "named context is one image", (*where, "image"))
            if ctx.image not in specs:
                raise p.error(unknown("image", ctx.image, specs), (*where, "image"))
            if ctx.image == name:
                raise p.error("an image cannot be a context of itself", (*where, "image"))
        elif ctx.startswith("target:"):
            # dockerui's named-context loader knows no such source (a bake feature)
            raise p.error("BuildKit takes no target: named context; for another image "
                          f"of this pipeline write {{image: {shorten(ctx[7:]) or 'NAME'}}}", where)
        elif ctx.startswith(DOCKER_IMAGE):
            _check_reference(p, ctx.removeprefix(DOCKER_IMAGE), where, digest=True)
        elif problem := context_scheme_problem(ctx):
            raise p.error(problem, where)
    for i, tag in enumerate(spec.tags):
        _check_reference(p, digest_tags.sample(tag), p.field_path(name, "tags", i), digest=False)
    if spec.builder is not None and spec.builder not in builders:
        raise p.error(unknown("builder", spec.builder, builders), p.field_path(name, "builder"))


def _check_reference(p: LoadedPipeline, ref: str, where: tuple[str | int, ...],
                     digest: bool) -> None:
    try:
        check(ref, digest=digest)
    except InvalidReference as exc:
        raise p.error(f"{shorten(ref)!r} is not an image reference: {exc}", where) from None


def _check_groups(p: LoadedPipeline, specs: frozenset[str]) -> None:
    groups = p.model.groups
    for group, members in groups.items():
        if group in specs:
            raise p.error(f"group '{group}' has the same name as an image", ("groups", group))
        for i, member in enumerate(members):
            if member not in specs and member not in groups:
                raise p.error(unknown("image or group", member, {*specs, *groups}),
                              ("groups", group, i))
    cycle = _group_cycle(groups)
    if cycle:
        raise p.error(f"groups contain each other: {' -> '.join(cycle)}", ("groups", cycle[0]))


def _group_cycle(groups: Mapping[str, list[str]]) -> list[str]:
    """A chain of groups that leads back to its first, or []: iterative depth-first."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    for start in groups:
        if state.get(start):
            continue
        path: list[str] = []
        stack: list[tuple[str, Iterable[str]]] = [(start, iter(groups[start]))]
        state[start] = 1
        path.append(start)
        while stack:
            group, members = stack[-1]
            member = next((m for m in members if m in groups), None)
            if member is None:
                state[group] = 2
                stack.pop()
                path.pop()
            elif state.get(member) == 1:
                return [*path[path.index(member):], member]
            elif not state.get(member):
                state[member] = 1
                path.append(member)
                stack.append((member, iter(groups[member])))
    return []


def check_duplicate_tags(p: LoadedPipeline, specs: Mapping[str, Image],
                         problems: Problems) -> None:
    owner: dict[str, str] = {}
    for name, spec in specs.items():
        for i, tag in enumerate(spec.tags):
            if digest_tags.has_token(tag):  # each image's own digest: never the same tag
                continue
            if tag in owner and owner[tag] != name:
                problems.add(p.error(f"tag '{shorten(tag)}' is also a tag of image '{owner[tag]}'",
                              p.field_path(name, "tags", i)))
            owner[tag] = name


def unknown(kind: str, name: str, known: Iterable[str]) -> str:
    names = sorted(known)
    shown = ", ".join(shorten(n, 40) for n in names[:10]) + (", ..." if len(names) > 10 else "")
    return f"unknown {kind} '{shorten(name)}' (known: {shown or 'none'})"

