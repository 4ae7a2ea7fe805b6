"""The texts and figures the reporters share: the run's estimate from earlier runs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.graph import build_graph
from buildorch.planning.plan import Plan, make_plan
from buildorch.planning.requests import PlanOptions
from buildorch.run.reporting import run_estimate
from tests.conftest import MakeProject

PIPELINE = ("version: 1\nname: p\nimages:\n  base: {context: x}\n"
            "  app: {context: x, contexts: {base: {image: base}}}\n"
            "  other: {context: x}\n")


PlanWith = Callable[[dict[str, float]], Plan]  # a plan, given earlier runs' durations


@pytest.fixture
def plan_with(make_project: MakeProject) -> PlanWith:
    path = make_project(PIPELINE, contexts=("x",))
    pipeline = load_pipeline(path, LoadOptions(env={}))
    graph = build_graph(pipeline)

    def plan(history: dict[str, float]) -> Plan:
        return make_plan(pipeline, graph, [], PlanOptions(history=history))

    return plan


def test_a_first_run_has_no_estimate_and_no_earlier_durations(plan_with: PlanWith) -> None:
    plan = plan_with({})
    assert run_estimate(plan.images, 4) == (None, {})


def test_only_earlier_runs_durations_are_announced(plan_with: PlanWith) -> None:
    plan = plan_with({"base": 4.0, "app": 6.0})
    estimate, durations = run_estimate(plan.images, 1)
    assert durations == {"base": 4.0, "app": 6.0}  # `other` never ran: no made-up figure
    assert estimate is not None and estimate >= 10.0
