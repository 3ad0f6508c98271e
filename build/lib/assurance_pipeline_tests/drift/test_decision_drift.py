"""Decision drift separates changed behaviour from moved inputs: decisions are held to the go-live rules leaf by
leaf, so a changed rule is found and inputs that moved into a region where the rules were already uncertain are
data drift only (the car-loan decisions of benchmarks/decision_drift.py)."""

import sys
from pathlib import Path

import numpy as np
import pytest

from assurance_pipeline.drift.detectors import drift_findings, point_drift_tests
from assurance_pipeline.sources.window import Window

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import decision_drift as car_loans  # noqa: E402  the benchmark's car-loan decisions

INPUTS_MOVED = car_loans.SCENARIOS["inputs: cars 30% dearer, longer loans, lower bands"]
BEHAVIOUR_CHANGED = car_loans.SCENARIOS["behaviour: all cars at 70-95% of the limit now rejected (strong)"]
WINDOWS = 20


@pytest.fixture(scope="module")
def baseline() -> dict:
    return car_loans.golive_baseline(np.random.default_rng(0))


def test_a_changed_rule_with_unchanged_inputs_is_decision_drift_in_both_decision_tests(baseline):
    """Every car at 70% to 95% of its band's limit, approved at go-live, now rejected: both decision tests find it
    in every window of 300. The inputs did not move: data drift in a window or two at most (Benjamini–Hochberg
    controls the share of false findings among all findings, so strong true ones let a borderline test through)."""
    data_drift = 0
    for seed in range(WINDOWS):
        table = car_loans.decisions(np.random.default_rng(seed), 300, **BEHAVIOUR_CHANGED)
        tests = point_drift_tests(car_loans.connect(table), car_loans.POINT, baseline, Window())
        found = drift_findings([t.to_dict() for t in tests])
        assert {f.details["test"]["test"] for f in found if f.kind == "decision_drift"} == \
            {"exact_stratified_by_leaf", "cmh_permutation_stratified_by_leaf"}, seed
        data_drift += any(f.kind == "data_drift" for f in found)
    assert data_drift <= 2
    [disagreement] = [t for t in tests if t.test == "exact_stratified_by_leaf"]
    assert disagreement.effect == pytest.approx(disagreement.statistic - disagreement.expected)
    assert disagreement.expected == pytest.approx(baseline["decision_model"]["baseline_disagreement"], abs=0.03)


def test_inputs_moved_into_the_uncertain_region_with_the_rules_unchanged_are_data_drift_only(baseline):
    """Dearer cars, longer loans and lower salary bands put more decisions where go-live was a coin toss: the
    window disagrees with the go-live rules more than go-live did, as expected for its inputs. The tests before
    (unstratified Fisher and chi-square) called that decision drift in every window; now only the inputs move."""
    old = new = 0
    excess = []
    for seed in range(WINDOWS):
        con = car_loans.connect(car_loans.decisions(np.random.default_rng(100 + seed), 1_000, **INPUTS_MOVED))
        tests = point_drift_tests(con, car_loans.POINT, baseline, Window())
        found = drift_findings([t.to_dict() for t in tests])
        assert {f.details["test"]["subject"] for f in found if f.kind == "data_drift"} >= {"car_value", "loan_months", "salary_band"}
        new += any(f.kind == "decision_drift" for f in found)
        before = [t for t in tests if t.kind != "decision_drift"] + car_loans.old_decision_tests(con, baseline)
        old += any(f.kind == "decision_drift" for f in drift_findings([t.to_dict() for t in before]))
        [disagreement] = [t for t in tests if t.test == "exact_stratified_by_leaf"]
        assert disagreement.statistic > baseline["decision_model"]["baseline_disagreement"] + 0.03  # they do disagree more
        assert disagreement.effect < car_loans.POINT.drift_floors.disagreement  # but about as their leaves lead to expect
        excess.append(disagreement.effect)
    assert abs(np.mean(excess)) < 0.01
    assert new <= 1 and old == WINDOWS, (new, old)
