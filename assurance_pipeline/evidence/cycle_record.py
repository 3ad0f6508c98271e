"""Record a cycle's assurance decision: the evidence pack first, then the ledger entry that seals it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import jinja2

from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.evidence.packs import write_pack

_TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("assurance_pipeline.evidence", "templates"), autoescape=False)


def record_cycle(evidence_dir: Path, result: dict, reason: str, pack_files: dict, plan: dict | None) -> dict:
    """Write the pack and append `cycle_decision`; return the result with its ledger position and pack path."""
    recorded_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    summary = _TEMPLATES.get_template("summary.md.j2").render(result=result, reason=reason, plan=plan or {}, recorded_at=recorded_at)
    files = {"summary.md": summary, "result.json": result, **pack_files}
    pack, hashes = write_pack(evidence_dir, result["cycle_id"], files)
    entry = Ledger(evidence_dir).append("cycle_decision", {**result, "reason": reason, "evidence_pack": str(pack), "pack_sha256": hashes})
    return {**result, "reason": reason, "ledger": {"entry": entry.seq, "head": entry.hash}, "evidence_pack": str(pack)}
