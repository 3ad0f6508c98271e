"""Drift counted over the window in the engine: the go-live cells by shape, the decision model's leaves in SQL, and
values outside the contract counted but never named."""

import datetime as dt
import hashlib

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from assurance_pipeline.drift import baseline as baseline_module
from assurance_pipeline.drift import cell_counts
from assurance_pipeline.drift.baseline import FORMAT_VERSION, compute_baseline, read_baseline, write_baseline
from assurance_pipeline.drift.cell_counts import (
    CHOOSING_ROWS,
    OTHER,
    category_cells,
    choosing_rows,
    choosing_thin,
    count_cells,
    is_category,
    is_number,
    number_cells,
)
from assurance_pipeline.drift.decision_model import leaves, predict, train
from assurance_pipeline.drift.detectors import point_drift_tests
from assurance_pipeline.errors import AssuranceError
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
    return _id_hash_mod_10(table) % 2 == 1


def _id_hash_mod_10(table: pa.Table) -> np.ndarray:
    ids = table["decision_id"].to_pylist()
    return np.array([row[0] for row in duckdb.execute("SELECT md5_number_lower(i) % 10 FROM unnest($ids) AS t(i)", {"ids": ids}).fetchall()])


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
    q1, q3 = np.nanquantile(table["amount"].to_numpy()[~half], [0.25, 0.75])  # the scale: the choosing half's IQR / 1.349
    assert amount["scale_kind"] == "iqr/1.349" and amount["scale"] == pytest.approx((q3 - q1) / 1.349, rel=1e-9)
    assert sum(amount["counts"]) == int(np.sum(~np.isnan(table["amount"].to_numpy()[half])))
    urgent = table["urgent"].to_numpy()  # categories: the contract's cells, counted on the whole go-live window
    assert columns["urgent"]["frequencies"] == {"false": int(np.sum(~urgent)), "true": int(np.sum(urgent))}


def test_a_large_go_live_window_chooses_its_cells_from_a_thinned_half_and_counts_the_whole_other_half(monkeypatch):
    """Past 2 x CHOOSING_ROWS decisions, a number's cells come from the choosing half thinned by the id's md5 (bytes
    8-15 little-endian, shifted one bit: hashlib here), so the amount's mean is that subset's; the counts still hold
    every decision of the counted half. Up to the bound nothing is thinned."""
    assert (choosing_thin(0), choosing_thin(2 * CHOOSING_ROWS), choosing_thin(2 * CHOOSING_ROWS + 1)) == (1, 1, 2)
    monkeypatch.setattr(cell_counts, "CHOOSING_ROWS", 300)
    table = _log(np.random.default_rng(4), 3_000)
    hashed = np.array([int.from_bytes(hashlib.md5(i.encode()).digest()[8:], "little") for i in table["decision_id"].to_pylist()], dtype=object)
    chosen = np.array([h % 2 == 0 and (h >> 1) % 5 == 0 for h in hashed])
    columns = _baseline(table)["columns"]
    amount = table["amount"].to_numpy()
    assert 200 < chosen.sum() < 400
    assert columns["amount"]["mean"] == pytest.approx(np.nanmean(amount[chosen]))
    assert columns["amount"]["mean"] != pytest.approx(np.nanmean(amount[hashed % 2 == 0]))
    assert sum(columns["rating"]["counts"]) == int(np.sum(hashed % 2 == 1))


@pytest.mark.parametrize("slack", [1.2, 0.5])
def test_the_decision_model_is_fitted_on_the_training_decisions_with_the_lowest_md5_of_their_id(monkeypatch, slack):
    """Those TRAINING_ROWS of the training part (md5 % 10 < 7) with the lowest md5 (hashlib here), in that order:
    found under the bound when enough clear it (slack 1.2), and by ranking them all when too few do (0.5)."""
    monkeypatch.setattr(baseline_module, "TRAINING_ROWS", 100)
    monkeypatch.setattr(baseline_module, "TRAINING_SLACK", slack)
    fitted = []
    monkeypatch.setattr(baseline_module, "train", lambda frame, *a: fitted.append(frame) or train(frame, *a))
    table = _log(np.random.default_rng(5), 3_000)
    hashed = [int.from_bytes(hashlib.md5(i.encode()).digest()[8:], "little") for i in table["decision_id"].to_pylist()]
    lowest = sorted((h, i) for i, h in enumerate(hashed) if h % 10 < 7)[:100]

    assert _baseline(table)["decision_model"]["trained_on"] == 100
    [frame] = fitted
    assert frame["amount"].tolist() == pytest.approx(table["amount"].to_numpy()[[i for _, i in lowest]].tolist(), nan_ok=True)
    assert frame["decision"].tolist() == [table["decision"][i].as_py() for _, i in lowest]


