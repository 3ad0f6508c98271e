"""Mend the one damage a crash can do to the ledger: a last line cut short mid-append. The torn bytes are moved
aside (`repairs/`), never deleted, the file is cut back to its last complete line, and the repair is recorded as an
entry, whose checkpoint then covers the whole log again. Nothing else is ever rewritten: any other damage is
tampering, for `verify` to name and a backup to mend.
"""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime

from assurance_pipeline.errors import EvidenceStoreError
from assurance_pipeline.evidence.checkpoints import checkpoint_paths
from assurance_pipeline.evidence.ledger import LEDGER_FILE, LOCK_FILE, Ledger, sha256_hex

REPAIRS_DIR = "repairs"


def repair(ledger: Ledger) -> dict | None:
    """Move a torn last line aside and record it; record a last entry left without its checkpoint; None if the
    ledger needs neither."""
    torn = _move_torn_line(ledger)
    lines = ledger.raw_lines()
    covered = int(checkpoint_paths(ledger.folder)[-1].name[:12]) if checkpoint_paths(ledger.folder) else 0
    if torn is None and covered >= len(lines):
        return None
    body = {"torn_bytes": torn["bytes"], "torn_sha256": torn["sha256"], "moved_to": torn["moved_to"]} if torn else {}
    body["uncheckpointed_entries"] = max(0, len(lines) - covered)
    entry = ledger.append("repair", body)
    return {**body, "bytes": body.get("torn_bytes", 0), "moved_to": body.get("moved_to"), "entry": entry.seq}


def _move_torn_line(ledger: Ledger) -> dict | None:
    """Under the ledger's lock: if the file does not end with a newline, copy the bytes after the last one into
    repairs/ and cut them off."""
    try:
        lock = os.open(ledger.folder / LOCK_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError as err:
        raise EvidenceStoreError(f"evidence store {ledger.folder}: cannot write to it ({err.strerror or err})") from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = ledger.path.read_bytes()
        if not data or data.endswith(b"\n"):
            return None
        keep = data.rfind(b"\n") + 1
        torn = data[keep:]
        name = f"torn-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}-{sha256_hex(torn)[:12]}.bytes"
        (ledger.folder / REPAIRS_DIR).mkdir(exist_ok=True)
        (ledger.folder / REPAIRS_DIR / name).write_bytes(torn)
        with open(ledger.path, "r+b") as handle:
            handle.truncate(keep)
            os.fsync(handle.fileno())
        return {"bytes": len(torn), "sha256": sha256_hex(torn), "moved_to": f"{REPAIRS_DIR}/{name}"}
    except OSError as err:
        raise EvidenceStoreError(f"evidence store {ledger.folder}: cannot repair {LEDGER_FILE} ({err.strerror or err})") from None
    finally:
        os.close(lock)
