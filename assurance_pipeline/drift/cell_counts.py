"""The cells drift is counted in, and the one pushed-down scan that counts a window's decisions into them.

A number's cells are chosen once, at go-live: its distinct values when it has few (a rating, a count: exact
frequencies), else the distinct go-live percentiles as upper bin edges (so a point mass, such as 40% zero
amounts, keeps a cell of its own). A flag's or a category's cells (a number with authored `isin` values is
one) are its authored values; anything outside the contract is counted in one cell and never named. The
go-live baseline and every cycle count with the same SQL, and only counts, means and the decision model's
disagreement leave the engine. A number's go-live cells and their counts come from two halves of the go-live
window (see `go_live_halves`).
"""

from __future__ import annotations

import duckdb

from assurance_pipeline.drift.decision_model import number_sql, prediction_sql
from assurance_pipeline.sources.decision_log import quote_ident
from assurance_pipeline.standard.models import ContractColumn, DecisionPoint
from assurance_pipeline.validation.point_rows import point_rows_sql

MAX_DISCRETE_VALUES = 50
POINT_MASS_SHARE = 0.05
PERCENTILES = [k / 100 for k in range(1, 100)]
OTHER = "(not in the contract)"


def is_number(spec: ContractColumn) -> bool:
    """A number drift tests as a distribution. One with authored values (`isin`: a loan term, a product tier) is a
    category of the business instead, tested as a mix."""
    return spec.type in ("integer", "float") and spec.isin is None


def is_category(spec: ContractColumn) -> bool:
    return spec.type == "boolean" or spec.isin is not None


def go_live_halves(relation: str) -> tuple[str, str]:
    """The go-live decisions in two halves by a hash of their id: one chooses a number's cells, the other is
    counted in them. Cells chosen on the very counts they hold would bend the permutation test (with tied
    values it ran at 12% for a nominal 5%); chosen on an independent half, the cells are fixed as far as the
    counts are concerned and the test is exact, ties or not."""
    half = "md5_number_lower(CAST(decision_id AS VARCHAR)) % 2"
    return f"(SELECT * FROM {relation} WHERE {half} = 0)", f"(SELECT * FROM {relation} WHERE {half} = 1)"


def window_relation(predicate: str) -> str:
    """The decision log over a window, as a relation `point_rows.sql` reads."""
    return f"(SELECT * FROM decisions WHERE {predicate})"


def number_cells(con: duckdb.DuckDBPyConnection, point: DecisionPoint, relation: str, present: set[str], name: str) -> dict:
    """A number's go-live shape and cells: discrete (its values), point_mass or continuous (percentile bins)."""
    col = number_sql(name)
    rows = f"WITH point_rows AS ({point_rows_sql(point, present, relation=relation)}) "
    params = {"decision_point": point.id}
    total, distinct, mean, std = con.execute(
        rows + f"SELECT count({col}), count(DISTINCT {col}), avg({col}), stddev_samp({col}) FROM point_rows", params).fetchall()[0]
    if not total:
        return {"shape": None, "mean": None, "std": None, "upper_edges": []}
    if distinct <= MAX_DISCRETE_VALUES:
        edges = [float(v) for (v,) in con.execute(rows + f"SELECT DISTINCT {col} FROM point_rows WHERE {col} IS NOT NULL ORDER BY 1", params).fetchall()]
        return {"shape": "discrete", "mean": mean, "std": std, "upper_edges": edges}
    (quantiles,) = con.execute(rows + f"SELECT quantile_disc({col}, {PERCENTILES}) FROM point_rows", params).fetchall()[0]
    (mode,) = con.execute(rows + f"SELECT max(n) FROM (SELECT count(*) AS n FROM point_rows WHERE {col} IS NOT NULL GROUP BY {col})", params).fetchall()[0]
    shape = "point_mass" if mode / total >= POINT_MASS_SHARE else "continuous"
    return {"shape": shape, "mean": mean, "std": std, "upper_edges": sorted({float(q) for q in quantiles})}


def count_cells(con: duckdb.DuckDBPyConnection, point: DecisionPoint, relation: str, present: set[str],
                cells: dict[str, dict], model: dict | None = None) -> tuple[dict[str, dict], tuple[int, int] | None]:
    """One scan of the point's rows in `relation`: per subject (a column name mapped to its `upper_edges`, or to
    its `categories`) the counts per cell and, for numbers, the mean; with a decision model, how many decided
    rows disagree with it. Returns ({name: {"counts": [...] or {...}, "mean": ...}}, (disagreeing, decided))."""
    selects, params = [], {"decision_point": point.id}
    for i, (name, cell) in enumerate(cells.items()):
        if "upper_edges" in cell:
            col = number_sql(name)
            params[f"edges_{i}"] = [float(e) for e in cell["upper_edges"]]
            selects += [f"histogram(CASE WHEN {col} IS NOT NULL THEN len(list_filter($edges_{i}, lambda e: e < {col})) END)",
                        f"avg({col})"]
        else:
            col = quote_ident(name)
            params[f"allowed_{i}"] = cell["categories"]
            value = f"CAST({col} AS VARCHAR)"
            selects += [f"histogram(CASE WHEN {col} IS NULL THEN NULL WHEN list_contains($allowed_{i}, {value}) THEN {value} "
                        f"ELSE '{OTHER}' END)", "NULL"]
    if model:
        predicted, tree_params = prediction_sql(model)
        decided = quote_ident(model["decision_field"])
        params.update(tree_params)
        selects += [f"count(*) FILTER (WHERE {decided} IS NOT NULL AND ({predicted}) IS DISTINCT FROM CAST({decided} AS VARCHAR))",
                    f"count({decided})"]
    if not selects:
        return {}, None
    rows = point_rows_sql(point, present, relation=relation)
    values = con.execute(f"WITH point_rows AS ({rows}) SELECT {', '.join(selects)} FROM point_rows", params).fetchall()[0]
    out = {}
    for i, (name, cell) in enumerate(cells.items()):
        histogram, mean = values[2 * i] or {}, values[2 * i + 1]
        if "upper_edges" in cell:
            counts = [0] * (len(cell["upper_edges"]) + 1)
            for index, n in histogram.items():
                counts[index] = n
            out[name] = {"counts": counts, "mean": mean}
        else:
            out[name] = {"counts": dict(sorted(histogram.items()))}
    return out, (tuple(values[-2:]) if model else None)


def category_cells(spec: ContractColumn) -> dict:
    """A flag's or category's cells: every authored value, seen at go-live or not. Fixed by the contract, never
    by the data, so a value that go-live happened not to see keeps its own cell and the permutation stays exact."""
    if spec.type == "boolean":
        return {"categories": ["false", "true"]}
    spell = {"integer": lambda v: str(int(v)), "float": lambda v: repr(float(v))}.get(spec.type, str)  # as CAST(... AS VARCHAR)
    return {"categories": [spell(v) for v in spec.isin or []]}


def subject_cells(profile: dict, spec: ContractColumn) -> dict | None:
    """What `count_cells` needs to count a column as its baseline profile was counted, or None (nothing to test)."""
    if profile.get("upper_edges"):
        return {"upper_edges": profile["upper_edges"]}
    if profile.get("frequencies") is not None and is_category(spec):
        return category_cells(spec)
    return None
