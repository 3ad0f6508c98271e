"""Outcome Evidence concluded with its sampling error: the intervals against published and exact values, and the
rate of false findings when the metric sits on its bound."""

import math

import numpy as np
import pytest
from scipy.stats import binom, t

from assurance_pipeline.validation import outcome_bounds as ob


@pytest.mark.parametrize(("k", "n", "low", "high", "digits"), [
    (0, 10, 0.0, 0.3085, 4),  # the exact 95% limits of 0/10 and 5/10, as commonly tabled
    (5, 10, 0.1871, 0.8129, 4),
    (5, 25, 0.068, 0.407, 3),  # Conover (1999), Practical Nonparametric Statistics, table A4: 5 of 25
])
def test_clopper_pearson_matches_published_limits(k, n, low, high, digits):
    lo, hi = ob.proportion_interval(k, n, 0.95)
    assert (round(lo, digits), round(hi, digits)) == (low, high)


def test_clopper_pearson_limits_are_where_the_binomial_tails_are_a_quarter_of_the_risk():
    lo, hi = ob.proportion_interval(3, 59, 0.95)
    assert binom.sf(2, 59, lo) == pytest.approx(0.025) and binom.cdf(3, 59, hi) == pytest.approx(0.025)


def test_hall_interval_without_skewness_is_students_t():
    lo, hi = ob.mean_interval(10, 5.0, 2.0, 0.0, 0.95)
    half = t.ppf(0.975, 9) * 2.0 / math.sqrt(10)
    assert (lo, hi) == pytest.approx((5.0 - half, 5.0 + half))


def test_hall_interval_inverts_halls_transformation():
    """g(T) at each end of the interval is the t quantile (Hall 1992): g(T) = T + aT^2/3 + a^2T^3/27 + a/6."""
    n, mean, sd, skew, c = 30, 2.0, 1.5, 1.8, 0.9
    lo, hi = ob.mean_interval(n, mean, sd, skew, c)
    a, q = skew / math.sqrt(n), t.ppf((1 + c) / 2, n - 1)

    def g(x):
        return x + a * x**2 / 3 + a**2 * x**3 / 27 + a / 6

    assert g((mean - lo) / (sd / math.sqrt(n))) == pytest.approx(q)
    assert g((mean - hi) / (sd / math.sqrt(n))) == pytest.approx(-q)
    assert hi - mean > mean - lo  # right-skewed values: the interval reaches further up


def _false_exceed_rates(draw, true_mean, n, confidence, reps, rng):
    x = draw(rng, (reps, n))
    m, s = x.mean(1), x.std(1, ddof=1)
    skew = ((x - m[:, None]) ** 3).mean(1) / s**3
    ends = np.array([ob.mean_interval(n, *args, confidence) for args in zip(m, s, skew, strict=True)])
    return np.mean(ends[:, 0] > true_mean), np.mean(ends[:, 1] < true_mean)


@pytest.mark.parametrize(("name", "draw", "true_mean"), [
    ("normal", lambda rng, size: rng.normal(10, 2, size), 10.0),
    ("exponential", lambda rng, size: rng.exponential(3.0, size), 3.0),
    ("lognormal sigma 0.75", lambda rng, size: rng.lognormal(0, 0.75, size), math.exp(0.75**2 / 2)),
])
def test_a_mean_on_its_bound_is_found_beyond_it_at_most_at_the_tiers_risk(name, draw, true_mean):
    """59 sampled values at 95% (the high tier): a metric whose true mean sits exactly on a min or a max bound."""
    above, below = _false_exceed_rates(draw, true_mean, 59, 0.95, 4000, np.random.default_rng(3))
    assert above <= 0.05 and below <= 0.05, (name, above, below)


def test_a_share_on_its_bound_is_found_beyond_it_at_most_half_the_tiers_risk():
    """Exact: P(lower Clopper–Pearson limit > p) summed over the binomial, p on the bound, n = 59."""
    p, n = 0.05, 59
    risk = sum(binom.pmf(k, n, p) for k in range(n + 1) if ob.proportion_interval(k, n, 0.95)[0] > p)
    assert 0 < risk <= 0.025


@pytest.mark.parametrize(("low", "high", "expected"), [
    (0.01, 0.04, ob.WITHIN), (0.06, 0.09, ob.EXCEEDS), (0.03, 0.07, ob.INCONCLUSIVE), (0.0, 0.05, ob.WITHIN),
])
def test_judge_against_a_max(low, high, expected):
    assert ob.judge(low, high, None, 0.05) == expected


def test_judge_against_a_min_and_both_bounds():
    assert ob.judge(0.6, 0.7, 0.8, None) == ob.EXCEEDS
    assert ob.judge(0.85, 0.95, 0.8, 0.9) == ob.INCONCLUSIVE
    assert ob.judge(0.82, 0.88, 0.8, 0.9) == ob.WITHIN


def test_an_inconclusive_share_says_the_sample_size_that_would_decide():
    result = ob.conclude_share(1, 59, 0.95, None, 0.05)  # 1.7%, upper limit 9%: straddles 5%
    assert result["conclusion"] == ob.INCONCLUSIVE
    needed = result["deciding_sample_size"]
    rate = 1 / 59
    assert ob.proportion_interval(rate * needed, needed, 0.95)[1] <= 0.05 < ob.proportion_interval(rate * (needed - 1), needed - 1, 0.95)[1]


def test_an_inconclusive_mean_says_the_sample_size_that_would_decide():
    result = ob.conclude_mean(20, 9.0, 4.0, 0.5, 0.95, None, 10.0)
    assert result["conclusion"] == ob.INCONCLUSIVE
    needed = result["deciding_sample_size"]
    assert ob.mean_interval(needed, 9.0, 4.0, 0.5, 0.95)[1] <= 10.0 < ob.mean_interval(needed - 1, 9.0, 4.0, 0.5, 0.95)[1]


def test_an_estimate_on_the_bound_has_no_deciding_size():
    assert ob.conclude_share(3, 60, 0.95, None, 0.05)["deciding_sample_size"] is None
