"""Two-stage plans: the overall risk, computed exactly, stays at the nominal level; the plans are the smallest."""

from fractions import Fraction

import pytest
from scipy.stats import binom

from assurance_pipeline.sampling.plans import attribute_sample_size
from assurance_pipeline.sampling.two_stage import acceptance_probability, stage_conclusion, two_stage_plan

TIERS = [(0.95, 0.05), (0.95, 0.02), (0.90, 0.10), (0.95, 0.10), (0.99, 0.05), (0.90, 0.05)]


@pytest.mark.parametrize(("confidence", "tolerable"), TIERS)
def test_overall_risk_at_the_tolerable_rate_is_at_most_one_minus_confidence(confidence, tolerable):
    plan = two_stage_plan(confidence, tolerable)
    risk = acceptance_probability(plan.first_stage, plan.second_stage, tolerable)
    alpha = 1 - Fraction(str(confidence))
    assert risk <= alpha
    # the same risk by an independent route: P(D1 = 0) + P(D1 = 1) P(D2 = 0), from scipy's binomial
    n1, n2 = plan.first_stage, plan.second_stage
    by_scipy = binom.pmf(0, n1, tolerable) + binom.pmf(1, n1, tolerable) * binom.pmf(0, n2, tolerable)
    assert float(risk) == pytest.approx(by_scipy, rel=1e-9)


@pytest.mark.parametrize(("confidence", "tolerable"), TIERS)
def test_the_plan_is_the_smallest(confidence, tolerable):
    plan = two_stage_plan(confidence, tolerable)
    alpha = 1 - Fraction(str(confidence))
    n1, n2 = plan.first_stage, plan.second_stage
    assert acceptance_probability(n1, n2 - 1, tolerable) > alpha  # a shorter second stage is too risky
    smaller = n1 - 1  # no smaller first stage has any second stage up to its own size that is safe enough
    assert acceptance_probability(smaller, smaller, tolerable) > alpha or (1 - Fraction(str(tolerable))) ** smaller > alpha


@pytest.mark.parametrize(("confidence", "tolerable"), TIERS)
def test_the_risk_only_falls_for_worse_true_rates(confidence, tolerable):
    """The guarantee holds for every true rate at or above tolerable, not only at it."""
    plan = two_stage_plan(confidence, tolerable)
    rates = [Fraction(str(tolerable)) * k / 4 for k in range(4, 20)]
    risks = [acceptance_probability(plan.first_stage, plan.second_stage, r) for r in rates]
    assert all(a > b for a, b in zip(risks, risks[1:], strict=False))


def test_known_plan_and_its_cost_over_a_single_stage():
    """95%/5%: 61 then 61 (hand-checkable: 0.95^61 + 61 * 0.05 * 0.95^121 = 0.04992), against 59 in one stage."""
    plan = two_stage_plan(0.95, 0.05)
    assert (plan.first_stage, plan.second_stage) == (61, 61)
    assert float(acceptance_probability(61, 61, 0.05)) == pytest.approx(0.95**61 + 61 * 0.05 * 0.95**121, rel=1e-12)
    assert attribute_sample_size(0.95, 0.05).sample_size == 59


@pytest.mark.parametrize(("stage", "deviations", "conclusion"), [
    (1, 0, "within_tolerable"), (1, 1, "extend"), (1, 2, "exceeds"), (1, 7, "exceeds"),
    (2, 0, "within_tolerable"), (2, 1, "within_tolerable"), (2, 2, "exceeds"),
])
def test_stage_rules(stage, deviations, conclusion):
    assert stage_conclusion(stage, deviations) == conclusion


def test_invalid_parameters_are_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        two_stage_plan(1.0, 0.05)
