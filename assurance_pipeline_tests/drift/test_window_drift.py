"""Drift counted over the window in the engine: the go-live cells by shape, the decision model in SQL, and values
outside the contract counted but never named."""

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from assurance_pipeline.drift.baseline import compute_baseline
from assurance_pipeline.drift.cell_counts import OTHER, category_cells, count_cells, is_category, is_number
from assurance_pipeline.drift.decision_model import predict, train
from assurance_pipeline.drift.detectors import point_drift_tests
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.models import ContractColumn, DecisionPoint, Standard, StandardHeader

POINT = DecisionPoint(
    id="loan", title="t", meaning="m", authority="a", owner="o", risk_tier="high",
    contract={"amount": {"type": "float"}, "rating": {"type": "integer"}, "fee": {"type": "float"},
              "channel": {"type": "string", "isin": ["web", "branch"]}, "urgent": {"type": "boolean"},
              "decision": {"type": "string", "isin": ["approve", "reject"]}},
    decision_field="decision", input_fields=["amount", "rating", "fee", "channel", "urgent"],
)
STANDARD = Standard(header=StandardHeader(name="s", version="1", owner="o"), decision_points={"loan": POINT})


def _log(rng: np.random.Generator, n: int, channel: list[str] | None = None) -> pa.Table:
    amount = rng.lognormal(8, 0.5, n)
    rating = rng.choice(6, n, p=[0.05, 0.1, 0.2, 0.3, 0.25, 0.1])
    urgent = rng.random(n) < 0.2
    approve = ((rating >= 3) & (amount < 5000)) ^ (rng.random(n) < 0.03)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return pa.table({
        "decision_id": [f"D{i}" for i in range(n)], "decision_point": ["loan"] * n,
        "decided_at": pa.array([start + dt.timedelta(minutes=i) for i in range(n)], pa.timestamp("us", tz="UTC")),
        "actor_type": ["agent"] * n, "actor_id": ["bot"] * n, "actor_version": ["1"] * n,
        "reviewed_by": pa.nulls(n, pa.string()), "overridden": [False] * n, "cost": [0.1] * n,
        "amount": np.where(rng.random(n) < 0.02, np.nan, amount), "rating": rating,
        "fee": np.where(rng.random(n) < 0.4, 0.0, np.round(rng.lognormal(3, 1, n), 2)),
        "channel": channel or list(rng.choice(["web", "branch"], n)), "urgent": urgent,
        "decision": np.where(approve, "approve", "reject"),
    })


def _connection(table: pa.Table) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("log_rows", table)
    con.execute("CREATE VIEW decisions AS SELECT * FROM log_rows")
    return con


def _baseline(table: pa.Table) -> dict:
    return compute_baseline(_connection(table), STANDARD, Window())["points"]["loan"]


def _counted_half(table: pa.Table) -> np.ndarray:
    """The go-live decisions whose id hashes odd: the half a number's cells are counted on."""
    ids = table["decision_id"].to_pylist()
    odd = duckdb.execute("SELECT md5_number_lower(i) % 2 = 1 FROM unnest($ids) AS t(i)", {"ids": ids}).fetchall()
    return np.array([row[0] for row in odd])


