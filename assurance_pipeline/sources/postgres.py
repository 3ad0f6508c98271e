"""A decision log in PostgreSQL, `postgresql://user[:password]@host:port/db?table=t[&schema=s]`, read with psycopg 3.

The cycle's work runs in the server: the population profile and the id checks are aggregates, and the keyed-hash
selection ranks each point's decisions by sha256(seed || ':' || decision_id) there, exactly as DuckDB does for a
file (the portable query `selection_sql` writes in PostgreSQL's dialect), so only the n selected rows per point
leave it. The window's drift counts and Outcome Evidence metrics run there too (`aggregate`), where the server
computes exactly what DuckDB computes; otherwise, and for the baseline, the window's rows are streamed into the
transient workspace (a COPY into its spill folder, kept there as Parquet and removed with it). The table and schema
are quoted identifiers; the password (in the URI, PGPASSWORD or a .pgpass) goes to libpq only and is never shown.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlparse

import pyarrow as pa

from assurance_pipeline.errors import AssuranceError, SourceError, engine_error
from assurance_pipeline.sources.selection_sql import key_bounds, selection_query
from assurance_pipeline.sql_models import render
from assurance_pipeline.standard.models import LOG_COLUMNS, DecisionPoint

if TYPE_CHECKING:
    import duckdb
    import psycopg

    from assurance_pipeline.sources.window import Window

SCHEMES = ("postgresql", "postgres")
# A PostgreSQL type and the DuckDB type its values arrive as; any other type arrives as its text.
_TYPES = {"bool": "BOOLEAN", "int2": "SMALLINT", "int4": "INTEGER", "int8": "BIGINT", "float4": "FLOAT", "float8": "DOUBLE",
          "numeric": "DOUBLE", "date": "DATE", "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMPTZ"}
_CASTS = {"numeric": "float8"}
_ARROW = {"BOOLEAN": pa.bool_(), "SMALLINT": pa.int16(), "INTEGER": pa.int32(), "BIGINT": pa.int64(), "FLOAT": pa.float32(),
          "DOUBLE": pa.float64(), "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us"),
          "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"), "VARCHAR": pa.string()}
_LOG_TYPES = {"string": ("text", "VARCHAR"), "integer": ("int8", "BIGINT"), "float": ("float8", "DOUBLE"),
              "boolean": ("bool", "BOOLEAN"), "timestamp": ("timestamptz", "TIMESTAMPTZ")}
_NORMALIZED = {"decision_id": ("text", "VARCHAR"), "decided_at": ("timestamptz", "TIMESTAMPTZ")}
# Types whose values each have one text, and whose equal texts are equal values: a unique index on them is one on
# the ids as the cycle reads them (as text).
_ONE_TEXT_PER_VALUE = {"text", "varchar", "bpchar", "int2", "int4", "int8", "uuid"}
WINDOW_ROWS = "__source_rows"
# Values per row group of the window's Parquet copy, which each thread writing it buffers: 48 columns in row groups of
# 20,480 rows ran out of 256MB with 8 threads, in 10,240 rows they held (and at 128MB with 2, as fast).
COPY_GROUP_VALUES = 480_000


@dataclass(frozen=True)
class ServerQuery:
    """An aggregate for `PostgresTable.aggregate`: DuckDB SQL over `decisions` (None: nothing to ask the server), its
    `$` parameters, the boolean columns it reads, and how its rows become the caller's result."""

    sql: str | None
    params: dict
    flags: set[str]
    parse: Callable[[list[tuple]], object]


