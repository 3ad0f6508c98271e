"""Evidence packs: one folder per cycle, written whole or not at all, never rewritten."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from assurance_pipeline.errors import EvidenceStoreError
from assurance_pipeline.evidence.ledger import sha256_hex

PACKS_DIR = "packs"


def write_pack(evidence_dir: Path, cycle_id: str, files: dict[str, str | dict | list]) -> tuple[Path, dict[str, str]]:
    """Write the pack into a hidden folder, then rename it into place; return its path and file hashes."""
    final = evidence_dir / PACKS_DIR / cycle_id
    if final.exists():
        raise EvidenceStoreError(f"{final}: an evidence pack for this cycle already exists; packs are never rewritten")
    staging = evidence_dir / PACKS_DIR / f".{cycle_id}.partial"
    try:
        staging.mkdir(parents=True, exist_ok=True)
        hashes = {}
        for name, content in files.items():
            text = content if isinstance(content, str) else json.dumps(content, indent=2, sort_keys=True, default=str) + "\n"
            (staging / name).write_text(text, encoding="utf-8")
            hashes[name] = sha256_hex(text)
        os.replace(staging, final)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise EvidenceStoreError(f"{evidence_dir}: cannot write the evidence pack ({err})") from None
    return final, hashes


def verify_packs(evidence_dir: Path, recorded: dict[str, dict[str, str]]) -> list[str]:
    """Compare each pack's files with the hashes the ledger recorded; name every difference."""
    problems = []
    packs = evidence_dir / PACKS_DIR
    on_disk = {p.name for p in packs.iterdir() if p.is_dir() and not p.name.startswith(".")} if packs.is_dir() else set()
    for cycle_id in sorted(on_disk - recorded.keys()):
        problems.append(f"packs/{cycle_id}: no ledger entry records this pack (its entry was removed?)")
    for cycle_id, hashes in sorted(recorded.items()):
        for name, expected in sorted(hashes.items()):
            path = packs / cycle_id / name
            if not path.is_file():
                problems.append(f"packs/{cycle_id}/{name}: missing")
            elif sha256_hex(path.read_text(encoding="utf-8")) != expected:
                problems.append(f"packs/{cycle_id}/{name}: content does not match the ledger (edited?)")
    return problems
