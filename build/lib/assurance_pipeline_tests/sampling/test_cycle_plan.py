"""A cycle's plan per decision point: sized with its population, evaluated in the distribution the plan recorded."""

from pathlib import Path

import pytest

from assurance_pipeline.sampling.cycle_plan import PointPlan, SamplingPlan, build_plan, evaluate_point
from assurance_pipeline.sampling.population import ActorGroup, PopulationProfile
from assurance_pipeline.sampling.two_stage import two_stage_plan
from assurance_pipeline.standard.loading import load_standard
from assurance_pipeline_tests.small_cycle import CRITICAL, HIGH, ROUTINE, write_standard

TWO_STAGE_CRITICAL = "risk_tiers:\n  critical: {confidence: 0.95, tolerable_deviation_rate: 0.02, two_stage: true}\n"


def _population(counts: dict[str, int]) -> PopulationProfile:
    return PopulationProfile([ActorGroup(point, "agent", "bot", "1", n, 0, 0, 0) for point, n in counts.items()])


def _plan(tmp_path: Path, counts: dict[str, int], extra: str = "", stage: int = 1) -> SamplingPlan:
    standard = load_standard(write_standard(tmp_path / "standard", extra))
    return build_plan(standard, _population(counts), list(counts), "seed", stage=stage)


@pytest.mark.parametrize(
    ("point", "population", "sample", "distribution"),
    [
        (HIGH, 60, 38, "hypergeometric"),  # the binomial 59 is nearly all of 60
        (HIGH, 590, 59, "binomial"),  # 59 is a tenth of 590: the AICPA table stands
        (HIGH, 589, 55, "hypergeometric"),  # a population of 589 holds D_t = 30 at 5%
        (CRITICAL, 150, 95, "hypergeometric"),
        (CRITICAL, 1_000_000, 149, "binomial"),
        (ROUTINE, 9, 9, "hypergeometric"),  # 9 at 10%: one deviation is 11%, only all 9 rule it out
    ],
)
def test_a_point_is_sized_with_its_population(tmp_path, point, population, sample, distribution):
    [planned] = _plan(tmp_path, {point: population}).points
    assert (planned.sample_size, planned.planned_sample_size, planned.distribution) == (sample, sample, distribution)
    assert planned.whole_population == (sample == population)


def test_a_point_without_decisions_plans_nothing(tmp_path):
    [planned] = _plan(tmp_path, {HIGH: 0}).points
    assert (planned.population, planned.sample_size, planned.planned_sample_size, planned.distribution) == (0, 0, 59, "binomial")


def test_the_point_is_evaluated_with_its_plans_distribution(tmp_path):
    [planned] = _plan(tmp_path, {HIGH: 60}).points
    clean, one = evaluate_point(planned, 38, 0), evaluate_point(planned, 38, 1)
    assert (clean.distribution, clean.population) == ("hypergeometric", 60)
    # none of 38: 3 deviating of 60 (5%) would show 95.4% of the time, so at most 2 (3.3%)
    assert (clean.upper_deviation_limit, clean.conclusion) == (2 / 60, "within_tolerable")
    # one of 38, more than the plan allows: 6 deviating of 60 are ruled out at 95%, 5 (8.3%) are not
    assert (one.upper_deviation_limit, one.conclusion) == (5 / 60, "inconclusive")
    [large] = _plan(tmp_path / "large", {HIGH: 10_000}).points
    assert evaluate_point(large, 59, 1).distribution == "binomial"


def test_a_plan_recorded_before_the_distribution_field_reads_as_binomial():
    point = {"decision_point": HIGH, "risk_tier": "high", "confidence": 0.95, "tolerable_deviation_rate": 0.05,
             "expected_deviation_rate": 0.0, "planned_sample_size": 59, "allowed_deviations": 0, "population": 5000, "sample_size": 59}
    plan = SamplingPlan.from_dict({"seed": "s", "algorithm": "a", "points": [point]})
    assert plan.point(HIGH).distribution == "binomial"
    assert evaluate_point(plan.point(HIGH), 59, 0).upper_deviation_limit == pytest.approx(1 - 0.05 ** (1 / 59))


def test_two_stage_plans_stay_binomial_unless_the_whole_population_is_tested(tmp_path):
    two = two_stage_plan(0.95, 0.02)
    [first] = _plan(tmp_path / "a", {CRITICAL: 300}, TWO_STAGE_CRITICAL).points
    assert (first.sample_size, first.distribution) == (two.first_stage, "binomial")
    assert evaluate_point(first, first.sample_size, 1).conclusion == "extend"
    # Both stages take all of a 200-decision population: the second stage is a whole population, decided exactly.
    [second] = _plan(tmp_path / "b", {CRITICAL: 200}, TWO_STAGE_CRITICAL, stage=2).points
    assert (second.sample_size, second.distribution) == (200, "hypergeometric")
    assert two.first_stage < 200 < two.first_stage + two.second_stage
    result = evaluate_point(second, 200, 3)
    assert (result.upper_deviation_limit, result.conclusion) == (3 / 200, "within_tolerable")  # the stage rule would say exceeds
    assert evaluate_point(second, 200, 5).conclusion == "exceeds"


def test_a_point_plan_built_by_hand_defaults_to_binomial():
    assert PointPlan(HIGH, "high", 0.95, 0.05, 0.0, 59, 0, 5000, 59).distribution == "binomial"
