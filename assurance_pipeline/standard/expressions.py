"""DCT expressions: parsed by sqlglot, checked against a whitelist and the known columns, re-emitted as SQL.

An authored expression is never evaluated as Python nor spliced into SQL as text: only the SQL that
sqlglot regenerates from a whitelisted syntax tree, with every identifier quoted, reaches DuckDB.
"""

from __future__ import annotations

import difflib
import re
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from assurance_pipeline.standard.limits import MAX_EXPRESSION_CHARS, MAX_EXPRESSION_NESTING, MAX_EXPRESSION_NODES

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
_DUCKDB = sqlglot.Dialect.get_or_raise("duckdb")
_OPENING = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE, TokenType.CASE}
_CLOSING = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE, TokenType.END}
DATE_DIFF_UNITS = ("year", "quarter", "month", "week", "day", "hour", "minute", "second", "millisecond", "microsecond")


class ExpressionError(ValueError):
    """An authored expression is not allowed; the message says which token and why."""


def compile_expression(text: str, columns: dict[str, str] | set[str], kind: Kind = "predicate", utc_days: bool = False) -> str:
    """Parse `text`, check it, and return the DuckDB SQL regenerated from its syntax tree. With `utc_days` (for
    DuckDB in a UTC session only), each `date_diff('day', a, b)` of two timestamp columns is spelled `_utc_days`."""
    tree = _parse_single(text)
    _check_nodes(tree, kind)
    _check_columns(tree, set(columns))
    if kind == "metric":
        _check_metric_shape(tree)
    if utc_days and isinstance(columns, dict):
        tree = _utc_days(tree, columns)
    try:
        return tree.sql(dialect="duckdb", identify=True)
    except RecursionError:  # the limits keep trees shallow; this keeps a traceback out if one slips through
        raise ExpressionError("nested too deeply to be read") from None


DAY_US = 86_400_000_000


def _utc_days(tree: exp.Expression, columns: dict[str, str]) -> exp.Expression:
    """`date_diff('day', a, b)` of two timestamp columns as the difference of their UTC day numbers, each
    floor(epoch_us / DAY_US) in integers. DuckDB's date_diff counts the day boundaries between a and b, which in a
    UTC session is that difference, but it counts them with its calendar code, five times slower (a 100M-decision
    window's payment releases: 2.5 against 0.4 s). DuckDB's `//` truncates toward zero, so a time before 1970 that
    is not at midnight is moved down a day."""
    def day(column: exp.Expression) -> exp.Expression:
        spelled = f"(epoch_us(x) // {DAY_US} - CASE WHEN epoch_us(x) % {DAY_US} < 0 THEN 1 ELSE 0 END)"
        return sqlglot.parse_one(spelled, read="duckdb").transform(lambda n: column.copy() if isinstance(n, exp.Column) else n)

    def replace(node: exp.Expression) -> exp.Expression:
        unit = node.args.get("unit") if isinstance(node, exp.DateDiff) else None
        if unit is not None and unit.name.lower() == "day" and all(
                isinstance(side, exp.Column) and columns.get(side.name) == "timestamp" for side in (node.this, node.expression)):
            return exp.paren(exp.Sub(this=day(node.this), expression=day(node.expression)))
        return node

    return tree.transform(replace)


def mean_argument(text: str, columns: dict[str, str] | set[str], utc_days: bool = False) -> str | None:
    """For a metric that is one plain `avg(x)`, the DuckDB SQL of `x` (so its values' spread can be measured);
    None for any other metric. `text` must already compile as a metric."""
    tree = _parse_single(text)
    while isinstance(tree, exp.Paren):
        tree = tree.this
    if not isinstance(tree, exp.Avg):
        return None
    return compile_expression(tree.this.sql(dialect="duckdb"), columns, utc_days=utc_days)


# What PostgreSQL computes as DuckDB does, once `sources.transpile` has spelled it (division by zero included).
_SAME_IN_SERVER = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Tuple, exp.And, exp.Or, exp.Not,
    exp.EQ, exp.NEQ, exp.NullSafeEQ, exp.NullSafeNEQ, exp.In, exp.Is, exp.Case, exp.If, exp.Add, exp.Sub, exp.Mul,
    exp.Div, exp.Neg, exp.Abs, exp.Coalesce, exp.DateDiff, exp.Avg, exp.Sum, exp.Count, exp.Star, exp.Filter, exp.Where,
)
_ORDERING = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.Min, exp.Max)


def same_in_server(text: str, columns: dict[str, str]) -> bool:
    """Whether PostgreSQL computes this (checked) expression exactly as DuckDB does, given the columns' contract
    types. Not: round (ties go to even there), lower, upper and length (locale; characters against graphemes), %
    (no modulo of doubles there), || and LIKE (spellings of numbers, escapes), a date_diff in any unit but days, and
    the order of text (the server's collation is not DuckDB's byte order)."""
    for node in _parse_single(text).walk():
        if isinstance(node, exp.Var) and isinstance(node.parent, exp.DateDiff):
            if node.name.lower() != "day":
                return False
        elif isinstance(node, _ORDERING):
            if any(isinstance(n, exp.Literal) and n.is_string or isinstance(n, exp.Column) and columns.get(n.name) == "string"
                   for n in node.walk()):
                return False
        elif not isinstance(node, _SAME_IN_SERVER):
            return False
    return True


