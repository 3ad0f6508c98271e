"""The authorized texts of the standard, kept in the evidence store by their sha256, so a later proposal can say in
words what it changes since the last authorization (`standard/changes.py`), and anyone can re-read what was signed.

Only the authored YAML files are kept (`standards/<sha256>`), never the baseline: it is aggregates of the go-live
window, large, and compared by its hash. A text is written once, under its own hash, and never rewritten; `verify`
checks every one still hashes to its name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from assurance_pipeline.errors import EvidenceStoreError
from assurance_pipeline.evidence.ledger import sha256_hex
from assurance_pipeline.standard.loading import BASELINE_DIR

TEXTS_DIR = "standards"


def keep_texts(evidence_dir: Path, files: Mapping[str, bytes]) -> None:
    """Write every authored file of the standard under its hash (those already kept are left as they are)."""
    folder = Path(evidence_dir) / TEXTS_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, raw in files.items():
            if name.startswith(BASELINE_DIR + "/"):
                continue
            path = folder / sha256_hex(raw)
            if path.is_file():
                continue
            tmp = folder / f".{path.name}.{os.getpid()}.tmp"
            tmp.write_bytes(raw)
            os.replace(tmp, path)
    except OSError as err:
        raise EvidenceStoreError(f"evidence store {evidence_dir}: cannot keep the standard's text ({err.strerror or err})") from None


def authorized_texts(evidence_dir: Path, hashes: Mapping[str, str]) -> dict[str, bytes]:
    """The kept text of each file in `hashes` (relative path -> sha256) that is in the store and still intact."""
    texts = {}
    for name, digest in hashes.items():
        path = Path(evidence_dir) / TEXTS_DIR / digest
        try:
            raw = path.read_bytes() if len(digest) == 64 and digest.isalnum() else None
        except OSError:
            continue
        if raw is not None and sha256_hex(raw) == digest:
            texts[name] = raw
    return texts


def altered_texts(evidence_dir: Path) -> list[str]:
    """Kept texts that no longer hash to their name (edited in place), by name."""
    folder = Path(evidence_dir) / TEXTS_DIR
    if not folder.is_dir():
        return []
    try:
        return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".") and (not p.is_file() or sha256_hex(p.read_bytes()) != p.name))
    except OSError as err:
        raise EvidenceStoreError(f"evidence store {evidence_dir}: cannot read {folder} ({err.strerror or err})") from None
