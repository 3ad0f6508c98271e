"""Outcome Evidence: each authored metric, concluded against its expectation.

A metric is computed over every decision of the point in the window by default, as one pushed-down aggregate
(`outcome_evidence.sql`): only the aggregate leaves the engine and it has no sampling error, so it decides
by its value. A metric authored `over: sample` is computed over the audit sample and concluded with its
confidence interval at the tier's confidence (`outcome_bounds`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

import duckdb

from assurance_pipeline.disclosure import MIN_DECISIONS_SHOWN
from assurance_pipeline.sql_models import render
from assurance_pipeline.sources.postgres import ServerQuery, casts_exactly
from assurance_pipeline.standard.expressions import compile_expression, mean_argument, referenced_columns, same_in_server
from assurance_pipeline.standard.models import DecisionPoint, OutcomeEvidence
from assurance_pipeline.validation import outcome_bounds as ob
from assurance_pipeline.validation.conformance import sample_columns
from assurance_pipeline.validation.point_rows import point_rows_sql, window_relation

if TYPE_CHECKING:
    from assurance_pipeline.sources.decision_log import DecisionLog
    from assurance_pipeline.sources.postgres import PostgresTable
    from assurance_pipeline.sources.window import Window

NOT_COMPUTED = "not_computed"


@dataclass(frozen=True)
class OutcomeResult:
    decision_point: str
    outcome_id: str
    title: str
    over: str  # "window": every decision of the window; "sample": the audit sample
    value: float | None
    expect_min: float | None
    expect_max: float | None
    sample_size: int  # the decisions it was computed over
    conclusion: str  # within | exceeds | inconclusive | not_computed
    confidence: float | None = None
    method: str = "exact"  # exact (window) | clopper-pearson | hall-t
    interval_low: float | None = None
    interval_high: float | None = None
    values: int | None = None  # sampled decisions with a value (a metric avg(x) ignores NULL x)
    deciding_sample_size: int | None = None  # values that would decide an inconclusive metric
    withheld: bool = False  # it rests on fewer than MIN_DECISIONS_SHOWN decisions: its value and interval are not kept

    def without_values(self) -> OutcomeResult:
        """The same conclusion with nothing that could disclose the few decisions it rests on."""
        return replace(self, value=None, interval_low=None, interval_high=None, deciding_sample_size=None, withheld=True)

    def to_dict(self) -> dict:
        return asdict(self)


def metric_values(con: duckdb.DuckDBPyConnection, point: DecisionPoint, relation: str,
                  metrics: list[OutcomeEvidence]) -> tuple[int, list, list[int]]:
    """(rows, value per metric, rows each value rests on): each metric as one aggregate over the point's rows of
    `relation`, in one query."""
    present = sample_columns(con, relation) & set(point.contract)
    query = metric_query(point, present, present, relation, metrics, utc_days=True)
    return _metric_row(con.execute(query, {"decision_point": point.id}).fetchall()[0])


def server_metric_values(server: PostgresTable, point: DecisionPoint, window: Window,
                         metrics: list[OutcomeEvidence]) -> tuple[int, list, list[int]] | None:
    """`metric_values` over the window computed in the server (only the aggregates leave it), or None where the
    server would not compute exactly what DuckDB computes (see `same_in_server`, `casts_exactly`)."""
    def build(present: set[str], types: dict[str, str]) -> ServerQuery | None:
        present &= set(point.contract)
        used = set().union(*(referenced_columns(oe.metric) for oe in metrics)) & present
        if not all(same_in_server(oe.metric, point.columns()) for oe in metrics) or not casts_exactly(point, {n: types[n] for n in used if n in types}):
            return None
        relation = f"{window_relation(window.predicate())} AS window_rows"  # a server names every subquery
        return ServerQuery(metric_query(point, present, used, relation, metrics), {"decision_point": point.id},
                           {n for n in used if point.contract[n].type == "boolean"}, lambda rows: _metric_row(rows[0]))

    return server.aggregate(build)


def window_metrics(con: duckdb.DuckDBPyConnection, point: DecisionPoint, window: Window, log: DecisionLog,
                   ) -> Callable[[list[OutcomeEvidence]], tuple[int, list, list[int]]]:
    """How a point's `over: window` metrics are computed: in a PostgreSQL server where it computes them as DuckDB
    would, else over the window in the workspace (a PostgreSQL window copied into it first, once)."""
    def values(metrics: list) -> tuple:
        if log.postgres and (found := server_metric_values(log.postgres, point, window, metrics)) is not None:
            return found
        if log.postgres:
            log.attach(con, window)
        return metric_values(con, point, window_relation(window.predicate()), metrics)
    return values


def metric_query(point: DecisionPoint, present: set[str], typed: set[str], relation: str, metrics: list[OutcomeEvidence],
                 utc_days: bool = False) -> str:
    """`outcome_evidence.sql` for the metrics over the point's rows of `relation`: a metric over a contract column the
    log lacks (not in `present`) is NULL, not computed over NULLs; only the columns in `typed` are cast. `utc_days`
    for the workspace (see `compile_expression`); a server computes its own date_diff."""
    missing, columns = set(point.contract) - present, point.columns()
    compiled = []
    for i, oe in enumerate(metrics):
        computable = not referenced_columns(oe.metric) & missing
        argument = mean_argument(oe.metric, columns, utc_days) if computable else None
        compiled.append({"column": f"__metric_{i}",
                         "sql": compile_expression(oe.metric, columns, "metric", utc_days) if computable else "CAST(NULL AS DOUBLE)",
                         "count_sql": f"count({argument})" if argument else "count(*)"})
    return render("outcome_evidence", point_rows=point_rows_sql(point, typed, relation=relation), metrics=compiled)


def _metric_row(row: tuple) -> tuple[int, list, list[int]]:
    values, counts = row[1::2], row[2::2]
    return int(row[0]), [None if v is None else float(v) for v in values], [int(c) for c in counts]


def compute_outcomes(con: duckdb.DuckDBPyConnection, point: DecisionPoint, window_relation: str, confidence: float,
                     population: int, window_values: Callable[[list[OutcomeEvidence]], tuple] | None = None) -> list[OutcomeResult]:
    """Every metric of the point: `over: window` ones in one aggregate over `window_relation` (or by `window_values`,
    which computes them where the window is, as `metric_values` does), `over: sample` ones over the `sample` table
    with their intervals (exact if the sample is all `population` decisions)."""
    by_window = [oe for oe in point.outcome_evidence if oe.over == "window"]
    results = {}
    if by_window:
        rows, values, counts = window_values(by_window) if window_values else metric_values(con, point, window_relation, by_window)
        for oe, value, resting in zip(by_window, values, counts, strict=True):
            results[oe.id] = _shown(_exact(point, oe, value, rows), resting)
    for oe in point.outcome_evidence:
        if oe.over == "sample":
            result = _over_sample(con, point, oe, confidence, population)
            results[oe.id] = _shown(result, result.sample_size if result.values is None else result.values)
    return [results[oe.id] for oe in point.outcome_evidence]


def _shown(result: OutcomeResult, resting_on: int) -> OutcomeResult:
    return result.without_values() if 0 < resting_on < MIN_DECISIONS_SHOWN and result.value is not None else result


def _exact(point: DecisionPoint, oe: OutcomeEvidence, value: float | None, rows: int) -> OutcomeResult:
    """A value with no sampling error: within or beyond the expectation by itself."""
    if value is None:
        conclusion = ob.WITHIN if rows == 0 else NOT_COMPUTED
    else:
        conclusion = ob.WITHIN if oe.expect.holds(value) else ob.EXCEEDS
    return OutcomeResult(point.id, oe.id, oe.title, oe.over, value, oe.expect.min, oe.expect.max, rows, conclusion,
                         interval_low=value, interval_high=value)


def _over_sample(con: duckdb.DuckDBPyConnection, point: DecisionPoint, oe: OutcomeEvidence, confidence: float,
                 population: int) -> OutcomeResult:
    """A metric avg(x) over the sample, with its interval; a sample that is the whole population is exact."""
    present = sample_columns(con) & set(point.contract)
    rows_sql = point_rows_sql(point, present)
    if referenced_columns(oe.metric) & (set(point.contract) - present):  # a contract column the log lacks
        rows = con.execute(f"SELECT count(*) FROM ({rows_sql})", {"decision_point": point.id}).fetchall()[0][0]
        return _exact(point, oe, None, rows)
    value_sql = mean_argument(oe.metric, point.columns())
    rows, n, mean, sd, m3, non_binary, total = con.execute(
        render("outcome_moments", point_rows=rows_sql, value=value_sql), {"decision_point": point.id}).fetchall()[0]
    if not n or rows == population:  # nothing to bound, or nothing left unsampled
        return replace(_exact(point, oe, mean if n else None, rows), values=n)
    if non_binary == 0:
        bounds = ob.conclude_share(round(total), n, confidence, oe.expect.min, oe.expect.max)
    else:
        skewness = m3 / sd**3 if sd else 0.0
        bounds = ob.conclude_mean(n, mean, sd or 0.0, skewness, confidence, oe.expect.min, oe.expect.max)
    return OutcomeResult(point.id, oe.id, oe.title, oe.over, mean, oe.expect.min, oe.expect.max, rows,
                         bounds["conclusion"], confidence, bounds["method"], bounds["interval_low"], bounds["interval_high"],
                         n, bounds["deciding_sample_size"])