def referenced_columns(text: str) -> set[str]:
    """Column names an expression reads (for lineage and for the contract check)."""
    return {col.name for col in _parse_single(text).find_all(exp.Column)}


def _parse_single(text: str) -> exp.Expression:
    try:
        tokens = _DUCKDB.tokenize(text) if len(text) <= MAX_EXPRESSION_CHARS else []
        _check_size(text, tokens)
        statements = [s for s in _DUCKDB.parser().parse(tokens, text) if s is not None]  # as sqlglot.parse, tokenized once
    except (ParseError, TokenError) as err:
        raise ExpressionError(f"not a valid SQL expression ({_first_line(err)})") from None
    except RecursionError:
        raise ExpressionError("nested too deeply to be read") from None
    if len(statements) != 1:
        raise ExpressionError(f"must be one expression, found {len(statements)} statements")
    nodes = sum(1 for _ in statements[0].walk())  # breadth-first: no recursion
    if nodes > MAX_EXPRESSION_NODES:
        raise ExpressionError(f"{nodes} syntax nodes, at most {MAX_EXPRESSION_NODES} are allowed")
    return statements[0]


def _check_size(text: str, tokens: list[Token]) -> None:
    """Length and nesting, from the tokens, before the recursive-descent parser sees them."""
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"{len(text)} characters, at most {MAX_EXPRESSION_CHARS} are allowed")
    depth = deepest = nots = 0
    for token in tokens:
        depth += (token.token_type in _OPENING) - (token.token_type in _CLOSING)
        nots = nots + 1 if token.token_type == TokenType.NOT else 0
        deepest = max(deepest, depth + nots)
    if deepest > MAX_EXPRESSION_NESTING:
        raise ExpressionError(f"nested {deepest} levels deep (parentheses, CASE, NOT), at most {MAX_EXPRESSION_NESTING} are allowed")


def _check_nodes(tree: exp.Expression, kind: Kind) -> None:
    allowed_functions = dict(SCALAR_FUNCTIONS)
    if kind == "metric":
        allowed_functions.update(AGGREGATE_FUNCTIONS)
    for node in tree.walk():
        if isinstance(node, exp.Var) and isinstance(node.parent, exp.DateDiff):
            if node.name.lower() not in DATE_DIFF_UNITS:
                raise ExpressionError(f"date_diff unit '{node.name.lower()}' is not one of {', '.join(DATE_DIFF_UNITS)}")
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
        name = node.name if isinstance(node, exp.Anonymous) else _function_name(node)
        allowed = sorted(SCALAR_FUNCTIONS.values()) + (sorted(AGGREGATE_FUNCTIONS.values()) if kind == "metric" else [])
        return f"function '{name}' is not allowed (allowed: {', '.join(allowed)})"
    return f"'{_snippet(node)}' is not allowed ({type(node).__name__} is not part of the expression language)"


def _function_name(node: exp.Func) -> str:
    """The name as written in DuckDB SQL (`random`, not sqlglot's internal `rand`)."""
    match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", _render(node))
    return (match.group(1) if match else node.sql_name()).lower()


def _check_columns(tree: exp.Expression, known: set[str]) -> None:
    for column in tree.find_all(exp.Column):
        if column.table:
            raise ExpressionError(f"'{_snippet(column)}': qualified names are not allowed, use the plain column name")
        if column.name not in known:
            by_lower = {k.lower(): k for k in known}
            hint = [by_lower[m] for m in difflib.get_close_matches(column.name.lower(), sorted(by_lower), n=1)]
            suffix = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ExpressionError(f"unknown column '{column.name}'{suffix}")


def _check_metric_shape(tree: exp.Expression) -> None:
    aggregates = tuple(AGGREGATE_FUNCTIONS)
    if not any(isinstance(n, aggregates) for n in tree.walk()):
        raise ExpressionError("an outcome metric must aggregate over the sample (avg, sum, count, min or max)")
    for node in tree.walk():
        if isinstance(node, aggregates) and node.find_ancestor(*aggregates, exp.Where):
            raise ExpressionError(f"aggregate {AGGREGATE_FUNCTIONS[type(node)]}() cannot be nested inside another aggregate or its FILTER")
        if isinstance(node, exp.Filter) and not isinstance(node.this, aggregates):
            raise ExpressionError(f"'{_snippet(node)}': FILTER (WHERE ...) applies only to an aggregate")
        if isinstance(node, exp.Star) and not isinstance(node.parent, exp.Count):
            raise ExpressionError("'*' is allowed only in count(*)")
    for column in tree.find_all(exp.Column):
        if not column.find_ancestor(*aggregates, exp.Filter):  # FILTER (WHERE ...) belongs to its aggregate
            raise ExpressionError(f"column '{column.name}' is used outside an aggregate")


def _snippet(node: exp.Expression) -> str:
    text = _render(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _render(node: exp.Expression) -> str:
    """A refused node as DuckDB SQL, for the message only; silent (sqlglot would log 'X is not supported' to stderr)."""
    return node.sql(dialect="duckdb", unsupported_level=ErrorLevel.IGNORE)


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0].strip()
