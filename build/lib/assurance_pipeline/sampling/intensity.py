"""Expansion on signal: which decision points are sampled more deeply this cycle, and why.

A point with an open finding (no disposition yet, reopened, or escalated), with a remediated finding no cycle has
yet confirmed gone, or with deviations in one of its last RECENT_CYCLES tested cycles, is tested at heightened
intensity; the reason goes into the plan's evidence.
"""

from __future__ import annotations

from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.findings.lifecycle import read_findings

RECENT_CYCLES = 3


def recent_signals(ledger: Ledger, points: list[str]) -> dict[str, str]:
    """Decision point -> the reason it is heightened, for the points in `points` that have a signal."""
    open_findings: dict[str, list[str]] = {}
    remediating: dict[str, list[str]] = {}
    for record in read_findings(ledger).values():
        if record.decision_point not in points:
            continue
        if record.status in ("open", "reopened", "escalated"):
            open_findings.setdefault(record.decision_point, []).append(record.id)
        elif record.status == "remediated" and not record.confirmed_by:
            remediating.setdefault(record.decision_point, []).append(record.id)
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
            parts.append(f"{len(ids)} open finding(s) ({_shown(ids)})")
        if point in remediating:
            parts.append(f"remediated, awaiting a cycle without it: {_shown(remediating[point])}")
        deviated = [(cycle, n) for cycle, n in tested.get(point, [])[-RECENT_CYCLES:] if n]
        if deviated:
            parts.append("deviations in recent cycles: " + ", ".join(f"{n} in {cycle[:8]}" for cycle, n in deviated))
        if parts:
            reasons[point] = "; ".join(parts)
    return reasons


def _shown(ids: list[str]) -> str:
    return ", ".join(ids[:3]) + (", …" if len(ids) > 3 else "")
