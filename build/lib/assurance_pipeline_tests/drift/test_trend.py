"""Outcome trends across cycles: ranks, scores and the CUSUM against hand computation, the run length against
published values, and what it does and does not flag."""

import numpy as np
import pytest
from scipy.stats import norm

from assurance_pipeline.drift.trend import (
    CUSUM_H, CUSUM_K, MIN_CYCLES, cusum, cusum_arl, outcome_trend_findings, sequential_rank_scores, sequential_ranks,
)
from assurance_pipeline.evidence.ledger import Ledger


def test_sequential_ranks_hand_computed_with_mid_ranks_on_ties():
    """3 | 1 below 3 | 3 ties the first 3, above 1: 1 + (2 + 1)/2 | 2 above 1 only | 3 ties two 3s, above 1 and 2."""
    assert sequential_ranks([3.0, 1.0, 3.0, 2.0, 3.0]) == [1.0, 1.0, 2.5, 2.0, 4.0]


def test_sequential_rank_scores_hand_computed():
    """(R - 0.5) / t = 0.5/1, 0.5/2, 2/3, 1.5/4, 3.5/5."""
    expected = norm.ppf([0.5, 0.25, 2 / 3, 0.375, 0.7])
    assert sequential_rank_scores([3.0, 1.0, 3.0, 2.0, 3.0]) == pytest.approx(expected)
    assert expected[1] == pytest.approx(-0.6745, abs=1e-4) and expected[4] == pytest.approx(0.5244, abs=1e-4)


def test_a_constant_series_scores_zero_throughout():
    assert sequential_rank_scores([0.02] * 8) == pytest.approx([0.0] * 8)


def test_cusum_hand_computed():
    """k 0.5: z = 1, 2, -1 gives C+ = 0.5, 2.0, 0.5 and C- = 0, 0, 0.5; k 0.25: C+ = 0.75, 2.5, 1.25, C- = 0.75."""
    result = cusum([1.0, 2.0, -1.0], k=0.5)
    assert (result.upper, result.lower) == (0.5, 0.5)
    assert cusum([1.0, 2.0], k=0.5).upper == pytest.approx(2.0)
    result = cusum([1.0, 2.0, -1.0], k=0.25)
    assert (result.upper, result.lower) == pytest.approx((1.25, 0.75)) and result.direction == "upward"


def test_run_length_reproduces_the_published_table():
    """Montgomery, SQC Table 9.3 (k 0.5, h 5): ARL 465 in control, 38.0 at a 0.5-sd shift, 10.4 at 1 sd, 4.01 at 2;
    Siegmund's approximation gives 469 in control."""
    b = 5 + 1.166
    siegmund = (np.exp(2 * 0.5 * b) - 2 * 0.5 * b - 1) / (2 * 0.5**2) / 2
    assert siegmund == pytest.approx(469, rel=0.01)
    assert cusum_arl(5.0, 0.5) == pytest.approx(465, rel=0.02)
    assert cusum_arl(5.0, 0.5) == pytest.approx(siegmund, rel=0.02)
    for shift, published in [(0.5, 38.0), (1.0, 10.4), (2.0, 4.01)]:
        assert cusum_arl(5.0, 0.5, shift=shift) == pytest.approx(published, rel=0.02)


def test_the_chosen_decision_interval_gives_an_in_control_run_length_over_500():
    """About 800 cycles on N(0, 1) scores, and a 1-sd shift still found in about 13."""
    assert cusum_arl(CUSUM_H, CUSUM_K) > 750
    assert cusum_arl(CUSUM_H, CUSUM_K, shift=1.0) < 15


def test_sequential_rank_cusum_run_length_simulated_from_uniform_ranks():
    """Under iid continuous data R_t is uniform on {1..t}, independently (Parent 1965): draw the ranks directly.
    Runs cut at 3,000 cycles count as 3,000, so the mean is a lower bound on the run length."""
    rng = np.random.default_rng(20)
    runs, horizon = 1500, 3000
    upper, lower = np.zeros(runs), np.zeros(runs)
    length = np.full(runs, horizon)
    alive = np.ones(runs, bool)
    for t in range(1, horizon + 1):
        z = norm.ppf((rng.integers(1, t + 1, runs) - 0.5) / t)
        upper, lower = np.maximum(0, upper + z - CUSUM_K), np.maximum(0, lower - z - CUSUM_K)
        alarm = alive & (np.maximum(upper, lower) > CUSUM_H) & (t >= MIN_CYCLES)
        length[alarm], alive = t, alive & ~alarm
    mean, se = length.mean(), length.std() / np.sqrt(runs)
    assert mean - 2 * se > 600 and (length <= 50).mean() < 0.05


