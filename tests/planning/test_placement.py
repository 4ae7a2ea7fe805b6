"""Placement over a pool of builders (pure): what fits, what is preferred, what cannot be
placed and why, where a build of a builder that went down goes."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from hypothesis import given
from hypothesis import strategies as st

from buildorch.planning.placement import (
    Need,
    PoolBuilder,
    allowed,
    can_place,
    choose,
    fits,
    need_of,
    per_platform,
    retry_target,
    unplaceable,
)

AMD, ARM, S390 = "linux/amd64", "linux/arm64", "linux/s390x"
NOTHING: frozenset[str] = frozenset()


def builder(name: str, platforms: Sequence[str] | None = None, labels: Sequence[str] = (),
            max_parallel: int = 2) -> PoolBuilder:
    return PoolBuilder(name, None if platforms is None else frozenset(platforms),
                       frozenset(labels), max_parallel)


def need(image: str = "api", platforms: Sequence[str] = (), labels: Sequence[str] = ()) -> Need:
    return Need(image, frozenset(platforms), frozenset(labels))


POOL = [builder("a", [AMD], ["fast"]), builder("b", [ARM], ["arm"])]


def pick(one: Need, builders: Sequence[PoolBuilder], load: Mapping[str, int] | None = None,
         down: frozenset[str] = NOTHING, last: Mapping[str, str] | None = None,
         deps: Sequence[str] = ()) -> str | None:
    return choose(one, builders, load or {}, down, last or {}, deps)


# --- fitting ---------------------------------------------------------------------------

def test_a_builder_without_platforms_builds_any_and_a_need_without_any_fits_all() -> None:
    assert fits(need(platforms=[S390]), builder("any"))
    assert fits(need(), builder("a", [AMD]))
    assert not fits(need(platforms=[AMD, ARM]), builder("a", [AMD]))
    assert not fits(need(labels=["gpu"]), builder("a", [AMD], ["fast"]))


# --- unplaceable -----------------------------------------------------------------------

def test_a_platform_nobody_has_names_every_builders_platforms() -> None:
    [problem] = unplaceable([need("api", [S390])], POOL)
    assert problem.render() == ("image api: platform linux/s390x: no builder has it "
                                "(builders: a: linux/amd64, b: linux/arm64)")


def test_a_label_nobody_has_names_the_labels_there_are() -> None:
    [problem] = unplaceable([need("train", [AMD], ["gpu"])], POOL)
    assert problem.reason == "label gpu: no builder has it (labels: arm, fast)"


def test_a_platform_and_a_label_nobody_has_together() -> None:
    [problem] = unplaceable([need("x", [ARM], ["fast"])], POOL)
    assert problem.reason == ("no builder has both platform linux/arm64 and label fast "
                              "(builders: a: linux/amd64 [fast]; b: linux/arm64 [arm])")


def test_what_nobody_has_is_named_before_the_combination() -> None:
    [problem] = unplaceable([need("x", [S390, "linux/riscv64"], ["gpu"])], POOL)
    assert problem.reason == (
        "platforms linux/riscv64, linux/s390x: no builder has them "
        "(builders: a: linux/amd64, b: linux/arm64); "
        "label gpu: no builder has it (labels: arm, fast)")


def test_one_problem_per_image_sorted_and_placeable_ones_left_out() -> None:
    needs = [*per_platform(need("web", [AMD, S390, "linux/ppc64le"])), need("api", [ARM]),
             need("cli", labels=["gpu"])]
    problems = unplaceable(needs, POOL)
    assert [p.image for p in problems] == ["cli", "web"]
    assert problems[1].reason == (
        "platform linux/ppc64le: no builder has it (builders: a: linux/amd64, b: linux/arm64); "
        "platform linux/s390x: no builder has it (builders: a: linux/amd64, b: linux/arm64)")


def test_no_builder_at_all() -> None:
    assert [p.reason for p in unplaceable([need()], [])] == ["no builder to build it"]


# --- choose ----------------------------------------------------------------------------

POOL3 = [builder("a", [AMD]), builder("b", [AMD]), builder("c", [AMD], max_parallel=4)]


def test_the_builder_that_built_it_last_wins_over_load_and_dependencies() -> None:
    assert pick(need(platforms=[AMD]), POOL3, load={"b": 1}, last={"api": "b"},
                deps=["c"]) == "b"


def test_then_the_builder_of_most_of_its_dependencies() -> None:
    assert pick(need(platforms=[AMD]), POOL3, load={"c": 3}, deps=["c", "b", "c"]) == "c"
    assert pick(need(platforms=[AMD]), POOL3, last={"api": "gone"}, deps=["b"]) == "b"


def test_then_the_least_loaded_for_its_size_then_the_name() -> None:
    assert pick(need(platforms=[AMD]), POOL3, load={"a": 1, "b": 1, "c": 1}) == "c"
    assert pick(need(platforms=[AMD]), POOL3, load={"a": 1, "b": 1, "c": 2}) == "a"


def test_a_full_or_down_favourite_is_passed_over() -> None:
    assert pick(need(platforms=[AMD]), POOL3, load={"a": 2}, last={"api": "a"}) == "b"
    assert pick(need(platforms=[AMD]), POOL3, down=frozenset({"a"}), last={"api": "a"}) == "b"


def test_none_while_every_fitting_builder_is_full_or_down() -> None:
    one = need(platforms=[ARM])
    assert pick(one, POOL, load={"b": 2}) is None
    assert can_place(one, POOL, NOTHING)
    assert pick(one, POOL, down=frozenset({"b"})) is None
    assert not can_place(one, POOL, frozenset({"b"}))


# --- retries, sessions, platforms ------------------------------------------------------

def test_a_retry_goes_elsewhere_and_waits_for_a_slot() -> None:
    one = need(platforms=[AMD])
    assert retry_target(one, "a", POOL3, {"b": 1}, NOTHING) == "c"
    assert retry_target(one, "a", POOL3, {"b": 2, "c": 4}, NOTHING) is None
    assert retry_target(one, "a", POOL3, {}, frozenset({"b", "c"})) is None






# --- properties ------------------------------------------------------------------------

PLATFORMS = [AMD, ARM, S390]
LABELS = ["gpu", "arm", "fast"]
NAMES = ["a", "b", "c", "d"]

platform_sets = st.frozensets(st.sampled_from(PLATFORMS), max_size=2)
label_sets = st.frozensets(st.sampled_from(LABELS), max_size=2)
needs = st.builds(Need, st.sampled_from(["api", "web", "cli"]), platform_sets, label_sets)


@st.composite
def pools(draw: st.DrawFn) -> list[PoolBuilder]:
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=4))
    return [PoolBuilder(n, draw(st.none() | platform_sets), draw(label_sets),
                        draw(st.integers(1, 3))) for n in names]


@st.composite
def situations(draw: st.DrawFn) -> tuple[Need, list[PoolBuilder], dict[str, int],
                                         frozenset[str], dict[str, str], list[str]]:
    pool = draw(pools())
    names = [b.name for b in pool] + ["gone"]
    load = {b.name: draw(st.integers(0, b.max_parallel)) for b in pool}
    down = draw(st.frozensets(st.sampled_from(names)))
    last = draw(st.dictionaries(st.sampled_from(["api", "web"]), st.sampled_from(names)))
    deps = draw(st.lists(st.sampled_from(names), max_size=4))
    return draw(needs), pool, load, down, last, deps


Situation = tuple[Need, list[PoolBuilder], dict[str, int], frozenset[str], dict[str, str],
                  list[str]]


@given(situations())
def test_choose_never_picks_a_builder_that_lacks_something_is_down_or_full(
        situation: Situation) -> None:
    one, pool, load, down, last, deps = situation
    chosen = choose(one, pool, load, down, last, deps)
    if chosen is not None:
        b = next(b for b in pool if b.name == chosen)
        assert fits(one, b) and b.name not in down and load[b.name] < b.max_parallel


@given(situations())
def test_a_free_fitting_builder_always_gets_the_build(situation: Situation) -> None:
    one, pool, load, down, last, deps = situation
    free = [b for b in pool if fits(one, b) and b.name not in down
            and load[b.name] < b.max_parallel]
    assert (choose(one, pool, load, down, last, deps) is None) == (not free)


@given(situations())
def test_the_last_builder_wins_whenever_it_is_free(situation: Situation) -> None:
    one, pool, load, down, last, deps = situation
    favourite = next((b for b in pool if b.name == last.get(one.image)), None)
    if favourite and fits(one, favourite) and favourite.name not in down \
            and load[favourite.name] < favourite.max_parallel:
        assert choose(one, pool, load, down, last, deps) == favourite.name


@given(situations(), st.randoms())
def test_choose_is_deterministic_whatever_the_order_of_builders(
        situation: Situation, rnd: random.Random) -> None:
    one, pool, load, down, last, deps = situation
    shuffled = list(pool)
    rnd.shuffle(shuffled)
    first = choose(one, pool, load, down, last, deps)
    assert choose(one, pool, load, down, last, deps) == first
    assert choose(one, shuffled, load, down, last, deps) == first


@given(situations())
def test_a_retry_never_returns_to_where_it_failed(situation: Situation) -> None:
    one, pool, load, down, _, _ = situation
    for failed in [b.name for b in pool]:
        target = retry_target(one, failed, pool, load, down)
        assert target != failed and target not in down
        if target is not None:
            assert fits(one, next(b for b in pool if b.name == target))


@given(st.lists(needs, max_size=6), pools(), st.randoms())
def test_unplaceable_reports_exactly_the_images_with_a_need_nobody_fits(
        all_needs: list[Need], pool: list[PoolBuilder], rnd: random.Random) -> None:
    problems = unplaceable(all_needs, pool)
    expected = sorted({n.image for n in all_needs if not any(fits(n, b) for b in pool)})
    assert [p.image for p in problems] == expected
    assert all(p.reason for p in problems)
    reordered, shuffled = list(all_needs), list(pool)
    rnd.shuffle(reordered)
    rnd.shuffle(shuffled)
    assert unplaceable(reordered, shuffled) == problems



def test_an_images_need_has_its_platforms_normalised() -> None:
    assert need_of("a", ["linux/aarch64", "linux/amd64"], ["gpu"]) == Need(
        "a", frozenset({"linux/arm64", "linux/amd64"}), frozenset({"gpu"}))


def test_an_image_naming_a_builder_may_go_only_there() -> None:
    pool = [PoolBuilder("a", None, frozenset(), 1), PoolBuilder("b", None, frozenset(), 1)]
    assert allowed(pool, None) == pool and allowed(pool, "b") == pool[1:]
    assert allowed(pool, "c") == []
