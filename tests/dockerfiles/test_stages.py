"""DockerfileInfo: stage resolution, targets, needed stages, external references, cycles."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildorch.dockerfiles.stages import Reference, RefKind
from buildorch.errors import ConfigError
from tests.dockerfiles.parse_helpers import MULTI_STAGE, config_error, edges, parse


def test_stage_names_lists_named_stages_in_order() -> None:
    info = parse("FROM a AS x\nFROM b\nFROM c AS y\n")
    assert info.stage_names() == ("x", "y")


# -- edges between stages ------------------------------------------------------------------


def test_from_an_earlier_stage_is_an_edge() -> None:
    assert edges("FROM a AS base\nFROM base AS app\n") == ((0, 1, "from", 2),)


def test_from_a_stage_defined_later_is_an_image_not_a_stage() -> None:
    info = parse("FROM later AS first\nFROM alpine AS later\n")
    assert info.stage_edges() == ()
    assert Reference("from", "later", 1, 0) in info.external_references("first")


def test_from_matches_stage_names_case_sensitively() -> None:
    # BuildKit looks FROM's argument up as written among lower-cased stage names; `Build`
    # is then an image name, which it refuses (a repository is lower-case).
    assert edges("FROM a AS build\nFROM build\n") == ((0, 1, "from", 2),)
    error = config_error("FROM a AS build\nFROM Build\n")
    assert (error.line, error.message) == (
        2, "failed to parse stage name 'Build': the repository name must be lowercase")


def test_from_own_name_is_an_image() -> None:
    info = parse("FROM node AS node\n")
    assert info.stage_edges() == ()
    assert info.stages[0].base == "node"


def test_copy_from_is_case_insensitive() -> None:
    assert edges("FROM a AS build\nFROM b\nCOPY --from=BUILD /x /y\n") == ((0, 1, "copy", 3),)


def test_copy_from_numeric_index() -> None:
    assert edges("FROM a\nFROM b\nCOPY --from=0 /x /y\n") == ((0, 1, "copy", 3),)


def test_copy_from_an_image_is_a_reference_but_not_an_edge() -> None:
    info = parse("FROM a\nCOPY --from=nginx:1.27 /etc/nginx /etc/nginx\n")
    assert info.stage_edges() == ()
    assert info.references[-1] == Reference("copy", "nginx:1.27", 2, 0)


def test_mount_from_numeric_is_a_name_not_an_index() -> None:
    # BuildKit resolves a mount's from= by name only, so "0" is an image reference.
    info = parse("FROM a\nFROM b\nRUN --mount=type=bind,from=0,target=/x true\n")
    assert info.stage_edges() == ()
    assert Reference("mount", "0", 3, 1) in info.external_references(None)


def test_duplicate_stage_names_resolve_like_buildkit() -> None:
    # FROM sees the latest earlier definition; COPY --from the last one in the file.
    text = "FROM a AS x\nFROM x AS y\nFROM b AS x\nFROM c\nCOPY --from=x /p /p\n"
    assert edges(text) == ((0, 1, "from", 2), (2, 3, "copy", 5))


# -- target, needed stages, external references --------------------------------------------


def test_target_none_or_empty_is_the_last_stage() -> None:
    info = parse(MULTI_STAGE)
    assert info.target_stage(None).name == "unused"
    assert info.target_stage("").name == "unused"


def test_target_by_name_is_case_insensitive() -> None:
    assert parse(MULTI_STAGE).target_stage("Runtime").index == 1


def test_unknown_target_lists_the_stages() -> None:
    info = parse("FROM a AS build\nFROM b AS runtime\nFROM c\nFROM d AS test\n")
    with pytest.raises(ConfigError) as caught:
        info.target_stage("nope")
    error = caught.value
    assert error.message == (
        "target 'nope' is not a stage of Dockerfile.x (stages: build, runtime, test)"
    )
    assert (error.file, error.line, error.field) == ("Dockerfile.x", None, None)


def test_target_cannot_be_an_index() -> None:
    # `docker build --target 0` fails too: targets are names.
    with pytest.raises(ConfigError, match="no named stages"):
        parse("FROM a\nFROM b\n").target_stage("0")


def test_needed_stages_follow_edges_transitively_in_file_order() -> None:
    text = (
        "FROM a AS one\nFROM b AS two\nFROM one AS three\n"
        "FROM c AS four\nCOPY --from=three /x /x\nCOPY --from=two /y /y\n"
    )
    info = parse(text)
    assert [s.name for s in info.needed_stages("four")] == ["one", "two", "three", "four"]
    assert [s.name for s in info.needed_stages("three")] == ["one", "three"]


def test_needed_stages_skip_unused_stages() -> None:
    info = parse(MULTI_STAGE)
    assert [s.name for s in info.needed_stages("test")] == ["build", "runtime", "test"]
    assert [s.name for s in info.needed_stages(None)] == ["unused"]


def test_external_references_of_needed_stages_only() -> None:
    info = parse(MULTI_STAGE)
    assert info.external_references("test") == (
        Reference("from", "golang:1.22", 3, 0),
        Reference("from", "alpine:3.20", 7, 1),
        Reference("mount", "tools", 11, 2),
    )


def test_external_references_exclude_scratch() -> None:
    info = parse(MULTI_STAGE)
    assert info.external_references(None) == (
        Reference("copy", "docker.io/library/busybox", 14, 3),
    )


def test_copy_from_a_later_stage_fails_only_when_needed() -> None:
    text = "FROM a AS early\nCOPY --from=late /x /x\nFROM b AS late\nFROM c AS other\n"
    info = parse(text)
    assert info.stage_edges() == ((1, 0, "copy", 2),)
    assert [s.name for s in info.needed_stages("other")] == ["other"]
    with pytest.raises(ConfigError, match="'late' is used by copy in stage 'early'") as caught:
        info.needed_stages("early")
    assert caught.value.line == 2


def test_circular_dependency_is_an_error() -> None:
    error = config_error("FROM a AS one\nCOPY --from=two /x /x\nFROM one AS two\n")
    assert "circular dependency detected on stage" in error.message
    assert error.file == "Dockerfile.x"


def test_copy_from_own_stage_is_a_cycle() -> None:
    assert "circular" in config_error("FROM a AS me\nCOPY --from=me /x /y\n").message


def test_resolve_stage_by_name_or_index() -> None:
    info = parse("FROM a AS build\nFROM b\n")
    assert info.resolve_stage("BUILD") == info.stages[0]
    assert info.resolve_stage("1") == info.stages[1]
    assert info.resolve_stage("2") is None
    assert info.resolve_stage("-1") is None
    assert info.resolve_stage("alpine") is None



# -- properties: resolution against a model ------------------------------------------------

IMAGES = st.sampled_from(["scratch", "alpine:3.20", "r.io/team/base:1", "localhost:5000/x"])
STAGE_NAMES = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True).filter(
    lambda name: name != "scratch",
)


@dataclass(frozen=True)
class Used:
    """What one generated FROM or COPY --from names: an earlier stage, or an image."""

    stage: int | None = None
    image: str = ""


@dataclass(frozen=True)
class GeneratedStage:
    name: str | None
    base: Used
    copies: tuple[Used, ...]


@dataclass(frozen=True)
class GeneratedRef:
    kind: RefKind
    used: Used
    line: int
    user: int


@st.composite
def generated_stages(draw: st.DrawFn) -> tuple[GeneratedStage, ...]:
    """Uniquely named or unnamed stages; FROM and COPY --from name earlier ones or images."""
    count = draw(st.integers(1, 6))
    names = draw(st.lists(STAGE_NAMES, min_size=count, max_size=count, unique=True))
    images = IMAGES.map(lambda image: Used(image=image))
    stages: list[GeneratedStage] = []
    for index in range(count):
        named = [i for i in range(index) if stages[i].name is not None]
        named_earlier = st.sampled_from(named).map(lambda i: Used(stage=i))
        base = draw((images | named_earlier) if named else images)
        earlier = st.integers(0, index - 1).map(lambda i: Used(stage=i))
        copies = draw(st.lists((images | earlier) if index else images, max_size=3))
        name = names[index] if draw(st.booleans()) else None
        stages.append(GeneratedStage(name, base, tuple(copies)))
    return tuple(stages)


def render(
    stages: tuple[GeneratedStage, ...], upper: bool,
) -> tuple[str, tuple[GeneratedRef, ...]]:
    """The Dockerfile text, and the references it holds in file order."""
    lines: list[str] = []
    refs: list[GeneratedRef] = []
    for index, stage in enumerate(stages):
        base = stage.base
        written = base.image if base.stage is None else stages[base.stage].name
        lines.append(f"FROM {written}" + (f" AS {stage.name}" if stage.name else ""))
        refs.append(GeneratedRef("from", base, len(lines), index))
        for used in stage.copies:
            if used.stage is None:
                shown = used.image
            else:  # by name (any case) if the stage has one, else by index
                name = stages[used.stage].name
                shown = str(used.stage) if name is None else name.upper() if upper else name
            lines.append(f"COPY --from={shown} /x /y")
            refs.append(GeneratedRef("copy", used, len(lines), index))
    return "\n".join(lines) + "\n", tuple(refs)


def reachable(start: int, edges: tuple[tuple[int, int, str, int], ...]) -> set[int]:
    seen = {start}
    pending = [start]
    while pending:
        user = pending.pop()
        for used, by, _kind, _line in edges:
            if by == user and used not in seen:
                seen.add(used)
                pending.append(used)
    return seen


@settings(deadline=None)  # the first parse loads the Go parser
@given(generated_stages(), st.booleans(), st.data())
def test_edges_needed_stages_and_external_references_follow_a_model(
    stages: tuple[GeneratedStage, ...], upper: bool, data: st.DataObject,
) -> None:
    text, refs = render(stages, upper)
    info = parse(text)
    expected_edges = tuple(
        (ref.used.stage, ref.user, ref.kind, ref.line)
        for ref in refs if ref.used.stage is not None
    )
    assert info.stage_edges() == expected_edges
    assert info.stage_names() == tuple(s.name for s in stages if s.name is not None)
    target = data.draw(st.sampled_from([None, *info.stage_names()]))
    start = len(stages) - 1 if target is None else next(
        i for i, s in enumerate(stages) if s.name == target
    )
    needed = reachable(start, expected_edges)
    assert [s.index for s in info.needed_stages(target)] == sorted(needed)
    assert info.external_references(target) == tuple(
        Reference(ref.kind, ref.used.image, ref.line, ref.user)
        for ref in refs
        if ref.used.stage is None and ref.user in needed and ref.used.image != "scratch"
    )


def test_an_unnamed_stage_is_called_as_buildkit_calls_it() -> None:
    # dockerfile2llb names a stage without AS `stage-<index>` ([stage-1 2/3] RUN ... in its
    # progress output); buildorch shows that name everywhere.
    info = parse("FROM a AS build\nFROM b\nCOPY --from=build /x /x\n")
    assert [s.display_name for s in info.stages] == ["build", "stage-1"]


def test_an_unnamed_stage_used_before_its_definition_is_named_like_buildkit() -> None:
    info = parse("FROM a AS first\nCOPY --from=1 /x /x\nFROM b\n")
    with pytest.raises(ConfigError, match="stage 'stage-1' is used by copy in stage 'first'"):
        info.needed_stages("first")
