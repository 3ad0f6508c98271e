"""Validate one decision point's sample: its contract and DCT conditions, evaluated by attribute sampling."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import duckdb

from assurance_pipeline.sampling.cycle_plan import PointPlan, evaluate_point
from assurance_pipeline.sources.decision_log import quote_ident
from assurance_pipeline.sql_models import render
from assurance_pipeline.standard.expressions import compile_expression, referenced_columns
from assurance_pipeline.standard.models import DecisionPoint
from assurance_pipeline.validation.contract import ContractFailure, contract_schema, run_schema
from assurance_pipeline.validation.point_rows import point_rows_sql

UNKNOWN_BOOLEAN = "CAST(NULL AS BOOLEAN)"


@dataclass
class PointValidation:
    """What may be kept of a point's validation: ids, outcomes, counts, and evidence fields of failing rows only."""

    decision_point: str
    sample_size: int
    missing_columns: list[str]
    contract_failures: list[dict]
    condition_outcomes: dict[str, dict[str, str]]  # decision id -> condition id -> outcome
    condition_counts: dict[str, dict[str, int]]  # condition id -> outcome -> count
    deviating_decisions: list[str]
    evaluation: dict
    failing_evidence: dict[str, dict[str, str | None]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def sample_columns(con: duckdb.DuckDBPyConnection, relation: str = "sample") -> set[str]:
    """The columns of the sample (or of another relation of the workspace, such as the `decisions` view)."""
    return {row[0] for row in con.execute(f"DESCRIBE {relation}").fetchall()}


def validate_point(con: duckdb.DuckDBPyConnection, point: DecisionPoint, plan: PointPlan) -> PointValidation:
    """Compute condition outcomes in DuckDB, check contract and conditions with Pandera, evaluate the deviations."""
    present = sample_columns(con) & set(point.contract)
    missing = sorted(set(point.contract) - present)
    conditions = _condition_columns(point)
    rows_sql = point_rows_sql(point, present, with_type_flags=True)
    frame = con.execute(
        f"WITH point_rows AS ({rows_sql}), outcomes AS ({_outcomes_sql(point, rows_sql, set(missing))}) "
        "SELECT * FROM point_rows JOIN outcomes USING (decision_id) ORDER BY decision_id",
        {"decision_point": point.id},
    ).df()
    decision_ids = frame["decision_id"].astype(str).tolist()
    failures = run_schema(contract_schema(point, present, conditions), frame, decision_ids)
    contract = [f for f in failures if f.column not in conditions]
    contract += [ContractFailure(name, "column missing from the decision log (renamed or dropped?)", []) for name in missing]
    outcomes = {d: {conditions[c]: str(frame.at[i, c]) for c in conditions} for i, d in enumerate(decision_ids)}
    deviating = sorted({d for f in failures if f.column in conditions for d in f.decision_ids})
    result = evaluate_point(plan, len(decision_ids), len(deviating))
    failing = sorted(set(deviating) | {d for f in contract for d in f.decision_ids})
    return PointValidation(
        decision_point=point.id,
        sample_size=len(decision_ids),
        missing_columns=missing,
        contract_failures=[asdict(f) for f in contract],
        condition_outcomes=outcomes,
        condition_counts=_counts(outcomes, [cond.id for cond in point.conditions]),
        deviating_decisions=deviating,
        evaluation=result.to_dict(),
        failing_evidence=_evidence_fields(con, point, rows_sql, failing),
    )


def _condition_columns(point: DecisionPoint) -> dict[str, str]:
    """Outcome column name -> condition id (condition ids may hold '-', so columns are positional)."""
    return {f"__condition_{i}": cond.id for i, cond in enumerate(point.conditions)}


def _outcomes_sql(point: DecisionPoint, rows_sql: str, missing: set[str]) -> str:
    """A condition reading a contract column the log lacks cannot be tested: its `when` or `require` is unknown
    (NULL), never the column's absence read as a NULL value (`x IS NULL` would otherwise pass or fail)."""
    columns = point.columns()

    def compiled(text: str) -> str:
        return UNKNOWN_BOOLEAN if referenced_columns(text) & missing else compile_expression(text, columns)

    conditions = [
        {"column": column, "when": compiled(cond.when), "require": compiled(cond.require)}
        for column, cond in zip(_condition_columns(point), point.conditions, strict=True)
    ]
    return render("condition_results", point_rows=rows_sql, conditions=conditions)


def _counts(outcomes: dict[str, dict[str, str]], condition_ids: list[str]) -> dict[str, dict[str, int]]:
    counts = {cid: {"pass": 0, "fail": 0, "untestable": 0, "not_applicable": 0} for cid in condition_ids}
    for per_condition in outcomes.values():
        for cid, outcome in per_condition.items():
            counts[cid][outcome] += 1
    return counts


def _evidence_fields(con: duckdb.DuckDBPyConnection, point: DecisionPoint, rows_sql: str, failing: list[str]) -> dict[str, dict[str, str | None]]:
    """The only raw values ever kept: the authored evidence_fields, for failing decisions only."""
    if not failing or not point.evidence_fields:
        return {}
    fields = ", ".join(f"CAST({quote_ident(f)} AS VARCHAR)" for f in point.evidence_fields)
    rows = con.execute(
        f"WITH point_rows AS ({rows_sql}) SELECT decision_id, {fields} FROM point_rows "
        "WHERE decision_id IN (SELECT unnest($ids))",
        {"decision_point": point.id, "ids": failing},
    ).fetchall()
    return {row[0]: dict(zip(point.evidence_fields, row[1:], strict=True)) for row in rows}
