"""Verify the whole evidence store: the ledger's hash chain, its signed checkpoints, people's signatures, then every pack
against the hashes it recorded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from assurance_pipeline.evidence.ledger import Ledger, LedgerEntry
from assurance_pipeline.evidence.packs import list_packs, verify_packs
from assurance_pipeline.evidence.people import check_signatures
from assurance_pipeline.evidence.standard_texts import TEXTS_DIR, altered_texts
from assurance_pipeline.evidence.transparency import Cosigned, LogView, check_held_checkpoint, check_log

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
    checkpoint: int | None = None  # the size the store's latest signed checkpoint covers
    witnesses: tuple[Cosigned, ...] = ()  # the latest cosignature of each witness


def verify_store(evidence_dir: Path, held_checkpoint: bytes | None = None) -> StoreReport:
    """The first problem found, named, in the order each check relies on the one before: the hash chain, the signed
    checkpoints and witnesses' cosignatures, people's signatures, the kept standard texts, the cycle entries and their
    packs, and last a checkpoint someone kept (`held_checkpoint`), which the log must still extend."""
    ledger = Ledger(evidence_dir)
    on_disk = list_packs(evidence_dir)
    chain = ledger.verify()
    if not chain.intact:
        return StoreReport(False, chain.entries, chain.head, chain.problem, chain.interrupted)
    entries = [entry for entry, _ in chain.checked]  # as verify() read them: entries appended since are not checked
    view = LogView.of([line for _, line in chain.checked])
    log = check_log(evidence_dir, view)
    signatures = check_signatures(entries)
    report = partial(StoreReport, entries=chain.entries, head=chain.head, signed=signatures.signed, unsigned=signatures.unsigned,
                     checkpoint=log.checkpoint, witnesses=log.witnesses)
    problem = (None if log.interrupted else log.problem) or signatures.problem or _altered_texts(evidence_dir) \
        or _cycle_problem(entries) or (check_held_checkpoint(evidence_dir, view, held_checkpoint) if held_checkpoint is not None else None)
    if problem:
        return report(intact=False, problem=problem)
    packs = verify_packs(evidence_dir, on_disk, _recorded_packs(entries))
    if packs:
        return report(intact=False, problem=packs[0][0], interrupted=packs[0][1])
    if log.interrupted:
        return report(intact=False, problem=log.problem, interrupted=True)
    return report(intact=True, problem=None)


def _altered_texts(evidence_dir: Path) -> str | None:
    altered = altered_texts(evidence_dir)
    return f"{TEXTS_DIR}/{altered[0]}: a kept text of the standard no longer matches its sha256 (edited?)" if altered else None


def _cycle_problem(entries: list[LedgerEntry]) -> str | None:
    """The first cycle_decision entry that cannot be what a cycle wrote (the chain holds, so seq n is line n)."""
    recorded: dict[str, dict] = {}
    for entry in entries:
        if entry.kind == "cycle_decision":
            problem = _bad_cycle_decision(entry, recorded)
            if problem:
                return f"line {entry.seq} (seq {entry.seq}): {problem}"
            recorded[entry.body["cycle_id"]] = entry.body["pack_sha256"]
    return None


def _recorded_packs(entries: list[LedgerEntry]) -> dict[str, dict[str, str]]:
    return {e.body["cycle_id"]: e.body["pack_sha256"] for e in entries if e.kind == "cycle_decision"}


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
