"""Outcome trends across cycles: drift no single cycle shows, found by a CUSUM over the ledger's aggregates.

Two-sided tabular CUSUM (Page 1954, Biometrika 41:100–115; Montgomery, *Introduction to Statistical
Quality Control*, 8th ed., §9.1): in units of sigma, C+ = max(0, C+ + z - k) and C- = max(0, C- - z - k)
with z = (x - target) / sigma, k = 0.5 and h = 5 (an in-control average run length of about 465 cycles).
The target is the go-live value of the metric; sigma is estimated from the series' moving ranges,
MR-bar / 1.128 (ibid. §6.4), which a slow trend barely inflates.
"""

from __future__ import annotations

from dataclasses import dataclass

from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.findings.model import Finding

CUSUM_K = 0.5
CUSUM_H = 5.0
MIN_CYCLES = 5
D2 = 1.128  # the d2 constant for moving ranges of two


@dataclass(frozen=True)
class Cusum:
    upper: float
    lower: float

    @property
    def statistic(self) -> float:
        return max(self.upper, self.lower)

    @property
    def direction(self) -> str:
        return "upward" if self.upper >= self.lower else "downward"


def moving_range_sigma(values: list[float]) -> float:
    ranges = [abs(b - a) for a, b in zip(values, values[1:], strict=False)]
    return (sum(ranges) / len(ranges)) / D2 if ranges else 0.0


def cusum(values: list[float], target: float, sigma: float, k: float = CUSUM_K) -> Cusum:
    """The tabular CUSUM after the last value, in units of sigma."""
    upper = lower = 0.0
    for x in values:
        z = (x - target) / sigma
        upper, lower = max(0.0, upper + z - k), max(0.0, lower - z - k)
    return Cusum(upper, lower)


def outcome_trend_findings(ledger: Ledger, outcomes: list[dict], baseline: dict | None) -> list[Finding]:
    """For each metric of this cycle: its values in earlier cycles (from the ledger) and now, against go-live."""
    history: dict[tuple[str, str], list[float]] = {}
    for entry in ledger.find("cycle_decision"):
        for o in entry.body.get("outcomes", []):
            if o["value"] is not None:
                history.setdefault((o["decision_point"], o["outcome_id"]), []).append(o["value"])
    findings = []
    for o in outcomes:
        series = [*history.get((o["decision_point"], o["outcome_id"]), []), o["value"]]
        if o["value"] is None or len(series) < MIN_CYCLES:
            continue
        golive = (((baseline or {}).get("points") or {}).get(o["decision_point"]) or {}).get("outcomes", {}).get(o["outcome_id"])
        target = golive if golive is not None else series[0]
        sigma = moving_range_sigma(series)
        if sigma <= 0:
            continue
        result = cusum(series, target, sigma)
        if result.statistic > CUSUM_H:
            shift = (o["value"] - target) / sigma
            findings.append(Finding(
                "outcome", "medium",
                f"{o['decision_point']}: {o['outcome_id']} ({o['title']}) has drifted {result.direction} over the last "
                f"{len(series)} cycles (CUSUM {result.statistic:.1f} sigma > {CUSUM_H:g}; go-live {target:.4g}, now {o['value']:.4g}, "
                f"{shift:+.1f} sigma)",
                o["decision_point"], statistic=result.statistic, threshold=CUSUM_H,
                details={"series": series, "target": target, "sigma": sigma, "method": "two-sided tabular CUSUM, k=0.5, h=5",
                         "effect_name": "shift_in_sigma", "effect": shift, "sample_size": len(series)},
            ))
    return findings
