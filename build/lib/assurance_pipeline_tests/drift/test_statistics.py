"""Drift statistics against published and hand-computed values, and their level on tied and small data."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from assurance_pipeline.drift.cell_counts import robust_scale
from assurance_pipeline.drift.statistics import (
    benjamini_hochberg,
    cmh_general_association,
    cramer_von_mises_cells,
    hypergeom_pmf,
    jensen_shannon_distance,
    pearson_chi_square_cells,
    permutation_test,
    rise_p,
    stratified_mix_test,
    stratified_rise_p,
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


# Agresti (1990), pp. 231-237 (R's `mantelhaen.test` example): penicillin given immediately or 1.5 h late, cured or
# died, in five strata of dose. Per stratum: (immediate cured, immediate died, delayed cured, delayed died).
RABBITS = [(0, 6, 0, 5), (3, 3, 0, 6), (6, 0, 2, 4), (5, 1, 6, 0), (2, 0, 5, 0)]


def _strata(tables: list[tuple[int, int, int, int]]) -> tuple[np.ndarray, ...]:
    """Events and sizes of both rows per stratum, as stratified_rise_p takes them."""
    a, b, c, d = (np.array(column) for column in zip(*tables, strict=True))
    return a, a + b, c, c + d


def test_stratified_rise_p_is_the_exact_conditional_test_on_the_penicillin_rabbits():
    """Exact conditional test of a common odds ratio above 1: p = 0.020 (R, mantelhaen.test(Rabbits, exact = TRUE,
    alternative = "greater"), after Agresti 1990)."""
    assert stratified_rise_p(*_strata(RABBITS)) == pytest.approx(0.020, abs=0.0005)


def test_stratified_rise_p_by_enumeration_on_small_tables():
    """Every way the window's events could fall given each stratum's margins, weighted by its hypergeometric
    probability: P(total >= observed), computed by brute force."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        tables = [tuple(int(v) for v in rng.integers(0, 6, 4)) for _ in range(3)]
        x, n, y, m = _strata(tables)
        observed, by_hand = x.sum(), 0.0
        ranges = [range(max(0, t - mh), min(nh, t) + 1) for t, nh, mh in zip(x + y, n, m, strict=True)]
        for outcome in itertools.product(*ranges):
            if sum(outcome) >= observed:
                by_hand += np.prod([stats.hypergeom(nh + mh, t, nh).pmf(k) for k, t, nh, mh in zip(outcome, x + y, n, m, strict=True)])
        assert stratified_rise_p(x, n, y, m) == pytest.approx(by_hand, rel=1e-9, abs=1e-12), tables


@pytest.mark.parametrize("total, events, draws", [(10, 4, 5), (20_000, 300, 5_000), (200_000, 30_000, 60_000)])
def test_hypergeom_pmf_against_exact_fractions(total, events, draws):
    """Against C(K, k) C(N-K, n-k) / C(N, n) in exact integers, over the range the stratified test keeps (40 SD and 60
    counts either side of the mean): 1e-11 relative or better, also 20 orders of magnitude down the tails."""
    mean = draws * events / total
    sd = math.sqrt(mean * (total - events) * (total - draws) / (total * (total - 1)))
    low, high = max(0, math.floor(mean - 40 * sd - 60), draws - (total - events)), min(draws, events, math.ceil(mean + 40 * sd + 60))
    pmf = hypergeom_pmf(total, events, draws, low, high)
    assert len(pmf) == high - low + 1
    for k in {low, math.floor(mean - 8 * sd), round(mean), math.ceil(mean + 10 * sd), high} & set(range(low, high + 1)):
        exact = Fraction(math.comb(events, k) * math.comb(total - events, draws - k), math.comb(total, draws))
        assert pmf[k - low] == pytest.approx(float(exact), rel=1e-11, abs=1e-300), k


