"""Cycles recorded straight into a ledger, through the same carry-forward, numbering and result code a real cycle
uses, for fast tests of a finding's lifecycle."""

from __future__ import annotations

from assurance_pipeline.evidence.cycle_result import cycle_result
from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.findings.lifecycle import carry_forward, read_findings
from assurance_pipeline.findings.model import Finding, number_findings


def conformance(point: str, *conditions: str, severity: str = "critical", statistic: float = 0.1) -> Finding:
    return Finding("conformance", severity, f"{point}: deviations", point, statistic=statistic, threshold=0.02,
                   details={"conditions": list(conditions)})


def integrity() -> Finding:
    return Finding("standard_integrity", "critical", "the standard changed without authorization", details={"problems": []})


def record_cycle(ledger: Ledger, cycle_id: str, points: list[str], findings: list[Finding]) -> list[dict]:
    """Append one cycle over `points` that saw `findings`; return the findings as its ledger entry recorded them."""
    numbered = number_findings(cycle_id, carry_forward(read_findings(ledger), findings))
    rows = [{"id": p, "risk_tier": "critical", "population": 10, "sample_size": 10, "deviations": 0} for p in points]
    result = cycle_result(cycle_id, {"from": None, "to": None}, {"intact": True}, "NOT_ASSURED", rows, numbered)
    return ledger.append("cycle_decision", result).body["findings"]
