"""Economic drift: cost per decision against the authored budget and against the go-live baseline.

Both means are exact population means from the cycle's aggregate scan (no sampling error), so the
comparison is a plain threshold: over budget, or more than COST_DRIFT_TOLERANCE above the baseline.
"""

from __future__ import annotations

from assurance_pipeline.findings.model import Finding
from assurance_pipeline.sampling.population import PopulationProfile
from assurance_pipeline.standard.models import Standard

COST_DRIFT_TOLERANCE = 0.25


def cost_findings(standard: Standard, population: PopulationProfile, baseline: dict | None, points: list[str]) -> list[Finding]:
    findings = []
    for point_id in points:
        point = standard.decision_points[point_id]
        mean, costed = population.mean_cost(point_id)
        if mean is None:
            continue
        if point.cost and mean > point.cost.budget_per_decision:
            budget = point.cost.budget_per_decision
            over = mean / budget - 1 if budget else None  # any cost is over a budget of 0, by no finite share
            findings.append(Finding(
                "cost", "medium",
                f"{point_id}: cost per decision {mean:.4f} is over the budget of {budget:.4f}"
                f"{f' ({over:+.0%})' if over is not None else ''} over {costed} decisions",
                point_id, statistic=mean, threshold=budget,
                details={"against": "budget", "effect_name": "relative_to_budget", "effect": over, "sample_size": costed},
            ))
        base = ((baseline or {}).get("points", {}).get(point_id) or {}).get("cost", {}).get("mean")
        if base and mean > base * (1 + COST_DRIFT_TOLERANCE):
            rise = mean / base - 1
            findings.append(Finding(
                "cost", "medium",
                f"{point_id}: cost per decision {mean:.4f} is {rise:+.0%} on the go-live baseline {base:.4f} "
                f"(tolerance {COST_DRIFT_TOLERANCE:.0%}) over {costed} decisions",
                point_id, statistic=mean, threshold=base * (1 + COST_DRIFT_TOLERANCE),
                details={"against": "baseline", "baseline_mean": base, "effect_name": "relative_to_baseline",
                         "effect": rise, "sample_size": costed},
            ))
    return findings