def test_convolve_by_fft_agrees_with_the_direct_sum():
    """Two probability vectors long enough for the transform: the same distribution as the direct sum to 1e-15."""
    from assurance_pipeline.drift.statistics import _convolve

    rng = np.random.default_rng(5)
    a, b = rng.dirichlet(np.ones(3_000)), rng.dirichlet(np.ones(2_000))
    assert _convolve(a, b) == pytest.approx(np.convolve(a, b), abs=1e-15)
    assert _convolve(a, b).sum() == pytest.approx(1.0, abs=1e-12)


def test_stratified_rise_p_with_one_stratum_is_fishers_one_sided_test():
    assert stratified_rise_p([3], [4], [1], [4]) == pytest.approx(rise_p(3, 4, 1, 4))  # 17/70, the tea tasting
    assert stratified_rise_p([40], [500], [150], [6_000]) == pytest.approx(rise_p(40, 500, 150, 6_000), rel=1e-9)


def test_stratified_rise_p_on_large_windows_agrees_with_mantel_haenszel():
    """A million decisions in four strata: exact, and within 10% of the one-sided, continuity-corrected
    Mantel–Haenszel normal approximation (Mantel & Haenszel 1959), which is accurate at these counts."""
    x, n = np.array([20_800, 3_120, 29_900, 500]), np.array([400_000, 100_000, 480_000, 20_000])
    y, m = np.array([3_000, 600, 9_000, 96]), np.array([60_000, 20_000, 150_000, 4_000])
    total, events = (n + m).astype(float), (x + y).astype(float)
    mean, variance = n * events / total, n * m * events * (total - events) / (total**2 * (total - 1))
    z = (x.sum() - mean.sum() - 0.5) / np.sqrt(variance.sum())
    assert 1e-5 < stats.norm.sf(z) < 1e-4
    assert stratified_rise_p(x, n, y, m) == pytest.approx(stats.norm.sf(z), rel=0.1)


def test_cmh_general_association_on_agrestis_job_satisfaction():
    """Income × job satisfaction, stratified by gender: general association 10.2001 on 9 df, p = 0.3345 (Agresti
    2002, p. 297, table 7.12; R's mantelhaen.test(Satisfaction))."""
    female = [[1, 3, 11, 2], [2, 3, 17, 3], [0, 1, 8, 5], [0, 2, 4, 2]]
    male = [[1, 1, 2, 1], [0, 3, 5, 1], [0, 0, 7, 3], [0, 1, 9, 6]]
    statistic = cmh_general_association(np.array([female, male]))
    assert statistic == pytest.approx(10.2001, abs=1e-4)
    assert stats.chi2.sf(statistic, 9) == pytest.approx(0.3345, abs=1e-4)


def test_cmh_general_association_on_2x2_strata_is_mantel_haenszel():
    """On 2 × 2 strata it is the Mantel–Haenszel statistic; with the continuity correction it gives the penicillin
    rabbits' published p = 0.047 (R, mantelhaen.test(Rabbits))."""
    x, n, y, m = _strata(RABBITS)
    total, events = n + m, x + y
    keep = total > 1
    mean = (n * events / total)[keep]
    variance = (n * m * events * (total - events) / (total**2 * (total - 1)))[keep]
    tables = np.array([[[a, b], [c, d]] for a, b, c, d in RABBITS])
    assert cmh_general_association(tables) == pytest.approx((x[keep].sum() - mean.sum()) ** 2 / variance.sum())
    corrected = (abs(x[keep].sum() - mean.sum()) - 0.5) ** 2 / variance.sum()
    assert stats.chi2.sf(corrected, 1) == pytest.approx(0.047, abs=0.0005)


def test_stratified_mix_test_with_one_stratum_is_the_permutation_chi_square():
    """One stratum: the generalized CMH statistic is (N − 1)/N times Pearson's, the same order,
    and the same draws give the same p."""
    window, baseline = np.array([[30, 50, 20]]), np.array([[500, 400, 300]])
    statistic, p = stratified_mix_test(window, baseline)
    total = window.sum() + baseline.sum()
    pearson, p_pearson = permutation_test(pearson_chi_square_cells, window[0], baseline[0])
    assert statistic == pytest.approx(pearson * (total - 1) / total) and p == p_pearson


