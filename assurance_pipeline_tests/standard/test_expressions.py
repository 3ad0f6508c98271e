"""The DCT expression whitelist: what the README (The standard) allows compiles to quoted DuckDB SQL that means
what was authored; everything else is refused with an ExpressionError that says what and why."""

from __future__ import annotations

import logging

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from assurance_pipeline.standard.expressions import ExpressionError, compile_expression, mean_argument, referenced_columns

COLUMNS = {
    "id": "integer",
    "amount": "float",
    "qty": "integer",
    "currency": "string",
    "action": "string",
    "signoff": "string",
    "flag": "boolean",
    "placed_at": "timestamp",
    "decided_at": "timestamp",
}

# Three rows, chosen so each expression below is true for some rows and false (or NULL) for others.
ROWS = [
    (1, 15000.0, 3, "EUR", "release", None, True, "2026-05-01 08:00:00+00", "2026-05-11 09:00:00+00"),
    (2, 250.5, 4, "usd", "keep_hold", "l.moreau", False, "2026-05-10 08:00:00+00", "2026-05-11 09:00:00+00"),
    (3, -20.0, None, "GBP", "escalate", None, None, None, "2026-05-12 09:00:00+00"),
]
T, F, N = True, False, None


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE t (id INTEGER, amount DOUBLE, qty INTEGER, currency VARCHAR, action VARCHAR, signoff VARCHAR,"
        " flag BOOLEAN, placed_at TIMESTAMPTZ, decided_at TIMESTAMPTZ)"
    )
    connection.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", ROWS)
    yield connection
    connection.close()


