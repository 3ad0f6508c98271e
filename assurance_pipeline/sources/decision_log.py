"""Read a production decision log through DuckDB, as a view named `decisions`, without copying it.

Every source becomes the same normalized view: the log's own columns (optional ones as NULL when the
source lacks them), `decided_at` as a UTC timestamp, `decision_id` as text. Filters, sampling and
aggregates then run in the engine against that view, so only what a query returns leaves the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

import duckdb
from sqlglot import exp

from assurance_pipeline.errors import AssuranceError, SourceError, engine_error
from assurance_pipeline.sources.postgres import SCHEMES, WINDOW_ROWS, PostgresTable
from assurance_pipeline.standard.models import LOG_COLUMNS, REQUIRED_LOG_COLUMNS

if TYPE_CHECKING:
    from assurance_pipeline.sources.window import Window

VIEW = "decisions"
_SQL_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "float": "DOUBLE", "boolean": "BOOLEAN", "timestamp": "TIMESTAMPTZ"}


def sql_type(column_type: str) -> str:
    """The DuckDB type a contract column type is checked and cast as."""
    return _SQL_TYPES[column_type]


def quote_literal(value: str) -> str:
    """A SQL string literal, escaped by sqlglot (paths and table names only; row values never pass here)."""
    return exp.Literal.string(value).sql(dialect="duckdb")


def quote_ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")


def redact_uri(uri: str) -> str:
    """`scheme://user:secret@host/...` as `scheme://user:***@host/...`: a source's password is never shown or stored."""
    parsed = urlparse(uri)
    if parsed.password is None:
        return uri
    netloc = f"{parsed.username or ''}:***@{parsed.netloc.rpartition('@')[2]}"
    return parsed._replace(netloc=netloc).geturl()


def has_password(uri: str) -> bool:
    return urlparse(uri).password is not None


def _refuse_special(path: Path, shown: str) -> None:
    """A FIFO, socket or device would block or never end a scan: only regular files and folders are read."""
    if not (path.is_file() or path.is_dir()):
        raise AssuranceError(f"source {shown}: {path} is not a regular file or folder")


