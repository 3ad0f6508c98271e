"""Drift findings hold up statistically: on stationary data at most 5% of cycles raise any drift finding
(Benjamini–Hochberg across all a cycle's tests, plus effect-size floors); real shifts are found."""

import datetime as dt
import sys
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from assurance_pipeline.drift.baseline import compute_baseline
from assurance_pipeline.drift.detectors import drift_findings, point_drift_tests
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.models import DecisionPoint, Standard, StandardHeader

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import false_alarms  # noqa: E402  the benchmark's shapes of real decision logs

POINT = DecisionPoint(
    id="approval", title="t", meaning="m", authority="a", owner="o", risk_tier="high",
    contract={"x": {"type": "float"}, "c": {"type": "string", "isin": ["a", "b", "c"]}, "flag": {"type": "boolean"},
              "decision": {"type": "string", "isin": ["approve", "reject"]}},
    decision_field="decision", input_fields=["x", "c", "flag"],
)
STANDARD = Standard(header=StandardHeader(name="s", version="1", owner="o"), decision_points={"approval": POINT})
SAMPLE_SIZE = 150
CYCLES = 400
# The shapes that cried wolf before drift was counted two-sample over cells (integers 83%, 20 columns with ties 97%,
# rounded amounts 96%, zero-inflated 64% of stationary cycles), and a small go-live window.
WORST_CELLS = [("integer 0-5", 60, 20_000), ("rounded amounts", 150, 20_000), ("zero-inflated", 20, 500), ("20 input columns", 60, 500)]


def _decisions(rng: np.random.Generator, n: int, shift: float = 0.0, behaviour_change: bool = False) -> pa.Table:
    x = rng.normal(100 + shift, 20, n)
    c = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    flag = rng.random(n) < 0.3
    approve = (x < 110) & ~flag
    if behaviour_change:  # the same inputs, a different rule: mid-range amounts now rejected
        approve &= ~((x > 85) & (x < 110))
    approve ^= rng.random(n) < 0.03  # a little honest noise
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return pa.table({
        "decision_id": [f"D{i}" for i in range(n)], "decision_point": ["approval"] * n,
        "decided_at": [start + dt.timedelta(minutes=i) for i in range(n)], "actor_type": ["agent"] * n,
        "actor_id": ["bot"] * n, "actor_version": ["1"] * n, "reviewed_by": [None] * n, "overridden": [False] * n,
        "cost": [0.1] * n, "x": x, "c": c, "flag": flag, "decision": np.where(approve, "approve", "reject"),
    })


@pytest.fixture(scope="module")
def baseline() -> dict:
    con = duckdb.connect()
    con.register("golive", _decisions(np.random.default_rng(0), 20_000))
    con.execute("CREATE VIEW decisions AS SELECT * FROM golive")
    return compute_baseline(con, STANDARD, Window.parse("2026-01-01", "2026-12-31"))["points"]["approval"]


def _findings(baseline: dict, sample: pa.Table, point: DecisionPoint = POINT) -> list:
    con = duckdb.connect()
    con.register("window_rows", sample)
    con.execute("CREATE VIEW decisions AS SELECT * FROM window_rows")
    return drift_findings([t.to_dict() for t in point_drift_tests(con, point, baseline, Window())])


def test_the_baseline_model_learned_the_go_live_rule(baseline):
    model = baseline["decision_model"]
    assert model["baseline_disagreement"] < 0.06  # the rule plus 3% noise
    assert "x <=" in model["rules"] and "flag" in model["rules"]


def test_stationary_cycles_raise_a_drift_finding_in_at_most_5_percent(baseline):
    rng = np.random.default_rng(2026)
    alarmed = sum(bool(_findings(baseline, _decisions(rng, SAMPLE_SIZE))) for _ in range(CYCLES))
    assert alarmed / CYCLES <= 0.05, f"{alarmed} of {CYCLES} stationary cycles raised a drift finding"


@pytest.mark.parametrize(("shape", "n", "golive"), WORST_CELLS)
def test_the_benchmarks_hardest_stationary_cells_stay_under_5_percent(shape: str, n: int, golive: int):
    """The hardest cells of benchmarks/false_alarms.py (see benchmarks/README.md), with fewer cycles."""
    alarmed, cycles = false_alarms.alarms(shape, n, golive, cycles=100, golive_draws=5, seed=7)
    assert alarmed / cycles <= 0.05, f"{shape}, n = {n}, go-live {golive}: {alarmed} of {cycles} stationary cycles alarmed"


def test_an_input_shift_is_a_data_drift_finding(baseline):
    found = _findings(baseline, _decisions(np.random.default_rng(5), SAMPLE_SIZE, shift=25))
    assert any(f.kind == "data_drift" and f.details["test"]["subject"] == "x" for f in found)


def test_a_behaviour_change_with_unchanged_inputs_is_decision_drift_not_data_drift(baseline):
    found = _findings(baseline, _decisions(np.random.default_rng(6), SAMPLE_SIZE, behaviour_change=True))
    kinds = {f.kind for f in found}
    assert "decision_drift" in kinds and "data_drift" not in kinds
    [disagreement] = [f for f in found if f.details["test"]["test"] == "exact_stratified_by_leaf"]
    assert "disagree with the go-live decision rules" in disagreement.summary and disagreement.severity == "high"


def test_a_significant_shift_under_the_authored_floor_is_not_a_finding_until_the_floor_is_lowered(baseline):
    """0.08 of an SD in 5,000 decisions is significant, but under the default floor of a tenth of an SD;
    owners who author a floor of 0.03 SD see it."""
    sample = _decisions(np.random.default_rng(8), 5_000, shift=1.6)
    assert not [f for f in _findings(baseline, sample) if f.kind == "data_drift"]
    strict = POINT.model_copy(update={"drift_floors": POINT.drift_floors.model_copy(update={"wasserstein_sd": 0.03})})
    [finding] = [f for f in _findings(baseline, sample, strict) if f.kind == "data_drift"]
    assert finding.details["test"]["subject"] == "x" and finding.threshold == 0.03
    assert 0.03 <= finding.details["test"]["effect"] < 0.10
