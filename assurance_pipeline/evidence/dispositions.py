"""Dispositions: the explicit human decision on each finding, appended to the ledger (latest one stands)."""

from __future__ import annotations

from pathlib import Path

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.people import registry_in_force, signer_for
from assurance_pipeline.evidence.ledger import Ledger, LedgerEntry, LedgerError
from assurance_pipeline.findings.model import DISPOSITIONS


def list_findings(ledger: Ledger) -> list[dict]:
    """Every finding ever recorded, oldest first, with its cycle and its latest disposition (or None)."""
    disposed: dict[str, dict] = {}
    findings: list[dict] = []
    for entry in ledger.entries():
        try:
            if entry.kind == "cycle_decision":
                findings += [{**f, "cycle_id": entry.body["cycle_id"], "recorded_at": entry.at, "id": str(f["id"])} for f in entry.body["findings"]]
            elif entry.kind == "disposition":
                disposed[str(entry.body["finding_id"])] = {**entry.body, "at": entry.at}
        except (KeyError, TypeError):
            raise LedgerError(f"evidence store {ledger.folder}: line {entry.seq} (seq {entry.seq}): not a {entry.kind} entry as "
                              "a cycle writes it (a field is missing or of the wrong type); run `assurance verify`") from None
    return [{**f, "disposition": disposed.get(f["id"])} for f in findings]


def record_disposition(ledger: Ledger, finding_id: str, disposition: str, by: str, note: str, key: Path | None = None) -> LedgerEntry:
    if disposition not in DISPOSITIONS:
        raise AssuranceError(f"--as {disposition!r}: use one of {', '.join(DISPOSITIONS)}")
    if not by.strip() or not note.strip():
        raise AssuranceError("--by and --note must not be empty: a disposition is on the record")
    known = {f["id"]: f for f in list_findings(ledger)}
    if finding_id not in known:
        raise AssuranceError(f"finding {finding_id!r} is not in the evidence ledger (see `assurance findings`)")
    body = {"finding_id": finding_id, "cycle_id": known[finding_id]["cycle_id"], "disposition": disposition, "by": by, "note": note}
    return ledger.append("disposition", body, signer_for("disposition", by, key, registry_in_force(ledger)))