@dataclass(frozen=True)
class DecisionLog:
    """A source URI: a Parquet file or folder, a CSV file, a DuckDB table (`duckdb:///path.db?table=t`) or a
    PostgreSQL table (`postgresql://user@host:5432/db?table=t`). `columns`, where given, are all a PostgreSQL
    window copied into the workspace holds: no other column of the table leaves the server."""

    uri: str
    columns: frozenset[str] | None = None

    @property
    def postgres(self) -> PostgresTable | None:
        """The PostgreSQL table this URI names, which profiles and selects in the server; None for any other source."""
        return PostgresTable(self.uri, self.shown) if urlparse(self.uri).scheme in SCHEMES else None

    def attach(self, con: duckdb.DuckDBPyConnection, window: Window | None = None, rows: bool = True) -> list[str]:
        """Create the normalized `decisions` view on `con`; return the source's column names. A PostgreSQL source is
        checked, and its rows in `window` copied into the workspace only when `rows` (the profile and the selection
        run in the server without them)."""
        if self.postgres:
            return self._attach_postgres(con, window, rows)
        relation = self._relation(con)
        try:
            described = con.sql(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        except duckdb.Error as err:
            raise engine_error(err, f"source {self.shown}: cannot be read") from None
        columns = self._checked([(row[0], row[1]) for row in described])
        con.execute(f"CREATE OR REPLACE TEMP VIEW {VIEW} AS {self._normalizing_select(relation, columns)}")
        return columns

    def _checked(self, described: list[tuple[str, str]]) -> list[str]:
        """The column names, once the required ones are there and decided_at is a timestamp (one line naming them)."""
        columns = [name for name, _ in described]
        missing = [c for c in REQUIRED_LOG_COLUMNS if c not in columns]
        if missing:
            raise AssuranceError(f"source {self.shown}: missing required column(s) {', '.join(missing)} (see README: The decision log)")
        decided_at_type = next(kind for name, kind in described if name == "decided_at")
        if not decided_at_type.startswith(("TIMESTAMP", "DATE")):
            raise AssuranceError(f"source {self.shown}: column decided_at is {decided_at_type}, not a timestamp")
        return columns

    def _attach_postgres(self, con: duckdb.DuckDBPyConnection, window: Window | None, rows: bool) -> list[str]:
        table = self.postgres
        with table.connect() as server:
            columns = table.columns(server)
        try:
            names = self._checked(table.described(columns))
        except AssuranceError as err:
            raise type(err)(f"{err} (table {table.table_shown})") from None
        if rows:
            table.load_window(con, window, self.columns)
            con.execute(f"CREATE OR REPLACE TEMP VIEW {VIEW} AS SELECT * FROM {WINDOW_ROWS}")
        return names

    def _relation(self, con: duckdb.DuckDBPyConnection) -> str:
        parsed = urlparse(self.uri)
        if parsed.scheme == "duckdb":
            return self._attach_duckdb(con, parsed)
        if parsed.scheme not in ("", "file"):
            raise AssuranceError(f"source {self.shown}: unknown scheme '{parsed.scheme}' (use a path, duckdb:///path.db?table=t or postgresql://user@host:5432/db?table=t)")
        path = Path(parsed.path if parsed.scheme == "file" else self.uri)
        if path.is_dir():
            files = sorted(path.rglob("*.parquet"))
            if not files:
                raise SourceError(f"source {self.shown}: folder has no .parquet files")
            return f"read_parquet({quote_literal(str(path / '**' / '*.parquet'))}, union_by_name = true)"
        if not path.exists():
            raise SourceError(f"source {self.shown}: no such file or folder")
        _refuse_special(path, self.shown)
        if path.suffix.lower() == ".parquet":
            return f"read_parquet({quote_literal(str(path))})"
        if path.suffix.lower() == ".csv":
            return f"read_csv({quote_literal(str(path))}, header = true, auto_detect = true)"
        raise AssuranceError(f"source {self.shown}: unsupported file type '{path.suffix}' (use .parquet, .csv or a folder of Parquet files)")

    def _attach_duckdb(self, con: duckdb.DuckDBPyConnection, parsed) -> str:
        table = parse_qs(parsed.query).get("table", [None])[0]
        path = Path(parsed.path)
        if not table:
            raise AssuranceError(f"source {self.shown}: name the table, e.g. duckdb:///{path}?table=decisions")
        if not path.exists():
            raise SourceError(f"source {self.shown}: no such DuckDB file {path}")
        _refuse_special(path, self.shown)
        try:
            # Every step of a cycle attaches the source on the one workspace connection: attach it once.
            con.execute(f"ATTACH IF NOT EXISTS {quote_literal(str(path))} AS source_db (READ_ONLY)")
        except duckdb.Error as err:
            raise engine_error(err, f"source {self.shown}: cannot be opened") from None
        return f"source_db.main.{quote_ident(table)}"

    @property
    def shown(self) -> str:
        """The URI as it may be shown or recorded: a password in it is masked."""
        return redact_uri(self.uri)

    @staticmethod
    def _normalizing_select(relation: str, columns: list[str]) -> str:
        fixed = {
            "decision_id": "CAST(decision_id AS VARCHAR)",
            "decided_at": "CAST(decided_at AS TIMESTAMPTZ)",
        }
        replaced = ", ".join(f"{expr} AS {name}" for name, expr in fixed.items())
        added = [
            f"CAST(NULL AS {sql_type(kind)}) AS {name}"
            for name, kind in LOG_COLUMNS.items()
            if name not in columns
        ]
        select = f"SELECT * REPLACE ({replaced})" + "".join(f", {a}" for a in added)
        return f"{select} FROM {relation}"