def test_stratified_mix_test_ignores_a_different_mix_of_strata_and_sees_a_change_within_them():
    """Two strata with very different decision mixes (90/10 and 10/90). A window that only falls in the second more
    often keeps its level (at most 5% of 400 stationary windows rejected at 5%, plus a Monte Carlo margin), where
    the unstratified permutation chi-square rejects nearly always; 20 points more of the second decision in one
    stratum are found."""
    rng = np.random.default_rng(9)
    mixes = np.array([[0.9, 0.1], [0.1, 0.9]])
    baseline = np.array([rng.multinomial(2_000, mixes[0]), rng.multinomial(2_000, mixes[1])])
    rejected = unstratified = 0
    for _ in range(400):
        in_strata = rng.multinomial(200, [0.3, 0.7])  # go-live was 50/50 across the two strata
        window = np.array([rng.multinomial(k, mix) for k, mix in zip(in_strata, mixes, strict=True)])
        rejected += stratified_mix_test(window, baseline)[1] <= 0.05
        unstratified += permutation_test(pearson_chi_square_cells, window.sum(axis=0), baseline.sum(axis=0))[1] <= 0.05
    assert rejected / 400 <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 400) and unstratified / 400 > 0.9
    assert stratified_mix_test(np.array([[70, 30], [10, 90]]), baseline)[1] < 0.001


@pytest.mark.parametrize("n", [20, 60, 150])
def test_the_permutation_chi_square_keeps_its_level_on_a_30_level_category_with_rare_levels(n: int):
    """Sparse categories: 30 levels, 20 of them at 0.2%, a window of n against a go-live window of 20,000, 400
    stationary draws: at most 5% rejected at 5% (plus a Monte Carlo margin of 2 standard errors), where the
    chi-square approximation on the same tables rejects more than its level."""
    shares = np.array([0.3, 0.2, 0.1, *[0.06] * 5, *[0.0345] * 2, *[0.002] * 20])
    shares /= shares.sum()
    rng = np.random.default_rng(30 + n)
    permutation = asymptotic = 0
    for _ in range(400):
        window, baseline = rng.multinomial(n, shares), rng.multinomial(20_000, shares)
        permutation += permutation_p(pearson_chi_square_cells, window, baseline) <= 0.05
        table = np.array([window, baseline])
        asymptotic += stats.chi2_contingency(table[:, table.sum(axis=0) > 0], correction=False).pvalue <= 0.05
    assert permutation / 400 <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 400)
    assert asymptotic / 400 > 0.06  # what the chi-square approximation did on these tables


def test_the_robust_scale_is_the_sd_for_a_normal_and_the_sd_only_where_the_iqr_is_0():
    """IQR / 1.349 (1.349 = 2 Φ⁻¹(0.75)) estimates a normal's SD; a point mass holding the middle half falls back to the SD."""
    assert 2 * stats.norm.ppf(0.75) == pytest.approx(1.349, abs=5e-4)
    x = np.random.default_rng(4).normal(50, 7, 200_000)
    q1, q3 = np.quantile(x, [0.25, 0.75])
    assert robust_scale(q3 - q1, float(x.std()))["scale"] == pytest.approx(7, rel=0.01)
    assert robust_scale(0.0, 3.2) == {"scale": 3.2, "scale_kind": "sd"}


def test_jensen_shannon_distance_of_equal_shares_is_zero_not_nan():
    """Shares equal up to rounding make the divergence a tiny negative number, whose square root is NaN."""
    window = np.array([32.0, 45, 25, 30, 48, 36])  # counts, and the same shares expected over 632 decisions
    expected = window / window.sum() * 632
    assert jensen_shannon_distance(window, expected) == 0.0
