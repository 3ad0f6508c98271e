import math

import numpy as np
import pytest
from scipy.stats import binom

from assurance_pipeline.sampling.plans import (
    AttributePlan,
    Evaluation,
    attribute_sample_size,
    conclude,
    evaluate,
    format_upper_limit,
    upper_deviation_limit,
)

# AICPA Audit Guide: Audit Sampling (2019), appendix A sample-size tables:
# (confidence, tolerable, expected) -> (sample size, allowed deviations or None)
SAMPLE_SIZE_CELLS = [
    (0.95, 0.05, 0.0, 59, 0),
    (0.95, 0.10, 0.0, 29, 0),
    (0.90, 0.05, 0.0, 45, 0),
    (0.95, 0.05, 0.01, 93, 1),
    (0.95, 0.05, 0.02, 181, 4),
    (0.95, 0.04, 0.01, 156, 2),
    (0.90, 0.07, 0.03, 94, 3),
    (0.90, 0.08, 0.07, 1300, 91),  # 1300 * 0.07 = 91 exactly; a float ceil gives 92
    (0.95, 0.02, 0.0, 149, None),
    (0.90, 0.10, 0.0, 22, None),
    (0.95, 0.03, 0.0, 99, None),
    (0.90, 0.04, 0.01, 96, 1),
]


@pytest.mark.parametrize("confidence,tolerable,expected,n,k", SAMPLE_SIZE_CELLS)
def test_sample_size_matches_aicpa_table(confidence, tolerable, expected, n, k):
    plan = attribute_sample_size(confidence, tolerable, expected)
    assert plan.sample_size == n
    if k is not None:
        assert plan.allowed_deviations == k


@pytest.mark.parametrize(
    "confidence,tolerable,expected", [(0.95, 0.05, 0.01), (0.90, 0.07, 0.03), (0.95, 0.04, 0.01)]
)
def test_sample_size_is_smallest_satisfying_n(confidence, tolerable, expected):
    # Independent float check with scipy: n meets the rule, no smaller n does.
    n = attribute_sample_size(confidence, tolerable, expected).sample_size
    risk = 1 - confidence
    assert binom.cdf(math.ceil(n * expected - 1e-9), n, tolerable) <= risk
    for m in range(1, n):
        assert binom.cdf(math.ceil(m * expected - 1e-9), m, tolerable) > risk


def test_plan_fields_and_to_dict():
    plan = attribute_sample_size(0.95, 0.05, 0.01)
    assert plan == AttributePlan(0.95, 0.05, 0.01, 93, 1)
    assert plan.to_dict() == {
        "confidence": 0.95,
        "tolerable_deviation_rate": 0.05,
        "expected_deviation_rate": 0.01,
        "sample_size": 93,
        "allowed_deviations": 1,
        "distribution": "binomial",
        "population": None,
    }


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(confidence=1.5, tolerable=0.05), "confidence"),
        (dict(confidence=0.0, tolerable=0.05), "confidence"),
        (dict(confidence=0.95, tolerable=1.0), "tolerable"),
        (dict(confidence=0.95, tolerable=0.0), "tolerable"),
        (dict(confidence=0.95, tolerable=0.05, expected=0.05), "expected"),
        (dict(confidence=0.95, tolerable=0.05, expected=-0.01), "expected"),
        (dict(confidence=0.95, tolerable=0.05, max_n=0), "max_n"),
    ],
)
def test_sample_size_rejects_invalid_inputs(kwargs, name):
    with pytest.raises(ValueError, match=name):
        attribute_sample_size(**kwargs)


def test_sample_size_reports_when_max_n_is_too_small():
    with pytest.raises(ValueError, match="max_n=100"):
        attribute_sample_size(0.90, 0.08, 0.07, max_n=100)


# (n, deviations, confidence) -> upper limit rounded up to 0.1%, as in the AICPA
# evaluation tables. The first three are the brief's AICPA table cells; the rest are
# formula values, each also checked below against the defining binomial property.
# (50, 0, 95%) is 5.82% -> 5.9: rounding up, not to nearest.
UPPER_LIMIT_CELLS = [
    (60, 1, 0.95, 0.077),
    (100, 0, 0.95, 0.030),
    (50, 2, 0.90, 0.103),
    (50, 0, 0.95, 0.059),
    (25, 0, 0.95, 0.113),
    (50, 1, 0.95, 0.092),
    (100, 1, 0.95, 0.047),
    (100, 2, 0.95, 0.062),
    (20, 0, 0.90, 0.109),
]


