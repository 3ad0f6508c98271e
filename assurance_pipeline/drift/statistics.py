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
from collections.abc import Callable

import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon

PERMUTATION_DRAWS = 10_000  # the smallest p-value a test can reach: 1e-4, under BH's first cut for up to 500 tests
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
    Monte Carlo with Besag & Clifford's (1991, Biometrika 78:301–304) sequential stopping, whose p-value never
    runs over its level: stop at the h-th draw at least as extreme (h = `exceedances`), p = h / draws so far,
    else p = (exceedances seen + 1) / `draws`. Seeded by the counts, so the same counts give the same p."""
    window, baseline = np.asarray(window, dtype=np.int64), np.asarray(baseline, dtype=np.int64)
    pool, n = window + baseline, int(window.sum())
    if n == 0 or n == pool.sum() or np.count_nonzero(pool) < 2:
        return 0.0, 1.0
    observed = float(statistic(window, pool, n)[0])
    rng = np.random.default_rng(_seed(window, baseline))
    drawn = exceeded = 0
    batch = 128
    while drawn < draws - 1:
        size = min(batch, draws - 1 - drawn)
        hits = np.cumsum(statistic(rng.multivariate_hypergeometric(pool, n, size=size), pool, n) >= observed * (1 - 1e-9))
        if exceeded + hits[-1] >= exceedances:
            return observed, exceedances / (drawn + int(np.searchsorted(hits, exceedances - exceeded)) + 1)
        exceeded, drawn, batch = exceeded + int(hits[-1]), drawn + size, batch * 4
    return observed, (exceeded + 1) / draws


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
    return float(jensenshannon(p / p.sum(), q / q.sum(), base=2))


def rise_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """One-sided Fisher exact test that the rate x1/n1 exceeds x2/n2 (Fisher 1935, *The Design of Experiments*;
    Agresti 2013, *Categorical Data Analysis*, 3rd ed., §3.5; scipy.stats.fisher_exact). Conditional on the
    margins, so it never runs over its level, however few the events."""
    if min(n1, n2) == 0:
        return 1.0
    return float(stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="greater").pvalue)


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
