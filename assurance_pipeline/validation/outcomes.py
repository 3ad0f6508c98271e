"""Outcome Evidence: each authored metric computed over a decision point's sample by `outcome_evidence.sql`."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb

from assurance_pipeline.sql_models import render
from assurance_pipeline.standard.expressions import compile_expression, referenced_columns
from assurance_pipeline.standard.models import DecisionPoint
from assurance_pipeline.validation.conformance import sample_columns
from assurance_pipeline.validation.point_rows import point_rows_sql


@dataclass(frozen=True)
class OutcomeResult:
    decision_point: str
    outcome_id: str
    title: str
    value: float | None
    expect_min: float | None
    expect_max: float | None
    sample_size: int
    within_expectation: bool

    def to_dict(self) -> dict:
        return asdict(self)


def compute_outcomes(con: duckdb.DuckDBPyConnection, point: DecisionPoint) -> list[OutcomeResult]:
    """An aggregate per metric: the sample's statistic, compared with the authored expectation."""
    if not point.outcome_evidence:
        return []
    columns = point.columns()
    present = sample_columns(con) & set(point.contract)
    missing = set(point.contract) - present
    # A metric over a contract column the log lacks cannot be computed (NULL), not computed over NULLs.
    metrics = [
        {"column": f"__metric_{i}",
         "sql": "CAST(NULL AS DOUBLE)" if referenced_columns(oe.metric) & missing else compile_expression(oe.metric, columns, "metric")}
        for i, oe in enumerate(point.outcome_evidence)
    ]
    rows_sql = point_rows_sql(point, present)
    row = con.execute(render("outcome_evidence", point_rows=rows_sql, metrics=metrics), {"decision_point": point.id}).fetchone()
    sample_size, values = int(row[0]), row[1:]
    return [
        OutcomeResult(
            decision_point=point.id, outcome_id=oe.id, title=oe.title,
            value=None if value is None else float(value), expect_min=oe.expect.min, expect_max=oe.expect.max,
            sample_size=sample_size, within_expectation=sample_size == 0 or oe.expect.holds(value),
        )
        for oe, value in zip(point.outcome_evidence, values, strict=True)
    ]
