"""The resolved plan of a run: build requests, edges, order and critical path (pure).

Values that only a run knows are placeholders: `{digest:NAME}` is the digest image NAME
produces in this run (dependents are pinned to it, never to a tag), `{run_id}` the run's
id. The executor fills them in; everything else is the exact argv that will run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from buildorch.backends.bake_file import bake_problem
from buildorch.backends.base import Backend
from buildorch.backends.catalog import get_backend
from buildorch.backends.flags import annotation_levels, enabled_attests
from buildorch.backends.request import BuilderTls, BuildRequest, Unsupported
from buildorch.cache.plan import ImageCache
from buildorch.errors import ConfigError, Problems
from buildorch.oci.reference import context_key
from buildorch.pipeline import digest_tags
from buildorch.pipeline.loaded import LoadedPipeline, ResolvedImage
from buildorch.planning.chains import session_links
from buildorch.planning.graph import (
    BuildGraph,
    Edge,
    NearMiss,
    build_order,
    critical_path,
    estimates_for,
    expand_selection,
    remaining_path,
    with_dependencies,
)
from buildorch.planning.input_digests import InputManifest, manifest_of
from buildorch.planning.requests import (
    LOCAL_NAMESPACE,
    PlanOptions,
    RequestContext,
    image_cache,
    image_endpoint,
    make_request,
)
from buildorch.proc import REDACTED
from buildorch.workdir import RUN_DIR


@dataclass(frozen=True)
class PlannedImage:
    name: str
    request: BuildRequest
    argv: tuple[str, ...]
    shown_argv: tuple[str, ...]  # argv with credential attributes redacted, for people
    depends_on: tuple[str, ...]
    stages: tuple[str, ...]  # Dockerfile stages this build runs, in file order
    estimate: float
    remaining: float  # longest estimated time from this build's start to the run's end
    publish: tuple[str, ...] = ()  # tags published once every build of the run succeeded
    cache: ImageCache = field(default_factory=ImageCache)
    # Dockerfile references that nearly name a pipeline image (graph.NearMiss)
    near_misses: tuple[NearMiss, ...] = ()
    description: str | None = None  # the pipeline's `description`, for people
    inputs: InputManifest | None = None  # None: not hashed, or inputs unknown (remote)
    # The image whose result this build gets in one builder session (planning/chains)
    session_after: str | None = None
    measured: bool = False  # `estimate` is its duration in an earlier run, not a guess

    @property
    def input_digest(self) -> str | None:
        return None if self.inputs is None else self.inputs.digest


@dataclass(frozen=True)
class PublishStep:
    """One tag published at the end of a run, once every build succeeded."""

    image: str
    tag: str
    # The command that pushes it from the tool's image store; None where the build pushed
    # the manifest by digest and the registry API sets the tag.
    argv: tuple[str, ...] | None


@dataclass(frozen=True)
class Plan:
    pipeline: str
    file: str
    backend: str
    selection: tuple[str, ...]
    images: tuple[PlannedImage, ...]  # in build order
    edges: tuple[Edge, ...]
    critical_path: tuple[str, ...]
    critical_seconds: float
    publish: tuple[PublishStep, ...] = ()  # in plan order
    reasons: Mapping[str, str] = field(default_factory=dict)  # --changed-since: why selected

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.images)


def make_plan(
    p: LoadedPipeline, graph: BuildGraph, names: Sequence[str],
    options: PlanOptions | None = None,
) -> Plan:
    options = options or PlanOptions()
    selection = expand_selection(names, p.images, p.model.groups)
    sub = with_dependencies(graph, selection)
    estimates = estimates_for(p.images, sub.nodes, options.history)
    order = build_order(sub, estimates)
    remaining = remaining_path(sub, estimates)
    path, seconds = critical_path(sub, estimates)
    ctx = RequestContext(p, graph, sub, get_backend(options.backend), options)
    problems = Problems()  # what the backend cannot do, for every image at once
    planned = []
    for name in order:
        with problems.collecting():
            planned.append(_planned(ctx, name, estimates, remaining))
    problems.raise_if_any()
    if options.chains and ctx.backend.bakes_chains:
        planned = _linked(planned, session_links(graph))
    edges = tuple(e for e in graph.edges if e.source in sub and e.target in sub)
    return Plan(p.model.name, p.display, options.backend, tuple(selection), tuple(planned),
                edges, tuple(path), seconds, publish_steps(ctx.backend, planned))


def _linked(images: list[PlannedImage], links: Mapping[str, str]) -> list[PlannedImage]:
    """Each image linked after the one the pipeline links it after, where a bake file can
    carry both (backends/bake_file) and one builder builds both."""
    bakeable = {i.name: i.request.builder for i in images if bake_problem(i.request) is None}
    return [dataclasses.replace(i, session_after=links[i.name])
            if i.name in bakeable and links.get(i.name) in bakeable
            and bakeable[links[i.name]] == i.request.builder else i for i in images]


def with_request(image: PlannedImage, request: BuildRequest, backend: Backend) -> PlannedImage:
    """`image` with another request: its argv, and the one shown, rendered again."""
    argv = tuple(backend.build_argv(request))
    shown = request.redacted()
    return dataclasses.replace(image, request=request, argv=argv, shown_argv=argv
                               if shown is request else tuple(backend.build_argv(shown)))


def placed_on(image: PlannedImage, backend: Backend, address: str | None,
              tls: BuilderTls | None) -> PlannedImage:
    """`image` built on the builder at `address` (a pool places it at run time): the same
    request and argv, reaching that builder."""
    request = dataclasses.replace(image.request, builder=address, builder_tls=tls)
    return with_request(image, request, backend)


def platform_slug(platform: str) -> str:
    """`linux/arm/v7` as a name part: `linux-arm-v7`."""
    return platform.replace("/", "-")


def platform_part(image: PlannedImage, platform: str, pipeline: str) -> PlannedImage:
    """One platform of a multi-platform image that a pool builds per platform (run/pool):
    stored under a run-scoped local name with a metadata file of its own, publishing
    nothing itself (its platforms are joined into one index when the run publishes). Its
    argv is the image's until `placed_on` puts it on its builder."""
    slug = platform_slug(platform)
    request = dataclasses.replace(
        image.request, platforms=(platform,), push=False, push_by_digest=False, load=True,
        tags=(f"{LOCAL_NAMESPACE}/{pipeline}/{image.name}:{{run_id}}-{slug}",),
        metadata_file=f"{RUN_DIR}/{image.name}@{slug}.metadata.json")
    return dataclasses.replace(image, request=request, publish=())


