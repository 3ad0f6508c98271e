"""A decision point's drift counts as one GROUPING SETS aggregate, for a server without DuckDB's `histogram`.

The cells are `count_cells`' own: a number's is how many of its go-live upper edges lie below it (PostgreSQL's
`width_bucket` over the negated edges counts those at or above it), a category's is its authored value as SQL
spells it or else OTHER, and the decision model's leaf is `leaf_sql`. The query is written in DuckDB's dialect
from the very pieces `count_cells` uses (`point_rows.sql`, `number_sql`, `leaf_sql`) and transpiled by sqlglot,
every value a literal sqlglot escapes, so the server counts where the decisions live and only counts and means
leave it. A server's casts are not DuckDB's TRY_CAST: the caller counts there only where the columns' types make
the two the same (`sources.postgres.casts_exactly`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from assurance_pipeline.drift.cell_counts import LEAF, LeafCounts, category_sql
from assurance_pipeline.drift.decision_model import leaf_sql, number_sql
from assurance_pipeline.sources.decision_log import quote_ident
from assurance_pipeline.sources.postgres import ServerQuery, casts_exactly
from assurance_pipeline.standard.models import DecisionPoint
from assurance_pipeline.validation.point_rows import point_rows_sql, window_relation

if TYPE_CHECKING:
    from assurance_pipeline.sources.postgres import PostgresTable
    from assurance_pipeline.sources.window import Window


def grouped_counts_query(point: DecisionPoint, present: set[str], cells: dict[str, dict], window_predicate: str,
                         model: dict | None = None, decision_cells: dict | None = None) -> tuple[str, dict] | None:
    """The query (DuckDB's dialect, for `transpile.to_dialect`) and its parameters over a relation named `decisions`:
    one row per cell of each subject (and per leaf and agreement, per leaf and decision with a model), and one row
    of the means; None when there is nothing to count. `present` should hold only the columns counted, so that no
    other column is cast."""
    params: dict[str, object] = {"decision_point": point.id}
    keys, numbers = [], []
    for i, (name, cell) in enumerate(cells.items()):
        if "upper_edges" in cell:
            edges = [float(e) for e in cell["upper_edges"]]
            col, params[f"negated_{i}"] = number_sql(name), sorted(-e for e in edges)
            keys.append(f"{len(edges)} - width_bucket(-({col}), CAST($negated_{i} AS DOUBLE[]))")
            numbers.append(col)
        else:
            params[f"allowed_{i}"] = cell["categories"]
            keys.append(category_sql(quote_ident(name), f"$allowed_{i}"))
    sets = [[j] for j in range(len(keys))]
    rows = f"({point_rows_sql(point, present, relation=f'{window_relation(window_predicate)} AS window_rows')}) AS point_rows"
    if model:
        leaf, tree_params = leaf_sql(model)
        params |= tree_params
        decided = quote_ident(model["decision_field"])
        leaf_decision = " ".join(f"WHEN {LEAF} = {i} THEN {exp.Literal.string(n['decision']).sql()}"
                                 for i, n in enumerate(model["nodes"]) if n["left"] == -1)
        rows = f"(SELECT *, {leaf} AS {LEAF} FROM {rows}) AS point_rows_in_leaves"
        keys += [f"CASE WHEN {decided} IS NOT NULL THEN {LEAF} END",
                 f"(CASE {leaf_decision} END) = CAST({decided} AS VARCHAR)"]
        sets.append([len(keys) - 2, len(keys) - 1])
        if decision_cells:
            params["decisions_allowed"] = decision_cells["categories"]
            keys.append(category_sql(decided, "$decisions_allowed"))
            sets.append([len(keys) - 3, len(keys) - 1])
    if not keys:
        return None
    names = [f"k{j}" for j in range(len(keys))]
    keyed = ", ".join([*(f"{k} AS k{j}" for j, k in enumerate(keys)), *(f"{v} AS v{j}" for j, v in enumerate(numbers))])
    grouping = ", ".join([*(f"({', '.join(names[j] for j in s)})" for s in sets), "()"])
    sql = (f"SELECT GROUPING({', '.join(names)}) AS grouping_id, {', '.join(names)}, count(*) AS n"
           f"{''.join(f', avg(v{j})' for j in range(len(numbers)))} "
           f"FROM (SELECT {keyed} FROM {rows}) AS keyed GROUP BY GROUPING SETS ({grouping})")
    return sql, params


def server_counts(server: PostgresTable, point: DecisionPoint, window: Window,
                  subjects: Callable[[set[str]], tuple[dict, dict | None, dict | None]]) -> tuple[dict, LeafCounts | None] | None:
    """The point's window counted in the server, shaped as `count_cells` returns them; `subjects(present)` gives
    (cells, model, decision_cells) for the columns there are. None where the server would type a column otherwise."""
    def build(present: set[str], types: dict[str, str]) -> ServerQuery | None:
        cells, model, decision_cells = subjects(present & set(point.contract))
        used = {*cells, *([f["column"] for f in model["features"]] + [model["decision_field"]] if model else [])}
        query = grouped_counts_query(point, present & used, cells, window.predicate(), model, decision_cells)
        if query is not None and not casts_exactly(point, {n: types[n] for n in used if n in types}):
            return None
        sql, params = query or (None, {})  # nothing to count: nothing asked of the server
        return ServerQuery(sql, params, {n for n in used if point.contract[n].type == "boolean"},
                           lambda rows: counts_from_rows(rows, cells, model, decision_cells))

    return server.aggregate(build)


def counts_from_rows(rows: list[tuple], cells: dict[str, dict], model: dict | None = None, decision_cells: dict | None = None,
                     ) -> tuple[dict[str, dict], LeafCounts | None]:
    """`count_cells`' result from the rows of `grouped_counts_query`."""
    width = len(cells) + (2 + bool(decision_cells) if model else 0)
    by_set: dict[tuple[int, ...], list[tuple]] = {}
    for row in rows:
        grouped = tuple(j for j in range(width) if not (row[0] >> (width - 1 - j)) & 1)
        by_set.setdefault(grouped, []).append(row)
    means = (by_set.get((), [()])[0])[2 + width:]
    out, numbers = {}, 0
    for j, (name, cell) in enumerate(cells.items()):
        found = [(row[1 + j], row[1 + width]) for row in by_set.get((j,), []) if row[1 + j] is not None]
        if "upper_edges" in cell:
            counts = [0] * (len(cell["upper_edges"]) + 1)
            for k, n in found:
                counts[k] += n
            out[name] = {"counts": counts, "mean": means[numbers] if means else None}
            numbers += 1
        else:
            out[name] = {"counts": dict(sorted((k, n) for k, n in found))}
    if not model:
        return out, None
    leaf, agrees = len(cells), len(cells) + 1
    decided: dict[int, int] = {}
    disagreeing: dict[int, int] = {}
    for row in by_set.get((leaf, agrees), []):
        if row[1 + leaf] is not None:
            decided[row[1 + leaf]] = decided.get(row[1 + leaf], 0) + row[1 + width]
            if not row[1 + agrees]:
                disagreeing[row[1 + leaf]] = row[1 + width]
    decisions = None
    if decision_cells:
        decisions = {}
        for row in by_set.get((leaf, agrees + 1), []):
            if row[1 + leaf] is not None:
                decisions.setdefault(row[1 + leaf], {})[row[2 + agrees]] = row[1 + width]
    return out, LeafCounts(decided, disagreeing, decisions)
