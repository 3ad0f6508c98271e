"""The assurance decision: the written rules (README, "Decision rules") applied to a cycle's findings."""

from __future__ import annotations

from assurance_pipeline.findings.model import Finding

ASSURED = "ASSURED"
ASSURED_WITH_EXCEPTIONS = "ASSURED_WITH_EXCEPTIONS"
NOT_ASSURED = "NOT_ASSURED"
INCONCLUSIVE = "INCONCLUSIVE"


def decide(standard_intact: bool, findings: list[Finding], evaluations: list[dict], outcomes: list[dict] | None = None) -> tuple[str, str]:
    """(decision, reason). First rule that applies wins."""
    blocking = [f for f in findings if f.severity in ("critical", "high")]
    if not standard_intact:
        return NOT_ASSURED, "the standard is not intact: it changed without authorization"
    if blocking:
        return NOT_ASSURED, f"{len(blocking)} critical or high finding(s)"
    if not any(ev["sample_size"] for ev in evaluations):
        return INCONCLUSIVE, "no decision in scope was executed in the window: nothing could be tested"
    undecided = [ev for ev in evaluations if ev["conclusion"] in ("inconclusive", "extend")]
    if undecided:
        return INCONCLUSIVE, f"{len(undecided)} decision point(s) need a larger sample (or their second stage) to conclude"
    open_metrics = [o for o in outcomes or [] if o["conclusion"] == "inconclusive"]
    if open_metrics:
        return INCONCLUSIVE, f"{len(open_metrics)} outcome metric(s) over the sample need a larger sample to conclude"
    if findings:
        return ASSURED_WITH_EXCEPTIONS, f"{len(findings)} medium or low finding(s)"
    return ASSURED, "every decision point tested within its tolerable deviation rate; no findings"
