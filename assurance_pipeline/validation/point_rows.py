"""SQL for one decision point's rows, typed by its contract (shared by conformance, contract, outcomes and drift)."""

from __future__ import annotations

from assurance_pipeline.sources.decision_log import quote_ident, sql_type
from assurance_pipeline.sql_models import render
from assurance_pipeline.standard.models import DecisionPoint

TYPED_FLAG = "__has_contract_type__"


def point_rows_sql(point: DecisionPoint, sample_columns: set[str], with_type_flags: bool = False, relation: str = "sample") -> str:
    """`point_rows.sql` for this point over `relation` (the sample by default): TRY_CAST each contract column; a column
    the log lacks is NULL."""
    columns = []
    for name, column in point.contract.items():
        typed = f"TRY_CAST({quote_ident(name)} AS {sql_type(column.type)})" if name in sample_columns else f"CAST(NULL AS {sql_type(column.type)})"
        columns.append({"name": quote_ident(name), "expression": typed})
        if with_type_flags and name in sample_columns:
            flag = f"({quote_ident(name)} IS NULL OR {typed} IS NOT NULL)"
            columns.append({"name": quote_ident(TYPED_FLAG + name), "expression": flag})
    return render("point_rows", columns=columns, relation=relation)


def window_relation(predicate: str) -> str:
    """The decision log over a window, as a relation `point_rows.sql` reads."""
    return f"(SELECT * FROM decisions WHERE {predicate})"
