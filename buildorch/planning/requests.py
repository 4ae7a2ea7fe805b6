"""One build request per image (pure): its named contexts pinned to this run's digests,
its secrets and SSH by reference, its cache, and where its result goes."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from buildorch.backends.base import Backend
from buildorch.backends.catalog import OFFLINE_DEFAULT
from buildorch.backends.flags import PROVENANCE, is_local_context, with_rewritten_timestamps
from buildorch.backends.request import (
    AttrSpec,
    BuilderTls,
    BuildRequest,
    SecretRef,
    SshRef,
    Ulimit,
)
from buildorch.cache.plan import CacheContext, ImageCache, plan_cache
from buildorch.oci.reference import context_key, repository_of
from buildorch.pipeline import digest_tags
from buildorch.pipeline.builders import builder_index
from buildorch.pipeline.loaded import LoadedPipeline, ResolvedImage
from buildorch.pipeline.model import Tls
from buildorch.pipeline.reproducible import SOURCE_DATE_EPOCH, is_reproducible, source_date_epoch
from buildorch.pipeline.secret_sources import pipeline_path
from buildorch.planning.graph import BuildGraph, Dag
from buildorch.planning.input_digests import ImageSources
from buildorch.workdir import RUN_DIR

LOCAL_NAMESPACE = "buildorch.local"  # local names of untagged images others build on


@dataclass(frozen=True)
class PlanOptions:
    backend: str = OFFLINE_DEFAULT
    push: bool = False  # --push: publish every selected image that has tags
    # --builder: a builder of the pipeline (by name or address) for every image, else an
    # address of another (without TLS)
    builder: str | None = None
    history: Mapping[str, float] = field(default_factory=dict)  # durations of earlier runs
    # (image, secret id) of optional secrets whose source is absent: not passed at all
    omit_secrets: frozenset[tuple[str, str]] = frozenset()
    cache: CacheContext | None = None  # None: no cache import or export
    # what each image's input digest covers, read from disk (None: no input digests)
    sources: Mapping[str, ImageSources] | None = None
    chains: bool = True  # link images into builder sessions where the backend can


@dataclass(frozen=True)
class RequestContext:
    """What every request of one plan shares."""

    pipeline: LoadedPipeline
    graph: BuildGraph
    sub: Dag  # the selection and what it depends on
    backend: Backend
    options: PlanOptions
    input_digests: dict[str, str] = field(default_factory=dict)  # filled in build order

    def published(self, name: str) -> bool:
        return self.options.push or self.pipeline.images[name].spec.push

    def run_tag(self, name: str) -> str | None:
        """The local name under which a dependent build finds image `name`.

        The docker driver resolves neither `name@digest` from its local store nor pushes by
        digest, so a dependency is stored under a tag that only this run creates; the
        executor checks it holds the recorded digest before a dependent starts.
        """
        if not self.backend.local_store or not self.sub.out_degree(name):
            return None
        return f"{LOCAL_NAMESPACE}/{self.pipeline.model.name}/{name}:{{run_id}}"

    def pinned_source(self, name: str) -> str:
        """How a dependent build reaches image `name`: only ever this run's build of it."""
        run_tag = self.run_tag(name)
        if run_tag is not None:
            return f"docker-image://{run_tag}"
        tags = self.pipeline.images[name].spec.tags
        digest = f"{{digest:{name}}}"
        if self.published(name) and tags:
            repository = repository_of(digest_tags.fill(tags[0], self.input_digests.get(name, "")))
            return f"docker-image://{repository}@{digest}"
        return f"oci-layout://{RUN_DIR}/{name}.oci@{digest}"


@dataclass(frozen=True)
class Outputs:
    """Where a build's result goes: nothing is published under a tag until the whole run
    succeeded."""

    tags: tuple[str, ...] = ()
    outputs: tuple[AttrSpec, ...] = ()
    push: bool = False
    push_by_digest: bool = False
    load: bool = False


def _local_path(folder: Path, value: str) -> str:
    """A path from the pipeline (`~` expanded, relative to its folder), relative to here."""
    return os.path.relpath(pipeline_path(folder, value))


