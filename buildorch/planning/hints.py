"""What a pipeline that loads and plans may still have wrong (pure): hints that `validate`,
`plan`, `graph` and `build` print as warnings, and `validate --strict` as errors.

- A near miss: a Dockerfile reference to a pipeline image's repository under another tag
  or registry (`graph.NearMiss`), so the image is built on what the registry holds rather
  than on this run's build. One hint per image, naming each reference and the pipeline
  image it nearly names.
- A result nobody keeps: an image with no tags (so it is not published either), no
  `outputs`, and no image of the selection built on it. BuildKit builds it and keeps
  nothing: the docker backend runs it without `--load`, buildctl without an image output.

Each hint is a ConfigError placed at the image in the pipeline file, so that a warning
reads like an error and `--strict` lists them with the other errors.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from buildorch.errors import ConfigError
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.planning.graph import BuildGraph, NearMiss

NEAR_MISS_ADVICE = "no dependency; use its tag, or depends_on plus a named context"
UNKEPT_ADVICE = ("its result is not kept: it has no tags and no outputs, and no image of the "
                 "selection is built on it; add tags, an output, or `outputs: "
                 "[type=cacheonly]` if only the build matters")


def near_miss_hints(p: LoadedPipeline, graph: BuildGraph,
                    names: Collection[str]) -> list[ConfigError]:
    """One hint per image of `names` (in pipeline order) with near misses."""
    wanted = set(names)
    return [p.error(near_miss_text(graph.near_misses_of(name)), ("images", name))
            for name in p.images if name in wanted and graph.near_misses_of(name)]


def near_miss_text(misses: Sequence[NearMiss]) -> str:
    """`Dockerfile:3: FROM x:latest nearly names pipeline image 'base' (tagged x:2024):
    no dependency; ...`; further references of the same Dockerfile by line."""
    parts = []
    for i, miss in enumerate(misses):
        where = f"{miss.file}:{miss.line}" if i == 0 else f"line {miss.line}"
        named = " or ".join(f"'{image}' (tagged {tag})" for image, tag in miss.nearly)
        parts.append(f"{where}: {miss.instruction()} nearly names pipeline image {named}")
    return f"{'; '.join(parts)}: {NEAR_MISS_ADVICE}"


def unkept_results(p: LoadedPipeline, graph: BuildGraph,
                   names: Collection[str]) -> list[str]:
    """The images of `names` whose result the build keeps nowhere, in pipeline order."""
    wanted = set(names)
    return [name for name, image in p.images.items()
            if name in wanted and not image.spec.tags and not image.spec.outputs
            and not any(user in wanted for user in graph.graph.successors(name))]


def unkept_hints(p: LoadedPipeline, graph: BuildGraph,
                 names: Collection[str]) -> list[ConfigError]:
    return [p.error(UNKEPT_ADVICE, ("images", name))
            for name in unkept_results(p, graph, names)]
