"""The statistics of drift: two-sample tests on counts, effect sizes, and false-discovery control.

Each function names the method it implements and its source. Both sides of every comparison are counts:
the go-live baseline's (recorded once, aggregates only) and the cycle window's (one pushed-down scan), over
the same cells: the distinct values of a discrete number, the go-live quantile bins of a continuous one (a
point mass keeps its own cell), or the categories of a flag or category. Because the p-value comes from the
permutation distribution of those counts, a test keeps its level whatever the data's shape (ties, point
masses, rare categories) and however small either side is: the go-live window's own sampling error is part
of the null distribution, not ignored.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

import numpy as np

PERMUTATION_DRAWS = 10_000  # the smallest p-value a test can reach: 1e-4, under BH's first cut (3%) for up to 300 tests
PERMUTATION_EXCEEDANCES = 50

CellStatistic = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def cramer_von_mises_cells(window: np.ndarray, pool: np.ndarray, n: int) -> np.ndarray:
    """Two-sample Cramér–von Mises statistic over ordered cells, one value per row of `window` (counts of the
    window's n values; `pool` the window's plus the baseline's counts): T = nN/(n+N) Σ_j (F_j − G_j)² h_j, F and
    G the two cumulative shares, h_j the pooled share of cell j (Anderson 1962, Ann. Math. Stat. 33:1148–1159,
    with H the pooled distribution; for tied and discrete data the cell form of Choulakian, Lockhart & Stephens
    1994, Can. J. Stat. 22:125–137). Without ties it is scipy.stats.cramervonmises_2samp's T."""
    window = np.atleast_2d(window).astype(float)
    total = pool.sum()
    big_n = total - n
    f = np.cumsum(window, axis=1) / n
    g = np.cumsum(pool - window, axis=1) / big_n
    return n * big_n / total * np.sum((f - g) ** 2 * (pool / total), axis=1)


def pearson_chi_square_cells(window: np.ndarray, pool: np.ndarray, n: int) -> np.ndarray:
    """Pearson's chi-square statistic of homogeneity for the 2 × k table (window, baseline) over unordered cells
    (Pearson 1900; Agresti 2013, *Categorical Data Analysis*, 3rd ed., §3.2), one value per row of `window`.
    Here only the statistic: its chi-square approximation runs over its level with rare categories."""
    window = np.atleast_2d(window).astype(float)
    seen = pool > 0
    total = pool.sum()
    expected = n * pool[seen] / total
    return np.sum((window[:, seen] - expected) ** 2 / pool[seen], axis=1) * total**2 / (n * (total - n))


def permutation_test(statistic: CellStatistic, window: np.ndarray, baseline: np.ndarray,
                     exceedances: int = PERMUTATION_EXCEEDANCES, draws: int = PERMUTATION_DRAWS) -> tuple[float, float]:
    """The observed `statistic` and its p-value under the two-sample null (window and go-live drawn from one
    distribution): the window's counts are then a multivariate hypergeometric draw of n from the pooled counts
    (Fisher's conditional permutation test; Agresti 2013, §3.5), whatever the cells, ties or sizes. Drawn by
    Monte Carlo with Besag & Clifford's sequential stopping (`_monte_carlo_p`), seeded by the counts, so the
    same counts give the same p."""
    window, baseline = np.asarray(window, dtype=np.int64), np.asarray(baseline, dtype=np.int64)
    pool, n = window + baseline, int(window.sum())
    if n == 0 or n == pool.sum() or np.count_nonzero(pool) < 2:
        return 0.0, 1.0
    observed = float(statistic(window, pool, n)[0])
    p = _monte_carlo_p(observed, lambda rng, size: statistic(rng.multivariate_hypergeometric(pool, n, size=size), pool, n),
                       _seed(window, baseline), exceedances, draws)
    return observed, p


def _monte_carlo_p(observed: float, draw_statistics: Callable[[np.random.Generator, int], np.ndarray], seed: int,
                   exceedances: int, draws: int) -> float:
    """A Monte Carlo p-value with Besag & Clifford's (1991, Biometrika 78:301–304) sequential stopping, which never
    runs over its level: stop at the h-th draw at least as extreme (h = `exceedances`), p = h / draws so far, else
    p = (exceedances seen + 1) / `draws`. `draw_statistics(rng, size)` gives `size` statistics under the null."""
    rng = np.random.default_rng(seed)
    drawn = exceeded = 0
    batch = 128
    while drawn < draws - 1:
        size = min(batch, draws - 1 - drawn)
        hits = np.cumsum(draw_statistics(rng, size) >= observed * (1 - 1e-9))
        if exceeded + hits[-1] >= exceedances:
            return exceedances / (drawn + int(np.searchsorted(hits, exceedances - exceeded)) + 1)
        exceeded, drawn, batch = exceeded + int(hits[-1]), drawn + size, batch * 4
    return (exceeded + 1) / draws


def cmh_general_association(tables: np.ndarray) -> float:
    """The generalized Cochran–Mantel–Haenszel statistic of general association for strata of I × J tables
    (`tables`: strata × I × J): Q = d' V⁻ d, d the sum over strata of the first (I−1)(J−1) cells minus their
    expectations given each stratum's margins, V the sum of their hypergeometric covariances (Mantel & Haenszel
    1959, JNCI 22:719–748; Landis, Heyman & Koch 1978, Int. Stat. Rev. 46:237–254; Agresti 2002, *Categorical
    Data Analysis*, 2nd ed., p. 297, table 7.12). Asymptotically chi-square with (I−1)(J−1) degrees of freedom;
    `stratified_mix_test` takes its p-value from the permutation distribution instead."""
    tables = np.asarray(tables, dtype=float)
    expected, covariance = _cmh_moments(tables)
    deviation = tables[:, :-1, :-1].sum(axis=0).ravel() - expected
    return float(deviation @ np.linalg.pinv(covariance, hermitian=True) @ deviation)


def _cmh_moments(tables: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expectation and covariance of the first (I−1)(J−1) cells summed over strata, each stratum's cells
    multivariate hypergeometric given its margins (Landis, Heyman & Koch 1978)."""
    tables = np.asarray(tables, dtype=float)
    rows, columns = tables.shape[1] - 1, tables.shape[2] - 1
    expected, covariance = np.zeros(rows * columns), np.zeros((rows * columns, rows * columns))
    for table in tables:
        total, r, c = table.sum(), table.sum(axis=1), table.sum(axis=0)
        if total < 2:
            continue
        expected += np.outer(r, c)[:rows, :columns].ravel() / total
        row_part = (total * np.diag(r) - np.outer(r, r))[:rows, :rows]
        column_part = (total * np.diag(c) - np.outer(c, c))[:columns, :columns]
        covariance += np.kron(row_part, column_part) / (total**2 * (total - 1))
    return expected, covariance


def stratified_mix_test(window: np.ndarray, baseline: np.ndarray, exceedances: int = PERMUTATION_EXCEEDANCES,
                        draws: int = PERMUTATION_DRAWS) -> tuple[float, float]:
    """Does the window's mix over the cells differ from the baseline's within strata? `window` and `baseline` are
    counts, strata × cells. The statistic is the generalized Cochran–Mantel–Haenszel general association of the
    strata's 2 × cells tables (`cmh_general_association`); its p-value comes from the permutation distribution
    within strata: under the null, each stratum's window counts are a multivariate hypergeometric draw from that
    stratum's pooled counts, independently across strata (the conditional null the CMH moments are taken under,
    Landis, Heyman & Koch 1978), so a different mix of strata alone is no evidence. Monte Carlo with Besag &
    Clifford's stopping, seeded by the counts; exact in level with rare cells and small strata."""
    window, baseline = np.asarray(window, dtype=np.int64), np.asarray(baseline, dtype=np.int64)
    seen = (window + baseline).sum(axis=0) > 0
    window, baseline = window[:, seen], baseline[:, seen]
    pool, n = window + baseline, window.sum(axis=1)
    varying = [h for h in range(len(pool)) if 0 < n[h] < pool[h].sum() and np.count_nonzero(pool[h]) > 1]
    if seen.sum() < 2 or not varying:
        return 0.0, 1.0
    expected, covariance = _cmh_moments(np.stack([window, baseline], axis=1))
    inverse = np.linalg.pinv(covariance, hermitian=True)

    def statistics(counts: np.ndarray) -> np.ndarray:
        deviation = counts[:, :-1] - expected
        return np.einsum("ij,jk,ik->i", deviation, inverse, deviation)

    fixed = window.sum(axis=0) - window[varying].sum(axis=0)  # strata whose window counts the permutation cannot move

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        return statistics(fixed + sum(rng.multivariate_hypergeometric(pool[h], int(n[h]), size=size) for h in varying))

    observed = float(statistics(window.sum(axis=0, keepdims=True))[0])
    return observed, _monte_carlo_p(observed, draw, _seed(window, baseline), exceedances, draws)


def stratified_rise_p(window_events: np.ndarray, window_sizes: np.ndarray, baseline_events: np.ndarray,
                      baseline_sizes: np.ndarray) -> float:
    """One-sided exact conditional test that the window's event rate exceeds the baseline's within strata: a common
    odds ratio above 1 across the strata's 2 × 2 tables (window/baseline × event/none). Given each table's margins
    the window's events in a stratum are hypergeometric, so under the null their total is the convolution of those
    hypergeometrics, and p = P(total >= observed) (Birch 1964, JRSS B 26:313–324; Gart 1970, Biometrika
    57:471–475; Mehta, Patel & Gray 1985, JASA 80:969–973; Agresti 1990, pp. 230–237; R's `mantelhaen.test(exact =
    TRUE)`). Exact at any size: the baseline's own sampling error is part of the null. Each stratum's support is
    cut where its probability is negligible (40 standard deviations and 60 counts out), so large windows stay fast."""
    x, n, y, m = (np.asarray(a, dtype=np.int64) for a in (window_events, window_sizes, baseline_events, baseline_sizes))
    distribution, offset = np.ones(1), 0
    for xh, nh, yh, mh in zip(x, n, y, m, strict=True):
        events, total = int(xh + yh), int(nh + mh)
        low, high = max(0, events - int(mh)), min(int(nh), events)
        if low < high:
            mean = nh * events / total
            reach = 40 * math.sqrt(mean * (total - events) * mh / (total * (total - 1))) + 60
            low, high = max(low, math.floor(mean - reach)), min(high, math.ceil(mean + reach))
            null = hypergeom_pmf(total, events, int(nh), low, high)
            distribution = np.clip(_convolve(distribution, null), 0.0, None)
        offset += low
    tail = distribution[max(int(x.sum()) - offset, 0):].sum()
    return float(min(1.0, tail))


def hypergeom_pmf(total: int, events: int, draws: int, low: int, high: int) -> np.ndarray:
    """P(X = k) for k in low..high, X hypergeometric (`total` items, `events` of them marked, `draws` drawn), renormalized
    over that range, which the caller cuts where the mass outside is negligible. From the ratio of successive
    terms, P(k+1)/P(k) = (events-k)(draws-k) / ((k+1)(total-events-draws+k+1)) (Johnson, Kemp & Kotz 2005,
    *Univariate Discrete Distributions*, §6.2), summed as logarithms from the range's mode: one vectorized pass,
    where scipy's element-wise pmf took most of a 10M-decision cycle's drift step; accurate to ~1e-12 relative."""
    k = np.arange(low, high, dtype=np.float64)
    log_ratio = np.log((events - k) * (draws - k)) - np.log((k + 1) * (total - events - draws + k + 1))
    log_p = np.concatenate([[0.0], np.cumsum(log_ratio)])
    p = np.exp(log_p - log_p.max())
    return p / p.sum()


def _convolve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The full discrete convolution: direct where it is small (exact), else by FFT (errors of ~1e-16 of the largest
    term, the cost of a fast transform; what scipy.signal.convolve's "auto" does, without its second of import)."""
    if min(len(a), len(b)) < 64 or len(a) * len(b) < 1_000_000:
        return np.convolve(a, b)
    size = len(a) + len(b) - 1
    return np.fft.irfft(np.fft.rfft(a, size) * np.fft.rfft(b, size), size)


def _seed(*counts: np.ndarray) -> int:
    digest = hashlib.sha256(b"|".join(c.tobytes() for c in counts)).digest()
    return int.from_bytes(digest[:8], "little")


def wasserstein_cells(window: np.ndarray, baseline: np.ndarray, upper_edges: list[float]) -> float:
    """Wasserstein-1 distance between the two distributions over ordered cells, the integral of |F − G|
    (Villani 2009, *Optimal Transport*, remark 2.19), with F and G stepping at the cells' upper edges; exact
    for discrete values, to within a cell's width for go-live quantile bins."""
    edges = np.asarray(upper_edges, dtype=float)
    if len(edges) < 2:
        return 0.0
    f = np.cumsum(window)[: len(edges)] / max(np.sum(window), 1)
    g = np.cumsum(baseline)[: len(edges)] / max(np.sum(baseline), 1)
    return float(np.sum(np.abs(f - g)[:-1] * np.diff(edges)))


def jensen_shannon_distance(window: np.ndarray, baseline: np.ndarray) -> float:
    """Jensen–Shannon distance (base 2, in [0, 1]) between the two sides' shares of the same cells
    (Lin 1991, IEEE Trans. Inf. Theory 37:145–151; Endres & Schindelin 2003)."""
    p, q = np.asarray(window, dtype=float), np.asarray(baseline, dtype=float)
    if p.sum() == 0 or q.sum() == 0:
        return 0.0
    with np.errstate(invalid="ignore"):
        from scipy.spatial.distance import jensenshannon

        distance = float(jensenshannon(p / p.sum(), q / q.sum(), base=2))
    return 0.0 if np.isnan(distance) else distance  # equal shares: the divergence rounds below 0, its root is NaN


def rise_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """One-sided Fisher exact test that the rate x1/n1 exceeds x2/n2 (Fisher 1935, *The Design of Experiments*;
    Agresti 2013, *Categorical Data Analysis*, 3rd ed., §3.5; scipy.stats.fisher_exact). Conditional on the
    margins, so it never runs over its level, however few the events."""
    if min(n1, n2) == 0:
        return 1.0
    from scipy.stats import fisher_exact  # imported here: scipy.stats costs a second and a half to import

    return float(fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="greater").pvalue)


def benjamini_hochberg(p_values: list[float], q: float = 0.05) -> list[bool]:
    """Which hypotheses are rejected with the false discovery rate controlled at q (Benjamini & Hochberg 1995,
    JRSS B 57:289–300): reject the k smallest, k the largest i with p_(i) <= i q / m."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    cutoff = 0
    for rank, index in enumerate(order, start=1):
        if p_values[index] <= rank * q / m:
            cutoff = rank
    rejected = set(order[:cutoff])
    return [i in rejected for i in range(m)]
