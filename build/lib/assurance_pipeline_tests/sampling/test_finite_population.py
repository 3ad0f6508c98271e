"""Small populations: hypergeometric plans and upper limits, against published values and exact enumeration."""

import math
from fractions import Fraction

import pytest
from scipy.stats import hypergeom

from assurance_pipeline.sampling.plans import (
    attribute_sample_size,
    evaluate,
    hypergeometric_upper_count,
    is_material_share,
    tolerable_deviations,
    upper_deviation_limit,
)
from assurance_pipeline_tests.sampling.test_plans import SAMPLE_SIZE_CELLS

# DCAA EZ-Quant 2.0.6, attribute sample sizes by the hypergeometric distribution, 0 expected deviations
# (https://www.dcaa.mil/Checklists-Tools/EZ-Quant-Applications/), as reproduced in the test suite of jfa
# (koenderks/jfa, tests/testthat/test-ezquant.R): confidence -> population -> sizes at 8%, 6%, 4%, 2% tolerable.
EZ_QUANT = {
    0.90: {500: (27, 36, 54, 102), 1000: (28, 37, 55, 108), 5000: (28, 38, 57, 113)},
    0.95: {500: (35, 47, 69, 129), 1000: (36, 48, 71, 138), 5000: (36, 49, 73, 147)},
    0.99: {500: (53, 70, 101, 183), 1000: (54, 72, 107, 204), 5000: (55, 74, 112, 223)},
}
EZ_QUANT_CELLS = [
    (confidence, population, tolerable, size)
    for confidence, rows in EZ_QUANT.items()
    for population, sizes in rows.items()
    for tolerable, size in zip((0.08, 0.06, 0.04, 0.02), sizes, strict=True)
]

# AuditSampler, "Attributes sample size using the hypergeometric distribution" (cplusglobal.wordpress.com,
# 2015-11-13), as reproduced in jfa's tests/testthat/test-audit-sampler.R:
# (population, expected, tolerable, confidence) -> (hypergeometric size, binomial size).
AUDIT_SAMPLER_CELLS = [
    (500, 0.01, 0.08, 0.90, 46, 48),
    (500, 0.01, 0.06, 0.90, 61, 64),
    (500, 0.01, 0.04, 0.90, 90, 96),
    (500, 0.02, 0.05, 0.90, 99, 132),
    (500, 0.01, 0.08, 0.95, 55, 58),
    (500, 0.01, 0.06, 0.95, 73, 78),
    (500, 0.01, 0.04, 0.95, 140, 156),
    (500, 0.02, 0.05, 0.95, 139, 181),
    (500, 0.03, 0.06, 0.95, 158, 195),
    (500, 0.04, 0.07, 0.95, 170, 221),
    (500, 0.05, 0.08, 0.95, 178, 240),
    (500, 0.06, 0.09, 0.95, 196, 266),
    (5000, 0.01, 0.08, 0.95, 58, 58),
    (5000, 0.01, 0.06, 0.95, 77, 78),
    (5000, 0.01, 0.04, 0.95, 154, 156),
    (15000, 0.01, 0.06, 0.95, 78, 78),
    (36000, 0.01, 0.04, 0.95, 156, 156),
]

# Hayes, Dassen, Schilder & Wallage, Principles of Auditing, 2nd ed., appendix to ch. 10, worked examples
# (online copy: fliphtml5.com/cviyu/klrq, pp. 428-429): (population, deviating decisions, confidence) -> size.
# 100 items with 10 in error at 5% risk: 24 clean items has probability 5.5%, 25 has 4.8%, so 25.
TEXTBOOK_CELLS = [(100, 10, 0.95, 25), (100, 10, 0.90, 20), (100, 10, 0.99, 36), (100, 5, 0.95, 45), (200, 10, 0.95, 51), (600, 30, 0.95, 56)]


@pytest.mark.parametrize(("confidence", "population", "tolerable", "size"), EZ_QUANT_CELLS)
def test_hypergeometric_sizes_match_ez_quant(confidence, population, tolerable, size):
    plan = attribute_sample_size(confidence, tolerable, population=population, distribution="hypergeometric")
    assert (plan.sample_size, plan.allowed_deviations, plan.distribution) == (size, 0, "hypergeometric")


