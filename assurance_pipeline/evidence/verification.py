"""Verify the whole evidence store: the ledger's hash chain, then every pack against the hashes it recorded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.evidence.packs import verify_packs


@dataclass(frozen=True)
class StoreReport:
    intact: bool
    entries: int
    head: str | None
    problem: str | None


def verify_store(evidence_dir: Path) -> StoreReport:
    """The first problem found, named; packs are checked only once the chain itself holds."""
    ledger = Ledger(evidence_dir)
    report = ledger.verify()
    if not report.intact:
        return StoreReport(False, report.entries, report.head, report.problem)
    recorded = {e.body["cycle_id"]: e.body["pack_sha256"] for e in ledger.find("cycle_decision")}
    problems = verify_packs(evidence_dir, recorded)
    return StoreReport(not problems, report.entries, report.head, problems[0] if problems else None)