def publish_steps(backend: Backend, images: Sequence[PlannedImage]) -> tuple[PublishStep, ...]:
    """Each image's tags to publish, pushed through the builder its request names."""
    steps = []
    for image in images:
        for tag in image.publish:
            argv = backend.push_argv(tag, image.request.builder, image.request.builder_tls)
            steps.append(PublishStep(image.name, tag, tuple(argv) if argv is not None else None))
    return tuple(steps)


def _planned(
    ctx: RequestContext, name: str, estimates: Mapping[str, float],
    remaining: Mapping[str, float],
) -> PlannedImage:
    image = ctx.pipeline.images[name]
    cache = image_cache(ctx, image)
    request = make_request(ctx, image, cache)
    inputs = _inputs(ctx, image, request)
    if inputs is not None:
        ctx.input_digests[name] = inputs.digest
    if any(digest_tags.has_token(tag) for tag in image.spec.tags):
        image = _with_digest_tags(ctx, image, inputs)
        cache = image_cache(ctx, image)
        request = make_request(ctx, image, cache)
    stages = () if image.info is None else tuple(
        s.display_name for s in image.info.needed_stages(image.spec.target))
    publish = tuple(image.spec.tags) if ctx.published(name) else ()
    try:
        _check_index_annotations(ctx, request)
        argv = tuple(ctx.backend.build_argv(request))
    except Unsupported as exc:
        raise _unsupported(ctx, name, exc, request.secret_values()) from None
    shown = request.redacted()
    return PlannedImage(name, request, argv,
                        argv if shown is request else tuple(ctx.backend.build_argv(shown)),
                        tuple(sorted(ctx.sub.predecessors(name))), stages, estimates[name],
                        remaining[name], publish, cache, ctx.graph.near_misses_of(name),
                        image.spec.description, inputs,
                        measured=bool(ctx.options.history.get(name)))


