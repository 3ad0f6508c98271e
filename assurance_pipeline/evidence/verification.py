"""Verify the whole evidence store: the ledger's hash chain, then every pack against the hashes it recorded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from assurance_pipeline.evidence.ledger import Ledger, LedgerEntry
from assurance_pipeline.evidence.packs import list_packs, verify_packs
from assurance_pipeline.evidence.people import check_signatures
from assurance_pipeline.evidence.standard_texts import TEXTS_DIR, altered_texts

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class StoreReport:
    intact: bool
    entries: int
    head: str | None
    problem: str | None
    interrupted: bool = False  # the problem is a write cut short (a torn last line, a partial pack), not an edit
    signed: int = 0  # authorizations, proposals and dispositions signed by a registered person
    unsigned: int = 0  # those recorded while no people were registered (a demo)


def verify_store(evidence_dir: Path) -> StoreReport:
    """The first problem found, named; packs are checked only once the chain itself holds."""
    ledger = Ledger(evidence_dir)
    on_disk = list_packs(evidence_dir)
    report = ledger.verify()
    if not report.intact:
        return StoreReport(False, report.entries, report.head, report.problem, report.interrupted)
    entries = list(islice(ledger.entries(), report.entries))  # entries appended since verify() are not checked
    signatures = check_signatures(entries)
    if signatures.problem:
        return StoreReport(False, report.entries, report.head, signatures.problem)
    altered = altered_texts(evidence_dir)
    if altered:
        return StoreReport(False, report.entries, report.head, f"{TEXTS_DIR}/{altered[0]}: a kept text of the standard no longer "
                           "matches its sha256 (edited?)")
    counts = {"signed": signatures.signed, "unsigned": signatures.unsigned}
    recorded: dict[str, dict[str, str]] = {}
    for entry in entries:
        if entry.kind != "cycle_decision":
            continue
        problem = _bad_cycle_decision(entry, recorded)
        if problem:  # the chain holds (seq n is line n), yet the entry cannot be what a cycle wrote
            return StoreReport(False, report.entries, report.head, f"line {entry.seq} (seq {entry.seq}): {problem}", **counts)
        recorded[entry.body["cycle_id"]] = entry.body["pack_sha256"]
    problems = verify_packs(evidence_dir, on_disk, recorded)
    if not problems:
        return StoreReport(True, report.entries, report.head, None, **counts)
    problem, interrupted = problems[0]
    return StoreReport(False, report.entries, report.head, problem, interrupted, **counts)


def _bad_cycle_decision(entry: LedgerEntry, recorded: dict) -> str | None:
    """What makes this cycle_decision entry unusable for checking its pack, or None."""
    cycle_id, hashes = entry.body.get("cycle_id"), entry.body.get("pack_sha256")
    if not isinstance(cycle_id, str) or not _plain_name(cycle_id):
        return f"cycle_decision has no valid cycle_id (got {_short(cycle_id)})"
    if cycle_id in recorded:
        return f"cycle_decision for cycle {cycle_id} is recorded twice"
    if not isinstance(hashes, dict) or not hashes:
        return f"cycle_decision for cycle {cycle_id} has no pack_sha256 listing its pack files"
    for name, digest in hashes.items():
        if not _plain_name(name):
            return f"cycle_decision for cycle {cycle_id}: pack_sha256 names {_short(name)}, not a file name"
        if not isinstance(digest, str) or not _HEX64.match(digest):
            return f"cycle_decision for cycle {cycle_id}: pack_sha256[{name!r}] is not a sha256 hex digest"
    return None


def _plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and not name.startswith(".") and "/" not in name and "\0" not in name


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
