"""DCT expressions: parsed by sqlglot, checked against a whitelist and the known columns, re-emitted as SQL.

An authored expression is never evaluated as Python nor spliced into SQL as text: only the SQL that
sqlglot regenerates from a whitelisted syntax tree, with every identifier quoted, reaches DuckDB.
"""

from __future__ import annotations

import difflib
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

Kind = Literal["predicate", "metric"]

_STRUCTURE = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Tuple,
    exp.And, exp.Or, exp.Not, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ,
    exp.NullSafeNEQ, exp.In, exp.Between, exp.Is, exp.Like, exp.ILike, exp.Case, exp.If,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg, exp.DPipe,
)
SCALAR_FUNCTIONS: dict[type[exp.Expression], str] = {
    exp.Abs: "abs", exp.Round: "round", exp.Coalesce: "coalesce", exp.Lower: "lower",
    exp.Upper: "upper", exp.Length: "length", exp.DateDiff: "date_diff",
}
AGGREGATE_FUNCTIONS: dict[type[exp.Expression], str] = {
    exp.Avg: "avg", exp.Sum: "sum", exp.Count: "count", exp.Min: "min", exp.Max: "max",
}
_AGGREGATE_PARTS = (exp.Star, exp.Filter, exp.Where)


class ExpressionError(ValueError):
    """An authored expression is not allowed; the message says which token and why."""


def compile_expression(text: str, columns: dict[str, str] | set[str], kind: Kind = "predicate") -> str:
    """Parse `text`, check it, and return the DuckDB SQL regenerated from its syntax tree."""
    tree = _parse_single(text)
    _check_nodes(tree, kind)
    _check_columns(tree, set(columns))
    if kind == "metric":
        _check_metric_shape(tree)
    return tree.sql(dialect="duckdb", identify=True)


def referenced_columns(text: str) -> set[str]:
    """Column names an expression reads (for lineage and for the contract check)."""
    return {col.name for col in _parse_single(text).find_all(exp.Column)}


def _parse_single(text: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(text, dialect="duckdb") if s is not None]
    except (ParseError, TokenError) as err:
        raise ExpressionError(f"not a valid SQL expression ({_first_line(err)})") from None
    if len(statements) != 1:
        raise ExpressionError(f"must be one expression, found {len(statements)} statements")
    return statements[0]


def _check_nodes(tree: exp.Expression, kind: Kind) -> None:
    allowed_functions = dict(SCALAR_FUNCTIONS)
    if kind == "metric":
        allowed_functions.update(AGGREGATE_FUNCTIONS)
    for node in tree.walk():
        if isinstance(node, exp.Var) and isinstance(node.parent, exp.DateDiff):
            continue  # the unit of date_diff('day', a, b)
        if isinstance(node, _STRUCTURE) or type(node) in allowed_functions:
            continue
        if kind == "metric" and isinstance(node, _AGGREGATE_PARTS):
            continue
        raise ExpressionError(_refusal(node, kind))


def _refusal(node: exp.Expression, kind: Kind) -> str:
    if type(node) in AGGREGATE_FUNCTIONS:
        return f"aggregate {AGGREGATE_FUNCTIONS[type(node)]}() is not allowed in a condition (only in outcome metrics)"
    if isinstance(node, exp.Anonymous | exp.Func):
        name = node.name if isinstance(node, exp.Anonymous) else node.sql_name().lower()
        allowed = sorted(SCALAR_FUNCTIONS.values()) + (sorted(AGGREGATE_FUNCTIONS.values()) if kind == "metric" else [])
        return f"function '{name}' is not allowed (allowed: {', '.join(allowed)})"
    return f"'{_snippet(node)}' is not allowed ({type(node).__name__} is not part of the expression language)"


def _check_columns(tree: exp.Expression, known: set[str]) -> None:
    for column in tree.find_all(exp.Column):
        if column.table:
            raise ExpressionError(f"'{_snippet(column)}': qualified names are not allowed, use the plain column name")
        if column.name not in known:
            hint = difflib.get_close_matches(column.name, sorted(known), n=1)
            suffix = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ExpressionError(f"unknown column '{column.name}'{suffix}")


def _check_metric_shape(tree: exp.Expression) -> None:
    if not any(isinstance(n, tuple(AGGREGATE_FUNCTIONS)) for n in tree.walk()):
        raise ExpressionError("an outcome metric must aggregate over the sample (avg, sum, count, min or max)")
    for column in tree.find_all(exp.Column):
        if not column.find_ancestor(*AGGREGATE_FUNCTIONS):
            raise ExpressionError(f"column '{column.name}' is used outside an aggregate")


def _snippet(node: exp.Expression) -> str:
    text = node.sql(dialect="duckdb")
    return text if len(text) <= 60 else text[:57] + "..."


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0].strip()
