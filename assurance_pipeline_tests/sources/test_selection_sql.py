"""The portable selection sqlglot writes per dialect: run for real in DuckDB and PostgreSQL against the engine's own
selection (ids logged twice, rows without an id, a hostile point name and seed), and written for the warehouses
that cannot run here in SQL their own parser reads back."""

from __future__ import annotations

import datetime as dt
import hashlib
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot

from assurance_pipeline.sampling.cycle_plan import PointPlan, SamplingPlan
from assurance_pipeline.sampling.population import profile_population
from assurance_pipeline.sampling.selection import draw_sample
from assurance_pipeline.sources.decision_log import DecisionLog
from assurance_pipeline.sources.selection_sql import KEYED_HASH, key_bounds, selection_query
from assurance_pipeline.sources.window import Window
from assurance_pipeline.workspace import transient_workspace
from assurance_pipeline_tests.postgres import admin_uri, load_parquet, scratch_database

HOSTILE_POINT = "o'brien %(seed)s \\ 50%"
SEED = "se'ed %s \\x"
SIZES = {"alpha": 7, HOSTILE_POINT: 5, "gamma": 100}
WINDOW = Window.parse("2026-01-01", "2026-01-31")


def _rows() -> list[dict]:
    """60 decisions a point in January and a few after it; some ids logged twice or three times, some missing."""
    rng, start, rows = random.Random(4), dt.datetime(2026, 1, 1, tzinfo=dt.UTC), []
    for i in range(200):
        point = list(SIZES)[i % 3]
        row = {"decision_id": f"D{i:04d}", "decision_point": point, "decided_at": start + dt.timedelta(hours=4 * i),
               "actor_type": "agent", "actor_id": "bot", "amount": float(i)}
        rows += [row] * (1 + (i % 17 == 0) + (i % 29 == 0))
    for i in rng.sample(range(len(rows)), 6):
        rows[i] = {**rows[i], "decision_id": None}
    return rows


def _by_definition(rows: list[dict]) -> dict[str, list[str]]:
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        if r["decision_id"] is not None and WINDOW.start <= r["decided_at"] < WINDOW.end:
            counts[r["decision_point"], r["decision_id"]] = counts.get((r["decision_point"], r["decision_id"]), 0) + 1
    key = lambda i: hashlib.sha256(f"{SEED}:{i}".encode()).hexdigest()  # noqa: E731
    return {p: sorted((i for (q, i), n in counts.items() if q == p and n == 1), key=key)[:n] for p, n in SIZES.items()}


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> tuple[str, list[dict]]:
    rows = _rows()
    path = tmp_path_factory.mktemp("selection") / "log.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return str(path), rows


def _plan() -> SamplingPlan:
    return SamplingPlan(SEED, "stratified-keyed-sha256-lowest-n/v1", [PointPlan(p, "high", 0.95, 0.05, 0.0, n, 0, 60, n) for p, n in SIZES.items()])


def _drawn(source: str) -> dict[str, list[str]]:
    log = DecisionLog(source)
    with transient_workspace() as con:
        log.attach(con, WINDOW, rows=False)
        selected = draw_sample(con, _plan(), WINDOW, b"k" * 32, profile_population(con, WINDOW, log), log)
    return {p: s.decision_ids for p, s in selected.items()}


def test_the_generated_query_selects_in_duckdb_what_the_engines_own_selection_does(log):
    path, rows = log
    with transient_workspace() as con:
        DecisionLog(path).attach(con)
        picked = con.execute(f"SELECT decision_point, decision_id FROM ({selection_query('duckdb', WINDOW.predicate(), SIZES, SEED)}) "
                             "ORDER BY decision_point, __selection_key").fetchall()
    generated = {p: [i for q, i in picked if q == p] for p in SIZES}
    assert generated == _by_definition(rows) == _drawn(path)
    assert 40 < len(generated["gamma"]) < 100  # gamma's frame is smaller than its n: all of it


def test_postgresql_runs_the_generated_query_and_selects_the_same_decisions(log):
    path, rows = log
    with scratch_database() as database:
        load_parquet(database, path)
        source = f"{admin_uri(database)}?table=decisions"
        assert _drawn(source) == _by_definition(rows)
        # Bounds set for frames 50x larger than they are let too few keys through: drawn again without, the same.
        table, sizes = DecisionLog(source).postgres, {p: n for p, n in SIZES.items() if p != "gamma"}
        tight = key_bounds(sizes, {p: 50 * 60 for p in sizes})
        assert all(tight.values())
        with table.connect() as con:
            relation, _ = table.relation(con, table.columns(con))
            few = con.execute(f"WITH decisions AS ({relation}) {selection_query('postgres', WINDOW.predicate(), sizes, SEED, tight)}").fetchall()
        assert len(few) < sum(sizes.values())
        picked = table.selected_rows(WINDOW, sizes, SEED, {p: 50 * 60 for p in sizes}).to_pylist()
        by_key = sorted(picked, key=lambda r: r["__selection_key"])
        assert {p: [r["decision_id"] for r in by_key if r["decision_point"] == p] for p in sizes} == {
            p: ids for p, ids in _by_definition(rows).items() if p in sizes}


def test_key_bounds_let_through_ten_standard_deviations_more_than_n():
    bounds = key_bounds({"a": 100, "b": 100, "c": 5}, {"a": 1_000_000, "b": 150, "c": 0})
    assert set(bounds) == {"a"}  # b: the bound would cover every key; c: no frame
    share = int(bounds["a"], 16) / 2**64
    assert share * 1_000_000 == pytest.approx(100 + 10 * 10 + 20, abs=1e-6)
    assert len(bounds["a"]) == 16


def test_the_bounded_query_selects_in_duckdb_what_the_unbounded_one_does(log):
    path, rows = log
    bounds = key_bounds(SIZES, {p: 62 for p in SIZES})  # gamma's n is above its frame: no bound
    with transient_workspace() as con:
        DecisionLog(path).attach(con)
        picked = con.execute(f"SELECT decision_point, decision_id FROM ({selection_query('duckdb', WINDOW.predicate(), SIZES, SEED, bounds)}) "
                             "ORDER BY decision_point, __selection_key").fetchall()
    assert {p: [i for q, i in picked if q == p] for p in SIZES} == _by_definition(rows)


@pytest.mark.parametrize("dialect", sorted(set(KEYED_HASH) - {"duckdb", "postgres"}))
def test_each_warehouse_dialect_gets_sql_its_own_parser_reads_back(dialect):
    """Trino, Spark SQL, Snowflake and BigQuery cannot run here: their SQL is checked to parse in that dialect,
    to rank by that dialect's sha256 of the seed and id, and to hold the hostile point name as one literal."""
    query = selection_query(dialect, WINDOW.predicate(), SIZES, SEED)
    tree = sqlglot.parse_one(query, read=dialect)
    assert tree.sql(dialect=dialect) == query
    literals = {lit.this for lit in tree.find_all(sqlglot.exp.Literal) if lit.is_string}
    assert HOSTILE_POINT in literals and SEED in literals
    assert query.upper().count("SHA2") == 3  # the key kept, the rank, the bound


def test_an_unknown_dialect_is_refused_by_name():
    with pytest.raises(ValueError, match="no keyed hash for SQL dialect 'oracle'"):
        selection_query("oracle", WINDOW.predicate(), SIZES, SEED)
