"""The SQL helpers the models share."""

import hashlib

import duckdb

from assurance_pipeline.sql_models import md5_lower


def test_md5_lower_is_md5_bytes_8_to_15_little_endian_as_duckdb_md5_number_lower():
    ids = ["", "a", "D0000001", "é" * 40, "x:" + "7" * 300, "\x00nul"]
    got = duckdb.execute(f"SELECT i, {md5_lower('i')}, md5_number_lower(i) FROM unnest($ids) AS t(i) ORDER BY 1", {"ids": ids}).fetchall()
    for value, ours, duckdbs in got:
        assert ours == duckdbs == int.from_bytes(hashlib.md5(value.encode()).digest()[8:], "little")
