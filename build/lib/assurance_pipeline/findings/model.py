"""A finding: one surfaced deviation from the standard that needs an explicit human disposition."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal, get_args

from assurance_pipeline.findings.identity import finding_key

KINDS = (
    "standard_integrity", "contract", "conformance", "outcome", "decision_drift", "data_drift", "cost",
    "override", "ungoverned_change", "overdue_disposition", "unknown_decision_point",
)
DispositionKind = Literal["remediate", "accept_change", "false_positive", "escalate"]
DISPOSITIONS: tuple[str, ...] = get_args(DispositionKind)


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
    key: str = ""  # which problem this is (findings.identity); a later cycle's same problem carries this finding forward
    recurrence_of: str | None = None  # set when this cycle saw the problem of an earlier, still open finding
    first_seen: str | None = None  # when that earlier finding was first recorded

    def __post_init__(self) -> None:
        self.key = self.key or finding_key(self.kind, self.decision_point, self.details)

    def to_dict(self) -> dict:
        return asdict(self)


def number_findings(cycle_id: str, findings: list[Finding]) -> list[Finding]:
    """Give each new finding an id a person can type: F-<first 8 of the cycle id>-<nn>; a recurrence keeps its own."""
    for n, finding in enumerate((f for f in findings if not f.id), start=1):
        finding.id = f"F-{cycle_id[:8]}-{n:02d}"
    return findings