def _named_contexts(ctx: RequestContext, image: ResolvedImage) -> tuple[tuple[str, str], ...]:
    """Keyed as BuildKit's frontend looks them up (`context_key`), whatever the spelling
    in the pipeline or the Dockerfile: buildctl and nerdctl pass keys on as written."""
    contexts: dict[str, str] = {}
    for name, source in image.spec.contexts.items():
        if isinstance(source, str):
            value = (_local_path(ctx.pipeline.folder, source) if is_local_context(source)
                     else source)
        else:
            value = ctx.pinned_source(source.image)
        contexts[context_key(name)] = value
    # A Dockerfile naming another image's tag is pinned to that build's digest too.
    for edge in ctx.graph.edges_into(image.name):
        if edge.ref is not None:
            contexts.setdefault(context_key(edge.ref), ctx.pinned_source(edge.source))
    return tuple(contexts.items())


def outputs_of(ctx: RequestContext, image: ResolvedImage) -> Outputs:
    if ctx.backend.local_store:
        # Stored locally; tags are pushed from the local store at the end of the run.
        run_tag = ctx.run_tag(image.name)
        tags = (*image.spec.tags, *((run_tag,) if run_tag else ()))
        return Outputs(tags=tags, load=bool(tags))
    if ctx.published(image.name) and image.spec.tags:
        repos = tuple(dict.fromkeys(repository_of(t) for t in image.spec.tags))
        return Outputs(tags=repos, push=True, push_by_digest=True)
    if ctx.sub.out_degree(image.name):
        oci = AttrSpec("oci", (("dest", f"{RUN_DIR}/{image.name}.oci"), ("tar", "false")))
        return Outputs(outputs=(oci,))
    return Outputs(tags=tuple(image.spec.tags))




def attestations(ctx: RequestContext, image: ResolvedImage) -> tuple[AttrSpec, ...]:
    """As the pipeline asks; else provenance (mode=min) on published images, as buildx
    attaches by default (where the backend takes it: `provenance_default`), and none on the
    others (an unpublished image's provenance is work nobody reads), nor on reproducible ones
    (it records the build's start and end times and an invocation id, so the index digest
    would differ at every build)."""
    specs = tuple(AttrSpec.parse(text) for text in image.spec.attest)
    default = ctx.backend.provenance_default
    if any(spec.type == PROVENANCE for spec in specs) or default == "none":
        return specs
    if ctx.published(image.name) and not is_reproducible(ctx.pipeline, image.name):
        return specs if default == "tool" else (*specs, AttrSpec(PROVENANCE, (("mode", "min"),)))
    if default == "tool":
        return (*specs, AttrSpec(PROVENANCE, (("disabled", "true"),)))
    return specs


def user_outputs(folder: Path, image: ResolvedImage
                 ) -> tuple[tuple[AttrSpec, ...], tuple[tuple[str, str], ...]]:
    """The pipeline's `outputs`: exports besides the image (a `dest` relative to the
    pipeline's folder, like every path it names), and the image export's own attributes
    (from a `type=image` entry)."""
    specs = tuple(AttrSpec.parse(text) for text in image.spec.outputs)
    image_attrs = next((s.attrs for s in specs if s.type == "image"), ())
    return tuple(_dest_from(folder, s) for s in specs if s.type != "image"), image_attrs


def _dest_from(folder: Path, spec: AttrSpec) -> AttrSpec:
    if spec.get("dest") in (None, "-"):  # `-`: standard output
        return spec
    return AttrSpec(spec.type, tuple((k, _local_path(folder, v) if k == "dest" else v)
                                     for k, v in spec.attrs))


def image_cache(ctx: RequestContext, image: ResolvedImage) -> ImageCache:
    if image.cache is None or ctx.options.cache is None:
        return ImageCache()
    return plan_cache(image.cache, ctx.pipeline.model.name, image.name, tuple(image.spec.tags),
                      os.path.relpath(ctx.pipeline.folder), ctx.options.cache)


@dataclass(frozen=True)
class Endpoint:
    """Where a build goes: the address its backend is given, and TLS to it."""

    address: str | None
    tls: BuilderTls | None = None
    builder: int | None = None  # the pipeline builder's index; None: another address


