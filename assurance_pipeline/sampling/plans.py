"""Attribute sampling for tests of controls: sample sizes and evaluation.

Plain Python statistics (no Dagster). Sample sizes follow the binomial rule of
the AICPA Audit Guide: Audit Sampling (2019), ch. 3 and appendix A tables; the
evaluation uses the one-sided Clopper & Pearson (1934) upper bound.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from decimal import Decimal
from fractions import Fraction

from scipy.stats import beta

WITHIN_TOLERABLE = "within_tolerable"
EXCEEDS = "exceeds"
INCONCLUSIVE = "inconclusive"


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


@dataclass(frozen=True)
class AttributePlan:
    confidence: float
    tolerable_deviation_rate: float
    expected_deviation_rate: float
    sample_size: int
    allowed_deviations: int

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


def attribute_sample_size(
    confidence: float, tolerable: float, expected: float = 0.0, max_n: int = 5000
) -> AttributePlan:
    """Smallest n with P(X <= ceil(n*expected); n, tolerable) <= 1 - confidence, in exact arithmetic.

    Binomial attribute-sampling rule of the AICPA Audit Guide: Audit Sampling (2019), ch. 3 and appendix A tables.
    """
    _check_open_unit("confidence", confidence)
    _check_open_unit("tolerable", tolerable)
    if isinstance(expected, bool) or not isinstance(expected, (int, float)) or not 0 <= expected < tolerable:
        raise ValueError(
            f"expected must be at least 0 and below tolerable ({tolerable!r}), got {expected!r}"
        )
    _check_count("max_n", max_n, 1)

    alpha, t, e = 1 - exact_decimal(confidence), exact_decimal(tolerable), exact_decimal(expected)
    # P(X <= k) >= P(X = 0) = (1-t)^n, so the zero-deviation size bounds n from below;
    # the float estimate is lowered by 1 to absorb rounding. k changes with n, so the
    # condition is not monotone: scan every n upward from that bound.
    start = max(1, math.floor(math.log(float(alpha)) / math.log1p(-float(t))) - 1)
    for n in range(start, max_n + 1):
        k = math.ceil(n * e)
        if _binomial_cdf_at_most(n, k, t, alpha):
            return AttributePlan(confidence, tolerable, expected, n, k)
    raise ValueError(
        f"no sample size up to max_n={max_n} reaches {confidence!r} confidence for "
        f"tolerable={tolerable!r} and expected={expected!r}"
    )


def upper_deviation_limit(sample_size: int, deviations: int, confidence: float) -> float:
    """One-sided Clopper-Pearson upper bound: the p with P(X <= k; n, p) = 1 - confidence.

    Clopper & Pearson (1934) Biometrika 26:404-413; as the AICPA Audit Guide: Audit Sampling (2019) appendix A evaluation tables.
    """
    _check_count("sample_size", sample_size, 0)
    _check_count("deviations", deviations, 0, sample_size)
    _check_open_unit("confidence", confidence)
    if deviations == sample_size:  # includes n == 0: nothing observed, nothing bounded
        return 1.0
    return float(beta.ppf(confidence, deviations + 1, sample_size - deviations))


def conclude(sample_size: int, deviations: int, confidence: float, tolerable: float) -> str:
    """'exceeds' if deviations/n > tolerable, 'within_tolerable' if the upper limit <= tolerable, else 'inconclusive'.

    Evaluation of attribute samples per AICPA Audit Guide: Audit Sampling (2019), ch. 3, with the Clopper & Pearson (1934) upper limit.
    """
    _check_count("sample_size", sample_size, 1)
    _check_open_unit("tolerable", tolerable)
    upper = upper_deviation_limit(sample_size, deviations, confidence)
    if Fraction(deviations, sample_size) > exact_decimal(tolerable):
        return EXCEEDS
    return WITHIN_TOLERABLE if upper <= tolerable else INCONCLUSIVE


@dataclass(frozen=True)
class Evaluation:
    sample_size: int
    deviations: int
    deviation_rate: float
    upper_deviation_limit: float
    tolerable_deviation_rate: float
    confidence: float
    conclusion: str

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate(sample_size: int, deviations: int, confidence: float, tolerable: float, population: int | None = None) -> Evaluation:
    """Observed rate, Clopper-Pearson upper limit and conclusion for one attribute sample.

    AICPA Audit Guide: Audit Sampling (2019), ch. 3 and appendix A; Clopper & Pearson (1934) Biometrika 26:404-413.
    A sample that is the whole population carries no sampling risk (a 100% examination is not sampling, ibid.
    ch. 1): the observed rate is exact and is its own upper limit, so it is never inconclusive.
    """
    rate = deviations / sample_size if sample_size else 0.0
    if population is not None and sample_size == population:
        _check_open_unit("tolerable", tolerable)
        conclusion = EXCEEDS if Fraction(deviations, max(sample_size, 1)) > exact_decimal(tolerable) else WITHIN_TOLERABLE
        return Evaluation(sample_size, deviations, rate, rate, tolerable, confidence, conclusion)
    return Evaluation(
        sample_size=sample_size,
        deviations=deviations,
        deviation_rate=rate,
        upper_deviation_limit=upper_deviation_limit(sample_size, deviations, confidence),
        tolerable_deviation_rate=tolerable,
        confidence=confidence,
        conclusion=conclude(sample_size, deviations, confidence, tolerable),
    )
