"""Dispositions: the explicit human decisions on a finding, appended to the ledger. A finding's dispositions form its
lifecycle: a later one supersedes the one standing only when asked to, and every one stays on the record."""

from __future__ import annotations

from pathlib import Path

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.ledger import Ledger, LedgerEntry
from assurance_pipeline.evidence.people import registry_in_force, signer_for
from assurance_pipeline.findings.lifecycle import OPEN, read_findings
from assurance_pipeline.findings.model import DISPOSITIONS


def list_findings(ledger: Ledger) -> list[dict]:
    """Every finding ever recorded, oldest first: where it was seen, its dispositions and its status; `overdue` is
    the open overdue_disposition finding a cycle raised about it, if any."""
    records = read_findings(ledger)
    overdue = {r.key.rsplit("|", 1)[1]: r.id for r in records.values() if r.kind == "overdue_disposition" and r.status in OPEN}
    return [{**r.to_dict(), "cycle_id": r.sightings[0].cycle_id, "recorded_at": r.sightings[0].at,
             "overdue": overdue.get(r.id) if r.status in ("open", "reopened") else None} for r in records.values()]


def record_disposition(ledger: Ledger, finding_id: str, disposition: str, by: str, note: str,
                       supersede: bool = False, to: str | None = None, key: Path | None = None) -> LedgerEntry:
    """The one way a disposition is recorded (CLI and Dagster job): checked against the finding's lifecycle first,
    then signed by `by` with `key` (see `people.signer_for`)."""
    _check_fields(disposition, by, note, to)
    record = read_findings(ledger).get(finding_id)
    if record is None:
        raise AssuranceError(f"finding {finding_id!r} is not in the evidence ledger (see `assurance findings`)")
    current = record.current
    if current and not supersede:
        raise AssuranceError(f"{finding_id} is already disposed as {current.disposition} by {current.by} on {when(current.at)} "
                             f"(now {record.status}); pass --supersede to record a new disposition (both stay on the record)")
    if supersede and not current:
        raise AssuranceError(f"--supersede: {finding_id} has no disposition to supersede; leave --supersede out")
    body = {"finding_id": finding_id, "cycle_id": record.sightings[0].cycle_id, "disposition": disposition, "by": by, "note": note}
    if to is not None:
        body["to"] = to
    if current:
        body["supersedes"] = current.seq  # the ledger entry of the disposition this one replaces
    return ledger.append("disposition", body, signer_for("disposition", by, key, registry_in_force(ledger)))


def _check_fields(disposition: str, by: str, note: str, to: str | None) -> None:
    if disposition not in DISPOSITIONS:
        raise AssuranceError(f"--as {disposition!r}: use one of {', '.join(DISPOSITIONS)}")
    if not by.strip() or not note.strip():
        raise AssuranceError("--by and --note must not be empty: a disposition is on the record")
    if disposition == "escalate" and not (to or "").strip():
        raise AssuranceError("--as escalate needs --to NAME: whom the finding is escalated to")
    if disposition != "escalate" and to is not None:
        raise AssuranceError(f"--to is only for --as escalate, not {disposition}")


def when(at: str) -> str:
    """A ledger instant as a person reads it: to the second, UTC."""
    return at[:19].replace("T", " ") + " UTC"


def status_text(row: dict) -> str:
    """What stands for a finding now, in one line (a row of `list_findings`)."""
    d = row["disposition"]
    by = f"by {d['by']}{_unsigned(d)} on {when(d['at'])}" if d else ""
    text = {
        "open": "OPEN: awaiting a disposition",
        "reopened": f"REOPENED: recurred on {when(row['awaiting_since'] or '')} after it was remediated {by}",
        "escalated": f"ESCALATED to {d and d['to']} {by}: {d and d['note']}",
        "owed": f"OWED: accepted as a change {by}; owed to the standard until it is authorized: {d and d['note']}",
        "change_authorized": f"accepted as a change {by}, since authorized: {d and d['note']}",
        "remediated": f"remediated {by}: {d and d['note']}; "
                      + (f"confirmed by clean cycle {row['confirmed_by']}" if row["confirmed_by"] else "its point is sampled at heightened intensity until a cycle without it"),
        "false_positive": f"false positive {by}: {d and d['note']}",
    }[row["status"]]
    return text + (f" [OVERDUE: {row['overdue']}]" if row.get("overdue") else "")


def sighting_text(row: dict) -> str:
    """Where and when the problem was seen, and whether later cycles over its point still see it."""
    text = f"seen in {row['cycles_seen']} cycle(s): first {when(row['first_seen'])}, last {when(row['last_seen'])}"
    if row["not_seen_since"]:
        text += f"; not seen since {when(row['not_seen_since'])} (cycle {row['last_cycle']}; absent in {row['cycles_missed']} later cycle(s))"
    return text


def history_lines(row: dict) -> list[str]:
    """The whole history of one finding: each cycle that saw it, each disposition."""
    lines = [f"{row['id']}  [{row['severity']}] {row['kind']}" + (f" at {row['decision_point']}" if row["decision_point"] else ""),
             f"  problem: {row['key']}", f"  status: {status_text(row)}", f"  {sighting_text(row)}", "  cycles:"]
    lines += [f"    {when(s['at'])}  cycle {s['cycle_id']}  [{s['severity']}] statistic {_number(s['statistic'])}: {s['summary']}"
              for s in row["sightings"]]
    lines.append("  dispositions:" if row["dispositions"] else "  dispositions: none")
    lines += [f"    {when(d['at'])}  {d['disposition']}" + (f" to {d['to']}" if d["to"] else "") + f" by {d['by']}{_unsigned(d)}: {d['note']}"
              + (" (superseded)" if d["superseded"] else "") for d in row["dispositions"]]
    return lines


def _unsigned(disposition: dict) -> str:
    return "" if disposition.get("signed") else " (UNSIGNED)"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def find_row(ledger: Ledger, finding_id: str) -> dict:
    row = next((r for r in list_findings(ledger) if r["id"] == finding_id), None)
    if row is None:
        raise AssuranceError(f"finding {finding_id!r} is not in the evidence ledger (see `assurance findings`)")
    return row