@pytest.mark.parametrize(("population", "expected", "tolerable", "confidence", "hyper", "binomial"), AUDIT_SAMPLER_CELLS)
def test_sizes_with_expected_deviations_match_audit_sampler(population, expected, tolerable, confidence, hyper, binomial):
    assert attribute_sample_size(confidence, tolerable, expected, population, distribution="hypergeometric").sample_size == hyper
    assert attribute_sample_size(confidence, tolerable, expected).sample_size == binomial


@pytest.mark.parametrize(("population", "deviating", "confidence", "size"), TEXTBOOK_CELLS)
def test_sizes_match_the_textbook_worked_examples(population, deviating, confidence, size):
    tolerable = deviating / population
    assert tolerable_deviations(tolerable, population) == deviating
    assert attribute_sample_size(confidence, tolerable, population=population, distribution="hypergeometric").sample_size == size
    assert hypergeom.pmf(0, population, deviating, size) <= 1 - confidence < hypergeom.pmf(0, population, deviating, size - 1)


def test_the_textbook_rule_of_thumb_keeps_the_binomial_for_600():
    """Same source: at 600 the binomial 59 is under a tenth of the population, so it stands (the hypergeometric says 56)."""
    assert attribute_sample_size(0.95, 0.05, population=600) == attribute_sample_size(0.95, 0.05, population=600, distribution="binomial")
    assert attribute_sample_size(0.95, 0.05, population=600).sample_size == 59


def test_sixty_decisions_at_the_high_tier_need_38_not_59():
    plan = attribute_sample_size(0.95, 0.05, 0.0, population=60)
    assert tolerable_deviations(0.05, 60) == 3
    assert (plan.sample_size, plan.allowed_deviations, plan.distribution, plan.population) == (38, 0, "hypergeometric", 60)
    assert hypergeom.pmf(0, 60, 3, 38) <= 0.05 < hypergeom.pmf(0, 60, 3, 37)


@pytest.mark.parametrize(
    ("population", "binomial", "distribution"),
    [(590, 59, "binomial"), (589, 59, "hypergeometric"), (1490, 149, "binomial"), (1489, 149, "hypergeometric")],
)
def test_the_hypergeometric_takes_over_when_the_binomial_sample_is_over_a_tenth(population, binomial, distribution):
    confidence, tolerable = (0.95, 0.05) if binomial == 59 else (0.95, 0.02)
    assert attribute_sample_size(confidence, tolerable).sample_size == binomial
    assert attribute_sample_size(confidence, tolerable, population=population).distribution == distribution
    assert is_material_share(binomial, population) == (distribution == "hypergeometric")


@pytest.mark.parametrize(("confidence", "tolerable", "expected", "n", "k"), SAMPLE_SIZE_CELLS)
def test_large_populations_keep_the_published_aicpa_sizes(confidence, tolerable, expected, n, k):
    plan = attribute_sample_size(confidence, tolerable, expected, population=100_000)
    assert (plan.sample_size, plan.distribution) == (n, "binomial")
    assert k is None or plan.allowed_deviations == k


@pytest.mark.parametrize(
    ("confidence", "tolerable", "expected", "population"),
    [(0.95, 0.05, 0.0, 60), (0.95, 0.05, 0.01, 120), (0.90, 0.10, 0.02, 75), (0.95, 0.02, 0.005, 333), (0.99, 0.07, 0.03, 41)],
)
def test_hypergeometric_size_is_the_smallest_by_exact_enumeration(confidence, tolerable, expected, population):
    """Independent of the implementation: exact rationals from scipy-free binomial coefficients, every n from 1."""
    deviating, alpha = math.ceil(Fraction(str(tolerable)) * population), 1 - Fraction(str(confidence))

    def risk(n: int) -> Fraction:
        k = math.ceil(Fraction(str(expected)) * n)
        good = sum(math.comb(deviating, i) * math.comb(population - deviating, n - i) for i in range(k + 1))
        return Fraction(good, math.comb(population, n))

    smallest = next((n for n in range(1, population + 1) if risk(n) <= alpha), population)
    assert attribute_sample_size(confidence, tolerable, expected, population, distribution="hypergeometric").sample_size == smallest


