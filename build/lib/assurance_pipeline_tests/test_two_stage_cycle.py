"""Expansion on signal, end to end: a critical point on a two-stage plan with one first-stage deviation extends,
the second-stage sensor asks for the follow-up, and the follow-up concludes on both stages' decisions."""

from pathlib import Path

import dagster as dg

from assurance_pipeline.defs.cycle.partitions import key_window
import pytest

from assurance_pipeline.defs.automation.sensors import second_stage_sensor
from assurance_pipeline.defs.cycle.run import run_cycle
from assurance_pipeline.defs.resources import EvidenceStoreResource
from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.sampling.two_stage import two_stage_plan
from assurance_pipeline_tests.small_cycle import CRITICAL, CYCLE_FROM, CYCLE_TO, SEED, build_rows, expected_selection, materialize, prepare

TWO_STAGE_CRITICAL = "risk_tiers:\n  critical: {confidence: 0.95, tolerable_deviation_rate: 0.02, two_stage: true}\n"
PLAN = two_stage_plan(0.95, 0.02)


def _rows_with_deviations_at(ranks: list[int]) -> list[dict]:
    """A clean log but for PR-1 deviations on the releases at these ranks of the seed's selection order."""
    rows = build_rows(planted=False)
    order = expected_selection(rows, CRITICAL, SEED, CYCLE_FROM, CYCLE_TO, PLAN.first_stage + PLAN.second_stage)
    by_id = {r["decision_id"]: r for r in rows}
    releases = [d for d in order if by_id[d]["action"] == "release"]
    for rank in ranks:
        target = releases[rank]
        assert (order.index(target) < PLAN.first_stage) == (rank < 10)  # the test's own premise: which stage it lands in
        by_id[target]["signoff_by"] = None
    return rows


def _point(cycle, point: str) -> dict:
    return cycle.points()[point]


@pytest.fixture(scope="module")
def extended(tmp_path_factory):
    store = prepare(tmp_path_factory.mktemp("two-stage"), _rows_with_deviations_at([3]), standard_extra=TWO_STAGE_CRITICAL)
    return materialize(store)


def test_one_first_stage_deviation_extends_and_the_cycle_is_inconclusive(extended):
    point = _point(extended, CRITICAL)
    assert (point["sample_size"], point["deviations"], point["conclusion"]) == (PLAN.first_stage, 1, "extend")
    assert extended.decision["decision"] == "INCONCLUSIVE"
    [finding] = [f for f in extended.decision["findings"] if f["kind"] == "conformance"]
    assert finding["severity"] == "medium" and "second-stage sample follows" in finding["summary"]
    plan = {p["decision_point"]: p for p in extended.output("sampling_plan")["plan"]["points"]}[CRITICAL]
    assert plan["two_stage"] == PLAN.to_dict() and plan["stage"] == 1


def test_the_sensor_requests_the_second_stage_once(extended):
    evidence = EvidenceStoreResource(directory=str(extended.store.evidence))
    first = second_stage_sensor(dg.build_sensor_context(cursor=None, resources={"evidence": evidence}))
    [request] = first.run_requests
    config = request.run_config["ops"]["confirmed_standard"]["config"]
    assert config["follow_up_of"] == extended.run.run_id and config["decision_points"] == [CRITICAL]
    assert key_window(request.partition_key).to_dict() == extended.decision["window"]  # the first stage's window
    assert [list(r.partition_keys) for r in first.dynamic_partitions_requests] == [[request.partition_key]]
    context = dg.build_sensor_context(cursor=str(Ledger(extended.store.evidence).head().seq), resources={"evidence": evidence})
    assert isinstance(second_stage_sensor(context), dg.SkipReason)


def test_the_second_stage_accepts_when_the_total_stays_at_one(extended):
    follow_up = materialize(extended.store, follow_up_of=extended.run.run_id)
    assert follow_up.run.success
    point = _point(follow_up, CRITICAL)
    assert (point["sample_size"], point["deviations"], point["conclusion"]) == (PLAN.first_stage + PLAN.second_stage, 1, "within_tolerable")
    assert list(follow_up.points()) == [CRITICAL]
    first_ids = extended.output("decision_sample")[CRITICAL]["decision_ids"]
    assert follow_up.output("decision_sample")[CRITICAL]["decision_ids"][: len(first_ids)] == first_ids
    [plan_entry] = Ledger(extended.store.evidence).find("sampling_plan", cycle_id=follow_up.run.run_id)
    assert plan_entry.body["follow_up_of"] == extended.run.run_id and plan_entry.body["points"][CRITICAL]["stage"] == 2
    assert follow_up.decision["decision"] == "ASSURED_WITH_EXCEPTIONS"  # the one deviation is still surfaced (low)


def test_the_second_stage_rejects_on_a_second_deviation(tmp_path: Path):
    store = prepare(tmp_path, _rows_with_deviations_at([3, 140]), standard_extra=TWO_STAGE_CRITICAL)
    first = materialize(store)
    assert _point(first, CRITICAL)["conclusion"] == "extend"
    follow_up = materialize(store, follow_up_of=first.run.run_id)
    point = _point(follow_up, CRITICAL)
    assert (point["deviations"], point["conclusion"]) == (2, "exceeds")
    assert follow_up.decision["decision"] == "NOT_ASSURED"


def test_a_follow_up_naming_a_point_that_did_not_extend_is_refused(extended):
    with pytest.raises(AssuranceError, match="refund did not end its first stage in 'extend'"):
        run_cycle(extended.store.standard, str(extended.store.log), extended.store.evidence,
                  follow_up_of=extended.run.run_id, points=["refund"])
