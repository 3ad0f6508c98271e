"""Findings across real cycles (small_cycle's planted log) and the Dagster job that records a disposition."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from assurance_pipeline.cli import main
from assurance_pipeline.defs.automation.jobs import record_disposition_job
from assurance_pipeline.evidence.signing import Signer, load_private_key, new_key, public_key_text
from assurance_pipeline.defs.cycle import metadata as md
from assurance_pipeline.defs.resources import EvidenceStoreResource
from assurance_pipeline.definitions import defs
from assurance_pipeline.evidence.dispositions import list_findings, record_disposition
from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.findings.lifecycle import read_findings
from assurance_pipeline.sampling.intensity import recent_signals
from assurance_pipeline_tests.defs.test_cli_runs import ROOM_PX, narrowest
from assurance_pipeline_tests.findings.synthetic import conformance, record_cycle
from assurance_pipeline_tests.small_cycle import BASELINE_FROM, BASELINE_TO, HIGH, Cycle, build_rows, materialize, prepare


def _status_table(cycle: Cycle) -> dict[str, dict]:
    [event] = [m for m in cycle.run.get_asset_materialization_events() if m.asset_key.path[-1] == "findings"]
    table = event.materialization.metadata["findings"]
    assert isinstance(table, dg.TableMetadataValue) and "status" in {c.name for c in table.schema.columns}
    return {r.data["id"]: r.data for r in table.records}


def _findings(cycle: Cycle) -> list[dict]:
    return Ledger(cycle.store.evidence).find("cycle_decision", cycle_id=cycle.run.run_id)[0].body["findings"]


@pytest.fixture(scope="module")
def four_cycles(tmp_path_factory) -> list[Cycle]:
    store = prepare(tmp_path_factory.mktemp("recurrence"), build_rows(planted=True))
    return [materialize(store, seed=f"seed-{n}") for n in range(4)]


def test_four_cycles_over_one_window_leave_one_open_finding_per_problem(four_cycles: list[Cycle], capsys):
    assert all(c.run.success for c in four_cycles)
    recorded = [f for c in four_cycles for f in _findings(c)]
    problems = {f["key"] for f in recorded}
    assert len(recorded) > len(problems) >= 6  # the planted problems, seen again and again

    assert main(["findings", "--open", "--json", "--evidence", str(four_cycles[0].store.evidence)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == len(problems) and {r["key"] for r in listed} == problems
    first = {f["key"]: f["id"] for f in _findings(four_cycles[0])}
    assert all(r["id"] == first[r["key"]] for r in listed if r["key"] in first)


def test_a_recurrence_keeps_its_id_and_still_counts_in_the_cycles_decision(four_cycles: list[Cycle]):
    first, last = four_cycles[0], four_cycles[-1]
    opened = {f["key"]: f for f in _findings(first)}
    again = [f for f in _findings(last) if f["key"] in opened]
    assert again and all(f["recurrence_of"] == f["id"] == opened[f["key"]]["id"] for f in again)
    assert all(f["first_seen"] == Ledger(first.store.evidence).find("cycle_decision", cycle_id=first.run.run_id)[0].at for f in again)
    assert last.decision["decision"] == "NOT_ASSURED"
    blocking = sum(1 for f in _findings(last) if f["severity"] in ("critical", "high"))
    assert last.decision["reason"] == f"{blocking} critical or high finding(s)" and blocking > 0


def test_the_findings_asset_shows_each_findings_status_as_a_table(four_cycles: list[Cycle]):
    table = _status_table(four_cycles[-1])
    carried = [f for f in _findings(four_cycles[-1]) if f.get("recurrence_of")]
    row = table[carried[0]["id"]]
    listed = {r["id"]: r for r in list_findings(Ledger(four_cycles[0].store.evidence))}
    cycles, first_seen = listed[carried[0]["id"]]["cycles_seen"], listed[carried[0]["id"]]["first_seen"][:10]
    assert row["status"] == "open" and cycles >= 2 and row["seen"] == f"{cycles} cycles since {first_seen}"
    assert all(r["status"] == "open (new)" for r in table.values() if r["seen"] == "this cycle")


def test_remediate_heightens_the_point_until_a_clean_cycle_and_a_recurrence_reopens_it(tmp_path: Path, capsys):
    store = prepare(tmp_path, build_rows(planted=True))
    ledger = Ledger(store.evidence)
    first = materialize(store)
    [change] = [f for f in _findings(first) if f["kind"] == "ungoverned_change"]
    record_disposition(ledger, change["id"], "remediate", "Refund ops", "rolled back to 4.1")
    assert f"remediated, awaiting a cycle without it: {change['id']}" in recent_signals(ledger, [HIGH])[HIGH]

    clean = materialize(store, window=(BASELINE_FROM, BASELINE_TO))  # January: no unregistered version executes
    plan = {p["decision_point"]: p for p in clean.output("sampling_plan")["plan"]["points"]}
    assert plan[HIGH]["intensity"] == "heightened" and f"remediated, awaiting a cycle without it: {change['id']}" in plan[HIGH]["expansion_reason"]
    assert change["id"] not in {f["id"] for f in _findings(clean)}
    assert "remediated" not in recent_signals(ledger, [HIGH]).get(HIGH, "")

    recurred = materialize(store, seed="another")
    [again] = [f for f in _findings(recurred) if f["kind"] == "ungoverned_change"]
    assert again["id"] == again["recurrence_of"] == change["id"]
    assert _status_table(recurred)[change["id"]]["status"] == "reopened (recurred after remediate by Refund ops)"
    assert main(["findings", "--id", change["id"], "--evidence", str(store.evidence)]) == 0
    out = capsys.readouterr().out
    assert "REOPENED" in out and "seen in 2 cycle(s)" in out and "remediate by Refund ops (UNSIGNED): rolled back to 4.1" in out


def _dispose(evidence: Path, **config) -> dg.ExecuteInProcessResult:
    return record_disposition_job.execute_in_process(
        run_config={"ops": {"dispose_finding": {"config": config}}},
        resources={"evidence": EvidenceStoreResource(directory=str(evidence))}, raise_on_error=False)


def test_the_record_disposition_job_records_through_the_same_lifecycle(tmp_path: Path):
    assert defs.get_job_def("record_disposition") is not None
    [f] = record_cycle(Ledger(tmp_path), "c1", ["payment_release"], [conformance("payment_release", "PR-1")])

    run = _dispose(tmp_path, finding_id=f["id"], disposition="escalate", by="Controller", note="for the CFO", to="CFO")
    assert run.success
    last = list(Ledger(tmp_path).entries())[-1]
    assert (last.kind, last.body["finding_id"], last.body["disposition"], last.body["to"]) == ("disposition", f["id"], "escalate", "CFO")

    refused = _dispose(tmp_path, finding_id=f["id"], disposition="false_positive", by="CFO", note="no")
    assert not refused.success
    failure = refused.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert "already disposed as escalate by Controller" in failure.description and failure.metadata["exit_code"].value == 2

    assert _dispose(tmp_path, finding_id=f["id"], disposition="false_positive", by="CFO", note="test rows", supersede=True).success
    [row] = list_findings(Ledger(tmp_path))
    assert row["status"] == "false_positive" and [d["superseded"] for d in row["dispositions"]] == [True, False]


def test_the_status_table_says_owed_escalated_and_overdue(tmp_path: Path):
    ledger = Ledger(tmp_path)
    a, b, c = record_cycle(ledger, "c1", ["payment_release"], [conformance("payment_release", n) for n in ("PR-1", "PR-2", "PR-3")])
    record_disposition(ledger, a["id"], "accept_change", "CFO", "change the rule")
    record_disposition(ledger, b["id"], "escalate", "Controller", "for the CFO", to="CFO")
    late = {"id": "F-c2-01", "kind": "overdue_disposition", "severity": "critical", "decision_point": "payment_release",
            "summary": "s", "details": {"finding_id": c["id"]}}
    value = [{**a, "details": {}}, {**b, "details": {}}, {**c, "details": {}}, late]
    table = md.findings_metadata(value, read_findings(ledger))["findings"]
    since = f"2 cycles since {ledger.find('cycle_decision')[0].at[:10]}"
    assert {r.data["id"]: (r.data["status"], r.data["seen"]) for r in table.records} == {
        a["id"]: ("owed (disposed as accept_change by CFO; not yet authorized)", since),
        b["id"]: ("disposed as escalate to CFO by Controller", since),
        c["id"]: ("open; overdue", since),
        "F-c2-01": ("open (new)", "this cycle"),
    }
    assert narrowest(table, len("access_provisioning")) <= ROOM_PX  # the longest status still fits the page


def test_the_record_disposition_job_signs_with_the_key_it_is_given(tmp_path: Path):
    """Once people are registered, the job needs the disposer's key, as `assurance dispose` does."""
    key = new_key("carol", tmp_path / "keys")[0]
    person = {"name": "carol", "role": "reviewer", "public_key": public_key_text(load_private_key(key).public_key()), "actors": []}
    ledger = Ledger(tmp_path / "evidence")
    bob = new_key("bob", tmp_path / "keys")[0]
    authorizer = {"name": "bob", "role": "authorizer", "public_key": public_key_text(load_private_key(bob).public_key()), "actors": []}
    ledger.append("authorization", {"authorized_by": "bob", "people": [person, authorizer]}, Signer("bob", load_private_key(bob)))
    [f] = record_cycle(ledger, "c1", ["payment_release"], [conformance("payment_release", "PR-1")])

    unsigned = _dispose(ledger.folder, finding_id=f["id"], disposition="false_positive", by="carol", note="test rows")
    assert not unsigned.success
    assert "must be signed" in unsigned.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    signed = _dispose(ledger.folder, finding_id=f["id"], disposition="false_positive", by="carol", note="test rows", key_file=str(key))
    assert signed.success and list(ledger.entries())[-1].signature.by == "carol"
