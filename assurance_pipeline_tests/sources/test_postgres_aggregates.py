"""The window's aggregates computed in PostgreSQL: the drift counts and the Outcome Evidence metrics, exactly as DuckDB
computes them over the same decisions, or not at all in the server (the window then copied and computed in DuckDB).
Run against the real server (see assurance_pipeline_tests/postgres.py)."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from assurance_pipeline.drift.baseline import compute_baseline
from assurance_pipeline.drift.cell_counts import category_cells, count_cells, subject_cells
from assurance_pipeline.drift.detectors import point_drift_tests
from assurance_pipeline.drift.grouped_counts import server_counts
from assurance_pipeline.sources.decision_log import DecisionLog
from assurance_pipeline.sources.transpile import to_dialect
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.models import OutcomeEvidence
from assurance_pipeline.validation.outcomes import metric_values, server_metric_values
from assurance_pipeline.validation.point_rows import window_relation
from assurance_pipeline.workspace import transient_workspace
from assurance_pipeline_tests.drift.test_window_drift import POINT, STANDARD, _log
from assurance_pipeline_tests.postgres import admin_uri, load_parquet, scratch_database

WINDOW = Window.from_dict({"from": "2026-01-02T00:00:00Z", "to": "2026-01-03T00:00:00Z"})


def _hostile(table: pa.Table) -> pa.Table:
    """The generated log (NaN amounts, a fee that is zero on 40% of rows) with more of what a real one holds: infinite
    and NULL amounts, NULL channels and a channel outside the contract spelled to break out of a literal."""
    frame = table.to_pandas()
    frame.loc[::97, "amount"] = math.inf
    frame.loc[::89, "amount"] = -math.inf
    frame.loc[::83, "amount"] = None
    frame.loc[::13, "channel"] = "o'x'); DROP TABLE decisions; --"
    frame.loc[::7, "channel"] = None
    return pa.Table.from_pandas(frame, preserve_index=False)


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """One log (go-live day, then the window's day) as Parquet and as a PostgreSQL table, and the go-live baseline."""
    root = tmp_path_factory.mktemp("pgaggregates")
    table = _hostile(_log(np.random.default_rng(21), 2_880))  # two days, a decision a minute
    parquet = root / "decisions.parquet"
    pq.write_table(table, parquet)
    go_live = duckdb.connect()
    go_live.register("rows", table.slice(0, 1_440))
    go_live.execute("CREATE VIEW decisions AS SELECT * FROM rows")
    baseline = compute_baseline(go_live, STANDARD, Window())["points"]["loan"]
    with scratch_database() as database:
        load_parquet(database, parquet)
        yield {"parquet": DecisionLog(str(parquet)), "postgres": DecisionLog(f"{admin_uri(database)}?table=decisions"),
               "baseline": baseline, "database": database}


def _subjects(baseline: dict):
    def subjects(present: set[str]) -> tuple:
        model = baseline["decision_model"]
        cells = {n: c for n in POINT.drift_inputs() if n in present and (c := subject_cells(baseline["columns"][n], POINT.contract[n]))}
        return cells, model, category_cells(POINT.contract["decision"])
    return subjects


def test_the_server_counts_the_windows_drift_cells_and_leaves_exactly_as_duckdb(logs):
    subjects = _subjects(logs["baseline"])
    in_server = server_counts(logs["postgres"].postgres, POINT, WINDOW, subjects)
    assert in_server is not None  # every column's server type casts as DuckDB's TRY_CAST does
    with transient_workspace() as con:
        logs["parquet"].attach(con)
        cells, model, decision_cells = subjects(set(POINT.contract))
        in_duckdb = count_cells(con, POINT, window_relation(WINDOW.predicate()), set(POINT.contract), cells, model, decision_cells)
    (server_cells, server_leaves), (duck_cells, duck_leaves) = in_server, in_duckdb
    assert set(server_cells) == set(duck_cells) == {"amount", "rating", "fee", "channel", "urgent"}
    for name, counted in duck_cells.items():
        assert server_cells[name]["counts"] == counted["counts"], name
        if "mean" in counted:  # a number's
            assert server_cells[name]["mean"] == pytest.approx(counted["mean"], rel=1e-12, nan_ok=True), name
    assert "(not in the contract)" in server_cells["channel"]["counts"]  # the hostile channel is counted, never named
    assert server_leaves == duck_leaves and sum(server_leaves.decided.values()) == 1_440


def test_a_cycles_drift_tests_from_the_server_are_the_files_and_the_window_is_never_copied(logs):
    with transient_workspace() as con:
        logs["parquet"].attach(con)
        from_file = point_drift_tests(con, POINT, logs["baseline"], WINDOW)
    with transient_workspace() as con:
        logs["postgres"].attach(con, WINDOW, rows=False)
        from_server = point_drift_tests(con, POINT, logs["baseline"], WINDOW, logs["postgres"])
        copied = con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = '__source_rows'").fetchall()[0][0]
    assert copied == 0
    assert len(from_server) == len(from_file) >= 5
    for ours, theirs in zip(from_server, from_file, strict=True):
        assert (ours.subject, ours.test, ours.sample_size) == (theirs.subject, theirs.test, theirs.sample_size)
        assert (ours.statistic, ours.p_value, ours.effect) == pytest.approx((theirs.statistic, theirs.p_value, theirs.effect), rel=1e-9)


def test_a_column_the_server_would_cast_otherwise_is_counted_from_the_copied_window(logs):
    """A float amount stored as text: PostgreSQL's cast would refuse a value DuckDB's TRY_CAST turns NULL, so the
    server is not asked; the window is copied and the tests are still the file's."""
    import psycopg

    with psycopg.connect(admin_uri(logs["database"]), autocommit=True) as pg:
        pg.execute("CREATE TABLE decisions_text AS SELECT * FROM decisions")
        pg.execute("ALTER TABLE decisions_text ALTER COLUMN amount TYPE text USING amount::text")
    source = DecisionLog(f"{admin_uri(logs['database'])}?table=decisions_text")
    assert server_counts(source.postgres, POINT, WINDOW, _subjects(logs["baseline"])) is None
    with transient_workspace() as con:
        source.attach(con, WINDOW, rows=False)
        from_server = point_drift_tests(con, POINT, logs["baseline"], WINDOW, source)
        copied = con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = '__source_rows'").fetchall()[0][0]
    with transient_workspace() as con:
        logs["parquet"].attach(con)
        from_file = point_drift_tests(con, POINT, logs["baseline"], WINDOW)
    assert copied == 1 and [(t.subject, t.sample_size) for t in from_server] == [(t.subject, t.sample_size) for t in from_file]


SAME = [
    "avg(amount / fee)",  # fee is 0 on 40% of rows: DuckDB's infinities and NaN, not the server's error
    "avg(CASE WHEN channel = 'web' THEN 1.0 ELSE 0.0 END)",
    "count(*) FILTER (WHERE urgent AND rating >= 3)",
    "sum(rating) / count(rating)",
    "max(fee) - min(fee)",
    "avg(coalesce(fee, 0) * 2 - abs(rating - 3))",
    "avg(CASE WHEN channel IN ('web', 'branch') AND decision IS NOT DISTINCT FROM 'approve' THEN 1 ELSE 0 END)",
    "avg(date_diff('day', decided_at, decided_at))",
]


def test_the_server_computes_outcome_metrics_exactly_as_duckdb(logs):
    metrics = [OutcomeEvidence(id=f"m{i}", title="t", metric=m, expect={"max": 1.0}) for i, m in enumerate(SAME)]
    in_server = server_metric_values(logs["postgres"].postgres, POINT, WINDOW, metrics)
    with transient_workspace() as con:
        logs["parquet"].attach(con)
        in_duckdb = metric_values(con, POINT, window_relation(WINDOW.predicate()), metrics)
    assert in_server is not None
    (rows, values, counts), (duck_rows, duck_values, duck_counts) = in_server, in_duckdb
    assert (rows, counts) == (duck_rows, duck_counts) and rows == 1_440
    assert values == pytest.approx(duck_values, rel=1e-12, nan_ok=True)
    assert math.isnan(values[0]) or math.isinf(values[0])  # the zero fees did reach the average


@pytest.mark.parametrize("metric", ["avg(round(amount, 1))", "max(channel)", "avg(CASE WHEN channel > 'b' THEN 1 ELSE 0 END)",
                                    "avg(length(channel))", "avg(rating % 2)", "avg(CASE WHEN decision = 7 THEN 1 ELSE 0 END)"])
def test_a_metric_the_server_would_compute_otherwise_or_refuse_is_left_to_duckdb(logs, metric):
    """Rounding, text order and length, modulo differ between the engines; a text compared with a number is refused by
    the server: none is computed there (the cycle computes it over the copied window)."""
    metrics = [OutcomeEvidence(id="m", title="t", metric=metric, expect={"max": 1.0})]
    assert server_metric_values(logs["postgres"].postgres, POINT, WINDOW, metrics) is None


@pytest.mark.parametrize("a", [3.0, -3.0, 0.0, -0.0, math.inf, math.nan, None])
@pytest.mark.parametrize("b", [2.0, 0.0, -0.0, -math.inf, None])
def test_division_in_the_server_is_duckdbs_division_by_zero_included(logs, a, b):
    """x / 0 is an infinity signed as x and the zero are, 0 / 0 and NaN / 0 are NaN, in DuckDB; PostgreSQL raises."""
    import psycopg

    sql = f"SELECT CAST({_spelled(a)} AS DOUBLE) / CAST({_spelled(b)} AS DOUBLE)"
    [(expected,)] = duckdb.connect().execute(sql).fetchall()
    with psycopg.connect(admin_uri(logs["database"])) as pg:
        (got,) = pg.execute(to_dialect(sql, {}, set(), "postgres")).fetchone()
    if expected is None or math.isnan(expected):
        assert got is expected or math.isnan(got)
    else:
        assert got == expected and math.copysign(1, got) == math.copysign(1, expected)


def _spelled(value: float | None) -> str:
    return "NULL" if value is None else {"inf": "'Infinity'", "-inf": "'-Infinity'", "nan": "'NaN'"}.get(repr(value), f"'{value!r}'")


def test_values_reach_the_server_as_escaped_literals_never_as_sql(logs):
    import psycopg

    hostile = "x'); DROP TABLE decisions; --"
    sql = to_dialect("SELECT count(*) FROM decisions WHERE channel = $c OR list_contains($cs, channel)", {"c": hostile, "cs": [hostile, "it's"]},
                     set(), "postgres")
    with psycopg.connect(admin_uri(logs["database"])) as pg:
        assert pg.execute(sql).fetchone()[0] == 0
        assert pg.execute("SELECT count(*) FROM decisions").fetchone()[0] == 2_880


def test_a_hostile_column_name_stays_one_quoted_identifier_in_the_server(logs):
    import psycopg

    from assurance_pipeline.sources.decision_log import quote_ident

    name = 'we"ird %s col); DROP TABLE decisions; --'
    sql = to_dialect(f"SELECT count({quote_ident(name)}) FILTER (WHERE {quote_ident(name)} > $v) FROM hostile", {"v": 1.0}, set(), "postgres")
    with psycopg.connect(admin_uri(logs["database"])) as pg:
        pg.execute(f'CREATE TEMP TABLE hostile ({psycopg.sql.Identifier(name).as_string(pg)} int)')
        pg.execute("INSERT INTO hostile VALUES (1), (2), (3)")
        assert pg.execute(sql).fetchone()[0] == 2
        assert pg.execute("SELECT count(*) FROM decisions").fetchone()[0] == 2_880