@dataclass(frozen=True)
class PostgresTable:
    """One table (or view) of a PostgreSQL database; `shown` is the URI with its password masked."""

    uri: str
    shown: str

    @cached_property
    def _target(self) -> tuple[str, str, str | None]:
        """(libpq URI without our parameters, table, schema)."""
        parsed = urlparse(self.uri)
        params = parse_qsl(parsed.query, keep_blank_values=True)
        ours = dict(p for p in params if p[0] in ("table", "schema"))
        if not ours.get("table"):
            raise AssuranceError(f"source {self.shown}: name the table, e.g. postgresql://user@host:5432/db?table=decisions")
        rest = urlencode([p for p in params if p[0] not in ("table", "schema")])
        return parsed._replace(query=rest).geturl(), ours["table"], ours.get("schema") or None

    @property
    def table_shown(self) -> str:
        _, table, schema = self._target
        return f"{schema}.{table}" if schema else table

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection]:
        """A read-only session in UTC. A failure to connect is one line (exit 3) that never holds the password."""
        conninfo = self._target[0]
        try:
            import psycopg
        except ImportError:
            raise AssuranceError(f"source {self.shown}: reading PostgreSQL needs psycopg 3 (pip install 'psycopg[binary]')") from None
        try:
            con = psycopg.connect(conninfo, autocommit=True, connect_timeout=10, application_name="assurance",
                                  options="-c TimeZone=UTC -c default_transaction_read_only=on -c jit=off")
        except psycopg.Error as err:
            raise SourceError(f"source {self.shown}: cannot connect: {self._first_line(err)}") from None
        try:
            yield con
        except psycopg.Error as err:
            raise engine_error(err, f"source {self.shown}: table {self.table_shown} could not be read") from None
        finally:
            con.close()

    def _first_line(self, err: Exception) -> str:
        line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        password = urlparse(self.uri).password
        return line.replace(password, "***") if password else line

    def columns(self, con: psycopg.Connection) -> dict[str, str]:
        """The table's columns and their PostgreSQL type names; a missing table is one line naming it (exit 3)."""
        rows = con.execute("SELECT attname, typname FROM pg_attribute JOIN pg_type ON pg_type.oid = atttypid "
                           "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum", [self._oid(con)]).fetchall()
        return dict(rows)

    def _oid(self, con: psycopg.Connection) -> int:
        from psycopg import sql

        _, table, schema = self._target
        name = (sql.Identifier(schema, table) if schema else sql.Identifier(table)).as_string(con)
        (oid,) = con.execute("SELECT to_regclass(%s)::oid", [name]).fetchone()
        if oid is None:
            raise SourceError(f"source {self.shown}: no table {self.table_shown} in the database")
        return oid

    def unique_id_index(self, con: psycopg.Connection, columns: dict[str, str]) -> str | None:
        """A unique index by which the server itself guarantees that no decision id is logged twice at a point: valid,
        not partial, on plain columns, all of them decision_id or decision_point and decision_id among them, each of
        a type whose text is one per value. Its name, or None (a view has none)."""
        if any(columns.get(name) not in _ONE_TEXT_PER_VALUE for name in ("decision_id", "decision_point")):
            return None
        found = con.execute(
            "SELECT i.indexrelid::regclass::text FROM pg_index AS i WHERE i.indrelid = %s AND i.indisunique AND i.indisvalid "
            "AND i.indpred IS NULL AND i.indexprs IS NULL AND (SELECT array_agg(a.attname::text) FROM pg_attribute AS a "
            "WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])) <@ ARRAY['decision_id', 'decision_point'] "
            "AND EXISTS (SELECT FROM pg_attribute AS a WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[]) "
            "AND a.attname = 'decision_id') ORDER BY 1 LIMIT 1", [self._oid(con)]).fetchone()
        return found[0] if found else None

    def described(self, columns: dict[str, str]) -> list[tuple[str, str]]:
        """(name, DuckDB type) of each column as the source gives it, for the checks every source passes."""
        return [(name, _TYPES.get(kind, "VARCHAR")) for name, kind in columns.items()]

    def relation(self, con: psycopg.Connection, columns: dict[str, str]) -> tuple[str, list[tuple[str, str]]]:
        """The normalized SELECT over the table (what the `decisions` view is for a file) and its (name, DuckDB type)s:
        decision_id as text, decided_at as timestamptz, a missing optional log column as a typed NULL."""
        from psycopg import sql

        _, table, schema = self._target
        selects, out = [], []
        for name, kind in columns.items():
            cast, duck = _NORMALIZED.get(name) or (_CASTS.get(kind, None if kind in _TYPES else "text"), _TYPES.get(kind, "VARCHAR"))
            expr = sql.Identifier(name) if cast is None else sql.SQL("CAST({} AS {})").format(sql.Identifier(name), sql.SQL(cast))
            selects.append(sql.SQL("{} AS {}").format(expr, sql.Identifier(name)))
            out.append((name, duck))
        for name, kind in LOG_COLUMNS.items():
            if name not in columns:
                pg_type, duck = _LOG_TYPES[kind]
                selects.append(sql.SQL("CAST(NULL AS {}) AS {}").format(sql.SQL(pg_type), sql.Identifier(name)))
                out.append((name, duck))
        source = sql.Identifier(schema, table) if schema else sql.Identifier(table)
        return sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(selects), source).as_string(con), out

    def profile_rows(self, window: Window) -> tuple[list[tuple], list[tuple], str]:
        """The population profile's and the id checks' rows, shaped as DuckDB's (`population_profile.sql`,
        `decision_ids.sql`), and the queries run."""
        with self.connect() as con:
            columns = self.columns(con)
            relation, _ = self.relation(con, columns)
            unique = self.unique_id_index(con, columns)
            profile = render("postgres/population_profile", relation=relation, window=window.predicate())
            ids = render("postgres/decision_ids", relation=relation, window=window.predicate(), unique=unique is not None)
            rows = [(*r[:11], *_fingerprint_parts(r[12:28])) for r in con.execute(profile).fetchall()]
            problems = con.execute(ids).fetchall()
        because = f"-- no id is logged twice: the server's unique index {json.dumps(unique)} holds each decision_id once\n" if unique else ""
        return rows, problems, f"{profile.strip()};\n{because}{ids.strip()}"

    def selected_rows(self, window: Window, sizes: dict[str, int], seed: str, frames: dict[str, int]) -> pa.Table:
        """Each point's `sizes[point]` decisions lowest by sha256(seed || ':' || decision_id) among its ids logged
        once, whole, with their key: the portable selection sqlglot writes in PostgreSQL's dialect, first under the
        key bounds its frames (ids logged once) allow, and again without them where fewer came back than it needs."""
        with self.connect() as con:
            relation, described = self.relation(con, self.columns(con))
            point_at = [name for name, _ in described].index("decision_point")
            for below in (key_bounds(sizes, frames), None):
                query = f"{_with_decisions(con, relation)} {selection_query('postgres', window.predicate(), sizes, seed, below)}"
                rows = con.execute(query).fetchall()
                got = Counter(row[point_at] for row in rows)
                if all(got[p] >= min(n, frames.get(p, 0)) for p, n in sizes.items()):
                    break
            return _arrow(rows, [*described, ("__selection_key", "VARCHAR")])

    def aggregate(self, build: Callable[[set[str], dict[str, str]], ServerQuery | None]) -> object | None:
        """An aggregate over `decisions` run in the server, parsed: `build(present, types)` writes it for the
        relation's columns and the table's column types, or returns None where the server would not compute what
        DuckDB computes. None then, and where sqlglot cannot carry it over or the server refuses a value (a text
        compared with a number): the caller computes it in the workspace instead."""
        import psycopg.errors

        from assurance_pipeline.sources.transpile import NotPortable, to_dialect

        with self.connect() as con:
            columns = self.columns(con)
            relation, described = self.relation(con, columns)
            query = build({name for name, _ in described}, columns)
            if query is None:
                return None
            if query.sql is None:
                return query.parse([])
            try:
                sql = to_dialect(query.sql, query.params, query.flags, "postgres")
            except NotPortable:
                return None
            try:
                rows = con.execute(f"{_with_decisions(con, relation)} SELECT * FROM ({sql}) AS aggregate_rows").fetchall()
            except (psycopg.errors.DataError, psycopg.errors.UndefinedFunction, psycopg.errors.DatatypeMismatch,
                    psycopg.errors.CannotCoerce):
                return None
        return query.parse(rows)

    def latest(self) -> object:
        """max(decided_at), computed by the server."""
        with self.connect() as con:
            relation, _ = self.relation(con, self.columns(con))
            return con.execute(f"SELECT max(decided_at) FROM ({relation}) AS d").fetchone()[0]

    def load_window(self, duck: duckdb.DuckDBPyConnection, window: Window | None,
                    only: frozenset[str] | None = None) -> None:
        """Copy the window's rows (every row without a window), and of the table's columns those in `only` (None: all),
        into the workspace's spill folder, once per window, and name them `__source_rows` (a view over that copy,
        removed with the workspace)."""
        from assurance_pipeline.sources.decision_log import quote_literal  # it imports this module
        from assurance_pipeline.sources.window import Window

        window = window or Window()
        marker = repr((window.to_dict(), sorted(only) if only is not None else None))
        loaded = duck.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = '__source_window' AND temporary").fetchall()
        if loaded and duck.execute("SELECT any_value(w) FROM __source_window").fetchall()[0][0] == marker:
            return
        with self.connect() as con:
            kept = {name: kind for name, kind in self.columns(con).items() if only is None or name in only}
            relation, described = self.relation(con, kept)
            # The server's COPY streams the window as CSV into the workspace's own spill folder, where DuckDB's reader
            # turns it into Parquet: ten times faster than rows through Python. NULL is written \N, so an empty string
            # stays an empty string; the CSV is gone before this returns, whatever happens. Parquet, not a table: a
            # table of the window outgrows the workspace's memory and spills row by row (10M decisions' go-live
            # window, 5M rows: loaded in 12.7 s and the baseline computed over it in 12.3 s, against 7.1 and 7.2 s,
            # and a peak of 467 against 398 MiB). Small row groups keep the writer within the workspace's limit
            # (COPY_GROUP_VALUES), and rows in any order (the server gave them in none) let it write from every
            # thread (20.1 -> 7.1 s).
            spill = Path(duck.execute("SELECT current_setting('temp_directory')").fetchone()[0])
            path, rows = spill / "source-window.csv", spill / "source-window.parquet"
            try:
                with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out, \
                        con.cursor().copy(f"COPY (SELECT * FROM ({relation}) AS d WHERE {window.predicate()}) "
                                          "TO STDOUT (FORMAT csv, HEADER, NULL '\\N')") as copy:
                    for chunk in copy:
                        out.write(chunk)
                columns = ", ".join(f"{quote_literal(name)}: {quote_literal(kind)}" for name, kind in described)
                duck.execute("SET preserve_insertion_order = false")
                duck.execute(f"COPY (SELECT * FROM read_csv({quote_literal(str(path))}, header = true, nullstr = '\\N', "
                             f"allow_quoted_nulls = false, columns = {{{columns}}})) TO {quote_literal(str(rows))} "
                             f"(FORMAT parquet, ROW_GROUP_SIZE {max(1_024, COPY_GROUP_VALUES // len(described))})")
            finally:
                duck.execute("RESET preserve_insertion_order")
                path.unlink(missing_ok=True)
        duck.execute(f"CREATE OR REPLACE TEMP VIEW {WINDOW_ROWS} AS SELECT * FROM read_parquet({quote_literal(str(rows))})")
        duck.execute("CREATE OR REPLACE TEMP TABLE __source_window AS SELECT $w AS w", {"w": marker})


