"""The pipeline's builders checked, alone and against what the images ask of them; and which
builder builds an image before a run places it (pure, but for whether TLS files exist).

- Builder names are unique; a builder's `platforms` parse as an image's do.
- `tls` is for a `tcp://` address only (BuildKit and docker speak TLS over TCP; on a unix
  socket, a docker context or a buildx builder name it would be silently unused): an error,
  not a warning. Its files exist, and the builder's backend can pass them on (nerdctl and
  finch cannot, docker has no server name: `Backend.tls_problem`); `backend: auto` might pick
  nerdctl or finch, so a builder with `tls` names its backend.
- An image's `builder_labels` are labels some builder has: all of them on one builder, and
  on the image's own `builder` where it names one.
- An image's platforms are built by one of the builders it may go to (its `builder`, else
  those with its labels), where every such builder lists its `platforms`. A builder without
  `platforms` is taken to build any platform (natively or emulated, as BuildKit builds
  whatever its workers and binfmt allow), so it fits every image. Platforms compare as
  containerd normalises them (`linux/aarch64` is `linux/arm64`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from buildorch.backends.catalog import get_backend
from buildorch.backends.request import BuilderTls
from buildorch.errors import BuildorchError, Problems, shorten
from buildorch.localpaths import InvalidPath, is_file
from buildorch.oci import platforms as oci_platforms
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.pipeline.model import Builder, Image, Tls
from buildorch.pipeline.secret_sources import pipeline_path

TCP = "tcp://"
TLS_FILES = ("ca", "cert", "key")


def check_builders(p: LoadedPipeline, specs: Mapping[str, Image], problems: Problems) -> None:
    """Every problem of the builders, and of what the images (`specs`, defaults merged in)
    ask of them, goes to `problems`."""
    builders = p.model.builders
    seen: set[str] = set()
    for i, builder in enumerate(builders):
        if builder.name in seen:
            problems.add(p.error(f"duplicate builder name '{builder.name}'",
                                 ("builders", i, "name")))
        seen.add(builder.name)
        if builder.tls is not None:
            _check_tls(p, i, builder, builder.tls, problems)
    declared = [_platforms(p, i, b, problems) for i, b in enumerate(builders)]
    for name, spec in specs.items():
        candidates = _candidates(p, name, spec, problems)
        if candidates is not None:
            _check_platforms(p, name, spec, candidates, declared, problems)


def builder_index(builders: Sequence[Builder], given: str | None, named: str | None) -> int | None:
    """The builder of the pipeline that builds an image whose `builder` is `named`, when
    `--builder` is `given`: the builder `given` names (by name, or by its address); without
    `--builder` the image's own, else the first. None: no builder of the pipeline (there are
    none, or `given` is some other address, used as it is)."""
    if given is not None:
        return next((i for i, b in enumerate(builders) if given in (b.name, b.address)), None)
    if named is not None:
        return next((i for i, b in enumerate(builders) if b.name == named), None)
    return 0 if builders else None


def pool_of(builders: Sequence[Builder], given: str | None) -> tuple[int, ...]:
    """The builders (indexes) a run places its images over when it has several: every
    builder of the pipeline, or those `--builder a,b` names. Empty: the run has one builder
    (`builder_index`: `--builder` naming one builder or giving an address, or a pipeline
    with fewer than two)."""
    if given is None:
        return tuple(range(len(builders))) if len(builders) > 1 else ()
    names = [name.strip() for name in given.split(",")]
    if len(names) == 1:
        return ()
    known = {b.name: i for i, b in enumerate(builders)}
    for name in names:
        if name not in known:
            raise BuildorchError(f"--builder {shorten(given)}: no builder named "
                                 f"{shorten(name)!r} in the pipeline (builders: "
                                 f"{_listed(list(known))})")
    return tuple(dict.fromkeys(known[name] for name in names))


def _check_tls(p: LoadedPipeline, i: int, builder: Builder, tls: Tls,
               problems: Problems) -> None:
    where = ("builders", i, "tls")
    address = builder.address
    if address is None or not address.startswith(TCP):
        shown = f"its address is {shorten(address)!r}" if address else "it has no address"
        problems.add(p.error(f"TLS needs a {TCP} address (BuildKit and docker take TLS over "
                             f"TCP only): {shown}", where))
    for field in TLS_FILES:
        value = getattr(tls, field)
        if value is None:
            continue
        try:
            found = is_file(pipeline_path(p.folder, value))
        except InvalidPath as exc:
            problems.add(p.error(str(exc), (*where, field)))
            continue
        if not found:
            problems.add(p.error(f"TLS file not found: {shorten(value)}", (*where, field)))
    if builder.backend == "auto":
        problems.add(p.error("backend auto may pick nerdctl or finch, which cannot use TLS: "
                             "name the backend (buildctl or docker)", where))
        return
    backend = get_backend(builder.backend)
    settings = BuilderTls(tls.ca, tls.cert, tls.key, tls.server_name)
    problem = backend.tls_problem(settings)
    if problem is not None:
        # the server name alone in the way: point at it
        alone = tls.server_name is not None and backend.tls_problem(
            replace(settings, server_name=None)) is None
        problems.add(p.error(f"backend {builder.backend}: {problem}",
                             (*where, "server_name") if alone else where))


def _platforms(p: LoadedPipeline, i: int, builder: Builder,
               problems: Problems) -> frozenset[str] | None:
    """The builder's platforms, normalised (the valid ones); None: it lists none (any)."""
    if not builder.platforms:
        return None
    found: set[str] = set()
    for j, text in enumerate(builder.platforms):
        where = ("builders", i, "platforms", j)
        try:
            platform = oci_platforms.parse(text)
        except oci_platforms.InvalidPlatform as exc:
            problems.add(p.error(str(exc), where))
            continue
        if problem := oci_platforms.unknown_part(platform):
            problems.add(p.error(f"{shorten(text)!r}: {problem}", where))
            continue
        found.add(platform.format())
    return frozenset(found)


