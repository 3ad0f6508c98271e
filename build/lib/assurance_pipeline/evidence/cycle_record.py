"""Record a cycle's assurance decision: the evidence pack written aside, the ledger entry that seals it, then the pack
moved into place."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jinja2

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.ledger import Ledger, LedgerError, sha256_hex
from assurance_pipeline.evidence.pack_page import PAGE, render_pack_page
from assurance_pipeline.evidence.packs import PACKS_DIR, pack_text, write_pack
from assurance_pipeline.sampling.plans import format_upper_limit

_TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("assurance_pipeline.evidence", "templates"), autoescape=False)
_TEMPLATES.filters["upper_limit"] = format_upper_limit


def record_cycle(evidence_dir: Path, result: dict, reason: str, pack_files: dict, plan: dict | None,
                 baseline: dict | None = None, about: dict | None = None) -> dict:
    """Write the pack (its files, then `index.html` naming their hashes) and append `cycle_decision`; return the result
    with its ledger position and pack path. `about` names the owners (`pack_page.standard_about`)."""
    recorded_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    summary = _TEMPLATES.get_template("summary.md.j2").render(result=result, reason=reason, plan=plan or {}, recorded_at=recorded_at)
    files = {"summary.md": summary, "result.json": result, **pack_files}
    hashes = {name: sha256_hex(pack_text(content)) for name, content in files.items()}
    files[PAGE] = render_pack_page(evidence_dir, result, reason, plan, recorded_at, pack_files.get("drift.json") or [], baseline,
                                   about, hashes)
    pack = evidence_dir / PACKS_DIR / result["cycle_id"]
    entry = write_pack(evidence_dir, result["cycle_id"], files, lambda final, hashes: Ledger(evidence_dir).append(
        "cycle_decision", {**result, "reason": reason, "evidence_pack": str(final), "pack_sha256": hashes}))
    return {**result, "reason": reason, "ledger": {"entry": entry.seq, "head": entry.hash}, "evidence_pack": str(pack)}


def recorded_sampling(cycle_id: str, evidence_dir: Path) -> dict:
    """The cycle's sampling evidence, checked against the hash the ledger sealed it with, with the window and
    per-point results its ledger entry recorded."""
    entries = Ledger(evidence_dir).find("cycle_decision", cycle_id=cycle_id)
    if not entries:
        raise AssuranceError(f"cycle {cycle_id} is not in the evidence ledger of {evidence_dir}")
    entry = entries[-1]
    body, hashes = entry.body, entry.body.get("pack_sha256")
    if not isinstance(hashes, dict) or not {"window", "decision_points"} <= body.keys():
        raise LedgerError(f"evidence store {evidence_dir}: line {entry.seq} (seq {entry.seq}): not a cycle_decision entry "
                          "as a cycle writes it; run `assurance verify`")
    if "sampling.json" not in hashes:
        raise AssuranceError(f"cycle {cycle_id} drew no sample (it ended {body.get('decision')} before sampling)")
    path = evidence_dir / PACKS_DIR / cycle_id / "sampling.json"
    data = path.read_bytes() if path.is_file() else b""
    if sha256_hex(data) != hashes["sampling.json"]:
        raise AssuranceError(f"{path}: missing or not the file the ledger sealed; run `assurance verify`")
    return {**json.loads(data), "window": body["window"], "decision_points": body["decision_points"]}
