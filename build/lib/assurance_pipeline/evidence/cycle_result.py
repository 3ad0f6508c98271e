"""The cycle's result in the shape `assurance cycle --json` prints (README: Commands)."""

from __future__ import annotations

from assurance_pipeline.findings.model import Finding


def point_rows(plan: dict, validations: dict[str, dict]) -> list[dict]:
    rows = []
    for p in plan["points"]:
        ev = validations.get(p["decision_point"], {}).get("evaluation", {})
        rows.append({
            "id": p["decision_point"], "risk_tier": p["risk_tier"], "population": p["population"],
            "planned_sample_size": p["planned_sample_size"], "sample_size": p["sample_size"],
            "deviations": ev.get("deviations", 0), "deviation_rate": ev.get("deviation_rate", 0.0),
            "upper_deviation_limit": ev.get("upper_deviation_limit", 1.0 if p["sample_size"] == 0 else 0.0),
            "tolerable_deviation_rate": p["tolerable_deviation_rate"], "confidence": p["confidence"],
            "conclusion": ev.get("conclusion", "not_tested"), "distribution": ev.get("distribution", p["distribution"]),
        })
    return rows


def cycle_result(cycle_id: str, window: dict, standard: dict, decision: str, points: list[dict], findings: list[Finding],
                 outcomes: list[dict] | None = None) -> dict:
    public = ("id", "decision_point", "kind", "severity", "summary", "statistic", "threshold", "key")
    recurrence = ("recurrence_of", "first_seen")  # only on a finding an earlier cycle opened
    kept = ("decision_point", "outcome_id", "title", "over", "value", "expect_min", "expect_max", "sample_size", "conclusion",
            "interval_low", "interval_high", "deciding_sample_size", "withheld")
    return {
        "cycle_id": cycle_id,
        "window": window,
        "decision": decision,
        "standard": standard,
        "decision_points": points,
        "findings": [{**{k: getattr(f, k) for k in public}, **{k: getattr(f, k) for k in recurrence if f.recurrence_of}} for f in findings],
        "outcomes": [{k: o[k] for k in kept} for o in outcomes or []],  # aggregates, for trends across cycles
    }
