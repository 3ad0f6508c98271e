"""Outcome trends across cycles: the CUSUM against hand computation, and what it does and does not flag."""

import numpy as np
import pytest

from assurance_pipeline.drift.trend import CUSUM_H, cusum, moving_range_sigma, outcome_trend_findings
from assurance_pipeline.evidence.ledger import Ledger


def test_cusum_hand_computed():
    """target 0, sigma 1, k 0.5: z = 1, 2, -1 gives C+ = 0.5, 2.0, 0.5 and C- = 0, 0, 0.5."""
    result = cusum([1.0, 2.0, -1.0], target=0.0, sigma=1.0)
    assert (result.upper, result.lower) == (0.5, 0.5)
    assert cusum([1.0, 2.0], 0.0, 1.0).upper == pytest.approx(2.0)


def test_moving_range_sigma_hand_computed():
    assert moving_range_sigma([1.0, 3.0, 2.0]) == pytest.approx(((2 + 1) / 2) / 1.128)


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
    """Each cycle stays under an expectation of max 0.12, so no single cycle is an outcome finding; the trend is."""
    rise = list(np.round(0.035 + 0.006 * np.arange(11) + np.tile([0.004, -0.004], 6)[:11], 4))
    [finding] = outcome_trend_findings(_history(tmp_path, rise[:-1]), _now(rise[-1]), BASELINE)
    assert max(rise) < 0.12 and finding.kind == "outcome" and finding.statistic > CUSUM_H
    assert "drifted upward over the last 11 cycles" in finding.summary
    shift = (rise[-1] - 0.035) / moving_range_sigma(rise)
    assert finding.details["effect"] == pytest.approx(shift) and finding.details["sample_size"] == 11
    assert f"{shift:+.1f} sigma" in finding.summary


def test_noise_around_go_live_is_not_flagged(tmp_path):
    rng = np.random.default_rng(4)
    values = list(0.035 + rng.normal(0, 0.01, 12))
    assert outcome_trend_findings(_history(tmp_path, values[:-1]), _now(values[-1]), BASELINE) == []


def test_too_short_a_history_is_not_judged(tmp_path):
    assert outcome_trend_findings(_history(tmp_path, [0.05, 0.08, 0.11]), _now(0.14), BASELINE) == []
