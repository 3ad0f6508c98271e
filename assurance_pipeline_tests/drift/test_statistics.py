"""Drift statistics against published and hand-computed values."""

import math

import numpy as np
import pytest
from scipy import optimize, stats

from assurance_pipeline.drift.statistics import (
    benjamini_hochberg,
    binomial_p,
    categories_against_frequencies,
    cramer_von_mises_against_percentiles,
    jensen_shannon_distance,
    rise_p,
    wasserstein_in_sd,
)

NORMAL_PERCENTILES = [float(stats.norm.ppf(k / 100)) for k in range(1, 100)]


def test_benjamini_hochberg_on_the_papers_example():
    """Benjamini & Hochberg (1995), section 4: 15 p-values, q = 0.05, the four smallest are rejected."""
    p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0]
    assert benjamini_hochberg(p, 0.05) == [True] * 4 + [False] * 11
    assert benjamini_hochberg(p, 0.05) == list(stats.false_discovery_control(p) <= 0.05)


def test_benjamini_hochberg_order_does_not_matter_and_empty_is_empty():
    p = [0.04, 0.001, 0.5, 0.012]
    assert benjamini_hochberg(p) == [False, True, False, True]
    assert benjamini_hochberg([]) == []


UNIFORM_PERCENTILES = [k / 100 for k in range(1, 100)]


def _cvm_by_hand(u: np.ndarray) -> float:
    """W² = 1/(12n) + sum((u_(i) - (2i - 1)/(2n))²) (Anderson 1962, eq. 1.3), u the CDF at the sorted sample."""
    n = len(u)
    return 1 / (12 * n) + float(np.sum((np.sort(u) - (2 * np.arange(1, n + 1) - 1) / (2 * n)) ** 2))


def test_cramer_von_mises_statistic_by_hand_and_the_published_5_percent_point():
    """Against a uniform go-live, a sample squeezed toward the middle by c has a W² we can compute by hand; at
    W² = 0.46136, the asymptotic 5% point (Anderson & Darling 1952, Ann. Math. Stat. 23:193–212, table 1),
    p is 0.05."""
    n = 1000
    levels = (2 * np.arange(1, n + 1) - 1) / (2 * n)

    def squeezed(c: float) -> np.ndarray:
        return c + (1 - 2 * c) * levels

    c = optimize.brentq(lambda c: _cvm_by_hand(squeezed(c)) - 0.46136, 0.0, 0.2)
    w2, p = cramer_von_mises_against_percentiles(squeezed(c), UNIFORM_PERCENTILES)
    assert w2 == pytest.approx(0.46136, rel=1e-6)
    assert p == pytest.approx(0.05, abs=0.002)


def test_cramer_von_mises_matches_the_exact_cdf_and_finds_a_shift():
    rng = np.random.default_rng(3)
    same = rng.normal(size=400)
    w2, p = cramer_von_mises_against_percentiles(same, NORMAL_PERCENTILES)
    exact = stats.cramervonmises(same, stats.norm.cdf)
    assert w2 == pytest.approx(exact.statistic, abs=0.01) and p > 0.05
    w2_shift, p_shift = cramer_von_mises_against_percentiles(same + 0.5, NORMAL_PERCENTILES)
    assert w2_shift > 5 and p_shift < 1e-6
    assert 0.0 <= cramer_von_mises_against_percentiles(same + 5, NORMAL_PERCENTILES)[1] < 1e-6  # far past scipy's precision


def test_three_categories_take_chi_square_hand_computed():
    """30/40/30 against equal shares: expected 33.3 each, chi2 = (3.33² + 6.67² + 3.33²) / 33.3 = 2, p = e^-1."""
    test, chi2, p = categories_against_frequencies({"a": 30, "b": 40, "c": 30}, {"a": 500, "b": 500, "c": 500})
    assert (test, chi2, p) == ("chi_square", pytest.approx(2.0), pytest.approx(math.exp(-1)))
    test, _, p_new = categories_against_frequencies({"a": 50, "b": 45, "c": 5}, {"a": 500, "b": 500})  # c unseen at go-live
    assert test == "chi_square" and p_new < 1e-6


def test_two_categories_take_the_exact_binomial():
    """30 of 100 against a 50/50 go-live: by symmetry p = 2 P(X <= 30) = 7.85e-5."""
    test, count, p = categories_against_frequencies({"a": 30, "b": 70}, {"a": 500, "b": 500})
    assert (test, count) == ("exact_binomial", 30.0) and p == pytest.approx(7.8505e-5, rel=1e-3)
    assert categories_against_frequencies({"true": 95, "false": 5}, {"true": 1000})[2] < 1e-6  # false unseen at go-live


@pytest.mark.parametrize(("n", "share"), [(50, 0.05), (100, 0.05), (100, 0.3), (150, 0.3)])
def test_the_exact_binomial_never_runs_over_its_level(n: int, share: float):
    """The chance, on stationary data, of p under the level is at most the level, at BH's first step for six
    tests and at 5% (Pearson's chi-square exceeds both at n = 100, share 0.05)."""
    counts = np.arange(n + 1)
    pmf = stats.binom.pmf(counts, n, share)
    p = np.array([binomial_p(int(k), n, share) for k in counts])
    for level in (0.05 / 6, 0.05):
        assert pmf[p <= level].sum() <= level


def test_binomial_p_one_sided_hand_computed():
    """P(X >= 10) for n = 100, rate 0.05: 0.0282."""
    assert binomial_p(10, 100, 0.05, alternative="greater") == pytest.approx(0.0282, abs=1e-4)
    assert binomial_p(0, 0, 0.05) == 1.0


def test_rise_p_is_fishers_exact_on_the_tea_tasting_table():
    """Fisher (1935): 3 of 4 against 1 of 4, one-sided p = 17/70."""
    assert rise_p(3, 4, 1, 4) == pytest.approx(17 / 70)
    assert rise_p(1, 4, 3, 4) == pytest.approx(1.0 - 1 / 70)
    assert rise_p(0, 0, 3, 4) == 1.0


def test_jensen_shannon_bounds():
    assert jensen_shannon_distance({"a": 5, "b": 5}, {"a": 50, "b": 50}) == pytest.approx(0.0, abs=1e-12)
    assert jensen_shannon_distance({"a": 5}, {"b": 50}) == pytest.approx(1.0)


def test_wasserstein_in_sd_reads_a_shift_in_standard_deviations():
    """A large normal sample is about 0 sd from its own percentiles, about 0.5 sd once shifted by half an sd,
    and the distance is in units of the baseline's sd whatever the scale."""
    sample = np.random.default_rng(8).normal(size=50_000)
    assert wasserstein_in_sd(sample, NORMAL_PERCENTILES, 1.0) == pytest.approx(0.0, abs=0.02)
    assert wasserstein_in_sd(sample + 0.5, NORMAL_PERCENTILES, 1.0) == pytest.approx(0.5, abs=0.02)
    assert wasserstein_in_sd(3 * sample + 7, [3 * p + 7 for p in NORMAL_PERCENTILES], 3.0) == pytest.approx(0.0, abs=0.02)
