"""Outcome Evidence in the engine: over the whole window exactly, or over the sample with its interval."""

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.standard.loading import check_point_expressions
from assurance_pipeline.standard.models import DecisionPoint
from assurance_pipeline.standard.typecheck import TypeChecker
from assurance_pipeline.validation import outcome_bounds as ob
from assurance_pipeline.validation.outcomes import compute_outcomes

WINDOW = "(SELECT * FROM decisions)"


def _point(**outcome) -> DecisionPoint:
    return DecisionPoint(
        id="refund", title="t", meaning="m", authority="a", owner="o", risk_tier="high",
        contract={"amount": {"type": "float"}, "reopened": {"type": "boolean"}},
        outcome_evidence=[{"id": "OE-1", "title": "metric", "expect": {"max": 0.05}, **outcome}],
    )


def _workspace(reopened: np.ndarray, amount: np.ndarray, sampled: int) -> duckdb.DuckDBPyConnection:
    """A window of decisions and a sample of its first `sampled` rows."""
    n = len(reopened)
    con = duckdb.connect()
    con.register("log_rows", pa.table({
        "decision_id": [f"D{i}" for i in range(n)], "decision_point": ["refund"] * n, "decided_at": [None] * n,
        "actor_type": ["agent"] * n, "actor_id": ["a"] * n, "actor_version": ["1"] * n, "reviewed_by": [None] * n,
        "overridden": [False] * n, "cost": [0.1] * n, "reopened": reopened,
        "amount": pa.array(amount, mask=np.isnan(amount)),  # NaN stands for a missing value (NULL)
    }))
    con.execute("CREATE VIEW decisions AS SELECT * FROM log_rows")
    con.execute(f"CREATE TABLE sample AS SELECT * FROM decisions WHERE CAST(substr(decision_id, 2) AS INTEGER) < {sampled}")
    return con


def test_a_metric_over_the_window_is_exact_and_decides_by_its_value():
    reopened = np.arange(1000) % 50 == 0  # exactly 2%
    con = _workspace(reopened, np.ones(1000), sampled=59)
    [result] = compute_outcomes(con, _point(metric="avg(CASE WHEN reopened THEN 1.0 ELSE 0.0 END)"), WINDOW, 0.95, 1000)
    assert (result.over, result.value, result.sample_size, result.conclusion) == ("window", pytest.approx(0.02), 1000, ob.WITHIN)
    assert result.interval_low == result.interval_high == result.value


def test_a_share_over_the_sample_gets_the_clopper_pearson_interval():
    reopened = np.zeros(1000, bool)
    reopened[:3] = True  # 3 of the 59 sampled decisions
    con = _workspace(reopened, np.ones(1000), sampled=59)
    point = _point(metric="avg(CASE WHEN reopened THEN 1.0 ELSE 0.0 END)", over="sample")
    [result] = compute_outcomes(con, point, WINDOW, 0.95, 1000)
    assert (result.method, result.values, result.value) == ("clopper-pearson", 59, pytest.approx(3 / 59))
    assert (result.interval_low, result.interval_high) == pytest.approx(ob.proportion_interval(3, 59, 0.95))
    assert result.conclusion == ob.INCONCLUSIVE and result.deciding_sample_size > 59


def test_a_mean_over_the_sample_gets_halls_interval_over_the_values_it_has():
    rng = np.random.default_rng(1)
    amount = rng.exponential(0.04, 1000)
    amount[:10] = np.nan  # avg() ignores NULL values: 49 of the 59 sampled have one
    con = _workspace(np.zeros(1000, bool), amount, sampled=59)
    [result] = compute_outcomes(con, _point(metric="avg(amount)", over="sample"), WINDOW, 0.95, 1000)
    values = amount[10:59]
    mean, sd = values.mean(), values.std(ddof=1)
    skew = ((values - mean) ** 3).mean() / sd**3
    assert (result.method, result.values, result.sample_size) == ("hall-t", 49, 59)
    assert (result.interval_low, result.interval_high) == pytest.approx(ob.mean_interval(49, mean, sd, skew, 0.95))


def test_a_sample_of_the_whole_population_is_exact():
    reopened = np.arange(59) < 3
    con = _workspace(reopened, np.ones(59), sampled=59)
    point = _point(metric="avg(CASE WHEN reopened THEN 1.0 ELSE 0.0 END)", over="sample")
    [result] = compute_outcomes(con, point, WINDOW, 0.95, 59)
    assert (result.conclusion, result.method, result.interval_low) == (ob.EXCEEDS, "exact", pytest.approx(3 / 59))