def test_a_population_too_small_for_any_sample_is_tested_whole():
    """10 decisions at 5%: one deviating decision is 10%, and only looking at all 10 rules it out."""
    plan = attribute_sample_size(0.95, 0.05, population=10)
    assert (plan.sample_size, plan.allowed_deviations, plan.distribution) == (10, 0, "hypergeometric")


# --- upper limits --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "k", "population", "confidence"), [(38, 0, 60, 0.95), (38, 2, 60, 0.95), (59, 1, 60, 0.95), (95, 3, 150, 0.95),
                                                                  (20, 1, 100, 0.90), (140, 2, 500, 0.95), (25, 0, 100, 0.95), (10, 10, 40, 0.95)])
def test_hypergeometric_upper_limit_is_the_largest_count_not_rejected(n, k, population, confidence):
    """max{D : P(X <= k; N, D, n) > 1 - confidence} / N, by enumerating every D with scipy."""
    alpha = 1 - confidence
    expected = max(d for d in range(population + 1) if hypergeom.cdf(k, population, d, n) > alpha)
    assert hypergeometric_upper_count(n, k, population, confidence) == expected
    assert upper_deviation_limit(n, k, confidence, population) == expected / population


def test_the_upper_limit_of_a_whole_population_is_its_rate():
    assert [hypergeometric_upper_count(40, k, 40, 0.95) for k in (0, 1, 3)] == [0, 1, 3]


def test_the_hypergeometric_limit_approaches_clopper_pearson_in_a_large_population():
    binomial = upper_deviation_limit(100, 2, 0.95)
    assert upper_deviation_limit(100, 2, 0.95, population=1_000_000) == pytest.approx(binomial, abs=2e-5)
    assert upper_deviation_limit(100, 2, 0.95, population=300) < binomial


@pytest.mark.parametrize(("n", "population", "tolerable", "upper"), [(59, 60, 0.05, 1 / 60), (149, 150, 0.02, 1 / 150)])
def test_one_deviation_in_nearly_the_whole_population_is_within_tolerable(n, population, tolerable, upper):
    """With one decision untested, a second deviation would have to be that one decision: ruled out at 95%."""
    result = evaluate(n, 1, 0.95, tolerable, population=population)
    assert (result.distribution, result.conclusion) == ("hypergeometric", "within_tolerable")
    assert result.upper_deviation_limit == pytest.approx(upper)
    assert evaluate(n, 1, 0.95, tolerable).conclusion == "inconclusive"  # the binomial ignores the population


def test_a_sample_that_meets_its_plan_concludes_within_tolerable():
    for population in (30, 60, 100, 150, 200, 500):
        plan = attribute_sample_size(0.95, 0.02, 0.005, population, distribution="hypergeometric")
        result = evaluate(plan.sample_size, plan.allowed_deviations, 0.95, 0.02, population, "hypergeometric")
        assert result.conclusion == "within_tolerable", population


def test_the_evaluation_records_its_distribution():
    assert evaluate(59, 0, 0.95, 0.05, population=10_000).to_dict()["distribution"] == "binomial"
    assert evaluate(38, 0, 0.95, 0.05, population=60).to_dict() == {
        "sample_size": 38, "deviations": 0, "deviation_rate": 0.0, "upper_deviation_limit": 2 / 60,
        "tolerable_deviation_rate": 0.05, "confidence": 0.95, "conclusion": "within_tolerable",
        "distribution": "hypergeometric", "population": 60,
    }


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"population": 0}, "population"),
        ({"population": 2.5}, "population"),
        ({"distribution": "poisson", "population": 60}, "distribution"),
        ({"distribution": "hypergeometric"}, "population size"),
    ],
)
def test_plan_rejects_bad_populations_and_distributions(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        attribute_sample_size(0.95, 0.05, **kwargs)


@pytest.mark.parametrize(("n", "k", "population"), [(38, 0, 20), (38, 0, 0), (38, 39, 60)])
def test_upper_limit_rejects_a_population_smaller_than_its_sample(n, k, population):
    with pytest.raises(ValueError, match="population|deviations"):
        upper_deviation_limit(n, k, 0.95, population)
