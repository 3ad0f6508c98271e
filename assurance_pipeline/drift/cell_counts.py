"""The cells drift is counted in, and the one pushed-down scan that counts a window's decisions into them.

A number's cells are chosen once, at go-live: its distinct values when it has few (a rating, a count: exact
frequencies), else the distinct go-live percentiles as upper bin edges (so a point mass, such as 40% zero
amounts, keeps a cell of its own). A flag's or a category's cells (a number with authored `isin` values is
one) are its authored values; anything outside the contract is counted in one cell and never named. With a
decision model, the same scan places each decision in a leaf of the go-live tree and counts, per leaf, the
decisions, those that disagree with the leaf's decision and the decisions per authored value. The go-live
baseline and every cycle count with the same SQL, and only counts and means leave the engine. A number's
go-live cells and their counts come from two halves of the go-live window (see `go_live_halves`); the decision
model is fitted on one part of it and its held-out leaf counts come from the other (`decision_model_split`).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from assurance_pipeline.disclosure import MIN_DECISIONS_SHOWN
from assurance_pipeline.drift.decision_model import leaf_sql, number_sql
from assurance_pipeline.sources.decision_log import quote_ident
from assurance_pipeline.sql_models import md5_lower
from assurance_pipeline.standard.models import ContractColumn, DecisionPoint
from assurance_pipeline.validation.point_rows import point_rows_sql

MAX_DISCRETE_VALUES = 50
POINT_MASS_SHARE = 0.05
PERCENTILES = [k / 100 for k in range(1, 100)]
OTHER = "(not in the contract)"
NORMAL_IQR = 1.349  # the interquartile range of a standard normal: IQR / 1.349 is the SD of a normal
LEAF = "__decision_tree_leaf__"
CHOOSING_ROWS = 1_000_000  # at most about this many go-live decisions choose a number's cells (choosing_thin)
ID_HASH = md5_lower("CAST(decision_id AS VARCHAR)")  # what splits, thins and ranks the go-live decisions
TRAINING_TENTHS = 7  # of ten parts of the go-live decisions by ID_HASH, those the decision model is fitted on


@dataclass(frozen=True)
class LeafCounts:
    """Per leaf of the decision model (its node index): the decided rows, those disagreeing with the leaf's
    decision, and, for a decision with authored values, the decisions per value (outside the contract: OTHER)."""
    decided: dict[int, int]
    disagreeing: dict[int, int]
    decisions: dict[int, dict[str, int]] | None = None

    def records(self) -> list[dict]:
        """As the baseline stores them: one record per leaf with a decision in it."""
        return [{"leaf": leaf, "decided": n, "disagreeing": self.disagreeing.get(leaf, 0),
                 **({"decisions": self.decisions.get(leaf, {})} if self.decisions is not None else {})}
                for leaf, n in sorted(self.decided.items())]

    @classmethod
    def from_records(cls, records: list[dict]) -> LeafCounts:
        decisions = {r["leaf"]: r["decisions"] for r in records} if all("decisions" in r for r in records) else None
        return cls({r["leaf"]: r["decided"] for r in records}, {r["leaf"]: r["disagreeing"] for r in records}, decisions)


def is_number(spec: ContractColumn) -> bool:
    """A number drift tests as a distribution. One with authored values (`isin`: a loan term, a product tier) is a
    category of the business instead, tested as a mix."""
    return spec.type in ("integer", "float") and spec.isin is None


def is_category(spec: ContractColumn) -> bool:
    return spec.type == "boolean" or spec.isin is not None


def go_live_halves(relation: str, thin: int = 1) -> tuple[str, str]:
    """The go-live decisions in two halves by a hash of their id: one chooses a number's cells, the other is
    counted in them. Cells chosen on the very counts they hold would bend the permutation test (with tied
    values it ran at 12% for a nominal 5%); chosen on an independent half, the cells are fixed as far as the
    counts are concerned and the test is exact, ties or not. With `thin` > 1 the choosing half keeps one decision
    in `thin` by the same hash's next bits (`choosing_thin`), so the cells of a log of any size are chosen from a
    bounded, reproducible subset; the counted half is never thinned."""
    thinned = f" AND ({ID_HASH} >> 1) % {int(thin)} = 0" if thin > 1 else ""
    return (f"(SELECT * FROM {relation} WHERE {ID_HASH} % 2 = 0{thinned})",
            f"(SELECT * FROM {relation} WHERE {ID_HASH} % 2 = 1)")


def choosing_thin(decisions: int) -> int:
    """One choosing-half decision in how many chooses the cells, so that at most about CHOOSING_ROWS do: 1 (all of
    them) up to 2 * CHOOSING_ROWS go-live decisions. Percentile edges from a million values are as good a partition
    as from fifty million (a 1% cell's share has a standard error of 0.01 points), and the test's exactness rests
    on the cells being chosen apart from the counted half, not on their precision; exact percentiles and distinct
    counts over the whole half held every value in memory (100M decisions: 45 s and 120 MiB more)."""
    return max(1, -(-decisions // (2 * CHOOSING_ROWS)))


def decision_model_split(relation: str) -> tuple[str, str]:
    """The go-live decisions in two parts by a hash of their id: 70% the decision model is fitted on, 30% held out
    and counted per leaf, so the go-live disagreement the window is held to is not the fit's own (optimistic) one."""
    part = f"{ID_HASH} % 10"
    return (f"(SELECT * FROM {relation} WHERE {part} < {TRAINING_TENTHS})",
            f"(SELECT * FROM {relation} WHERE {part} >= {TRAINING_TENTHS})")


def number_cells(con: duckdb.DuckDBPyConnection, rows: str, name: str) -> dict:
    """A number's go-live shape and cells from `rows`, one point's typed rows (`choosing_rows`): discrete (its
    values), point_mass or continuous (percentile bins); and the scale its effect is measured in (`robust_scale`).
    A discrete value held by fewer than MIN_DECISIONS_SHOWN decisions is no cell of its own (it would name their
    value): it is counted in the cell of the next value up."""
    col = number_sql(name)
    total, distinct, mean, std, quartiles = con.execute(
        f"SELECT count({col}), count(DISTINCT {col}), avg({col}), stddev_samp({col}), quantile_cont({col}, [0.25, 0.75]) "
        f"FROM {rows}").fetchall()[0]
    if total < MIN_DECISIONS_SHOWN:  # none, or a mean and cells of a few values that would be those values
        return {"shape": None, "mean": None, "std": None, "scale": None, "scale_kind": None, "upper_edges": []}
    shape = {"mean": mean, "std": std, **robust_scale(quartiles[1] - quartiles[0], std)}
    if distinct <= MAX_DISCRETE_VALUES:
        edges = [float(v) for (v,) in con.execute(f"SELECT {col} FROM {rows} WHERE {col} IS NOT NULL GROUP BY 1 "
                                                  f"HAVING count(*) >= {MIN_DECISIONS_SHOWN} ORDER BY 1").fetchall()]
        return {"shape": "discrete", **shape, "upper_edges": edges}
    (quantiles,) = con.execute(f"SELECT quantile_disc({col}, {PERCENTILES}) FROM {rows}").fetchall()[0]
    (mode,) = con.execute(f"SELECT max(n) FROM (SELECT count(*) AS n FROM {rows} WHERE {col} IS NOT NULL GROUP BY {col})").fetchall()[0]
    kind = "point_mass" if mode / total >= POINT_MASS_SHARE else "continuous"
    return {"shape": kind, **shape, "upper_edges": sorted({float(q) for q in quantiles})}


def choosing_rows(con: duckdb.DuckDBPyConnection, point: DecisionPoint, relation: str, present: set[str], names: list[str]) -> str:
    """The typed number columns `names` of the point's rows in `relation` (the choosing half), as one temp table
    `number_cells` reads: one scan of the go-live window per point instead of four per number."""
    columns = ", ".join(quote_ident(n) for n in names)
    con.execute(f"CREATE OR REPLACE TEMP TABLE choosing_rows AS WITH point_rows AS "
                f"({point_rows_sql(point, present, relation=relation)}) SELECT {columns} FROM point_rows", {"decision_point": point.id})
    return "choosing_rows"


def robust_scale(iqr: float, std: float | None) -> dict:
    """The go-live scale a number's shift is measured in: the normal-consistent interquartile range, IQR / 1.349
    (1.349 = 2 Φ⁻¹(0.75); Hoaglin, Mosteller & Tukey 1983, *Understanding Robust and Exploratory Data Analysis*;
    Huber & Ronchetti 2009, *Robust Statistics*), which is the SD for a normal, so a floor in SDs keeps its meaning,
    but is not inflated by a heavy tail as the SD is. The SD where the IQR is 0 (half the values on one point)."""
    if iqr and iqr > 0:
        return {"scale": iqr / NORMAL_IQR, "scale_kind": "iqr/1.349"}
    return {"scale": std, "scale_kind": "sd"}


def count_cells(con: duckdb.DuckDBPyConnection, point: DecisionPoint, relation: str, present: set[str],
                cells: dict[str, dict], model: dict | None = None, decision_cells: dict | None = None,
                ) -> tuple[dict[str, dict], LeafCounts | None]:
    """One scan of the point's rows in `relation`: per subject (a column name mapped to its `upper_edges`, or to
    its `categories`) the counts per cell and, for numbers, the mean; with a decision model, its `LeafCounts`
    (per value of the decision when `decision_cells` gives the decision's categories).
    Returns ({name: {"counts": [...] or {...}, "mean": ...}}, leaf counts or None)."""
    selects, params = [], {"decision_point": point.id}
    for i, (name, cell) in enumerate(cells.items()):
        if "upper_edges" in cell:
            col = number_sql(name)
            params[f"edges_{i}"] = [float(e) for e in cell["upper_edges"]]
            selects += [f"histogram({col}, $edges_{i})", f"avg({col})"]  # a value's cell: the first upper edge >= it
        else:
            params[f"allowed_{i}"], params[f"cells_{i}"] = cell["categories"], _bins(cell["categories"])
            selects += [f"histogram({category_sql(quote_ident(name), f'$allowed_{i}')}, $cells_{i})", "NULL"]
    rows = f"WITH point_rows AS ({point_rows_sql(point, present, relation=relation)})"
    if model:
        leaf, tree_params = leaf_sql(model)
        leaves = [i for i, n in enumerate(model["nodes"]) if n["left"] == -1]
        params |= tree_params | {"tree_decisions": [n["decision"] for n in model["nodes"]], "leaves": leaves}
        decided = quote_ident(model["decision_field"])
        rows += f", point_rows_in_leaves AS (SELECT *, {leaf} AS {LEAF} FROM point_rows)"
        selects += [f"histogram({LEAF}, $leaves) FILTER (WHERE {decided} IS NOT NULL)",
                    f"histogram({LEAF}, $leaves) FILTER (WHERE {decided} IS NOT NULL AND $tree_decisions[{LEAF} + 1] <> CAST({decided} AS VARCHAR))"]
        if decision_cells:
            params["decisions_allowed"] = decision_cells["categories"]
            params["leaf_decisions"] = sorted(f"{n}|{d}" for n in leaves for d in _bins(decision_cells["categories"]))
            selects.append(f"histogram(CAST({LEAF} AS VARCHAR) || '|' || {category_sql(decided, '$decisions_allowed')}, $leaf_decisions) "
                           f"FILTER (WHERE {decided} IS NOT NULL)")
    if not selects:
        return {}, None
    values = con.execute(f"{rows} SELECT {', '.join(selects)} FROM {'point_rows_in_leaves' if model else 'point_rows'}", params).fetchall()[0]
    out = {}
    for i, (name, cell) in enumerate(cells.items()):
        histogram, mean = values[2 * i] or {}, values[2 * i + 1]
        if "upper_edges" in cell:
            out[name] = {"counts": _edge_counts(histogram, cell["upper_edges"]), "mean": mean}
        else:
            out[name] = {"counts": _seen(histogram)}
    return out, (_leaf_counts(values[2 * len(cells):], decision_cells is not None) if model else None)


def _bins(categories: list[str]) -> list[str]:
    """A category's cells as the bins of DuckDB's binned `histogram(x, bins)`: every value the cell SQL gives is a
    bin of its own. Bins, not `histogram(x)`, which DuckDB 2 plans as a GROUP BY whose input it materializes when
    another aggregate shares the scan: every row of the point's window held in memory and spilled (100M decisions:
    2.2x the time, 255 MiB more)."""
    return sorted({*categories, OTHER})


def _seen(histogram: dict) -> dict:
    """A binned histogram's counts without its empty bins, in order: the cells the window has, as the PostgreSQL
    path and the go-live frequencies count them."""
    return {key: n for key, n in sorted(histogram.items()) if n}


def _edge_counts(histogram: dict[float, int], upper_edges: list[float]) -> list[int]:
    """Counts per cell from DuckDB's binned `histogram(x, edges)`, keyed by each cell's upper edge (the values above
    the last edge under +inf): cell k holds the values in (edge k-1, edge k], the last one those above every edge."""
    index = {float(edge): k for k, edge in enumerate(upper_edges)}
    counts = [0] * (len(upper_edges) + 1)
    for edge, n in histogram.items():
        counts[index.get(edge, len(upper_edges))] += n
    return counts


def category_sql(column: str, allowed: str) -> str:
    """A category's cell: its value as SQL spells it when the contract allows it, else OTHER (never named)."""
    value = f"CAST({column} AS VARCHAR)"
    return f"CASE WHEN {column} IS NULL THEN NULL WHEN list_contains({allowed}, {value}) THEN {value} ELSE '{OTHER}' END"


def _leaf_counts(values: tuple, per_decision: bool) -> LeafCounts:
    decided, disagreeing = (_seen(v or {}) for v in values[:2])
    if not per_decision:
        return LeafCounts(decided, disagreeing)
    decisions: dict[int, dict[str, int]] = {}
    for key, n in _seen(values[2] or {}).items():
        leaf, decision = key.split("|", 1)
        decisions.setdefault(int(leaf), {})[decision] = n
    return LeafCounts(decided, disagreeing, decisions)


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