def test_a_metric_over_a_column_the_log_lacks_is_not_computed():
    con = _workspace(np.zeros(100, bool), np.ones(100), sampled=20)
    con.execute("CREATE OR REPLACE VIEW decisions AS SELECT * EXCLUDE (amount) FROM log_rows")
    [result] = compute_outcomes(con, _point(metric="avg(amount)"), WINDOW, 0.95, 100)
    assert (result.value, result.conclusion) == (None, "not_computed")


def test_over_sample_is_refused_for_a_metric_whose_sampling_error_cannot_be_bounded():
    checker = TypeChecker()
    with pytest.raises(AssuranceError, match=r"refund.yaml: outcome_evidence OE-1: over: sample needs a metric of the form avg"):
        check_point_expressions(_point(metric="max(amount)", over="sample"), "refund.yaml", checker)
    checker.close()


def test_a_metric_over_a_log_column_outside_the_contract_is_computed_over_the_sample():
    con = _workspace(np.zeros(100, bool), np.ones(100), sampled=20)  # every decision costs 0.1
    [result] = compute_outcomes(con, _point(metric="avg(cost)", over="sample"), WINDOW, 0.95, 100)
    assert (result.value, result.values, result.conclusion) == (pytest.approx(0.1), 20, ob.EXCEEDS)


def test_the_pack_summary_shows_each_metric_its_interval_and_what_would_decide():
    from assurance_pipeline.evidence.cycle_record import _TEMPLATES
    from assurance_pipeline.evidence.cycle_result import cycle_result

    con = _workspace(np.arange(1000) % 20 == 0, np.ones(1000), sampled=59)
    point = _point(metric="avg(CASE WHEN reopened THEN 1.0 ELSE 0.0 END)", over="sample")
    outcomes = [o.to_dict() for o in compute_outcomes(con, point, WINDOW, 0.95, 1000)]
    result = cycle_result("c", {"from": None, "to": None}, {"name": "s", "version": "1", "sha256": "x", "intact": True},
                          "INCONCLUSIVE", [], [], outcomes)
    summary = _TEMPLATES.get_template("summary.md.j2").render(result=result, reason="r", plan={}, recorded_at="t")
    [row] = [line for line in summary.splitlines() if line.startswith("| refund | OE-1")]
    needed = outcomes[0]["deciding_sample_size"]
    assert f"| sample | 59 | 0.05085 | {outcomes[0]['interval_low']:.4g} to {outcomes[0]['interval_high']:.4g} | max 0.05 |" in row
    assert row.endswith(f"| inconclusive: about {needed:,} decisions with a value would decide |")


def test_a_metric_resting_on_a_few_decisions_is_concluded_but_never_shown():
    """Three reopened refunds among 1,000 decisions, and a metric over those three: their average is their value."""
    from assurance_pipeline.findings.detect import outcome_findings
    from assurance_pipeline.standard.models import Standard, StandardHeader

    amount = np.full(1000, np.nan)
    amount[[10, 500, 900]] = [123.45, 678.9, 1000.5]
    con = _workspace(np.zeros(1000, bool), amount, sampled=59)
    point = _point(metric="avg(amount)")
    [result] = compute_outcomes(con, point, WINDOW, 0.95, 1000)
    assert (result.conclusion, result.withheld, result.value, result.interval_low, result.interval_high) == (ob.EXCEEDS, True, None, None, None)

    standard = Standard(header=StandardHeader(name="s", version="1", owner="o"), decision_points={"refund": point})
    [finding] = outcome_findings(standard, [result.to_dict()])
    assert finding.statistic is None and finding.details["effect"] is None
    assert "withheld" in finding.summary and "123" not in finding.summary and "600" not in finding.summary


def test_a_metric_resting_on_five_decisions_is_shown():
    amount = np.full(1000, np.nan)
    amount[:5] = 1.0
    con = _workspace(np.zeros(1000, bool), amount, sampled=59)
    [result] = compute_outcomes(con, _point(metric="avg(amount)"), WINDOW, 0.95, 1000)
    assert (result.value, result.withheld) == (1.0, False)


def test_a_whole_population_sample_resting_on_a_few_values_is_withheld_too():
    """All 59 decisions sampled, but only 3 have an amount: the exact mean is still those 3 decisions' own value."""
    amount = np.full(59, np.nan)
    amount[:3] = [10.0, 20.0, 30.0]
    con = _workspace(np.zeros(59, bool), amount, sampled=59)
    [result] = compute_outcomes(con, _point(metric="avg(amount)", over="sample"), WINDOW, 0.95, 59)
    assert (result.values, result.conclusion, result.withheld, result.value) == (3, ob.EXCEEDS, True, None)
