"""Keyed row fingerprints: the key's source, its id, and what changes a fingerprint."""

import datetime as dt
import hashlib
import hmac
import os
import stat
from decimal import Decimal

import duckdb
import pytest

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.sampling.fingerprints import canonical_row, fingerprint_key, key_id, row_fingerprints


def test_the_key_file_is_made_once_with_owner_only_permissions(tmp_path, monkeypatch):
    path = tmp_path / "keys" / "fingerprint.key"
    monkeypatch.setenv("ASSURANCE_FINGERPRINT_KEY_FILE", str(path))
    first = fingerprint_key()
    assert len(first) == 64 and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert fingerprint_key() == first


def test_the_environment_key_wins_and_must_be_long(monkeypatch):
    monkeypatch.setenv("ASSURANCE_FINGERPRINT_KEY", "k" * 40)
    assert fingerprint_key() == b"k" * 40
    monkeypatch.setenv("ASSURANCE_FINGERPRINT_KEY", "short")
    with pytest.raises(AssuranceError, match="at least 32 characters"):
        fingerprint_key()


def test_key_id_names_the_key_without_containing_it():
    key = b"a" * 64
    assert key_id(key) != key_id(b"b" * 64) and key.decode() not in key_id(key) and len(key_id(key)) == 16


def test_canonical_row_is_independent_of_column_order_and_spells_types_one_way():
    when = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    a = canonical_row({"decision_id": "D1", "amount": Decimal("10.50"), "at": when, "ok": True, "note": None})
    b = canonical_row({"note": None, "ok": True, "at": when.astimezone(dt.UTC), "amount": Decimal("10.50"), "decision_id": "D1"})
    assert a == b == b'{"amount":"10.50","at":"2026-05-01T10:00:00+00:00","decision_id":"D1","note":null,"ok":true}'


def test_fingerprints_are_hmac_of_the_canonical_row_and_change_with_content_or_key():
    con = duckdb.connect()
    con.execute("CREATE TABLE s AS SELECT * FROM (VALUES ('D1', 1.5::DOUBLE, 'yes'), ('D2', 2.5::DOUBLE, 'no')) t(decision_id, amount, flag)")
    key = b"x" * 64
    prints = row_fingerprints(con, key, "SELECT * FROM s")
    expected = hmac.new(key, b'{"amount":1.5,"decision_id":"D1","flag":"yes"}', hashlib.sha256).hexdigest()
    assert prints["D1"] == expected
    assert row_fingerprints(con, b"y" * 64, "SELECT * FROM s")["D1"] != expected
    con.execute("UPDATE s SET flag = 'no' WHERE decision_id = 'D1'")
    assert row_fingerprints(con, key, "SELECT * FROM s")["D1"] != expected
    assert row_fingerprints(con, key, "SELECT * FROM s")["D2"] == prints["D2"]
