"""Type-check compiled expressions by binding them in DuckDB against an empty table of the point's columns.

The whitelist says an expression is made of allowed parts; binding says the parts fit together
(`lower(amount)` on a float, `date_diff('fortnight', …)`), so such a mistake is refused when the
standard loads, not halfway through a cycle. The table is empty: no data is involved.
"""

from __future__ import annotations

import re

import duckdb

from assurance_pipeline.sources.decision_log import quote_ident, sql_type
from assurance_pipeline.standard.expressions import ExpressionError
from assurance_pipeline.standard.models import DecisionPoint

_NUMERIC = re.compile(r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$")


class TypeChecker:
    """One in-memory DuckDB for a standard's load; a typed empty table per decision point."""

    def __init__(self) -> None:
        self._con: duckdb.DuckDBPyConnection | None = duckdb.connect(":memory:")

    def close(self) -> None:
        """Close and drop the connection: a traceback that keeps this checker alive must not keep DuckDB alive."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def define(self, point: DecisionPoint) -> str:
        table = quote_ident(f"point_{point.id}")
        columns = ", ".join(f"{quote_ident(name)} {sql_type(kind)}" for name, kind in point.columns().items())
        self._con.execute(f"CREATE OR REPLACE TABLE {table} ({columns})")
        return table

    def check(self, table: str, sql: str, kind: str) -> None:
        """A predicate must be boolean; a metric numeric (it is reported as a number)."""
        try:
            result_type = self._con.execute(f"DESCRIBE SELECT ({sql}) AS value FROM {table}").fetchone()[1]
        except duckdb.Error as err:
            raise ExpressionError(f"does not type-check: {_first_line(err)}") from None
        if kind == "predicate" and result_type not in ("BOOLEAN", '"NULL"'):
            raise ExpressionError(f"must be true or false, but gives {result_type}")
        if kind == "metric" and not _NUMERIC.match(result_type):
            raise ExpressionError(f"must give a number, but gives {result_type}")


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()[0]
    return re.sub(r"^[A-Za-z ]+Error: ", "", text)