def endpoint_of(p: LoadedPipeline, given: str | None, named: str | None) -> Endpoint:
    """Where an image whose `builder` is `named` builds with `--builder` `given`
    (pipeline/builders.builder_index): that builder's address and TLS, or `given` as it is.
    Until a run places images over several builders, an image that names none goes to the
    first, which `build` also probes."""
    index = builder_index(p.model.builders, given, named)
    if index is None:
        return Endpoint(given)
    builder = p.model.builders[index]
    tls = None if builder.tls is None else request_tls(p.folder, builder.tls)
    return Endpoint(builder.address, tls, index)


def request_tls(folder: Path, tls: Tls) -> BuilderTls:
    """The TLS files as paths from here (`~` expanded, relative to the pipeline's folder, as
    every path it names)."""
    def local(value: str | None) -> str | None:
        return None if value is None else _local_path(folder, value)

    return BuilderTls(_local_path(folder, tls.ca), local(tls.cert), local(tls.key),
                      tls.server_name)


def image_endpoint(ctx: RequestContext, image: ResolvedImage) -> Endpoint:
    return endpoint_of(ctx.pipeline, ctx.options.builder, image.spec.builder)


def builder_address(ctx: RequestContext, image: ResolvedImage) -> str | None:
    return image_endpoint(ctx, image).address


def _build_args(p: LoadedPipeline, image: ResolvedImage,
                reproducible: bool) -> tuple[tuple[str, str], ...]:
    """The image's args, and SOURCE_DATE_EPOCH for a reproducible one unless they give it."""
    args = tuple(image.spec.args.items())
    if not reproducible or SOURCE_DATE_EPOCH in image.spec.args:
        return args
    return (*args, (SOURCE_DATE_EPOCH, source_date_epoch(p, image.name)))


def make_request(ctx: RequestContext, image: ResolvedImage, cache: ImageCache) -> BuildRequest:
    p, spec = ctx.pipeline, image.spec
    endpoint = image_endpoint(ctx, image)
    builder = endpoint.address
    out = outputs_of(ctx, image)
    extra_outputs, image_attrs = user_outputs(p.folder, image)
    outputs = (*out.outputs, *extra_outputs)
    reproducible = is_reproducible(p, image.name)
    rewrite = reproducible and ctx.backend.rewrite_timestamp_problem(builder) is None
    if reproducible:  # the OCI layouts and tarballs it writes too (BuildKit 0.13 on)
        outputs = tuple(with_rewritten_timestamps(o) for o in outputs)
    inline = spec.dockerfile_inline
    return BuildRequest(
        name=image.name,
        context=image.remote_context or os.path.relpath(image.context_dir or "."),
        dockerfile=f"{RUN_DIR}/{image.name}.Dockerfile" if inline is not None
        else image.dockerfile_display,
        dockerfile_inline=inline,
        target=spec.target,
        args=_build_args(p, image, reproducible),
        named_contexts=_named_contexts(ctx, image),
        secrets=tuple(
            SecretRef(s.id, src=_local_path(p.folder, s.src) if s.src else None, env=s.env)
            for s in spec.secrets if (image.name, s.id) not in ctx.options.omit_secrets
        ),
        ssh=tuple(SshRef(s.id, tuple(_local_path(p.folder, x) for x in s.paths))
                  for s in spec.ssh),
        platforms=tuple(spec.platforms),
        labels=tuple(spec.labels.items()),
        tags=out.tags,
        cache_from=cache.imports,
        cache_to=cache.exports,
        outputs=outputs,
        image_attrs=image_attrs,
        attest=attestations(ctx, image),
        annotations=tuple(spec.annotations.items()),
        pull=spec.pull,
        extra_hosts=tuple(spec.extra_hosts.items()),
        shm_size=spec.shm_size,
        ulimits=tuple(Ulimit(n, u.soft, u.hard) for n, u in spec.ulimits.items()),
        no_cache_filter=tuple(spec.no_cache_filter),
        push=out.push,
        push_by_digest=out.push_by_digest,
        load=out.load,
        network=spec.network,
        no_cache=spec.no_cache,
        metadata_file=f"{RUN_DIR}/{image.name}.metadata.json",
        builder=builder,
        builder_tls=endpoint.tls,
        reproducible=reproducible,
        rewrite_timestamp=rewrite,
        load_archive=f"{RUN_DIR}/{image.name}.image.tar"
        if rewrite and out.load and ctx.backend.loads_archives else None,
    )