def _history(tmp_path, values: list[float]) -> Ledger:
    ledger = Ledger(tmp_path)
    for n, v in enumerate(values):
        ledger.append("cycle_decision", {"cycle_id": f"c{n}", "outcomes": [
            {"decision_point": "refund", "outcome_id": "RF-OE-2", "title": "reopened share", "value": v, "sample_size": 59}]})
    return ledger


def _now(value: float) -> list[dict]:
    return [{"decision_point": "refund", "outcome_id": "RF-OE-2", "title": "reopened share", "value": value, "sample_size": 59}]


BASELINE = {"points": {"refund": {"outcomes": {"RF-OE-2": 0.035}}}}


def test_a_slow_rise_within_the_expected_range_is_flagged(tmp_path):
    """Each cycle stays under an expectation of max 0.12, so no single cycle is an outcome finding; the trend is.
    Scores 0, -0.67, 0.97, 0.32, 1.28, 0.67, 1.47, 0.89, 1.59, 1.04, 1.69, 1.15, 1.77: C+ reaches 10.1 at 13."""
    rise = [float(v) for v in np.round(0.035 + 0.006 * np.arange(13) + np.tile([0.004, -0.004], 7)[:13], 4)]
    assert outcome_trend_findings(_history(tmp_path / "a", rise[:11]), _now(rise[11]), BASELINE) == []
    [finding] = outcome_trend_findings(_history(tmp_path / "b", rise[:-1]), _now(rise[-1]), BASELINE)
    assert max(rise) < 0.12 and finding.kind == "outcome" and finding.severity == "medium"
    assert finding.statistic == pytest.approx(10.084, abs=1e-3) and finding.threshold == CUSUM_H
    assert "drifted upward over the last 13 cycles against its own earlier cycles" in finding.summary
    assert "first value 0.039" in finding.summary and "now 0.111" in finding.summary and "go-live 0.035" in finding.summary
    assert finding.details["effect_name"] == "change_from_earlier_median"
    assert "earlier median 0.068" in finding.summary and finding.details["effect"] == pytest.approx(0.111 - 0.068)
    assert finding.details["sample_size"] == 13 and finding.details["series"] == rise


def test_a_fall_is_flagged_downward(tmp_path):
    fall = [0.2 - 0.01 * n for n in range(12)]
    [finding] = outcome_trend_findings(_history(tmp_path, fall[:-1]), _now(fall[-1]), None)
    assert "drifted downward over the last 12 cycles" in finding.summary and "go-live" not in finding.summary


def test_noise_around_go_live_is_not_flagged(tmp_path):
    rng = np.random.default_rng(4)
    values = list(0.035 + rng.normal(0, 0.01, 12))
    assert outcome_trend_findings(_history(tmp_path, values[:-1]), _now(values[-1]), BASELINE) == []


def test_skewed_discrete_noise_is_not_flagged(tmp_path):
    """Shares k/59 with k ~ Bin(59, 0.02): mostly 0 and 1/59, ties everywhere."""
    values = list(np.random.default_rng(7).binomial(59, 0.02, 30) / 59)
    assert cusum(sequential_rank_scores(values)).statistic < CUSUM_H
    assert outcome_trend_findings(_history(tmp_path, values[:-1]), _now(values[-1]), BASELINE) == []


def test_too_short_a_history_is_not_judged(tmp_path):
    assert outcome_trend_findings(_history(tmp_path, [0.05, 0.08, 0.11]), _now(0.14), BASELINE) == []


def test_a_constant_metric_is_not_flagged(tmp_path):
    assert outcome_trend_findings(_history(tmp_path, [0.0] * 40), _now(0.0), BASELINE) == []
