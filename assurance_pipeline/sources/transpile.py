"""DuckDB SQL as a server runs it: sqlglot's transpilation, with DuckDB's meaning kept where the dialects differ.

The cycle's aggregates are written once, in DuckDB's dialect (the models in `dbt_like_sql/` and the pieces the
drift counts are built from). A server that holds the decisions runs them translated, with three things sqlglot
does not carry over by itself: every `$name` (and `$name[i]`) becomes its value as a literal sqlglot escapes, so
the server's placeholders never meet a column name; a flag (boolean) becomes a number through an integer, as
DuckDB casts it at once; and division by zero gives IEEE infinity or NaN as in DuckDB, where PostgreSQL raises.
"""

from __future__ import annotations

import math

import sqlglot
from sqlglot import exp


MAX_DIVISIONS = 3  # each spelled out for division by zero repeats its operands: deeper nests stay in DuckDB


class NotPortable(ValueError):
    """The SQL is not run in the server (the caller computes it in the workspace instead)."""


def to_dialect(sql: str, params: dict[str, object], flags: set[str], dialect: str) -> str:
    """`sql` (DuckDB) in `dialect`; `flags` are the boolean columns it reads."""
    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Bracket) and isinstance(node.this, exp.Placeholder) and node.expressions[0].is_int:
            return literal(params[node.this.name][int(node.expressions[0].name)])
        if isinstance(node, exp.Placeholder):
            return literal(params[node.name])
        if isinstance(node, exp.Cast) and node.to.is_type("double") and isinstance(node.this, exp.Column) and node.this.name in flags:
            return exp.cast(exp.cast(node.this.copy(), "INT"), "DOUBLE")
        return node
    tree = sqlglot.parse_one(sql, read="duckdb").transform(replace)
    if len(list(tree.find_all(exp.Div))) > MAX_DIVISIONS:
        raise NotPortable(f"more than {MAX_DIVISIONS} divisions")
    for node in reversed(list(tree.dfs())):  # a division's operands before the division
        if isinstance(node, exp.Div):
            node.replace(_ieee_division(node))
    return tree.sql(dialect=dialect)


def literal(value: object) -> exp.Expression:
    """A value as a SQL literal: text escaped, a number as Python's shortest exact spelling, infinities and NaN by
    name, a list as an array (an empty one as a text array)."""
    if isinstance(value, list):
        return exp.Array(expressions=[literal(v) for v in value]) if value else exp.cast(exp.Array(), "VARCHAR[]")
    if isinstance(value, str):
        return exp.Literal.string(value)
    number = float(value)
    if not math.isfinite(number):  # a tree's threshold may be infinite (missing values split off)
        return exp.cast(exp.Literal.string("NaN" if math.isnan(number) else "Infinity" if number > 0 else "-Infinity"), "DOUBLE")
    return exp.Literal.number(repr(number))


def _ieee_division(node: exp.Div) -> exp.Expression:
    """a / b, but by a zero b (negative zero included) infinity signed as a and b are, or NaN for 0/0 and NaN/0."""
    a, b = node.this, node.expression
    inner = node.copy()
    double = exp.DataType.build("DOUBLE")
    negative_b = exp.Like(this=exp.cast(exp.cast(b.copy(), double), "VARCHAR"), expression=exp.Literal.string("-%"))
    by_zero = exp.Case(ifs=[
        exp.If(this=exp.Is(this=a.copy(), expression=exp.Null()), true=exp.Null()),
        exp.If(this=exp.or_(exp.EQ(this=exp.cast(a.copy(), double), expression=literal(0.0)),
                            exp.EQ(this=exp.cast(a.copy(), double), expression=literal(math.nan))), true=literal(math.nan)),
        exp.If(this=exp.NEQ(this=exp.paren(exp.GT(this=a.copy(), expression=literal(0.0))), expression=exp.paren(negative_b)),
               true=literal(math.inf)),
    ], default=literal(-math.inf))
    return exp.Case(ifs=[exp.If(this=exp.EQ(this=b.copy(), expression=exp.Literal.number(0)), true=by_zero)], default=inner)
