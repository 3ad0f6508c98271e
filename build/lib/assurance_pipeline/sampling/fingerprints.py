"""Keyed fingerprints of sampled rows, and the key they are made with.

A plain sha256 of a row with few possible values (an approval flag, a small amount) can be reversed by
trying them all; an HMAC with a secret key cannot. The key comes from configuration
(`ASSURANCE_FINGERPRINT_KEY`, or the file `ASSURANCE_FINGERPRINT_KEY_FILE`, default
`~/.assurance/fingerprint.key`, made on first use) and is never written to the evidence store: the
evidence records only its key id, so a re-performer can tell it holds the same key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from decimal import Decimal
from pathlib import Path

import duckdb

from assurance_pipeline.errors import AssuranceError

FINGERPRINT_ALGORITHM = "hmac-sha256/canonical-json/v1"
DEFAULT_KEY_FILE = Path.home() / ".assurance" / "fingerprint.key"


def fingerprint_key() -> bytes:
    """The configured key: the environment variable, else the key file (created with a fresh 256-bit key)."""
    if text := os.environ.get("ASSURANCE_FINGERPRINT_KEY"):
        if len(text) < 32:
            raise AssuranceError("ASSURANCE_FINGERPRINT_KEY must be at least 32 characters (e.g. 64 hex digits)")
        return text.encode()
    path = Path(os.environ.get("ASSURANCE_FINGERPRINT_KEY_FILE", DEFAULT_KEY_FILE))
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="utf-8").strip().encode()


def key_id(key: bytes) -> str:
    """Names the key without revealing it (the key is 256 random bits; its hash gives nothing away)."""
    return hashlib.sha256(b"assurance-fingerprint-key:" + key).hexdigest()[:16]


def canonical_row(row: dict) -> bytes:
    """The row as JSON with sorted keys and typed values spelled one way, whatever engine produced it."""
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_spell).encode()


def _spell(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date | dt.time | Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot fingerprint a value of type {type(value).__name__}")


def row_fingerprints(con: duckdb.DuckDBPyConnection, key: bytes, query: str) -> dict[str, str]:
    """HMAC-SHA256 of each row `query` returns (rows of the sample, with a decision_id), by decision id."""
    rows = con.sql(query).to_arrow_table().to_pylist()
    return {str(row["decision_id"]): hmac.new(key, canonical_row(row), hashlib.sha256).hexdigest() for row in rows}