def test_the_decision_model_places_and_judges_in_sql_exactly_as_the_python_walk():
    """The stored tree as a SQL CASE puts every row in the same leaf as `leaves`, missing values included, and counts
    per leaf the decisions, those disagreeing with the leaf's decision, and each decision."""
    table = _log(np.random.default_rng(2), 4_000)
    model = _baseline(table)["decision_model"]
    frame = _log(np.random.default_rng(3), 2_000).to_pandas()
    _, counted = count_cells(_connection(pa.Table.from_pandas(frame)), POINT, "decisions", set(POINT.contract), {}, model,
                             category_cells(POINT.contract["decision"]))
    leaf, decision = leaves(model, frame), frame["decision"].astype(str).to_numpy()
    disagree = predict(model, frame) != decision
    assert counted.decided == {int(i): int(np.sum(leaf == i)) for i in np.unique(leaf)}
    assert counted.disagreeing == {int(i): int(np.sum(disagree[leaf == i])) for i in np.unique(leaf[disagree])}
    assert counted.decisions == {int(i): {d: int(np.sum(decision[leaf == i] == d)) for d in np.unique(decision[leaf == i])}
                                 for i in np.unique(leaf)}


def test_the_baseline_holds_the_models_held_out_go_live_decisions_leaf_by_leaf():
    """The tree is fitted on the 70% of go-live decisions whose id hashes below 7 (mod 10); the other 30% are counted
    into its leaves, and their disagreement is the go-live rate the window is held to."""
    table = _log(np.random.default_rng(2), 4_000)
    model = _baseline(table)["decision_model"]
    held_out = table.to_pandas()[_id_hash_mod_10(table) >= 7]
    leaf, disagree = leaves(model, held_out), predict(model, held_out) != held_out["decision"].to_numpy()
    assert model["trained_on"] + model["held_out"] == 4_000 and model["held_out"] == len(held_out)
    assert model["leaves"] == [{"leaf": int(i), "decided": int(np.sum(leaf == i)), "disagreeing": int(np.sum(disagree[leaf == i])),
                                "decisions": {d: int(np.sum(held_out["decision"].to_numpy()[leaf == i] == d))
                                              for d in np.unique(held_out["decision"].to_numpy()[leaf == i])}}
                               for i in np.unique(leaf)]
    assert model["held_out_disagreeing"] == int(disagree.sum()) and model["baseline_disagreement"] == disagree.mean()


def test_a_baseline_of_an_earlier_format_is_refused_with_one_line_saying_to_record_it_again(tmp_path):
    write_baseline(tmp_path, {"format_version": FORMAT_VERSION - 1, "points": {}})
    with pytest.raises(AssuranceError) as refused:
        read_baseline(tmp_path)
    message = str(refused.value)
    assert "\n" not in message and f"format_version {FORMAT_VERSION - 1}" in message and "`assurance baseline`" in message


@pytest.mark.parametrize(("text", "fragment"), [("[" * 100_000 + "]" * 100_000, "nested too deeply"), ("[1, 2]", "got list")],
                         ids=["100,000-deep", "a list"])
def test_a_hostile_baseline_is_refused_with_one_line(tmp_path, text, fragment):
    (tmp_path / "baseline").mkdir()
    (tmp_path / "baseline" / "baseline.json").write_text(text, encoding="utf-8")
    with pytest.raises(AssuranceError) as refused:
        read_baseline(tmp_path)
    assert "\n" not in str(refused.value) and "not a readable baseline" in str(refused.value) and fragment in str(refused.value)


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
    counted, _ = count_cells(con, POINT, "decisions", set(POINT.contract), {"channel": {"categories": ["web", "branch", "phone"]}})
    assert counted["channel"]["counts"] == {OTHER: 150, "branch": 250, "web": 600}  # an authored value not seen: no cell counted


def test_authored_values_in_any_script_are_each_a_cell_of_their_own():
    """Each authored value is a bin of DuckDB's binned histogram: values beyond ASCII, an empty string and one with a
    space are counted exactly, each in its own cell, and values outside the contract in theirs."""
    authored = ["Zürich", "a", "é", "Ω", "😀", "", "a b"]
    channel = [v for i, v in enumerate(authored) for _ in range(i + 1)] + ["ZZ"] * 9 + [None] * 3
    con = _connection(_log(np.random.default_rng(6), len(channel), channel=channel))
    counted, _ = count_cells(con, POINT, "decisions", set(POINT.contract), {"channel": {"categories": authored}})
    assert counted["channel"]["counts"] == dict(sorted({**{v: i + 1 for i, v in enumerate(authored)}, OTHER: 9}.items()))


