"""A cycle's sampling plan: per decision point, its tier's attribute plan capped by the population."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass

from assurance_pipeline.evidence.ledger import sha256_hex
from assurance_pipeline.sampling.fingerprints import FINGERPRINT_ALGORITHM
from assurance_pipeline.sampling.plans import attribute_sample_size
from assurance_pipeline.sampling.population import PopulationProfile
from assurance_pipeline.standard.models import Standard

SELECTION_ALGORITHM = "stratified-keyed-sha256-lowest-n/v1"


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


def build_plan(standard: Standard, population: PopulationProfile, tiers: list[str] | None, seed: str, key_id: str = "") -> SamplingPlan:
    """Size every point in scope by its tier (AICPA attribute sampling); test all of a smaller population."""
    points = []
    for point in standard.points_in_tiers(tiers):
        tier = standard.tier(point)
        plan = attribute_sample_size(tier.confidence, tier.tolerable_deviation_rate, tier.expected_deviation_rate)
        size = population.count(point.id)
        points.append(
            PointPlan(
                decision_point=point.id, risk_tier=point.risk_tier, confidence=tier.confidence,
                tolerable_deviation_rate=tier.tolerable_deviation_rate,
                expected_deviation_rate=tier.expected_deviation_rate, planned_sample_size=plan.sample_size,
                allowed_deviations=plan.allowed_deviations, population=size, sample_size=min(plan.sample_size, size),
                population_fingerprint=population.fingerprint(point.id),
            )
        )
    return SamplingPlan(seed=seed, algorithm=SELECTION_ALGORITHM, points=points, key_id=key_id)