def test_the_baseline_records_each_numbers_shape_and_its_exact_go_live_counts():
    table = _log(np.random.default_rng(1), 5_000)
    columns = _baseline(table)["columns"]
    rating, fee, amount = columns["rating"], columns["fee"], columns["amount"]
    half = _counted_half(table)
    assert 2_300 < half.sum() < 2_700
    assert rating["shape"] == "discrete" and rating["upper_edges"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert rating["counts"] == [*np.bincount(table["rating"].to_numpy()[half], minlength=6).tolist(), 0]  # nothing above 5
    assert fee["shape"] == "point_mass" and fee["upper_edges"][0] == 0.0
    assert fee["counts"][0] == int(np.sum(table["fee"].to_numpy()[half] == 0.0))  # the zeros keep a cell of their own
    assert amount["shape"] == "continuous" and len(amount["upper_edges"]) == 99
    assert sum(amount["counts"]) == int(np.sum(~np.isnan(table["amount"].to_numpy()[half])))
    urgent = table["urgent"].to_numpy()  # categories: the contract's cells, counted on the whole go-live window
    assert columns["urgent"]["frequencies"] == {"false": int(np.sum(~urgent)), "true": int(np.sum(urgent))}


def test_the_decision_model_judges_in_sql_exactly_as_the_python_walk():
    """The stored tree as a SQL CASE takes the same path for every row as `predict`, missing values included."""
    table = _log(np.random.default_rng(2), 4_000)
    model = _baseline(table)["decision_model"]
    window = _log(np.random.default_rng(3), 2_000)
    frame = window.to_pandas()
    disagree_python = int(np.sum(predict(model, frame) != frame["decision"].astype(str).to_numpy()))
    _, (disagree_sql, decided) = count_cells(_connection(window), POINT, "decisions", set(POINT.contract), {}, model)
    assert (disagree_sql, decided) == (disagree_python, 2_000)
    assert model["held_out_disagreeing"] == round(model["baseline_disagreement"] * model["held_out"])


def test_train_labels_are_spelled_as_sql_spells_them():
    frame = pd.DataFrame({"x": np.arange(400.0), "ok": ["true" if v < 200 else "false" for v in range(400)]})
    model = train(frame, {"x": POINT.contract["amount"]}, "ok")
    assert {n["decision"] for n in model["nodes"]} == {"true", "false"}


def test_values_outside_the_contract_are_counted_in_one_cell_and_never_named():
    baseline = _baseline(_log(np.random.default_rng(4), 3_000))
    channel = ["web"] * 600 + ["SNTL_customer_name_0042"] * 150 + ["branch"] * 250
    con = _connection(_log(np.random.default_rng(5), 1_000, channel=channel))
    [test] = [t for t in point_drift_tests(con, POINT, baseline, Window()) if t.subject == "channel"]
    assert "SNTL" not in test.what_moved and OTHER in test.what_moved and test.p_value < 0.001
    counted, _ = count_cells(con, POINT, "decisions", set(POINT.contract), {"channel": {"categories": ["web", "branch"]}})
    assert counted["channel"]["counts"] == {OTHER: 150, "branch": 250, "web": 600}


def test_a_number_with_authored_values_is_a_mix_spelled_as_sql_spells_it():
    term, rate = ContractColumn(type="integer", isin=[12, 36]), ContractColumn(type="float", isin=[12, 0.5])
    assert is_category(term) and not is_number(term) and is_number(ContractColumn(type="integer"))
    spelled = duckdb.sql("SELECT CAST(36::BIGINT AS VARCHAR), CAST(12::DOUBLE AS VARCHAR), CAST(0.5::DOUBLE AS VARCHAR)").fetchall()[0]
    assert category_cells(term)["categories"][1] == spelled[0]
    assert category_cells(rate)["categories"] == [spelled[1], spelled[2]]


def test_a_rating_moving_half_a_point_is_data_drift_and_a_stationary_window_is_not():
    baseline = _baseline(_log(np.random.default_rng(6), 20_000))
    same = point_drift_tests(_connection(_log(np.random.default_rng(7), 500)), POINT, baseline, Window())
    assert all(t.p_value > 0.01 for t in same if t.subject == "rating")
    moved = _log(np.random.default_rng(8), 500)
    moved = moved.set_column(moved.schema.get_field_index("rating"), "rating",
                             pa.array(np.minimum(moved["rating"].to_numpy() + (np.random.default_rng(9).random(500) < 0.5), 5)))
    [rating] = [t for t in point_drift_tests(_connection(moved), POINT, baseline, Window()) if t.subject == "rating"]
    assert rating.p_value < 0.001 and rating.shape == "discrete" and rating.effect >= POINT.drift_floors.wasserstein_sd