def _candidates(p: LoadedPipeline, name: str, spec: Image,
                problems: Problems) -> list[int] | None:
    """The builders the image may go to, by index (every builder where there are no labels
    to match); None: its labels already make it an error, or it names an unknown builder."""
    builders = p.model.builders
    wanted = spec.builder_labels
    if spec.builder is not None:
        index = builder_index(builders, None, spec.builder)
        if index is None:
            return None  # an unknown builder: check_references says so
        lacking = [label for label in wanted if label not in builders[index].labels]
        for label in lacking:
            problems.add(p.error(
                f"image '{name}': its builder '{spec.builder}' has no label '{shorten(label)}' "
                f"(its labels: {_listed(builders[index].labels)})",
                p.field_path(name, "builder_labels", wanted.index(label))))
        return None if lacking else [index]
    known = sorted({label for b in builders for label in b.labels})
    unknown = [k for k, label in enumerate(wanted) if label not in known]
    for k in unknown:
        problems.add(p.error(
            f"image '{name}' asks for builder label '{shorten(wanted[k])}', which no builder has "
            f"(labels: {_listed(known)})", p.field_path(name, "builder_labels", k)))
    if unknown:
        return None
    fitting = [i for i, b in enumerate(builders) if all(label in b.labels for label in wanted)]
    if not fitting and builders:
        problems.add(p.error(
            f"image '{name}': no builder has all of its builder labels {', '.join(wanted)} ("
            + "; ".join(f"{b.name}: {_listed(b.labels)}" for b in builders if b.labels) + ")",
            p.field_path(name, "builder_labels")))
        return None
    return fitting


def _check_platforms(p: LoadedPipeline, name: str, spec: Image, candidates: list[int],
                     declared: list[frozenset[str] | None], problems: Problems) -> None:
    lists = [declared[i] for i in candidates]
    if not candidates or any(platforms is None for platforms in lists):
        return  # the one auto-detected builder, or one that lists none: any platform
    builds = frozenset().union(*(platforms or () for platforms in lists))
    builders = p.model.builders
    shown = "; ".join(f"{builders[i].name}: {_listed(sorted(declared[i] or ()))}"
                      for i in candidates)
    if spec.builder is not None:
        which = f"its builder '{spec.builder}' does not build"
    elif spec.builder_labels:
        which = f"no builder with labels {', '.join(spec.builder_labels)} builds"
    else:
        which = "no builder builds"
    for j, text in enumerate(spec.platforms):
        try:
            parsed = oci_platforms.parse(text)
        except oci_platforms.InvalidPlatform:
            continue  # check_values says so
        platform = parsed.format()
        if platform not in builds and oci_platforms.unknown_part(parsed) is None:
            problems.add(p.error(f"image '{name}' is built for {platform}, which {which} "
                                 f"({shown})", p.field_path(name, "platforms", j)))


def _listed(labels: Sequence[str]) -> str:
    shown = ", ".join(shorten(label, 40) for label in labels[:10])
    return (shown + (", ..." if len(labels) > 10 else "")) or "none"
