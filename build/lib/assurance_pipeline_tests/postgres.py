"""The PostgreSQL server the tests use (127.0.0.1:5432, user postgres; `.ci/run` starts it): each test gets a
database of its own, made and dropped here. Tests skip, saying why, only when no server answers there."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

HOST, PORT, ADMIN = "127.0.0.1", 5432, "postgres"
_PG_TYPES = {"VARCHAR": "text", "DOUBLE": "double precision", "BIGINT": "bigint", "INTEGER": "integer", "BOOLEAN": "boolean",
             "TIMESTAMP WITH TIME ZONE": "timestamptz", "TIMESTAMP": "timestamp", "DATE": "date"}


def admin_uri(database: str = "postgres", user: str = ADMIN) -> str:
    return f"postgresql://{user}@{HOST}:{PORT}/{database}"


def _admin():
    psycopg = pytest.importorskip("psycopg")
    try:
        return psycopg.connect(admin_uri(), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as err:
        if os.environ.get("CI"):  # CI starts the server (.ci/run): there, not reaching it is a failure, not a skip
            pytest.fail(f"no PostgreSQL server at {HOST}:{PORT}: {str(err).splitlines()[0]}")
        pytest.skip(f"no PostgreSQL server at {HOST}:{PORT} (start it as .ci/run does): {str(err).splitlines()[0]}")


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new empty database; its name. Dropped afterwards, with any session still on it."""
    name = f"assurance_test_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load_parquet(database: str, parquet: Path, table: str = "decisions", schema: str | None = None) -> None:
    """Copy a Parquet decision log into a new table of `database`, column types mapped one to one."""
    import psycopg
    from psycopg import sql

    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{parquet}')").fetchall()
    target = sql.Identifier(schema, table) if schema else sql.Identifier(table)
    columns = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(_PG_TYPES[kind])) for name, kind, *_ in described)
    rows = duckdb.sql(f"SELECT * FROM read_parquet('{parquet}')").fetchall()
    with psycopg.connect(admin_uri(database), autocommit=True) as con:
        if schema:
            con.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        con.execute(sql.SQL("CREATE TABLE {} ({})").format(target, columns))
        with con.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(target)) as copy:
            for row in rows:
                copy.write_row(row)