def evaluate(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    return tuple(row[0] for row in con.execute(f"SELECT ({sql}) FROM t ORDER BY id").fetchall())


# (authored predicate, expected result for rows 1, 2, 3): one or more per construct of the README (The standard)
PREDICATES = [
    # comparisons
    ("amount > 10000", (T, F, F)),
    ("amount >= 250.5", (T, T, F)),
    ("amount < 0", (F, F, T)),
    ("amount <= 250.5", (F, T, T)),
    ("currency = 'EUR'", (T, F, F)),
    ("currency <> 'EUR'", (F, T, T)),
    ("currency != 'EUR'", (F, T, T)),
    ("flag = TRUE", (T, F, N)),
    # AND / OR / NOT and parentheses
    ("action = 'release' AND amount > 10000", (T, F, F)),
    ("action = 'escalate' OR amount < 1000", (F, T, T)),
    ("NOT flag", (F, T, N)),
    ("NOT (action = 'release' OR currency = 'GBP')", (F, T, F)),
    ("(amount < 0 AND qty > 3) OR signoff IS NOT NULL", (F, T, N)),
    # IN
    ("action IN ('release', 'escalate')", (T, F, T)),
    ("action NOT IN ('release', 'escalate')", (F, T, F)),
    # BETWEEN
    ("amount BETWEEN 0 AND 1000", (F, T, F)),
    ("amount NOT BETWEEN 0 AND 1000", (T, F, T)),
    # IS [NOT] NULL
    ("signoff IS NULL", (T, F, T)),
    ("signoff IS NOT NULL", (F, T, F)),
    ("qty IS NULL", (F, F, T)),
    # LIKE
    ("currency LIKE 'E%'", (T, F, F)),
    ("action LIKE '%_hold'", (F, T, F)),
    ("currency NOT LIKE 'G__'", (T, T, F)),
    # CASE
    ("CASE WHEN amount > 1000 THEN signoff IS NOT NULL ELSE TRUE END", (F, T, T)),
    ("CASE action WHEN 'release' THEN 1 WHEN 'escalate' THEN 2 ELSE 0 END = 2", (F, F, T)),
    # arithmetic
    ("amount * 2 - 1 > 500", (T, F, F)),
    ("(amount + 10) / 2 = 130.25", (F, T, F)),
    ("qty % 2 = 1", (T, F, N)),
    ("-amount > 0", (F, F, T)),
    # scalar functions
    ("abs(amount) = 20", (F, F, T)),
    ("round(amount / 1000, 1) = 15.0", (T, F, F)),
    ("round(amount) = 251", (F, T, F)),
    ("coalesce(signoff, 'none') = 'none'", (T, F, T)),
    ("coalesce(qty, 0) = 0", (F, F, T)),
    ("lower(currency) = 'usd'", (F, T, F)),
    ("upper(currency) = 'USD'", (F, T, F)),
    ("length(action) = 7", (T, F, F)),
    ("date_diff('day', placed_at, decided_at) >= 10", (T, F, N)),
    ("date_diff('hour', placed_at, decided_at) = 25", (F, T, N)),
    # a mix, as authors write them
    ("action = 'release' AND amount > 10000 AND coalesce(lower(signoff), '') LIKE 'l.%'", (F, F, F)),
]


@pytest.mark.parametrize(("text", "expected"), PREDICATES, ids=[p[0] for p in PREDICATES])
def test_allowed_predicate_compiles_and_means_what_was_authored(
    con: duckdb.DuckDBPyConnection, text: str, expected: tuple
) -> None:
    sql = compile_expression(text, COLUMNS)
    assert evaluate(con, sql) == expected
    # the regenerated SQL is stable: compiling it again gives the same text
    assert compile_expression(sql, COLUMNS) == sql


def _identifiers_are_quoted(sql: str) -> None:
    tree = sqlglot.parse_one(sql, dialect="duckdb")
    columns = list(tree.find_all(exp.Column))
    assert columns, sql
    for column in columns:
        assert column.this.quoted, f"{column.name} is not quoted in {sql}"


@pytest.mark.parametrize("text", [p[0] for p in PREDICATES])
def test_every_identifier_comes_back_quoted(text: str) -> None:
    _identifiers_are_quoted(compile_expression(text, COLUMNS))


def test_quoted_output_exactly() -> None:
    assert compile_expression("amount > 10000", COLUMNS) == '"amount" > 10000'
    assert compile_expression("signoff IS NOT NULL AND action IN ('a', 'b')", COLUMNS) == (
        '''NOT "signoff" IS NULL AND "action" IN ('a', 'b')''')


def test_quoting_makes_reserved_words_usable_as_columns(con: duckdb.DuckDBPyConnection) -> None:
    columns = {"order": "integer", "select": "string"}
    sql = compile_expression('"order" > 1 AND "select" = \'x\'', columns)
    assert sql == '"order" > 1 AND "select" = \'x\''
    assert con.execute(f'SELECT {sql} FROM (SELECT 2 AS "order", \'x\' AS "select")').fetchone()[0] is True


def test_literals_are_regenerated_escaped(con: duckdb.DuckDBPyConnection) -> None:
    sql = compile_expression("currency = 'it''s' OR currency = 'EUR'", COLUMNS)
    assert evaluate(con, sql) == (T, F, F)


def test_a_comment_cannot_smuggle_sql_past_the_whitelist(con: duckdb.DuckDBPyConnection) -> None:
    sql = compile_expression("amount > 10000 -- */ OR TRUE --", COLUMNS)
    # whatever survives of the comment stays inert inside the regenerated expression
    assert evaluate(con, sql) == (T, F, F)
    assert con.execute(f"SELECT count(*) FROM t WHERE {sql} AND id = 2").fetchone()[0] == 0


# (authored metric, expected value over the three rows)
METRICS = [
    ("avg(CASE WHEN flag THEN 1.0 ELSE 0.0 END)", 1 / 3),
    ("count(*)", 3),
    ("sum(amount)", 15000.0 + 250.5 - 20.0),
    ("max(amount) - min(amount)", 15020.0),
    ("avg(qty)", 3.5),
    ("count(*) FILTER (WHERE action = 'release')", 1),
    ("avg(amount) FILTER (WHERE amount > 0)", (15000.0 + 250.5) / 2),
    ("round(avg(abs(amount)), 2)", round((15000.0 + 250.5 + 20.0) / 3, 2)),
    ("avg(date_diff('day', placed_at, decided_at))", 5.5),
    ("sum(CASE WHEN signoff IS NULL THEN 1 ELSE 0 END) / count(*)", 2 / 3),
]


@pytest.mark.parametrize(("text", "expected"), METRICS, ids=[m[0] for m in METRICS])
def test_allowed_metric_compiles_and_computes(con: duckdb.DuckDBPyConnection, text: str, expected: float) -> None:
    sql = compile_expression(text, COLUMNS, "metric")
    if text != "count(*)":
        _identifiers_are_quoted(sql)
    assert con.execute(f"SELECT {sql} FROM t").fetchone()[0] == pytest.approx(expected)


# (authored predicate, fragment of the refusal)
REFUSED = [
    ("amount > 1; DROP TABLE t", "found 2 statements"),
    ("", "found 0 statements"),
    ("amount >", "not a valid SQL expression"),
    ("amount > 1 AND", "not a valid SQL expression"),
    ("__import__('os').system('touch pwned')", "is not allowed"),
    ("lambda x: x", "not a valid SQL expression"),
    ("amout > 1", "unknown column 'amout' (did you mean 'amount'?)"),
    ("currancy = 'EUR'", "did you mean 'currency'?"),
    ("random() < 0.5", "function 'random' is not allowed"),
    ("read_csv('x') IS NULL", "function 'read_csv' is not allowed"),
    ("getenv('HOME') = 'x'", "function 'getenv' is not allowed"),
    ("read_text('/etc/passwd') IS NOT NULL", "function 'read_text' is not allowed"),
    ("decided_at > now()", "function 'now' is not allowed"),
    ("CAST(amount AS VARCHAR) = '1'", "function 'cast' is not allowed"),
    ("amount::VARCHAR = '1'", "function 'cast' is not allowed"),
    ("EXISTS (SELECT 1)", "function 'exists' is not allowed"),
    ("amount IN (SELECT amount FROM t)", "Subquery"),
    ("amount > (SELECT max(amount) FROM t)", "Subquery"),
    ("SELECT amount", "Select"),
    ("amount > 1 UNION SELECT 1", "Union"),
    ("sum(amount) > 1", "aggregate sum() is not allowed in a condition"),
    ("count(*) > 1", "aggregate count() is not allowed in a condition"),
    ("avg(amount) OVER () > 1", "not allowed"),
    ("t.amount > 1", "qualified names are not allowed"),
    ("main.t.amount > 1", "qualified names are not allowed"),
    ("amount > ?", "Placeholder"),
    ("amount > $1", "Placeholder"),
    ("*", "not allowed"),
]


@pytest.mark.parametrize(("text", "fragment"), REFUSED, ids=[r[0] or "<empty>" for r in REFUSED])
def test_refused_predicate_says_why(text: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text, COLUMNS)
    message = str(caught.value)
    assert fragment in message, message
    assert "\n" not in message


def test_unknown_column_without_a_near_miss_gives_no_guess() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("zzz > 1", COLUMNS)
    assert str(caught.value) == "unknown column 'zzz'"


def test_function_refusal_lists_the_whitelist() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("sqrt(amount) > 1", COLUMNS)
    assert str(caught.value) == (
        "function 'sqrt' is not allowed (allowed: abs, coalesce, date_diff, length, lower, round, upper)")
    with pytest.raises(ExpressionError, match=r"allowed: abs, .*upper, avg, count, max, min, sum\)"):
        compile_expression("sqrt(avg(amount))", COLUMNS, "metric")


def test_refusing_a_function_duckdb_lacks_stays_one_message(caplog: pytest.LogCaptureFixture) -> None:
    """Rendering the refused node for the message must not make sqlglot log a second line to stderr."""
    with caplog.at_level(logging.WARNING):
        with pytest.raises(ExpressionError, match="^function 'soundex' is not allowed"):
            compile_expression("soundex(currency) = 'E'", COLUMNS)
    assert [r.getMessage() for r in caplog.records] == []


def test_python_is_never_evaluated(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for text in ("__import__('os').system('touch pwned')", "exec('open(\"pwned\", \"w\")')"):
        with pytest.raises(ExpressionError):
            compile_expression(text, COLUMNS)
    assert not (tmp_path / "pwned").exists()


REFUSED_METRICS = [
    ("amount", "must aggregate over the sample"),
    ("CASE WHEN flag THEN 1.0 ELSE 0.0 END", "must aggregate over the sample"),
    ("avg(amount) + amount", "column 'amount' is used outside an aggregate"),
    ("CASE WHEN flag THEN avg(amount) END", "column 'flag' is used outside an aggregate"),
    ("avg(sum(amount))", "nested"),
    ("count(*) FILTER (WHERE sum(amount) > 1)", "nested"),
    ("sum(*)", "count(*)"),
    ("avg(amount) OVER ()", "not allowed"),
    ("avg(amout)", "did you mean 'amount'"),
    ("avg(random())", "function 'random' is not allowed"),
    ("avg(amount); DROP TABLE t", "2 statements"),
    ("avg((SELECT amount FROM t))", "Subquery"),
]


@pytest.mark.parametrize(("text", "fragment"), REFUSED_METRICS, ids=[r[0] for r in REFUSED_METRICS])
def test_refused_metric_says_why(text: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text, COLUMNS, "metric")
    assert fragment in str(caught.value), str(caught.value)


def test_every_refused_metric_would_also_fail_or_be_unsafe_in_duckdb(con: duckdb.DuckDBPyConnection) -> None:
    """The shape checks refuse at load time what DuckDB would only reject mid-cycle."""
    for text in ("avg(sum(amount))", "sum(*)", "count(*) FILTER (WHERE sum(amount) > 1)"):
        with pytest.raises(duckdb.Error):
            con.execute(f"SELECT {text} FROM t").fetchall()


def test_referenced_columns() -> None:
    assert referenced_columns("action = 'release' AND coalesce(signoff, currency) IS NULL") == {"action", "signoff", "currency"}
    assert referenced_columns("count(*)") == set()


def test_utc_days_is_duckdbs_date_diff_in_days_in_a_utc_session():
    """`utc_days` spells date_diff('day', a, b) of two timestamp columns in integer arithmetic: the same value as
    DuckDB's own date_diff, row by row, for times before and after 1970, at, just before and just after midnight,
    either order, and NULL; any other unit, or a column that is not a timestamp, is left to date_diff."""
    import datetime as dt
    import random

    import pyarrow as pa

    day, epoch = 86_400_000_000, dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    rng = random.Random(20261130)
    edges = [k * day + d for k in (-40_000, -1, 0, 1, 20_000) for d in (-1, 0, 1)]
    micros = edges + [rng.randrange(-3 * 10**15, 4 * 10**15) for _ in range(4_000)]
    pairs = [(rng.choice(micros), rng.choice(micros)) for _ in range(6_000)] + [(None, 0), (0, None)]
    at = lambda us: None if us is None else epoch + dt.timedelta(microseconds=us)  # noqa: E731
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("p", pa.table({"placed_at": pa.array([at(a) for a, _ in pairs], pa.timestamp("us", tz="UTC")),
                                "decided_at": pa.array([at(b) for _, b in pairs], pa.timestamp("us", tz="UTC"))}))
    spelled = compile_expression("date_diff('day', placed_at, decided_at)", COLUMNS, utc_days=True)
    assert "date_diff" not in spelled.lower() and "epoch_us" in spelled.lower()
    ours, theirs = zip(*con.execute(f"SELECT {spelled}, date_diff('day', placed_at, decided_at) FROM p").fetchall(), strict=True)
    assert list(ours) == list(theirs) and theirs.count(None) == 2 and len(set(theirs)) > 1_000
    assert any(t is not None and t < 0 for t in theirs) and min(a for a, _ in pairs if a is not None) < 0
    spread = mean_argument("avg(CASE WHEN flag THEN date_diff('day', placed_at, decided_at) END)", COLUMNS, utc_days=True)
    assert "date_diff" not in spread.lower() and "epoch_us" in spread.lower()  # the count of its values, too
    for kept in ("date_diff('hour', placed_at, decided_at)", "date_diff('day', id, decided_at)"):
        assert "date_diff" in compile_expression(kept, COLUMNS, utc_days=True).lower(), kept
