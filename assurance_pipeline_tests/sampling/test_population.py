"""The population profile keeps counts and aggregates only: no total that a few decisions' values make up."""

import datetime as dt
import json

import duckdb
import pyarrow as pa
import pytest

from assurance_pipeline.drift.cost import cost_findings
from assurance_pipeline.sampling.population import PopulationProfile, point_cost_totals, profile_population
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.models import DecisionPoint, Standard, StandardHeader

RARE_COST = 9573.345678912


def _profile(rows: list[tuple[str, str, float | None]]) -> PopulationProfile:
    """(decision point, actor version, cost) per decision."""
    at = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    con = duckdb.connect()
    con.register("decisions", pa.table({
        "decision_id": [f"D{i}" for i in range(len(rows))], "decision_point": [r[0] for r in rows],
        "decided_at": pa.array([at] * len(rows), pa.timestamp("us", tz="UTC")), "actor_type": ["agent"] * len(rows),
        "actor_id": ["bot"] * len(rows), "actor_version": [r[1] for r in rows], "overridden": [False] * len(rows),
        "cost": pa.array([r[2] for r in rows], pa.float64()),
    }))
    return profile_population(con, Window())


def test_cost_is_totalled_per_point_not_per_actor_group():
    """A version that executed one costed decision would show its cost as its group's total."""
    profile = _profile([("refund", "1", 0.5)] * 6 + [("refund", "2-beta", RARE_COST)])

    assert profile.cost_totals == {"refund": 3.0 + RARE_COST}
    assert profile.mean_cost("refund") == ((3.0 + RARE_COST) / 7, 7)
    assert [g.costed for g in profile.groups] == [6, 1]
    kept = json.dumps(profile.to_dict())
    assert str(RARE_COST) not in kept and str(3.0 + RARE_COST) in kept
    assert PopulationProfile.from_dict(profile.to_dict()) == profile


def test_the_cost_of_fewer_than_5_decisions_is_withheld_and_not_judged():
    profile = _profile([("refund", "1", RARE_COST)] + [("refund", "1", None)] * 20 + [("access", "1", 0.1)] * 5)
    point = DecisionPoint(id="refund", title="t", meaning="m", authority="a", owner="o", risk_tier="high",
                          cost={"budget_per_decision": 1.0})
    standard = Standard(header=StandardHeader(name="s", version="1", owner="o"), decision_points={"refund": point})

    assert profile.cost_totals == {"refund": None, "access": 0.5}
    assert profile.mean_cost("refund") == (None, 1)
    assert str(RARE_COST) not in json.dumps(profile.to_dict())
    assert cost_findings(standard, profile, None, ["refund"]) == []
    assert point_cost_totals([("p", 4, 2.0), ("p", 1, 1.0), ("q", 4, 2.0)]) == {"p": 3.0, "q": None}


def _id_problems(ids: list[tuple[str, str | None]], con: duckdb.DuckDBPyConnection | None = None) -> tuple[dict, str]:
    """(decision point, decision id) per row: the profile's id checks, per point, and the queries run."""
    at = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    con = con or duckdb.connect()
    con.register("decisions", pa.table({
        "decision_id": pa.array([i for _, i in ids], pa.string()), "decision_point": [p for p, _ in ids],
        "decided_at": pa.array([at] * len(ids), pa.timestamp("us", tz="UTC")), "actor_type": ["agent"] * len(ids),
        "actor_id": ["bot"] * len(ids), "actor_version": ["1"] * len(ids), "overridden": [False] * len(ids),
        "cost": pa.array([None] * len(ids), pa.float64()),
    }))
    profile = profile_population(con, Window())
    return {p.decision_point: (p.null_ids, p.duplicated_ids, p.duplicated_rows, p.examples) for p in profile.id_problems}, profile.query


def test_missing_and_repeated_ids_are_counted_per_point_whichever_kind_a_log_has():
    """The first pass keys rows by a hash of (point, id) alone, so the second must name each point's rows: rows
    without an id at two points, an id repeated at one point only, and the same id once at each of two points
    (one decision each: a point's ids are its own)."""
    clean = [("refund", f"R{i}") for i in range(50)] + [("access", f"A{i}") for i in range(50)]
    assert _id_problems(clean)[0] == {}
    assert _id_problems(clean + [("refund", None)] * 3 + [("access", None)])[0] == {"refund": (3, 0, 0, []), "access": (1, 0, 0, [])}
    assert _id_problems(clean + [("refund", "R7")] * 2 + [("refund", "R3")])[0] == {"refund": (0, 2, 5, ["R3", "R7"])}
    assert _id_problems(clean + [("access", "R1"), ("access", None)])[0] == {"access": (1, 0, 0, [])}


def test_the_id_check_splits_into_parts_where_one_scan_runs_out_of_memory(tmp_path, monkeypatch):
    """2M ids in a 16MB workspace with 2 threads: one scan's grouping runs out of memory, so it runs again in 2, 4,
    8 ... parts by the hash of (point, id); the ids found are those of one scan with memory to spare. Without
    splitting (MAX_ID_PARTS 1) the error is DuckDB's, as before."""
    from assurance_pipeline.sampling import population

    ids = [(f"p{i % 4}", str(i)) for i in range(2_000_000)] + [("p3", "999"), ("p1", "12345")] + [("p0", None)] * 3

    def problems(limit: str) -> tuple[dict, str]:
        return _id_problems(ids, duckdb.connect(config={"memory_limit": limit, "threads": 2, "temp_directory": str(tmp_path / limit)}))

    expected = {"p0": (3, 0, 0, []), "p1": (0, 1, 2, ["12345"]), "p3": (0, 1, 2, ["999"])}
    found, queries = problems("1GB")
    assert found == expected and "decision_id) % " not in queries
    found, queries = problems("16MB")
    assert found == expected
    parts = int(queries.split("hash(decision_point, decision_id) % ")[1].split()[0])
    assert parts in (2, 4, 8, 16, 32, 64) and queries.count("INSERT INTO decision_id_hashes") == parts - 1
    monkeypatch.setattr(population, "MAX_ID_PARTS", 1)
    with pytest.raises(duckdb.OutOfMemoryException):
        problems("16MB")