# The server types whose cast to a contract type is exactly DuckDB's TRY_CAST of the value as it arrives copied.
_EXACT = {"integer": {"int2", "int4", "int8"}, "float": {"int2", "int4", "int8", "float4", "float8", "numeric"},
          "boolean": {"bool"}, "string": {"text", "varchar"}, "timestamp": {"timestamptz"}}


def _with_decisions(con: psycopg.Connection, relation: str) -> str:
    """`decisions` as a common table expression the server inlines where it is read (PostgreSQL 12 and later): the
    selection reads it twice, and a materialized one is a copy of the whole table, scanned by one process (10M
    decisions: the selection 7.3 -> 2.1 s)."""
    inline = "NOT MATERIALIZED " if con.info.server_version >= 120000 else ""
    return f"WITH decisions AS {inline}({relation})"


def casts_exactly(point: DecisionPoint, types: dict[str, str]) -> bool:
    """Whether the server types these columns (name: server type) as DuckDB would: each cast to its contract type
    without a value that DuckDB's TRY_CAST would turn NULL or round otherwise (a text amount, a float for an
    integer), and no float category (DuckDB spells 30.0 where the server spells 30)."""
    return all(kind in _EXACT.get(point.contract[name].type, ()) and not (point.contract[name].type == "float" and point.contract[name].isin)
               for name, kind in types.items())


def _arrow(rows: list[tuple], described: list[tuple[str, str]]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in described]
    return pa.table({name: pa.array(list(values), type=_ARROW[kind]) for (name, kind), values in zip(described, columns, strict=True)})


def _fingerprint_parts(per_byte: tuple) -> tuple[int, int]:
    """DuckDB's (bit_xor, sum) of md5_number_lower over a group, from the server's XOR and sum of each of the md5's
    bytes 8-15 (alternating): byte 8 + k is the number's k-th byte, little-endian."""
    xors, sums = per_byte[0::2], per_byte[1::2]
    return (sum(int(x or 0) << (8 * k) for k, x in enumerate(xors)), sum(int(total or 0) << (8 * k) for k, total in enumerate(sums)))
