"""A finding: one surfaced deviation from the standard that needs an explicit human disposition."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

KINDS = (
    "standard_integrity", "contract", "conformance", "outcome", "decision_drift", "data_drift", "cost",
    "override", "ungoverned_change", "overdue_disposition", "unknown_decision_point",
)
DISPOSITIONS = ("remediate", "accept_change", "false_positive", "escalate")


@dataclass
class Finding:
    kind: str
    severity: str
    summary: str
    decision_point: str | None = None
    statistic: float | None = None
    threshold: float | None = None
    details: dict = field(default_factory=dict)
    id: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def number_findings(cycle_id: str, findings: list[Finding]) -> list[Finding]:
    """Give each finding an id a person can type: F-<first 8 of the cycle id>-<nn>."""
    for n, finding in enumerate(findings, start=1):
        finding.id = f"F-{cycle_id[:8]}-{n:02d}"
    return findings
