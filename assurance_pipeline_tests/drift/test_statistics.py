"""Drift statistics against published and hand-computed values, and their level on tied and small data."""

import numpy as np
import pytest
from scipy import stats

from assurance_pipeline.drift.statistics import (
    benjamini_hochberg,
    cramer_von_mises_cells,
    jensen_shannon_distance,
    pearson_chi_square_cells,
    permutation_test,
    rise_p,
    wasserstein_cells,
)

def permutation_p(*args, **kwargs) -> float:
    return permutation_test(*args, **kwargs)[1]


PRECISE = {"exceedances": 4_000, "draws": 400_000}  # Monte Carlo precise enough to compare with exact values


def test_benjamini_hochberg_on_the_papers_example():
    """Benjamini & Hochberg (1995), section 4: 15 p-values, q = 0.05, the four smallest are rejected."""
    p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0]
    assert benjamini_hochberg(p, 0.05) == [True] * 4 + [False] * 11
    assert benjamini_hochberg(p, 0.05) == list(stats.false_discovery_control(p) <= 0.05)


def test_benjamini_hochberg_order_does_not_matter_and_empty_is_empty():
    p = [0.04, 0.001, 0.5, 0.012]
    assert benjamini_hochberg(p) == [False, True, False, True]
    assert benjamini_hochberg([]) == []