def _inputs(ctx: RequestContext, image: ResolvedImage,
            request: BuildRequest) -> InputManifest | None:
    """The image's input manifest, built on the digests of what it depends on (planned
    before it, in build order)."""
    sources = ctx.options.sources
    if sources is None or image.name not in sources:
        return None
    dependencies = {}
    for dep in ctx.sub.predecessors(image.name):
        if dep not in ctx.input_digests:
            return None  # built on an image whose inputs are unknown
        dependencies[dep] = ctx.input_digests[dep]
    named_images = {context_key(key): source.image for key, source in image.spec.contexts.items()
                    if not isinstance(source, str)}
    named_images.update({context_key(e.ref): e.source
                         for e in ctx.graph.edges_into(image.name) if e.ref is not None})
    return manifest_of(request, sources[image.name], ctx.backend.name, dependencies,
                       named_images)


def _with_digest_tags(ctx: RequestContext, image: ResolvedImage,
                      inputs: InputManifest | None) -> ResolvedImage:
    """`${INPUT_DIGEST}` in the image's tags, filled in."""
    field = ctx.pipeline.field_path(image.name, "tags")
    if ctx.options.sources is None:  # validate, graph: any digest will do
        tags = [digest_tags.sample(tag) for tag in image.spec.tags]
    elif inputs is None:
        raise ctx.pipeline.error(
            f"${{{digest_tags.FULL}}}: the inputs of this image are unknown (a remote "
            "context, or built on an image with one)", field)
    else:
        tags = [digest_tags.fill(tag, inputs.digest) for tag in image.spec.tags]
    return dataclasses.replace(image, spec=image.spec.model_copy(update={"tags": tags}))


def _check_index_annotations(ctx: RequestContext, request: BuildRequest) -> None:
    """An `index:` annotation needs an index: BuildKit refuses one on a single-platform image
    with no attestation ("index annotations not supported for single platform export",
    exporter/containerimage/writer.go)."""
    levels = {kind for key, _ in request.annotations for kind, _ in annotation_levels(key)[0]}
    if not levels & {"index", "index-descriptor"} or len(request.platforms) > 1:
        return
    tool_adds = ctx.backend.provenance_default == "tool" and ctx.published(request.name)
    if enabled_attests(request.attest) or tool_adds:
        return
    raise Unsupported(("annotations",), "an index: annotation needs an index, and this image "
                      "has one platform and no attestation (BuildKit: \"index annotations not "
                      "supported for single platform export\"): give several platforms or an "
                      "attest, or annotate the manifest")


def _unsupported(ctx: RequestContext, name: str, exc: Unsupported,
                 secrets: tuple[str, ...]) -> ConfigError:
    """What the backend cannot do, against the pipeline field it comes from (without the
    credentials the request carries, which its message may echo)."""
    pipeline, field = ctx.pipeline, exc.field
    path = pipeline.field_path(name, "context")  # a Dockerfile's own reference
    builder = image_endpoint(ctx, pipeline.images[name]).builder
    if field[0] == "builder" and builder is not None:  # how the builder is reached (TLS)
        path = ("builders", builder, "tls")
    elif field[0] == "contexts":
        written = [k for k in pipeline.images[name].spec.contexts if context_key(k) == field[1]]
        if written:
            path = pipeline.field_path(name, "contexts", written[0])
    elif field[0] in pipeline.images[name].spec.model_fields_set:
        path = pipeline.field_path(name, field[0])
    message = exc.message
    for secret in secrets:
        message = message.replace(secret, REDACTED)
    return pipeline.error(f"backend {ctx.backend.name}: {message}", path)