@pytest.mark.parametrize("n,k,confidence,table", UPPER_LIMIT_CELLS)
def test_upper_deviation_limit_matches_table(n, k, confidence, table):
    upper = upper_deviation_limit(n, k, confidence)
    assert format_upper_limit(upper) == f"{table:.1%}"  # shown as the table prints it: rounded up to 0.1%
    # Defining property (Clopper-Pearson): P(X <= k; n, upper) = 1 - confidence.
    assert binom.cdf(k, n, upper) == pytest.approx(1 - confidence, rel=1e-9)


def test_zero_deviation_limit_has_closed_form():
    assert upper_deviation_limit(100, 0, 0.95) == pytest.approx(1 - 0.05 ** (1 / 100), rel=1e-12)


@pytest.mark.parametrize("n", [0, 1, 30])
def test_upper_limit_is_one_when_every_item_deviates(n):
    assert upper_deviation_limit(n, n, 0.95) == 1.0


@pytest.mark.parametrize(
    "args,name",
    [
        ((-1, 0, 0.95), "sample_size"),
        ((10, 11, 0.95), "deviations"),
        ((10, -1, 0.95), "deviations"),
        ((10, 1, 1.0), "confidence"),
        ((10, 1, 0.0), "confidence"),
    ],
)
def test_upper_limit_rejects_invalid_inputs(args, name):
    with pytest.raises(ValueError, match=name):
        upper_deviation_limit(*args)


@pytest.mark.parametrize(
    "n,k,confidence,tolerable,outcome",
    [
        (60, 1, 0.95, 0.08, "within_tolerable"),  # upper 7.66% <= 8%
        (60, 1, 0.95, 0.07, "inconclusive"),  # 1.7% observed <= 7% < 7.66% upper
        (60, 6, 0.95, 0.07, "exceeds"),  # 10% observed > 7%
        (100, 7, 0.95, 0.07, "inconclusive"),  # observed equal to tolerable is not "exceeds"
    ],
)
def test_conclude_outcomes(n, k, confidence, tolerable, outcome):
    assert conclude(n, k, confidence, tolerable) == outcome


def test_conclude_rejects_empty_sample():
    with pytest.raises(ValueError, match="sample_size"):
        conclude(0, 0, 0.95, 0.05)


def test_evaluate_collects_fields():
    result = evaluate(60, 1, 0.95, 0.08)
    assert isinstance(result, Evaluation)
    assert result.deviation_rate == pytest.approx(1 / 60)
    assert result.upper_deviation_limit == pytest.approx(upper_deviation_limit(60, 1, 0.95))
    assert result.conclusion == "within_tolerable"
    d = result.to_dict()
    assert d["sample_size"] == 60 and d["deviations"] == 1
    assert d["tolerable_deviation_rate"] == 0.08 and d["confidence"] == 0.95
    assert d["conclusion"] == "within_tolerable"


@pytest.mark.parametrize(("tested", "deviations", "conclusion"), [(40, 0, "within_tolerable"), (40, 1, "within_tolerable"), (40, 3, "exceeds")])
def test_a_whole_population_has_no_sampling_risk(tested, deviations, conclusion):
    """40 of 40 tested at 5% tolerable: the observed rate is exact; as a sample, 0 of 40 would be inconclusive."""
    whole = evaluate(tested, deviations, 0.95, 0.05, population=tested)
    assert whole.upper_deviation_limit == deviations / tested
    assert whole.conclusion == conclusion
    assert evaluate(tested, 0, 0.95, 0.05).conclusion == "inconclusive"


def test_sample_size_beyond_the_old_5000_cap_is_exact_and_the_smallest():
    """90%/2%/1.75% needs 5,484: found by screening with scipy, decided by the exact integer test."""
    plan = attribute_sample_size(0.90, 0.02, 0.0175)
    assert (plan.sample_size, plan.allowed_deviations) == (5484, 96)
    smaller = np.arange(1, plan.sample_size)
    assert binom.cdf(np.ceil(smaller * 0.0175 - 1e-9), smaller, 0.02).min() > 0.10
    assert binom.cdf(96, 5484, 0.02) <= 0.10


@pytest.mark.parametrize(
    ("rate", "shown"),
    [
        (0.0774, "7.8%"),  # to nearest it would be 7.7%: never round an upper limit down
        (0.0582, "5.9%"),
        (0.07, "7.0%"),  # 0.07 * 1000 is 70.00000000000001 in floats: still 7.0%
        (7 / 100, "7.0%"),
        (0.0700001, "7.1%"),
        (0.0, "0.0%"),
        (1.0, "100.0%"),
        (1 / 60, "1.7%"),
    ],
)
def test_upper_limits_are_shown_rounded_up_to_a_tenth_of_a_percent(rate, shown):
    assert format_upper_limit(rate) == shown