def _cells(window: np.ndarray, baseline: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Untied samples as cells: one cell per pooled value, in order, counted on each side."""
    values = np.sort(np.concatenate([window, baseline]))
    in_window = np.isin(values, window).astype(int)
    return in_window, 1 - in_window


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cramer_von_mises_cells_is_andersons_two_sample_statistic_and_p(seed: int):
    """Without ties the cell form is Anderson's (1962) T, and the permutation p matches its exact distribution
    (both as computed by scipy.stats.cramervonmises_2samp)."""
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=9), rng.normal(0.7, 1.0, size=11)
    window, baseline = _cells(x, y)
    exact = stats.cramervonmises_2samp(x, y, method="exact")
    assert cramer_von_mises_cells(window, window + baseline, 9)[0] == pytest.approx(exact.statistic, rel=1e-12)
    assert permutation_p(cramer_von_mises_cells, window, baseline, **PRECISE) == pytest.approx(exact.pvalue, abs=0.01)


def test_cramer_von_mises_cells_null_has_the_published_5_percent_point():
    """With many equiprobable cells and large samples, the statistic's permutation distribution approaches the
    asymptotic Cramér–von Mises law, whose 95th percentile is 0.46136 (Anderson & Darling 1952, Ann. Math.
    Stat. 23:193–212, table 1)."""
    rng = np.random.default_rng(0)
    pool = np.full(400, 50)  # 20,000 values in 400 cells
    null = cramer_von_mises_cells(rng.multivariate_hypergeometric(pool, 2_000, size=20_000), pool, 2_000)
    assert np.quantile(null, 0.95) == pytest.approx(0.46136, abs=0.015)


def test_pearson_chi_square_cells_hand_computed_and_as_scipy():
    table = np.array([[10, 20, 5], [30, 25, 40]])
    expected = stats.chi2_contingency(table, correction=False)[0]
    assert pearson_chi_square_cells(table[0], table.sum(axis=0), 35)[0] == pytest.approx(expected)
    # 30/40/30 against 500 each: (n+N)^2/(nN) sum (w - n c/T)^2 / c, by hand
    w, b = np.array([30, 40, 30]), np.array([500, 500, 500])
    pool, total = w + b, 1600
    by_hand = sum((wj - 100 * cj / total) ** 2 / cj for wj, cj in zip(w, pool, strict=True)) * total**2 / (100 * 1500)
    assert pearson_chi_square_cells(w, pool, 100)[0] == pytest.approx(by_hand)


def test_permutation_chi_square_on_the_tea_tasting_table():
    """Fisher (1935): 3 of 4 against 1 of 4. Under the permutation the chi-square orders the tables as Fisher's
    two-sided test does here, so p = 34/70."""
    assert permutation_p(pearson_chi_square_cells, np.array([3, 1]), np.array([1, 3]), **PRECISE) == pytest.approx(34 / 70, abs=0.01)


def test_permutation_p_is_reproducible_and_has_a_floor():
    rng = np.random.default_rng(5)
    window, baseline = rng.multinomial(300, [0.2] * 5), rng.multinomial(3_000, [0.2] * 5)
    statistic, p = permutation_test(cramer_von_mises_cells, window, baseline)
    assert statistic == cramer_von_mises_cells(window, window + baseline, 300)[0]
    assert permutation_p(cramer_von_mises_cells, window, baseline) == p and 0 < p <= 1
    far = permutation_p(cramer_von_mises_cells, np.array([300, 0, 0, 0, 0]), baseline, draws=2_000)
    assert far == 1 / 2_000  # nothing as extreme in 1,999 draws: (0 + 1) / 2,000 (Besag & Clifford 1991)
    assert permutation_p(cramer_von_mises_cells, np.zeros(5, dtype=int), baseline) == 1.0


@pytest.mark.parametrize(("name", "shares", "golive", "n"), [
    ("six tied values", [0.05, 0.1, 0.3, 0.3, 0.2, 0.05], 500, 60),
    ("zero-inflated", [0.4, 0.3, 0.2, 0.1], 20_000, 20),
    ("rare categories", [0.9, *[0.1 / 29] * 29], 500, 60),
])
def test_permutation_tests_keep_their_level_on_tied_and_small_data(name, shares, golive, n):
    """Stationary data drawn from the true shares (not from the go-live counts): both tests reject at most
    5% (+ a Monte Carlo margin of 2 standard errors over 600 draws)."""
    rng = np.random.default_rng(11)
    rejected = {"cvm": 0, "chi2": 0}
    for _ in range(600):
        window, baseline = rng.multinomial(n, shares), rng.multinomial(golive, shares)
        rejected["cvm"] += permutation_p(cramer_von_mises_cells, window, baseline) <= 0.05
        rejected["chi2"] += permutation_p(pearson_chi_square_cells, window, baseline) <= 0.05
    assert max(rejected.values()) / 600 <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 600), (name, rejected)


def test_rise_p_is_fishers_exact_on_the_tea_tasting_table():
    """Fisher (1935): 3 of 4 against 1 of 4, one-sided p = 17/70."""
    assert rise_p(3, 4, 1, 4) == pytest.approx(17 / 70)
    assert rise_p(1, 4, 3, 4) == pytest.approx(1.0 - 1 / 70)
    assert rise_p(0, 0, 3, 4) == 1.0


def test_jensen_shannon_bounds():
    assert jensen_shannon_distance(np.array([5, 5]), np.array([50, 50])) == pytest.approx(0.0, abs=1e-12)
    assert jensen_shannon_distance(np.array([5, 0]), np.array([0, 50])) == pytest.approx(1.0)


def test_wasserstein_cells_is_exact_on_discrete_values():
    """Ratings 1..5: the distance is scipy's weighted Wasserstein-1 on the same values."""
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    window, baseline = np.array([5, 10, 20, 40, 25, 0]), np.array([100, 200, 400, 200, 100, 0])  # last cell: above 5
    expected = stats.wasserstein_distance(values, values, window[:5], baseline[:5])
    assert wasserstein_cells(window, baseline, values) == pytest.approx(expected)


def test_wasserstein_cells_reads_a_shift_over_percentile_bins():
    """Counted into a normal's percentile bins, a half-sd shift reads about 0.5 sd."""
    rng = np.random.default_rng(8)
    edges = stats.norm.ppf(np.arange(1, 100) / 100)
    counts = lambda x: np.bincount(np.searchsorted(edges, x, side="left"), minlength=100)  # noqa: E731
    golive = counts(rng.normal(size=50_000))
    assert wasserstein_cells(counts(rng.normal(size=50_000)), golive, edges) == pytest.approx(0.0, abs=0.02)
    assert wasserstein_cells(counts(rng.normal(0.5, 1.0, size=50_000)), golive, edges) == pytest.approx(0.5, abs=0.03)
