"""Outcome Evidence over a sample, concluded with its sampling error.

A metric `avg(x)` over n sampled decisions estimates the window's mean of x. It gets a two-sided
confidence interval at the tier's confidence:

- x takes only the values 0 and 1 (a share): the exact Clopper & Pearson (1934) interval, Biometrika
  26:404-413, on the k decisions with x = 1 among the n with a value;
- any other x: Student's t interval corrected for skewness by Hall's (1992) transformation (J. R. Statist.
  Soc. B 54:221-228; compared in Zhou & Dinh 2005, Biostatistics 6:187-200): the plain t interval misses
  on one side far more often than its level when x is skewed (an amount, a duration), the transformed one
  much less; the finite-population correction is left out, which keeps it wider. No interval from a sample
  can hold its level for every distribution of x (Bahadur & Savage 1956): for heavy tails and small
  samples compute the metric over the window instead (see benchmarks/outcome_evidence.py).

The metric `exceeds` its expectation only when the whole interval lies beyond a bound, is `within` when
the whole interval lies inside, and is `inconclusive` otherwise; then the sample size that would decide
is the smallest n at which an interval around the same estimate would clear the bound. With the interval
two-sided at confidence c, a metric whose true value sits exactly on a bound is found to exceed it in at
most (1 - c) / 2 of cycles.
"""

from __future__ import annotations

import math


WITHIN = "within"
EXCEEDS = "exceeds"
INCONCLUSIVE = "inconclusive"
MAX_DECIDING_SIZE = 10**8


def proportion_interval(successes: int, n: int, confidence: float) -> tuple[float, float]:
    """Two-sided Clopper–Pearson interval for `successes` of `n` (real-valued successes are allowed, for planning)."""
    from scipy.stats import beta  # imported where used (scipy.stats is slow to import)

    tail = (1 - confidence) / 2
    low = 0.0 if successes <= 0 else float(beta.ppf(tail, successes, n - successes + 1))
    high = 1.0 if successes >= n else float(beta.ppf(1 - tail, successes + 1, n - successes))
    return low, high


def mean_interval(n: int, mean: float, sd: float, skewness: float, confidence: float) -> tuple[float, float]:
    """Two-sided interval for a mean of `n` values (sample SD `sd`, skewness m3 / sd^3) by Hall's transformation
    of the studentized mean T: g(T) = T + a T^2 / 3 + a^2 T^3 / 27 + a / 6 with a = skewness / sqrt(n), which is
    monotone and inverts in closed form; g(T) is referred to Student's t with n - 1 degrees of freedom."""
    if n < 2:
        return -math.inf, math.inf
    from scipy.stats import t

    quantile, a, scale = float(t.ppf((1 + confidence) / 2, n - 1)), skewness / math.sqrt(n), sd / math.sqrt(n)

    def inverse(u: float) -> float:
        if abs(a) < 1e-12:
            return u
        return 3 / a * (math.copysign(abs(1 + a * (u - a / 6)) ** (1 / 3), 1 + a * (u - a / 6)) - 1)

    return mean - inverse(quantile) * scale, mean - inverse(-quantile) * scale


def judge(low: float, high: float, expect_min: float | None, expect_max: float | None) -> str:
    """`exceeds` if the interval lies wholly beyond a bound, `within` if wholly inside, else `inconclusive`."""
    if (expect_max is not None and low > expect_max) or (expect_min is not None and high < expect_min):
        return EXCEEDS
    if (expect_max is None or high <= expect_max) and (expect_min is None or low >= expect_min):
        return WITHIN
    return INCONCLUSIVE


def deciding_size(interval, estimate: float, expect_min: float | None, expect_max: float | None) -> int | None:
    """The smallest n at which `interval(n)` (an interval around `estimate` with n values) no longer straddles
    a bound; None when the estimate sits on a bound (no sample size decides) or beyond MAX_DECIDING_SIZE."""
    bounds = [b for b in (expect_min, expect_max) if b is not None]
    if any(estimate == b for b in bounds):
        return None

    def decided(n: int) -> bool:
        return judge(*interval(n), expect_min, expect_max) != INCONCLUSIVE

    high = 2
    while not decided(high):
        high *= 2
        if high > MAX_DECIDING_SIZE:
            return None
    low = high // 2
    while low + 1 < high:  # decided(high), not decided(low)
        middle = (low + high) // 2
        low, high = (low, middle) if decided(middle) else (middle, high)
    return high


def conclude_share(successes: int, n: int, confidence: float, expect_min: float | None, expect_max: float | None) -> dict:
    """A share over the sample: Clopper–Pearson interval, conclusion and, if inconclusive, the size that would decide."""
    low, high = proportion_interval(successes, n, confidence)
    rate = successes / n
    verdict = judge(low, high, expect_min, expect_max)
    needed = None
    if verdict == INCONCLUSIVE:
        needed = deciding_size(lambda m: proportion_interval(rate * m, m, confidence), rate, expect_min, expect_max)
    return {"method": "clopper-pearson", "interval_low": low, "interval_high": high, "conclusion": verdict, "deciding_sample_size": needed}


def conclude_mean(n: int, mean: float, sd: float, skewness: float, confidence: float,
                  expect_min: float | None, expect_max: float | None) -> dict:
    """A mean over the sample: Hall's skewness-corrected t interval, conclusion and, if inconclusive, the size that
    would decide (with the same mean, SD and skewness)."""
    low, high = mean_interval(n, mean, sd, skewness, confidence)
    verdict = judge(low, high, expect_min, expect_max)
    needed = None
    if verdict == INCONCLUSIVE and sd > 0:
        needed = deciding_size(lambda m: mean_interval(m, mean, sd, skewness, confidence), mean, expect_min, expect_max)
    return {"method": "hall-t", "interval_low": low, "interval_high": high, "conclusion": verdict, "deciding_sample_size": needed}
