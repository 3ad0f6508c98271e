"""A cycle's sampling plan: per decision point, its tier's attribute plan for its population, capped by it."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, replace

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.ledger import sha256_hex
from assurance_pipeline.sampling.fingerprints import FINGERPRINT_ALGORITHM
from assurance_pipeline.sampling.plans import BINOMIAL, HYPERGEOMETRIC, Evaluation, attribute_sample_size, evaluate
from assurance_pipeline.sampling.population import PopulationProfile
from assurance_pipeline.sampling.two_stage import ACCEPT_FIRST, ACCEPT_TOTAL, stage_conclusion, two_stage_plan
from assurance_pipeline.standard.models import RiskTier, Standard

SELECTION_ALGORITHM = "stratified-keyed-sha256-lowest-n/v1"
# A point with an open finding or recent deviations is tested at this confidence (or its tier's, if higher).
HEIGHTENED_CONFIDENCE = 0.99


@dataclass(frozen=True)
class PointPlan:
    decision_point: str
    risk_tier: str
    confidence: float
    tolerable_deviation_rate: float
    expected_deviation_rate: float
    planned_sample_size: int
    allowed_deviations: int
    population: int
    sample_size: int
    population_fingerprint: str = ""
    stage: int = 1
    two_stage: dict | None = None
    intensity: str = "normal"
    expansion_reason: str = ""
    distribution: str = BINOMIAL  # what the point is evaluated with; plans recorded before it were all binomial

    @property
    def whole_population(self) -> bool:
        return self.sample_size == self.population


@dataclass(frozen=True)
class SamplingPlan:
    seed: str
    algorithm: str
    points: list[PointPlan]
    key_id: str = ""
    fingerprint_algorithm: str = FINGERPRINT_ALGORITHM

    @property
    def seed_sha256(self) -> str:
        return sha256_hex(self.seed)

    def point(self, decision_point: str) -> PointPlan:
        return next(p for p in self.points if p.decision_point == decision_point)

    def to_dict(self) -> dict:
        return {
            "seed": self.seed, "seed_sha256": self.seed_sha256, "algorithm": self.algorithm, "key_id": self.key_id,
            "fingerprint_algorithm": self.fingerprint_algorithm, "points": [asdict(p) for p in self.points],
        }

    @classmethod
    def from_dict(cls, data: dict) -> SamplingPlan:
        return cls(data["seed"], data["algorithm"], [PointPlan(**p) for p in data["points"]], data.get("key_id", ""),
                   data.get("fingerprint_algorithm", FINGERPRINT_ALGORITHM))


def new_seed() -> str:
    """A fresh 128-bit seed: unpredictable to the audited party, recorded so anyone can re-draw."""
    return secrets.token_hex(16)


def build_plan(
    standard: Standard, population: PopulationProfile, points: list[str], seed: str, key_id: str = "",
    heightened: dict[str, str] | None = None, stage: int = 1,
) -> SamplingPlan:
    """Size every point in scope by its tier and its population (AICPA attribute sampling, hypergeometric when the
    binomial sample is more than a tenth of the population, or a two-stage plan where the tier asks for one); a point
    with a recent signal is sampled at HEIGHTENED_CONFIDENCE; a population smaller than its plan is tested whole."""
    heightened = heightened or {}
    plans = []
    for point_id in points:
        point = standard.decision_points[point_id]
        tier = standard.tier(point)
        confidence = max(tier.confidence, HEIGHTENED_CONFIDENCE) if point_id in heightened else tier.confidence
        size = population.frame(point_id)  # the decisions that can be sampled (ids logged once)
        try:
            planned, allowed, two_stage, distribution = _size(tier, confidence, stage, size)
        except ValueError as err:
            raise AssuranceError(f"risk tier '{point.risk_tier}' of decision point {point_id} (population {size}): {err}") from None
        sample = min(planned, size)
        plans.append(PointPlan(
            decision_point=point_id, risk_tier=point.risk_tier, confidence=confidence,
            tolerable_deviation_rate=tier.tolerable_deviation_rate, expected_deviation_rate=tier.expected_deviation_rate,
            planned_sample_size=planned, allowed_deviations=allowed, population=size, sample_size=sample,
            population_fingerprint=population.fingerprint(point_id), stage=stage, two_stage=two_stage,
            intensity="heightened" if point_id in heightened else "normal", expansion_reason=heightened.get(point_id, ""),
            distribution=HYPERGEOMETRIC if 0 < sample == size else distribution,  # a whole population is exact
        ))
    return SamplingPlan(seed=seed, algorithm=SELECTION_ALGORITHM, points=plans, key_id=key_id)


def _size(tier: RiskTier, confidence: float, stage: int, population: int) -> tuple[int, int, dict | None, str]:
    """(sample size, deviations allowed, the two-stage plan if any, distribution) for this stage of the tier's plan.

    Two-stage plans stay binomial (their stage rule is sized for independent draws); a point small enough that
    the stages take it whole is tested whole, which build_plan records as exact (hypergeometric)."""
    if tier.two_stage:
        two = two_stage_plan(confidence, tier.tolerable_deviation_rate)
        if stage == 1:
            return two.first_stage, ACCEPT_FIRST, two.to_dict(), BINOMIAL
        return two.first_stage + two.second_stage, ACCEPT_TOTAL, two.to_dict(), BINOMIAL
    plan = attribute_sample_size(confidence, tier.tolerable_deviation_rate, tier.expected_deviation_rate, population or None)
    return plan.sample_size, plan.allowed_deviations, None, plan.distribution


def evaluate_point(point: PointPlan, sample_size: int, deviations: int) -> Evaluation:
    """The attribute evaluation in the plan's distribution (upper deviation limit, conclusion); a whole population is
    exact; a two-stage plan short of the whole population concludes by its stage rule."""
    distribution = HYPERGEOMETRIC if sample_size == point.population else point.distribution
    result = evaluate(sample_size, deviations, point.confidence, point.tolerable_deviation_rate, point.population, distribution)
    if point.two_stage and sample_size != point.population:
        return replace(result, conclusion=stage_conclusion(point.stage, deviations))
    return result
