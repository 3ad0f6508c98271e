"""Economic drift: cost per decision against the authored budget and the go-live baseline."""

import pytest

from assurance_pipeline.drift.cost import cost_findings
from assurance_pipeline.sampling.population import ActorGroup, PopulationProfile
from assurance_pipeline.standard.models import DecisionPoint, Standard, StandardHeader


def _standard(budget: float) -> Standard:
    point = DecisionPoint(id="refund", title="t", meaning="m", authority="a", owner="o", risk_tier="high",
                          cost={"budget_per_decision": budget})
    return Standard(header=StandardHeader(name="s", version="1", owner="o"), decision_points={"refund": point})


def _population(decisions: int, total_cost: float) -> PopulationProfile:
    return PopulationProfile([ActorGroup("refund", "agent", "bot", "1", decisions, decisions, decisions, 0)], cost_totals={"refund": total_cost})


def test_over_budget_and_over_go_live_carry_their_relative_effect():
    baseline = {"points": {"refund": {"cost": {"mean": 0.05}}}}
    budget, golive = cost_findings(_standard(0.08), _population(100, 10.0), baseline, ["refund"])
    assert budget.details["effect"] == pytest.approx(0.10 / 0.08 - 1) and "(+25%) over 100 decisions" in budget.summary
    assert golive.details["effect"] == pytest.approx(1.0) and "+100% on the go-live baseline" in golive.summary


def test_a_budget_of_zero_is_exceeded_by_any_cost_without_a_division_by_zero():
    [finding] = cost_findings(_standard(0.0), _population(100, 1.0), None, ["refund"])
    assert finding.details["effect"] is None and finding.threshold == 0.0
    assert "is over the budget of 0.0000 over 100 decisions" in finding.summary
