"""The data contract of a decision point as a Pandera schema, run over its typed sample.

Failures come back as (column, check, decision ids): Pandera's failure cases hold row values, so they
are read for their row index only and never logged or kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: pandera takes a second to import
    import pandas as pd
    import pandera.pandas as pa

from assurance_pipeline.standard.models import ContractColumn, DecisionPoint
from assurance_pipeline.validation.point_rows import TYPED_FLAG

_PANDAS_DTYPES = {"string": "string", "integer": "Int64", "float": "Float64", "boolean": "boolean", "timestamp": "datetime64[us, UTC]"}


@dataclass(frozen=True)
class ContractFailure:
    column: str
    check: str
    decision_ids: list[str]

    def describe(self) -> str:
        return f"{self.column}: {self.check} ({len(self.decision_ids)} decisions)"


def contract_schema(point: DecisionPoint, present: set[str], condition_columns: dict[str, str]) -> pa.DataFrameSchema:
    """Columns with their type, nullability, range and allowed values; one check per DCT condition outcome."""
    import pandera.pandas as pa
    columns = {name: _column(name, spec, name in present) for name, spec in point.contract.items() if name in present}
    for name in point.contract:
        if name in present:
            columns[TYPED_FLAG + name] = pa.Column(bool, checks=pa.Check.eq(True))
    for column, condition_id in condition_columns.items():
        columns[column] = pa.Column(str, checks=pa.Check.isin(["pass", "not_applicable"]), title=condition_id)
    return pa.DataFrameSchema(columns, strict=False, name=point.id)


def _column(name: str, spec: ContractColumn, present: bool) -> pa.Column:
    import pandera.pandas as pa
    checks = []
    if spec.min is not None:
        checks.append(pa.Check.ge(spec.min))
    if spec.max is not None:
        checks.append(pa.Check.le(spec.max))
    if spec.isin is not None:
        checks.append(pa.Check.isin(spec.isin))
    return pa.Column(_PANDAS_DTYPES[spec.type], checks=checks, nullable=spec.nullable, coerce=True)


def run_schema(schema: pa.DataFrameSchema, frame: pd.DataFrame, decision_ids: list[str]) -> list[ContractFailure]:
    """Validate lazily; group failures by (column, check) into the decision ids that failed them."""
    import pandas as pd
    import pandera.pandas as pa
    try:
        schema.validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
    grouped: dict[tuple[str, str], list[str]] = {}
    for column, check, index in zip(cases["column"], cases["check"], cases["index"], strict=True):
        key = (_column_label(column), _check_label(str(column), str(check)))
        ids = grouped.setdefault(key, [])
        if index is not None and not pd.isna(index):
            ids.append(decision_ids[int(index)])
    return [ContractFailure(col, check, sorted(set(ids))) for (col, check), ids in sorted(grouped.items())]


def _column_label(column: object) -> str:
    import pandas as pd
    text = "" if column is None or (isinstance(column, float) and pd.isna(column)) else str(column)
    return text.removeprefix(TYPED_FLAG)


def _check_label(column: str, check: str) -> str:
    if column.startswith(TYPED_FLAG):
        return "value does not have the contract type"
    return {"not_nullable": "null where the contract forbids it"}.get(check, check)
