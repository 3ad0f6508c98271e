"""A finding's identity: which problem it is, so a later cycle that sees the same problem adds to the open finding
instead of opening a new one. The key is made of ids and names only (decision point, kind, subject), never a value."""

from __future__ import annotations


def finding_key(kind: str, decision_point: str | None, details: dict) -> str:
    """`kind|decision point|subject`: the subject is what the detector found wrong (condition ids, columns, outcome
    id, actor and version, drift subject and test, cost comparison, the overdue finding's id)."""
    return f"{kind}|{decision_point or ''}|{_subject(kind, details)}"


def _subject(kind: str, details: dict) -> str:
    if kind == "conformance":
        return ",".join(sorted(details.get("conditions") or []))
    if kind == "contract":
        if "failures" in details:  # the data contract, by the columns that broke it
            return ",".join(sorted({f["column"] for f in details["failures"]}))
        return "decision_id"  # rows without an id or sharing one
    if kind == "outcome":
        if "series" in details:  # a trend across cycles, not a bound crossed in this one
            return f"{details.get('outcome_id', '')}:trend"
        return (details.get("outcome") or {}).get("outcome_id", "")
    if kind in ("data_drift", "decision_drift", "override"):
        test = details.get("test") or {}
        return f"{test.get('subject', '')}:{test.get('test', '')}"
    if kind == "cost":
        return details.get("against", "")
    if kind == "ungoverned_change":
        return f"{details.get('actor_id')}@{details.get('actor_version')}"
    if kind == "overdue_disposition":
        return details.get("finding_id", "")
    return ""  # standard_integrity, unknown_decision_point: the kind and point say it all
