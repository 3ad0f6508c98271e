"""Expansion on signal: which decision points are sampled more deeply this cycle, and why.

A point with an open finding (no disposition yet), or with deviations in one of its last
RECENT_CYCLES tested cycles, is tested at heightened intensity; the reason goes into the plan's evidence.
"""

from __future__ import annotations

from assurance_pipeline.evidence.dispositions import list_findings
from assurance_pipeline.evidence.ledger import Ledger

RECENT_CYCLES = 3


def recent_signals(ledger: Ledger, points: list[str]) -> dict[str, str]:
    """Decision point -> the reason it is heightened, for the points in `points` that have a signal."""
    open_findings: dict[str, list[str]] = {}
    for finding in list_findings(ledger):
        if finding["disposition"] is None and finding.get("decision_point") in points:
            open_findings.setdefault(finding["decision_point"], []).append(finding["id"])
    tested: dict[str, list[tuple[str, int]]] = {}
    for entry in ledger.find("cycle_decision"):
        for row in entry.body["decision_points"]:
            if row["id"] in points and row["sample_size"]:
                tested.setdefault(row["id"], []).append((entry.body["cycle_id"], row["deviations"]))
    reasons = {}
    for point in points:
        parts = []
        if point in open_findings:
            ids = open_findings[point]
            parts.append(f"{len(ids)} open finding(s) ({', '.join(ids[:3])}{', …' if len(ids) > 3 else ''})")
        deviated = [(cycle, n) for cycle, n in tested.get(point, [])[-RECENT_CYCLES:] if n]
        if deviated:
            parts.append("deviations in recent cycles: " + ", ".join(f"{n} in {cycle[:8]}" for cycle, n in deviated))
        if parts:
            reasons[point] = "; ".join(parts)
    return reasons
