"""Two-stage attribute sampling plans: expand the sample on a first signal, at no more than the nominal risk.

The structure of ISO 28596:1998 (two-stage sampling plans for auditing): draw n1; accept on 0
deviations, reject on 2 or more, and on exactly 1 draw n2 more and accept if the total stays at 1.
The risk of accepting when the true rate is the tolerable rate t is, exactly,
    P(accept | t) = (1-t)^n1 + n1 t (1-t)^(n1-1) (1-t)^n2,
and the plan is the smallest n1 (then the smallest n2 <= n1) that keeps it at most 1 - confidence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction

from assurance_pipeline.sampling.plans import exact_decimal

ACCEPT_FIRST = 0  # deviations in stage 1 that accept
REJECT_FROM = 2  # deviations in stage 1 that reject; exactly 1 extends
ACCEPT_TOTAL = 1  # deviations in both stages together that still accept


@dataclass(frozen=True)
class TwoStagePlan:
    confidence: float
    tolerable_deviation_rate: float
    first_stage: int
    second_stage: int

    def to_dict(self) -> dict:
        return asdict(self)


def acceptance_probability(first_stage: int, second_stage: int, rate: float | Fraction) -> Fraction:
    """Exact P(accept) of the two-stage plan when each decision deviates with probability `rate` (ISO 28596 structure)."""
    p = rate if isinstance(rate, Fraction) else exact_decimal(rate)
    q = 1 - p
    return q**first_stage + first_stage * p * q ** (first_stage - 1) * q**second_stage


def two_stage_plan(confidence: float, tolerable: float, max_n: int = 5000) -> TwoStagePlan:
    """The smallest n1, then smallest n2 <= n1, with P(accept | tolerable) <= 1 - confidence, in exact arithmetic."""
    if not 0 < confidence < 1 or not 0 < tolerable < 1:
        raise ValueError(f"confidence and tolerable must be between 0 and 1 (exclusive), got {confidence!r} and {tolerable!r}")
    alpha, p = 1 - exact_decimal(confidence), exact_decimal(tolerable)
    for n1 in range(1, max_n + 1):
        if (1 - p) ** n1 > alpha:
            continue  # stage 1 alone already accepts too often
        n2 = _smallest_second_stage(n1, p, alpha)
        if n2 is not None:
            return TwoStagePlan(confidence, tolerable, n1, n2)
    raise ValueError(f"no two-stage plan up to {max_n} decisions for confidence {confidence!r}, tolerable {tolerable!r}")


def _smallest_second_stage(n1: int, p: Fraction, alpha: Fraction) -> int | None:
    """Binary search: the risk falls as n2 grows, so the smallest n2 in 1..n1 that meets alpha, or None."""
    if acceptance_probability(n1, n1, p) > alpha:
        return None
    low, high = 1, n1
    while low < high:
        middle = (low + high) // 2
        if acceptance_probability(n1, middle, p) <= alpha:
            high = middle
        else:
            low = middle + 1
    return low


def stage_conclusion(stage: int, deviations: int) -> str:
    """Stage 1: within on 0, extend on 1, exceeds on 2+. Stage 2 (both stages' decisions): within on at most 1."""
    if stage == 1:
        return "within_tolerable" if deviations <= ACCEPT_FIRST else ("exceeds" if deviations >= REJECT_FROM else "extend")
    return "within_tolerable" if deviations <= ACCEPT_TOTAL else "exceeds"
