"""Ids logged twice in a PostgreSQL table: where a unique index of the table already holds each decision id once,
only rows without an id are counted; any index that does not (partial, on an expression, on another column too, on
a type with more than one text per value) is not relied on, and the ids are grouped as for any other source. Runs
against the real server at 127.0.0.1:5432 (see postgres.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from assurance_pipeline.sampling.population import profile_population
from assurance_pipeline.sources.decision_log import DecisionLog
from assurance_pipeline.sources.window import Window
from assurance_pipeline.workspace import transient_workspace
from assurance_pipeline_tests.postgres import admin_uri, load_parquet, scratch_database

WINDOW = Window.parse("2026-02-01", "2026-02-28")
AT = dt.datetime(2026, 2, 10, tzinfo=dt.UTC)
LATE = dt.datetime(2026, 2, 20, tzinfo=dt.UTC)


def _log(path: Path, repeated: bool) -> Path:
    """Two points, ids a0-a59 and b0-b29, three rows without an id; with `repeated`, a3 logged again on 20 February
    by another actor and a8 on both days."""
    rows = [("refund", f"a{i}", "bot") for i in range(60)] + [("access", f"b{i}", "bot") for i in range(30)]
    rows += [("refund", None, "bot"), ("refund", None, "bot"), ("access", None, "bot")]
    days = [AT] * len(rows)
    if repeated:
        rows += [("refund", "a3", "clerk"), ("refund", "a8", "clerk")]
        days += [LATE, LATE]
    table = pa.table({
        "decision_id": pa.array([r[1] for r in rows], pa.string()), "decision_point": [r[0] for r in rows],
        "decided_at": pa.array(days, pa.timestamp("us", tz="UTC")), "actor_type": ["agent"] * len(rows),
        "actor_id": [r[2] for r in rows], "actor_version": ["1"] * len(rows), "overridden": [False] * len(rows),
        "cost": pa.array([None] * len(rows), pa.float64()),
    })
    pq.write_table(table, path)
    return path


def _profiles(tmp_path: Path, repeated: bool, index: str) -> tuple[dict, dict, str]:
    """The id problems per point from PostgreSQL with `index` created, from the same log as Parquet, and the
    queries the PostgreSQL profile records."""
    parquet = _log(tmp_path / "log.parquet", repeated)
    with scratch_database() as database:
        load_parquet(database, parquet)
        if index:
            import psycopg

            with psycopg.connect(admin_uri(database), autocommit=True) as con:
                con.execute(index)
        log = DecisionLog(f"{admin_uri(database)}?table=decisions")
        with transient_workspace() as con:
            server = profile_population(con, WINDOW, log)
    in_duckdb = duckdb.connect()
    in_duckdb.execute("SET TimeZone = 'UTC'")
    in_duckdb.execute(f"CREATE VIEW decisions AS SELECT * FROM read_parquet('{parquet}')")
    local = profile_population(in_duckdb, WINDOW)
    problems = lambda profile: {p.decision_point: (p.null_ids, p.duplicated_ids, p.duplicated_rows, p.examples) for p in profile.id_problems}  # noqa: E731
    return problems(server), problems(local), server.query


@pytest.mark.parametrize("index", [
    "ALTER TABLE decisions ADD CONSTRAINT one_row_per_id UNIQUE (decision_id)",
    "CREATE UNIQUE INDEX one_row_per_id ON decisions (decision_point, decision_id)",
])
def test_a_unique_index_on_the_ids_spares_grouping_them_and_is_named_in_the_recorded_queries(tmp_path, index):
    server, local, query = _profiles(tmp_path, repeated=False, index=index)
    assert server == local == {"refund": (2, 0, 0, []), "access": (1, 0, 0, [])}
    assert 'unique index "one_row_per_id"' in query and "decision_id IS NULL\n" in query


@pytest.mark.parametrize("index", [
    None,
    "CREATE UNIQUE INDEX early_ids ON decisions (decision_id) WHERE decided_at < '2026-02-15'",  # partial
    "CREATE UNIQUE INDEX per_actor ON decisions (decision_id, actor_id)",  # another column: a3 by two actors
    "CREATE UNIQUE INDEX per_day ON decisions (decision_id, decided_at)",
    "CREATE UNIQUE INDEX spelled ON decisions ((decision_id || '/' || actor_id))",  # an expression
])
def test_an_index_that_allows_an_id_twice_is_not_relied_on(tmp_path, index):
    server, local, query = _profiles(tmp_path, repeated=True, index=index or "")
    assert server == local == {"refund": (2, 2, 4, ["a3", "a8"]), "access": (1, 0, 0, [])}
    assert "the server's unique index" not in query


def test_an_id_type_with_two_texts_for_one_value_is_not_relied_on(tmp_path):
    """Float ids: unique as numbers is not, for every type, unique as the text the cycle reads; the ids are grouped."""
    import psycopg

    parquet = _log(tmp_path / "log.parquet", repeated=False)
    with scratch_database() as database:
        load_parquet(database, parquet)
        with psycopg.connect(admin_uri(database), autocommit=True) as con:
            con.execute("ALTER TABLE decisions ALTER COLUMN decision_id TYPE double precision "
                        "USING CAST(substr(decision_id, 2) AS double precision) + CASE WHEN decision_id LIKE 'b%' THEN 0.5 ELSE 0 END")
            con.execute("CREATE UNIQUE INDEX by_number ON decisions (decision_id)")
        with transient_workspace() as con:
            profile = profile_population(con, WINDOW, DecisionLog(f"{admin_uri(database)}?table=decisions"))
    assert "the server's unique index" not in profile.query and "decision_id IS NULL\n" not in profile.query
    assert {p.decision_point: (p.null_ids, p.duplicated_ids) for p in profile.id_problems} == {"refund": (2, 0), "access": (1, 0)}
