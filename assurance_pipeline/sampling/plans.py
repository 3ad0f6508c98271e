"""Attribute sampling for tests of controls: sample sizes and evaluation.

Plain Python statistics (no Dagster). A large population follows the binomial rule of the AICPA Audit Guide:
Audit Sampling (2019), ch. 3 and appendix A tables, evaluated by the one-sided Clopper & Pearson (1934) upper bound.

A small population is sampled without replacement, and it shows: when the binomial plan's n is more than a tenth
of the population N, plans and upper limits use the hypergeometric distribution instead (the rule of thumb of
Hayes, Dassen, Schilder & Wallage, Principles of Auditing, 2nd ed., appendix to ch. 10, online copy
fliphtml5.com/cviyu/klrq pp. 428-429: the population's size wears off once it is more than ten times the
binomial sample). Below that share the AICPA tables are kept as published. In the hypergeometric, the
tolerable rate t is a count of deviating decisions in the population, D_t = ceil(t * N), the fewest whose rate
reaches t, as in jfa (Derks et al., R package, `planning` with likelihood "hypergeometric"): N = 60 at 5% is
D_t = 3. The plans reproduce the textbook's worked examples and the published hypergeometric sizes of DCAA
EZ-Quant 2.0.6 and AuditSampler (2015); see assurance_pipeline_tests/sampling/test_finite_population.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from fractions import Fraction

WITHIN_TOLERABLE = "within_tolerable"
EXCEEDS = "exceeds"
INCONCLUSIVE = "inconclusive"
BINOMIAL = "binomial"
HYPERGEOMETRIC = "hypergeometric"
MAX_SAMPLE = 1_000_000  # a plan past this size means the expected rate sits too close to the tolerable rate
# A float probability more than this share above alpha is surely above it exactly (scipy's error is near 1e-14).
_FLOAT_SLACK = 1e-6
_PURE_PYTHON_TERMS = 400  # screening sums this many terms per n in plain floats; beyond it scipy (imported then) is faster


def exact_decimal(x: float) -> Fraction:
    """The decimal the caller wrote (0.07 -> 7/100), not the binary float."""
    return Fraction(Decimal(str(x)))


def _check_open_unit(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ValueError(f"{name} must be between 0 and 1 (exclusive), got {value!r}")


def _check_count(name: str, value: int, low: int, high: int | None = None) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
    if not ok or (high is not None and value > high):
        upper = "" if high is None else f" and at most {high}"
        raise ValueError(f"{name} must be an integer of at least {low}{upper}, got {value!r}")


def _check_distribution(distribution: str | None, population: int | None) -> None:
    if distribution not in (None, BINOMIAL, HYPERGEOMETRIC):
        raise ValueError(f"distribution must be '{BINOMIAL}' or '{HYPERGEOMETRIC}', got {distribution!r}")
    if distribution == HYPERGEOMETRIC and population is None:
        raise ValueError("the hypergeometric distribution needs the population size")


def tolerable_deviations(tolerable: float, population: int) -> int:
    """D_t = ceil(t * N), exactly: the fewest deviating decisions whose rate in the population reaches t."""
    return math.ceil(exact_decimal(tolerable) * population)


def is_material_share(sample_size: int, population: int | None) -> bool:
    """True when the sample is more than a tenth of a known population: then it is sized and evaluated without replacement."""
    return population is not None and 10 * sample_size > population


@dataclass(frozen=True)
class AttributePlan:
    confidence: float
    tolerable_deviation_rate: float
    expected_deviation_rate: float
    sample_size: int
    allowed_deviations: int
    distribution: str = BINOMIAL
    population: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _binomial_cdf_at_most(n: int, k: int, t: Fraction, alpha: Fraction) -> bool:
    """Exactly decide P(X <= k; n, t) <= alpha with integer arithmetic.

    With t = a/b and alpha = p/q the test is
    q * sum_{i<=k} C(n,i) a^i (b-a)^(n-i) <= p * b^n.
    """
    a, b = t.numerator, t.denominator
    c = b - a
    # sum_{i<=k} C(n,i) a^i c^(k-i), then times c^(n-k): keeps the loop on small ints.
    inner, term = 0, c**k  # term = C(n,i) a^i c^(k-i), starting at i = 0
    for i in range(k + 1):
        inner += term
        if i < k:
            term = term * (n - i) * a // ((i + 1) * c)
    return alpha.denominator * inner * c ** (n - k) <= alpha.numerator * b**n


def _hypergeometric_cdf_at_most(population: int, deviating: int, n: int, k: int, alpha: Fraction) -> bool:
    """Exactly decide P(X <= k; N, D, n) <= alpha: q * sum_{i<=k} C(D,i) C(N-D,n-i) <= p * C(N,n), in integers."""
    good = population - deviating
    first = max(0, n - good)  # fewer deviations than this cannot be drawn
    if k < first:
        return True  # P = 0
    term, total = math.comb(deviating, first) * math.comb(good, n - first), 0
    for i in range(first, min(k, deviating, n) + 1):
        total += term  # term = C(D,i) C(N-D,n-i); the next one by the exact ratio of consecutive terms
        if i < min(k, deviating, n):
            term = term * (deviating - i) * (n - i) // ((i + 1) * (good - n + i + 1))
    return alpha.denominator * total <= alpha.numerator * math.comb(population, n)


def _binomial_log_terms(n: int, k: int, t: float) -> list[float]:
    """log P(X = i; n, t) for i = 0..k, by the ratio of consecutive terms."""
    terms = [n * math.log1p(-t)]
    for i in range(k):
        terms.append(terms[-1] + math.log((n - i) / (i + 1)) + math.log(t) - math.log1p(-t))
    return terms


def _hypergeometric_log_terms(population: int, deviating: int, n: int, k: int) -> list[float]:
    """log P(X = i; N, D, n) for the i <= k that can be drawn."""
    good = population - deviating
    total = _log_comb(population, n)
    return [_log_comb(deviating, i) + _log_comb(good, n - i) - total for i in range(max(0, n - good), min(k, deviating, n) + 1)]


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _log_sum_exp(logs: list[float]) -> float:
    """sum(exp(logs)) without underflow: the screening probability in plain floats (relative error near 1e-12)."""
    if not logs:
        return 0.0
    top = max(logs)
    return math.exp(top) * math.fsum(math.exp(v - top) for v in logs)


def _ceil_times(n: int, rate: Fraction) -> int:
    return -(-n * rate.numerator // rate.denominator)


def _scan(start: int, stop: int, approx: Callable[[list[int]], list[float]], alpha: Fraction,
          exact: Callable[[int], bool]) -> int | None:
    """The smallest n in start..stop passing `exact`: floats screen blocks of n that double in size, and only the n
    whose float probability is not clearly above alpha go to the exact integer test."""
    ceiling = float(alpha) * (1 + _FLOAT_SLACK)
    low, block = start, 256
    while low <= stop:
        ns = range(low, min(stop, low + block - 1) + 1)
        found = next((n for n, p in zip(ns, approx(list(ns)), strict=True) if p <= ceiling and exact(n)), None)
        if found is not None:
            return found
        low, block = ns.stop, block * 2
    return None


def _binomial_size(alpha: Fraction, t: Fraction, e: Fraction, max_n: int) -> int | None:
    """Smallest n with P(X <= ceil(n*e); n, t) <= alpha. k changes with n, so the condition is not monotone:
    every n from the zero-deviation bound up is screened (scipy) and the candidates decided exactly."""
    # P(X <= k) >= P(X = 0) = (1-t)^n bounds n from below; lowered by 1 to absorb float rounding.
    start = max(1, math.floor(math.log(float(alpha)) / math.log1p(-float(t))) - 1)

    def approx(ns: list[int]) -> list[float]:
        ks = [_ceil_times(n, e) for n in ns]
        if max(ks) > _PURE_PYTHON_TERMS:
            from scipy.special import bdtr  # binom.cdf's own function, without importing scipy.stats

            return [float(p) for p in bdtr(ks, ns, float(t))]
        return [_log_sum_exp(_binomial_log_terms(n, k, float(t))) for n, k in zip(ns, ks, strict=True)]

    return _scan(start, max_n, approx, alpha, lambda n: _binomial_cdf_at_most(n, _ceil_times(n, e), t, alpha))


def _hypergeometric_size(alpha: Fraction, tolerable: float, e: Fraction, population: int) -> int:
    """Smallest n with P(X <= ceil(n*e); N, D_t, n) <= alpha, or N (the whole population) if no smaller n does."""
    deviating = tolerable_deviations(tolerable, population)
    # P(X <= k) >= P(X = 0) = prod_{j<n} (N-D_t-j)/(N-j): no n below the first where that product reaches alpha.
    start, zero = population, 1.0
    for drawn in range(population):
        zero *= (population - deviating - drawn) / (population - drawn)
        if zero <= float(alpha) * (1 + _FLOAT_SLACK):
            start = drawn + 1
            break

    def approx(ns: list[int]) -> list[float]:
        ks = [_ceil_times(n, e) for n in ns]
        if max(ks) > _PURE_PYTHON_TERMS:
            from scipy.stats import hypergeom

            return [float(p) for p in hypergeom.cdf(ks, population, deviating, ns)]
        return [_log_sum_exp(_hypergeometric_log_terms(population, deviating, n, k)) for n, k in zip(ns, ks, strict=True)]

    found = _scan(start, population, approx, alpha,
                  lambda n: _hypergeometric_cdf_at_most(population, deviating, n, _ceil_times(n, e), alpha))
    return population if found is None else found


def attribute_sample_size(
    confidence: float, tolerable: float, expected: float = 0.0, population: int | None = None, max_n: int = MAX_SAMPLE,
    distribution: str | None = None,
) -> AttributePlan:
    """Smallest n with P(X <= ceil(n*expected)) <= 1 - confidence at the tolerable rate, in exact arithmetic.

    Binomial (AICPA Audit Guide: Audit Sampling (2019), ch. 3 and appendix A tables) unless a population N is given
    and the binomial n is more than a tenth of it; then hypergeometric with D_t = ceil(tolerable * N) deviating
    decisions (see the module docstring). `distribution` overrides that rule (the hypergeometric needs N). If no n
    below N meets the hypergeometric test, the plan is the whole population, which allows floor(tolerable * N)
    deviations: a 100% examination has no sampling risk. Candidates are screened in floats (scipy) and decided by
    the exact integer test, so plans of thousands stay fast.
    """
    _check_open_unit("confidence", confidence)
    _check_open_unit("tolerable", tolerable)
    if isinstance(expected, bool) or not isinstance(expected, (int, float)) or not 0 <= expected < tolerable:
        raise ValueError(
            f"expected must be at least 0 and below tolerable ({tolerable!r}), got {expected!r}"
        )
    _check_count("max_n", max_n, 1)
    if population is not None:
        _check_count("population", population, 1)
    _check_distribution(distribution, population)

    alpha, t, e = 1 - exact_decimal(confidence), exact_decimal(tolerable), exact_decimal(expected)
    n = None if distribution == HYPERGEOMETRIC else _binomial_size(alpha, t, e, max_n)
    # n None here: more than max_n, so a material share of any population up to 10 * max_n.
    if distribution == HYPERGEOMETRIC or (distribution is None and is_material_share(max_n + 1 if n is None else n, population)):
        n = _hypergeometric_size(alpha, tolerable, e, population)
        allowed = math.floor(t * population) if n == population else _ceil_times(n, e)
        return AttributePlan(confidence, tolerable, expected, n, allowed, HYPERGEOMETRIC, population)
    if n is None:
        raise ValueError(
            f"no sample size up to max_n={max_n:,} reaches {confidence!r} confidence for tolerable={tolerable!r} and "
            f"expected={expected!r}: the expected rate is too close to the tolerable rate"
        )
    return AttributePlan(confidence, tolerable, expected, n, _ceil_times(n, e), BINOMIAL, population)


def hypergeometric_upper_count(sample_size: int, deviations: int, population: int, confidence: float) -> int:
    """max{D : P(X <= k; N, D, n) > 1 - confidence}: the most deviating decisions the sample does not rule out.

    The exact one-sided bound for sampling without replacement, the convention of jfa's `evaluation`
    (method "hypergeometric": the largest K with phyper(k; K, N-K, n) > 1 - conf.level). P falls as D grows,
    so a binary search over D in [k, N - (n - k)] finds it; a whole population gives D = k.
    """
    alpha = 1 - exact_decimal(confidence)
    low, high = deviations, population - (sample_size - deviations)
    while low < high:
        middle = (low + high + 1) // 2
        if _hypergeometric_cdf_at_most(population, middle, sample_size, deviations, alpha):
            high = middle - 1
        else:
            low = middle
    return low


def _check_sample(sample_size: int, deviations: int, confidence: float, population: int | None) -> None:
    _check_count("sample_size", sample_size, 0)
    _check_count("deviations", deviations, 0, sample_size)
    _check_open_unit("confidence", confidence)
    if population is not None:
        _check_count("population", population, max(sample_size, 1))


def upper_deviation_limit(sample_size: int, deviations: int, confidence: float, population: int | None = None) -> float:
    """One-sided upper limit of the population's deviation rate at the confidence.

    Without a population: Clopper-Pearson, the p with P(X <= k; n, p) = 1 - confidence (Clopper & Pearson (1934)
    Biometrika 26:404-413; as the AICPA Audit Guide: Audit Sampling (2019) appendix A evaluation tables).
    With a population N: hypergeometric, hypergeometric_upper_count(...) / N.
    """
    _check_sample(sample_size, deviations, confidence, population)
    if population is not None:
        return hypergeometric_upper_count(sample_size, deviations, population, confidence) / population
    if deviations == sample_size:  # includes n == 0: nothing observed, nothing bounded
        return 1.0
    from scipy.special import betaincinv  # beta.ppf's own function, without importing scipy.stats

    return float(betaincinv(deviations + 1, sample_size - deviations, confidence))


def rounded_up(rate: float, places: int) -> float:
    """A rate rounded UP to `places` decimals: an upper limit rounded down would claim more assurance than the sample
    gives. Within 1e-6 of a step counts as on it, so float noise (0.07 * 1000 is 70.00000000000001) stays 70."""
    return math.ceil(round(rate * 10**places, 6)) / 10**places


def format_upper_limit(rate: float) -> str:
    """An upper deviation limit as a percentage rounded UP to 0.1%, as the AICPA evaluation tables print it
    (7.74% -> 7.8%)."""
    return f"{rounded_up(rate, 3) * 100:.1f}%"


def conclude(sample_size: int, deviations: int, confidence: float, tolerable: float, population: int | None = None) -> str:
    """'exceeds' if deviations/n > tolerable, 'within_tolerable' if the upper limit <= tolerable, else 'inconclusive'.

    Evaluation of attribute samples per AICPA Audit Guide: Audit Sampling (2019), ch. 3, with the Clopper & Pearson
    (1934) upper limit, or with a population the hypergeometric one, compared exactly (count/N against t).
    """
    _check_count("sample_size", sample_size, 1)
    _check_open_unit("tolerable", tolerable)
    _check_sample(sample_size, deviations, confidence, population)
    t = exact_decimal(tolerable)
    if population is None:
        within = upper_deviation_limit(sample_size, deviations, confidence) <= tolerable
    else:
        within = Fraction(hypergeometric_upper_count(sample_size, deviations, population, confidence), population) <= t
    if Fraction(deviations, sample_size) > t:
        return EXCEEDS
    return WITHIN_TOLERABLE if within else INCONCLUSIVE


@dataclass(frozen=True)
class Evaluation:
    sample_size: int
    deviations: int
    deviation_rate: float
    upper_deviation_limit: float
    tolerable_deviation_rate: float
    confidence: float
    conclusion: str
    distribution: str = BINOMIAL
    population: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate(sample_size: int, deviations: int, confidence: float, tolerable: float, population: int | None = None,
             distribution: str | None = None) -> Evaluation:
    """Observed rate, upper deviation limit and conclusion for one attribute sample.

    AICPA Audit Guide: Audit Sampling (2019), ch. 3 and appendix A; Clopper & Pearson (1934) Biometrika 26:404-413.
    `distribution` is the plan's; left out, it is hypergeometric when the sample is more than a tenth of a known
    population, else binomial. A sample that is the whole population is always hypergeometric, whose limit is then
    the observed rate itself: a 100% examination is not sampling (ibid. ch. 1) and is never inconclusive.
    """
    _check_distribution(distribution, population)
    if population is not None and (sample_size == population or (distribution is None and is_material_share(sample_size, population))):
        distribution = HYPERGEOMETRIC
    distribution = distribution or BINOMIAL
    finite = population if distribution == HYPERGEOMETRIC else None
    return Evaluation(
        sample_size=sample_size,
        deviations=deviations,
        deviation_rate=deviations / sample_size if sample_size else 0.0,
        upper_deviation_limit=upper_deviation_limit(sample_size, deviations, confidence, finite),
        tolerable_deviation_rate=tolerable,
        confidence=confidence,
        conclusion=conclude(sample_size, deviations, confidence, tolerable, finite),
        distribution=distribution,
        population=population,
    )
