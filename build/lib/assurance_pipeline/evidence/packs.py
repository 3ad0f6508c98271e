"""Evidence packs: one folder per cycle, written whole or not at all, never rewritten.

A pack is written into a hidden ``packs/.<cycle_id>.partial`` folder, sealed by its ledger entry, then renamed
into place, so a write cut short at any point leaves that partial folder for ``verify`` to name.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from pathlib import Path
from typing import Callable, TypeVar

from assurance_pipeline.errors import EvidenceStoreError
from assurance_pipeline.evidence.ledger import sha256_hex

PACKS_DIR = "packs"
PARTIAL = re.compile(r"^\.(?P<cycle_id>.+)\.partial$")
T = TypeVar("T")


def write_pack(evidence_dir: Path, cycle_id: str, files: dict[str, str | dict | list],
               seal: Callable[[Path, dict[str, str]], T]) -> T:
    """Write the pack into its partial folder, call ``seal(final path, file hashes)`` (the ledger append), then
    rename it into place; return what ``seal`` returned."""
    final = evidence_dir / PACKS_DIR / cycle_id
    if final.exists():
        raise EvidenceStoreError(f"{final}: an evidence pack for this cycle already exists; packs are never rewritten")
    staging = evidence_dir / PACKS_DIR / f".{cycle_id}.partial"
    try:
        staging.mkdir(parents=True, exist_ok=True)
        lock = os.open(staging, os.O_RDONLY)
    except OSError as err:
        raise EvidenceStoreError(f"evidence store {evidence_dir}: cannot write the evidence pack ({err.strerror or err})") from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # tells verify the partial folder is being written, not abandoned
        return _fill_seal_publish(evidence_dir, staging, final, files, seal)
    finally:
        os.close(lock)


def pack_text(content: str | dict | list) -> str:
    """A pack file's text as written: JSON with sorted keys, or the text itself."""
    return content if isinstance(content, str) else json.dumps(content, indent=2, sort_keys=True, default=str) + "\n"


def _fill_seal_publish(evidence_dir: Path, staging: Path, final: Path, files: dict, seal: Callable[[Path, dict[str, str]], T]) -> T:
    try:
        hashes = {}
        for name, content in files.items():
            text = pack_text(content)
            (staging / name).write_text(text, encoding="utf-8")
            hashes[name] = sha256_hex(text)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise EvidenceStoreError(f"evidence store {evidence_dir}: cannot write the evidence pack ({err.strerror or err})") from None
    try:
        sealed = seal(final, hashes)
    except Exception:  # not recorded: nothing to keep (an interrupt leaves the partial folder for verify to name)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        os.replace(staging, final)
    except OSError as err:
        raise EvidenceStoreError(f"{staging}: recorded in the ledger but not moved into place ({err.strerror or err}); "
                                 f"rename it to {final}") from None
    return sealed


def list_packs(evidence_dir: Path) -> list[str]:
    """The names in packs/; taken before the ledger is read, so a pack being recorded meanwhile is never seen
    without its entry (a pack is moved into place only after its entry is written)."""
    packs = evidence_dir / PACKS_DIR
    try:
        return sorted(p.name for p in packs.iterdir()) if packs.is_dir() else []
    except OSError as err:
        raise EvidenceStoreError(f"evidence store {evidence_dir}: cannot read {packs} ({err.strerror or err})") from None


def verify_packs(evidence_dir: Path, on_disk: list[str], recorded: dict[str, dict[str, str]]) -> list[tuple[str, bool]]:
    """Compare each pack's files with the hashes the ledger recorded; name every difference, every file or
    folder the ledger does not list, and every pack whose writing was interrupted (flagged True)."""
    problems = []
    packs = evidence_dir / PACKS_DIR
    try:
        for name in on_disk:
            if PARTIAL.match(name) and _being_written(packs / name):
                continue
            problems += [(text, bool(PARTIAL.match(name))) for text in _unrecorded(packs, name, recorded)]
        for cycle_id, hashes in sorted(recorded.items()):
            problems += [(text, False) for text in _pack_problems(packs, cycle_id, hashes)]
    except OSError as err:
        raise EvidenceStoreError(f"evidence store {evidence_dir}: cannot read {err.filename} ({err.strerror or err})") from None
    return problems


def _being_written(partial: Path) -> bool:
    """A cycle holds a lock on its partial folder until the pack is in place; a killed one holds none."""
    try:
        fd = os.open(partial, os.O_RDONLY)
    except FileNotFoundError:
        return True  # moved into place since the listing
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _unrecorded(packs: Path, name: str, recorded: dict[str, dict[str, str]]) -> list[str]:
    """What is wrong with this entry of packs/, if the ledger does not account for it."""
    partial = PARTIAL.match(name)
    if partial and partial["cycle_id"] in recorded and not (packs / partial["cycle_id"]).exists():
        cycle_id = partial["cycle_id"]
        if not _pack_problems(packs, name, recorded[cycle_id]):
            return [f"packs/{name}: the write of pack {cycle_id} was interrupted after its ledger entry; its files "
                    f"match the ledger: rename it to packs/{cycle_id}"]
        return [f"packs/{name}: the write of pack {cycle_id} was interrupted after its ledger entry, and its files "
                "do not match the ledger"]
    if partial:
        return [f"packs/{name}: a pack whose write was interrupted before it was recorded in the ledger "
                "(the cycle was never recorded)"]
    if name in recorded:
        return []
    if (packs / name).is_dir() and not (packs / name).is_symlink():
        return [f"packs/{name}: no ledger entry records this pack (its entry was removed?)"]
    return [f"packs/{name}: not an evidence pack, and no ledger entry records it (added?)"]


def _pack_problems(packs: Path, folder: str, hashes: dict[str, str]) -> list[str]:
    pack = packs / folder
    if not pack.is_dir():
        return [f"packs/{folder}: missing"]
    problems = [f"packs/{folder}/{name}: not listed in the ledger entry of this pack (added?)"
                for name in sorted(p.name for p in pack.iterdir()) if name not in hashes]
    for name, expected in sorted(hashes.items()):
        path = pack / name
        if not path.is_file():
            problems.append(f"packs/{folder}/{name}: missing")
        elif sha256_hex(path.read_bytes()) != expected:
            problems.append(f"packs/{folder}/{name}: content does not match the ledger (edited?)")
    return problems