def test_a_number_held_by_fewer_than_5_decisions_is_neither_a_cell_nor_a_mean_of_the_baseline():
    """A value so few decisions hold would be theirs: a rare discrete value is counted in the cell of the next value
    up, never an edge; a number with fewer than 5 values at all keeps no mean, scale or cells."""
    rare = 1.123456789
    table = _log(np.random.default_rng(9), 84)
    con = _connection(table.set_column(table.schema.get_field_index("fee"), "fee", pa.array([1.0] * 40 + [rare] * 4 + [2.0] * 40)))

    cells = number_cells(con, choosing_rows(con, POINT, "decisions", set(POINT.contract), ["fee"]), "fee")
    few = number_cells(con, choosing_rows(con, POINT, f"(SELECT * FROM decisions WHERE fee = {rare})", set(POINT.contract), ["fee"]), "fee")

    assert cells["shape"] == "discrete" and cells["upper_edges"] == [1.0, 2.0] and cells["mean"] == pytest.approx((40 + 4 * rare + 80) / 84)
    counted, _ = count_cells(con, POINT, "decisions", set(POINT.contract), {"fee": {"upper_edges": cells["upper_edges"]}})
    assert counted["fee"]["counts"] == [40, 44, 0]
    assert few == {"shape": None, "mean": None, "std": None, "scale": None, "scale_kind": None, "upper_edges": []}
    assert "1.1234" not in repr(cells)


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


def test_a_heavy_tailed_amount_half_again_as_large_clears_the_floor_in_robust_sds_where_the_sd_hid_it():
    """Pareto amounts (shape 1.5: no finite variance) multiplied by 1.5, windows of 150, three against each of twelve
    go-live windows of 20,000: every shift is significant and clears the floor of 0.10 in robust SDs (IQR / 1.349);
    measured in the go-live SD, which the tail inflates, a large share would not (26% to 36% in an independent audit)."""
    point = DecisionPoint(id="loan", title="t", meaning="m", authority="a", owner="o", risk_tier="high",
                          contract={"amount": {"type": "float"}}, input_fields=["amount"])
    standard = STANDARD.model_copy(update={"decision_points": {"loan": point}})
    rng = np.random.default_rng(15)

    def amounts(n: int, factor: float = 1.0) -> pa.Table:
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        return pa.table({"decision_id": [f"D{i}" for i in range(n)], "decision_point": ["loan"] * n,
                         "decided_at": pa.array([start + dt.timedelta(minutes=i) for i in range(n)], pa.timestamp("us", tz="UTC")),
                         "actor_type": ["agent"] * n, "actor_id": ["bot"] * n, "actor_version": ["1"] * n,
                         "reviewed_by": pa.nulls(n, pa.string()), "overridden": [False] * n, "cost": [0.1] * n,
                         "amount": factor * 100 * (rng.pareto(1.5, n) + 1)})

    robust = in_sd = significant = 0
    for _ in range(12):
        profile = compute_baseline(_connection(amounts(20_000)), standard, Window())["points"]["loan"]
        assert profile["columns"]["amount"]["scale_kind"] == "iqr/1.349"
        for _ in range(3):
            [test] = point_drift_tests(_connection(amounts(150, factor=1.5)), point, profile, Window())
            significant += test.p_value < 0.001
            robust += test.effect >= point.drift_floors.wasserstein_sd
            in_sd += test.effect * test.scale / profile["columns"]["amount"]["std"] >= point.drift_floors.wasserstein_sd
    assert significant == robust == 36 and in_sd <= 30, (significant, robust, in_sd)


def test_infinite_and_huge_inputs_at_go_live_fit_the_decision_model_and_land_in_the_same_leaves():
    """scikit-learn refuses infinities and values past float32: they are fitted at the range's end, where every
    threshold leaves them on the infinity's side, so the SQL leaf and the Python walk agree on them."""
    table = _log(np.random.default_rng(5), 3_000).to_pandas()
    table.loc[::10, "amount"] = np.inf
    table.loc[5::10, "amount"] = -np.inf
    table.loc[7::50, "amount"] = 1e300
    model = _baseline(pa.Table.from_pandas(table, preserve_index=False))["decision_model"]
    assert model is not None
    _, counted = count_cells(_connection(pa.Table.from_pandas(table, preserve_index=False)), POINT, "decisions", set(POINT.contract), {}, model)
    leaf = leaves(model, table)
    assert counted.decided == {int(i): int(np.sum(leaf == i)) for i in np.unique(leaf)}
