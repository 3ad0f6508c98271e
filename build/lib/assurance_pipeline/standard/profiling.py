"""Profile a live decision log for `assurance init`, in the engine: aggregates per decision point, never rows.

One aggregate scan gives, per decision point and column, the row and non-null counts, an approximate distinct
count, the five smallest and largest numbers and an approximate median. A second grouped scan counts the values of
the columns the first found low-cardinality, and the actors. Only aggregates leave DuckDB; the five extremes are
used to place rounded bounds and are never kept (see `rounded_bound`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import duckdb

from assurance_pipeline.sources.decision_log import VIEW, quote_ident, quote_literal
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.models import LOG_COLUMNS, ColumnType

MAX_CATEGORIES = 20  # a string column with more distinct values is not a category (free text, names, ids)
MIN_ROWS = 5  # a value, bound or actor is named only when at least this many rows show it
_CANDIDATE_DISTINCT = MAX_CATEGORIES + 5  # approximate distinct counts err by a few percent
_ACTOR = "\x00actor"  # the actors' key in the category scan: no column name holds a NUL


def contract_type(duckdb_type: str) -> ColumnType | None:
    """The contract type of a source column, or None for a type a contract cannot hold (lists, structs, blobs)."""
    kind = duckdb_type.upper()
    if kind == "BOOLEAN":
        return "boolean"
    if kind in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"):
        return "integer"
    if kind in ("FLOAT", "DOUBLE", "REAL") or kind.startswith("DECIMAL"):
        return "float"
    if kind.startswith(("TIMESTAMP", "DATE")):
        return "timestamp"
    if kind == "VARCHAR":
        return "string"
    return None


@dataclass
class ColumnProfile:
    name: str
    type: ColumnType
    non_null: int
    distinct: int  # approximate (HyperLogLog)
    lowest: list[float] = field(default_factory=list)  # the five smallest, ascending: used for bounds, never kept
    highest: list[float] = field(default_factory=list)  # the five largest, descending
    median: float | None = None  # approximate (t-digest)
    categories: dict[str, int] | None = None  # value -> rows, only for a low-cardinality string column


@dataclass
class PointProfile:
    id: str
    rows: int
    columns: dict[str, ColumnProfile]


@dataclass
class LogProfile:
    rows: int
    points: dict[str, PointProfile]
    actors: dict[tuple[str, str], dict[str | None, int]]  # (actor_id, actor_type) -> version -> rows
    skipped_columns: dict[str, str]  # column -> why no contract can hold it


def source_columns(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, ColumnType], dict[str, str]]:
    """The decision's own columns (not the log's) with their contract type, and those no contract type fits."""
    typed, skipped = {}, {}
    for name, kind, *_ in con.execute(f"DESCRIBE {VIEW}").fetchall():
        if name in LOG_COLUMNS:
            continue
        column_type = contract_type(kind)
        if column_type is None:
            skipped[name] = f"type {kind} has no contract type"
        else:
            typed[name] = column_type
    return typed, skipped


def profile_log(con: duckdb.DuckDBPyConnection, window: Window) -> LogProfile:
    """Profile the attached `decisions` view over `window`: one aggregate scan, then one grouped count."""
    columns, skipped = source_columns(con)
    points = _aggregate_scan(con, window, columns)
    actors = _count_scan(con, window, points)
    return LogProfile(sum(p.rows for p in points.values()), points, actors, skipped)


def _aggregate_scan(con: duckdb.DuckDBPyConnection, window: Window, columns: dict[str, ColumnType]) -> dict[str, PointProfile]:
    parts, layout = [], []
    for i, (name, kind) in enumerate(columns.items()):
        col = quote_ident(name)
        parts += [f"count({col})", f"approx_count_distinct({col})"]
        numeric = kind in ("integer", "float")
        if numeric:
            parts += [f"min({col}::DOUBLE, {MIN_ROWS})", f"max({col}::DOUBLE, {MIN_ROWS})", f"approx_quantile({col}::DOUBLE, 0.5)"]
        layout.append((name, kind, numeric))
    select = ", ".join(["decision_point", "count(*)", *parts])
    rows = con.execute(f"SELECT {select} FROM {VIEW} WHERE {window.predicate()} AND decision_point IS NOT NULL "
                       "GROUP BY decision_point ORDER BY decision_point").fetchall()
    points = {}
    for row in rows:
        values, profiles = iter(row[2:]), {}
        for name, kind, numeric in layout:
            non_null, distinct = next(values), next(values)
            lowest, highest, median = (next(values), next(values), next(values)) if numeric else ([], [], None)
            if non_null:
                profiles[name] = ColumnProfile(name, kind, non_null, distinct, _finite(lowest), _finite(highest), median)
        points[row[0]] = PointProfile(row[0], row[1], profiles)
    return points


def _finite(values: list | None) -> list[float]:
    return [v for v in values or [] if v is not None and math.isfinite(v)]


def _count_scan(con: duckdb.DuckDBPyConnection, window: Window, points: dict[str, PointProfile]) -> dict:
    """Rows per value of each low-cardinality string column (only at the points where it is one), and per actor."""
    wanted = sorted({name for p in points.values() for name, c in p.columns.items()
                     if c.type == "string" and c.distinct <= _CANDIDATE_DISTINCT})
    pairs = [f"{p.id}\x00{name}" for p in points.values() for name, c in p.columns.items()
             if c.type == "string" and c.distinct <= _CANDIDATE_DISTINCT]
    actor = "actor_type || chr(31) || actor_id || chr(31) || coalesce(actor_version, chr(0))"
    structs = [f"{{'n': {quote_literal(name)}, 'v': CAST({quote_ident(name)} AS VARCHAR)}}" for name in wanted]
    structs.append(f"{{'n': {quote_literal(_ACTOR)}, 'v': {actor}}}")
    sql = (f"SELECT decision_point, n, v, count(*) FROM (SELECT decision_point, unnest([{', '.join(structs)}], recursive := true) "
           f"FROM {VIEW} WHERE {window.predicate()} AND decision_point IS NOT NULL) "
           "WHERE v IS NOT NULL AND (n = $actor OR decision_point || chr(0) || n IN (SELECT unnest($pairs))) GROUP BY ALL")
    actors: dict[tuple[str, str], dict[str | None, int]] = {}
    for point, name, value, rows in con.execute(sql, {"actor": _ACTOR, "pairs": pairs or [""]}).fetchall():
        if name == _ACTOR:
            kind, actor_id, version = value.split("\x1f", 2)
            versions = actors.setdefault((actor_id, kind), {})
            key = None if version == "\x00" else version
            versions[key] = versions.get(key, 0) + rows
            continue
        column = points[point].columns[name]
        column.categories = {**(column.categories or {}), value: rows}
    return actors


def rounded_bound(values: list[float], upward: bool, integer: bool) -> float | None:
    """A bound no single row gives away: the fifth most extreme value (so at least MIN_ROWS rows lie at or beyond
    it), rounded outwards to two significant digits; None with fewer than MIN_ROWS values. A bound of 0 is kept
    when every value is on its side of 0 (amounts, counts, days), as it reveals nothing."""
    if len(values) < MIN_ROWS:
        return None
    if not upward and values[0] >= 0:
        return 0
    if upward and values[0] <= 0:
        return 0
    fifth = values[MIN_ROWS - 1]
    bound = round_outwards(fifth, upward)
    return int(bound) if integer or bound == int(bound) else bound


def round_outwards(value: float, upward: bool) -> float:
    """`value` rounded away from the values it bounds, to two significant digits."""
    if value == 0:
        return 0.0
    exponent = math.floor(math.log10(abs(value))) - 1  # two significant digits
    scaled = value / 10.0**exponent
    return round((math.ceil(scaled) if upward else math.floor(scaled)) * 10.0**exponent, max(0, -exponent))
