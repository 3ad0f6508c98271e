"""A finding's lifecycle over cycles recorded straight into a ledger: identity, recurrence, dispositions, overdue."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from assurance_pipeline.cli import main
from assurance_pipeline.evidence.dispositions import list_findings, record_disposition
from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.findings.detect import overdue_findings
from assurance_pipeline.findings.identity import finding_key
from assurance_pipeline.findings.lifecycle import read_findings
from assurance_pipeline.findings.model import Finding
from assurance_pipeline.standard.loading import load_standard
from assurance_pipeline_tests.findings.synthetic import conformance, integrity, record_cycle
from assurance_pipeline_tests.small_cycle import CRITICAL, HIGH, ROUTINE, UNKNOWN, write_standard

PR, AG = "payment_release", "access_grant"


def _rows(ledger: Ledger) -> dict[str, dict]:
    return {r["id"]: r for r in list_findings(ledger)}


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("finding, key", [
    (conformance(PR, "PR-2", "PR-1"), "conformance|payment_release|PR-1,PR-2"),
    (Finding("contract", "high", "s", "refund", details={"failures": [{"column": "channel"}, {"column": "amount"}, {"column": "channel"}]}),
     "contract|refund|amount,channel"),
    (Finding("contract", "high", "s", "refund", details={"null_ids": 2, "duplicated_ids": 0}), "contract|refund|decision_id"),
    (Finding("outcome", "high", "s", "refund", details={"outcome": {"outcome_id": "RF-OE-1"}}), "outcome|refund|RF-OE-1"),
    (Finding("outcome", "medium", "s", "refund", details={"outcome_id": "RF-OE-1", "series": [0.1, 0.2]}), "outcome|refund|RF-OE-1:trend"),
    (Finding("decision_drift", "high", "s", "v", details={"test": {"subject": "action", "test": "exact_stratified_by_leaf"}}),
     "decision_drift|v|action:exact_stratified_by_leaf"),
    (Finding("cost", "medium", "s", "refund", details={"against": "budget"}), "cost|refund|budget"),
    (Finding("ungoverned_change", "high", "s", "refund", details={"actor_id": "refund-agent", "actor_version": "9.9"}),
     "ungoverned_change|refund|refund-agent@9.9"),
    (Finding("unknown_decision_point", "medium", "s", "loan_waiver", details={"decisions": 7}), "unknown_decision_point|loan_waiver|"),
    (Finding("overdue_disposition", "high", "s", "refund", details={"finding_id": "F-abc-01"}), "overdue_disposition|refund|F-abc-01"),
    (integrity(), "standard_integrity||"),
])
def test_a_findings_key_names_its_problem_by_ids_and_names_only(finding: Finding, key: str):
    assert finding.key == key == finding_key(finding.kind, finding.decision_point, finding.details)
    assert Finding(**finding.to_dict()).key == key  # what the findings asset hands on keeps it


def test_the_same_problem_in_a_later_cycle_is_a_recurrence_of_its_open_finding(tmp_path: Path):
    ledger = Ledger(tmp_path)
    [first, _] = record_cycle(ledger, "c1aaaaaa-1", [PR], [conformance(PR, "PR-1", statistic=0.1), integrity()])
    [again, other, _] = record_cycle(ledger, "c2bbbbbb-2", [PR], [conformance(PR, "PR-1", statistic=0.2), conformance(PR, "PR-2"), integrity()])

    assert first["id"] == "F-c1aaaaaa-01" and "recurrence_of" not in first
    c1 = ledger.find("cycle_decision", cycle_id="c1aaaaaa-1")[0]
    assert (again["id"], again["recurrence_of"], again["first_seen"]) == (first["id"], first["id"], c1.at)
    assert again["statistic"] == 0.2
    assert other["id"] == "F-c2bbbbbb-01" and "recurrence_of" not in other  # another condition: another problem
    row = _rows(ledger)[first["id"]]
    assert (row["cycles_seen"], row["first_cycle"], row["last_cycle"], row["status"]) == (2, "c1aaaaaa-1", "c2bbbbbb-2", "open")
    assert [s["statistic"] for s in row["sightings"]] == [0.1, 0.2]


def test_an_open_finding_absent_from_later_cycles_over_its_point_stays_open_not_seen_since(tmp_path: Path, capsys):
    ledger = Ledger(tmp_path)
    [pr, ag] = record_cycle(ledger, "c1", [PR, AG], [conformance(PR, "PR-1"), conformance(AG, "AC-1", severity="medium")])
    record_cycle(ledger, "c2", [PR], [])  # over payment_release only: access_grant was not looked at
    record_cycle(ledger, "c3", [PR], [])

    rows = _rows(ledger)
    c1 = ledger.find("cycle_decision", cycle_id="c1")[0]
    assert (rows[pr["id"]]["status"], rows[pr["id"]]["not_seen_since"], rows[pr["id"]]["cycles_missed"]) == ("open", c1.at, 2)
    assert (rows[ag["id"]]["not_seen_since"], rows[ag["id"]]["cycles_missed"]) == (None, 0)
    code, out, _ = _cli(capsys, "findings", "--evidence", str(tmp_path), "--open")
    assert code == 0 and out.count("OPEN: awaiting a disposition") == 2
    assert "not seen since" in out.split(pr["id"])[1].split(ag["id"])[0] and "absent in 2 later cycle(s)" in out


def test_a_second_disposition_needs_supersede_and_both_stay_on_the_record(tmp_path: Path, capsys):
    [f] = record_cycle(Ledger(tmp_path), "c1", [PR], [conformance(PR, "PR-1")])
    store = ["--evidence", str(tmp_path)]
    assert _cli(capsys, "dispose", f["id"], "--as", "remediate", "--by", "Controller", "--note", "re-trained", *store)[0] == 0
    before = (tmp_path / "ledger.jsonl").read_bytes()

    code, _, err = _cli(capsys, "dispose", f["id"], "--as", "false_positive", "--by", "Auditor", "--note", "no", *store)
    assert code == 2 and err.count("\n") == 1
    assert f"{f['id']} is already disposed as remediate by Controller" in err and "--supersede" in err
    assert (tmp_path / "ledger.jsonl").read_bytes() == before

    code, out, _ = _cli(capsys, "dispose", f["id"], "--as", "false_positive", "--by", "Auditor", "--note", "test data", "--supersede", *store)
    assert code == 0 and "supersedes ledger entry" in out
    code, out, _ = _cli(capsys, "findings", "--id", f["id"], "--json", *store)
    history = json.loads(out)
    assert [(d["disposition"], d["by"], d["note"], d["superseded"]) for d in history["dispositions"]] == [
        ("remediate", "Controller", "re-trained", True), ("false_positive", "Auditor", "test data", False)]
    assert history["status"] == "false_positive"
    last = list(Ledger(tmp_path).entries())[-1]
    assert last.body["supersedes"] == history["dispositions"][0]["seq"]


def test_supersede_without_a_disposition_to_supersede_is_refused(tmp_path: Path, capsys):
    [f] = record_cycle(Ledger(tmp_path), "c1", [PR], [conformance(PR, "PR-1")])
    code, _, err = _cli(capsys, "dispose", f["id"], "--as", "remediate", "--by", "x", "--note", "y", "--supersede", "--evidence", str(tmp_path))
    assert code == 2 and "has no disposition to supersede" in err


@pytest.mark.parametrize("extra, message", [
    ([], "--as escalate needs --to NAME"),
    (["--to", " "], "--as escalate needs --to NAME"),
])
def test_escalate_needs_to_whom(tmp_path: Path, capsys, extra, message):
    [f] = record_cycle(Ledger(tmp_path), "c1", [PR], [conformance(PR, "PR-1")])
    code, _, err = _cli(capsys, "dispose", f["id"], "--as", "escalate", "--by", "x", "--note", "y", *extra, "--evidence", str(tmp_path))
    assert code == 2 and message in err and err.count("\n") == 1


def test_an_escalated_finding_names_whom_it_went_to_and_stays_listed_as_open(tmp_path: Path, capsys):
    ledger = Ledger(tmp_path)
    [f] = record_cycle(ledger, "c1", [PR], [conformance(PR, "PR-1")])
    code, _, err = _cli(capsys, "dispose", f["id"], "--as", "remediate", "--to", "CFO", "--by", "x", "--note", "y", "--evidence", str(tmp_path))
    assert code == 2 and "--to is only for --as escalate" in err
    record_disposition(ledger, f["id"], "escalate", "Controller", "beyond my authority", to="CFO")
    code, out, _ = _cli(capsys, "findings", "--open", "--evidence", str(tmp_path))
    assert f["id"] in out and "ESCALATED to CFO by Controller" in out
    [again] = record_cycle(ledger, "c2", [PR], [conformance(PR, "PR-1")])
    assert again["recurrence_of"] == f["id"]


def test_findings_id_shows_every_cycle_with_its_statistic_and_every_disposition(tmp_path: Path, capsys):
    ledger = Ledger(tmp_path)
    [f] = record_cycle(ledger, "c1", [PR], [conformance(PR, "PR-1", statistic=0.125)])
    record_disposition(ledger, f["id"], "escalate", "Controller", "needs the CFO", to="CFO")
    record_cycle(ledger, "c2", [PR], [conformance(PR, "PR-1", statistic=0.25)])
    record_disposition(ledger, f["id"], "remediate", "CFO", "control re-designed", supersede=True)

    code, out, _ = _cli(capsys, "findings", "--id", f["id"], "--evidence", str(tmp_path))
    assert code == 0
    assert "cycle c1" in out and "statistic 0.125" in out and "cycle c2" in out and "statistic 0.25" in out
    assert "escalate to CFO by Controller (UNSIGNED): needs the CFO (superseded)" in out
    assert "remediate by CFO (UNSIGNED): control re-designed" in out and "control re-designed (superseded)" not in out
    assert "seen in 2 cycle(s)" in out
    code, _, err = _cli(capsys, "findings", "--id", "F-nope-01", "--evidence", str(tmp_path))
    assert code == 2 and "F-nope-01" in err


def test_a_remediated_finding_that_recurs_is_reopened_under_its_own_id(tmp_path: Path, capsys):
    ledger = Ledger(tmp_path)
    [f] = record_cycle(ledger, "c1", [PR], [conformance(PR, "PR-1")])
    record_disposition(ledger, f["id"], "remediate", "Controller", "re-trained")
    record_cycle(ledger, "c2", [PR], [])
    assert (_rows(ledger)[f["id"]]["status"], _rows(ledger)[f["id"]]["confirmed_by"]) == ("remediated", "c2")

    [again] = record_cycle(ledger, "c3", [PR], [conformance(PR, "PR-1")])
    assert again["id"] == again["recurrence_of"] == f["id"]
    row = _rows(ledger)[f["id"]]
    assert (row["status"], row["confirmed_by"], row["cycles_seen"]) == ("reopened", None, 2)
    assert row["awaiting_since"] == ledger.find("cycle_decision", cycle_id="c3")[0].at
    code, out, _ = _cli(capsys, "findings", "--open", "--evidence", str(tmp_path))
    assert "REOPENED: recurred on" in out and "remediated by Controller" in out


def test_a_false_positive_is_closed_and_the_same_problem_later_is_a_new_finding(tmp_path: Path):
    ledger = Ledger(tmp_path)
    [f] = record_cycle(ledger, "c1", [PR], [conformance(PR, "PR-1")])
    record_disposition(ledger, f["id"], "false_positive", "Controller", "test rows")
    [later] = record_cycle(ledger, "c2", [PR], [conformance(PR, "PR-1")])
    assert later["id"] != f["id"] and "recurrence_of" not in later


def test_an_accepted_change_is_owed_until_an_authorization_that_changes_its_point(tmp_path: Path, capsys):
    ledger = Ledger(tmp_path)
    ledger.append("authorization", {"standard": "s", "version": "1"})  # the go-live sign-off, before: closes nothing
    [f] = record_cycle(ledger, "c1", [PR], [conformance(PR, "PR-1")])
    record_disposition(ledger, f["id"], "accept_change", "CFO", "the new rule is right; change the standard")
    [again] = record_cycle(ledger, "c2", [PR], [conformance(PR, "PR-1")])
    assert again["recurrence_of"] == f["id"] and _rows(ledger)[f["id"]]["status"] == "owed"
    code, out, _ = _cli(capsys, "findings", "--open", "--evidence", str(tmp_path))
    assert f["id"] in out and "OWED: accepted as a change by CFO" in out

    ledger.append("authorization", {"standard": "s", "version": "2", "touches": {"points": ["refund"], "header": True, "baseline": True}})
    assert _rows(ledger)[f["id"]]["status"] == "owed"  # another point's change, actors and a new baseline: not this one
    ledger.append("authorization", {"standard": "s", "version": "3", "touches": {"points": [PR], "header": False, "baseline": False}})
    assert _rows(ledger)[f["id"]]["status"] == "change_authorized"
    code, out, _ = _cli(capsys, "findings", "--open", "--evidence", str(tmp_path))
    assert f["id"] not in out
    [later] = record_cycle(ledger, "c3", [PR], [conformance(PR, "PR-1")])
    assert later["id"] != f["id"]  # closed: the same behaviour seen again is a new finding


# --- overdue ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def tiers(tmp_path: Path) -> tuple[Ledger, dict[str, str], datetime]:
    """One open finding per tier, one without a point, one at an ungoverned point, and one disposed; the cycle's time."""
    ledger = Ledger(tmp_path / "evidence")
    found = record_cycle(ledger, "c1", [CRITICAL, HIGH, ROUTINE], [
        conformance(CRITICAL, "PR-1"), conformance(HIGH, "RF-1", severity="high"), conformance(ROUTINE, "AC-1", severity="medium"),
        integrity(), Finding("unknown_decision_point", "medium", "s", UNKNOWN, details={"decisions": 7}),
        conformance(CRITICAL, "PR-9", severity="low"),
    ])
    record_disposition(ledger, found[-1]["id"], "false_positive", "x", "y")
    at = datetime.fromisoformat(ledger.find("cycle_decision")[0].at.replace("Z", "+00:00"))
    names = dict(zip(["critical", "high", "routine", "integrity", "unknown"], [f["id"] for f in found]))
    return ledger, names, at


def _overdue(ledger: Ledger, tmp_path: Path, now: datetime, extra: str = "", points=(CRITICAL, HIGH, ROUTINE)) -> dict[str, str]:
    folder = tmp_path / f"standard-{len(list(tmp_path.iterdir()))}"
    standard = load_standard(write_standard(folder, extra))
    return {f.details["finding_id"]: f.severity for f in overdue_findings(read_findings(ledger), standard, list(points), now)}


@pytest.mark.parametrize("days, overdue", [
    (2, set()),
    (3, {"critical", "integrity", "unknown"}),  # no governed point: the critical grace
    (8, {"critical", "integrity", "unknown", "high"}),
    (15, {"critical", "integrity", "unknown", "high", "routine"}),
])
def test_undisposed_findings_fall_overdue_after_their_tiers_grace(tiers, tmp_path: Path, days: int, overdue: set[str]):
    ledger, names, at = tiers
    found = _overdue(ledger, tmp_path, at + timedelta(days=days, seconds=1))
    assert found == {names[n]: {"critical": "critical", "integrity": "critical", "unknown": "medium", "high": "high", "routine": "medium"}[n]
                     for n in overdue}


def test_the_grace_per_tier_is_set_in_standard_yaml(tiers, tmp_path: Path):
    ledger, names, at = tiers
    found = _overdue(ledger, tmp_path, at + timedelta(days=2, seconds=1), "disposition_grace_days: {high: 1, critical: 10}\n")
    assert set(found) == {names["high"]}
    with pytest.raises(Exception, match="disposition_grace_days"):
        load_standard(write_standard(tmp_path / "bad", "disposition_grace_days: {high: -1}\n"))


def test_a_cycle_raises_overdue_only_for_its_own_points(tiers, tmp_path: Path):
    ledger, names, at = tiers
    found = _overdue(ledger, tmp_path, at + timedelta(days=30), points=(HIGH,))
    assert set(found) == {names["high"], names["integrity"], names["unknown"]}


def test_an_overdue_finding_recurs_and_shows_on_the_finding_it_is_about(tiers, tmp_path: Path, capsys):
    ledger, names, at = tiers
    standard = load_standard(write_standard(tmp_path / "standard"))
    for cycle in ("c2", "c3"):
        late = overdue_findings(read_findings(ledger), standard, [CRITICAL], at + timedelta(days=4))
        recorded = record_cycle(ledger, cycle, [CRITICAL], late)
    assert {f["recurrence_of"] for f in recorded} == {f["id"] for f in ledger.find("cycle_decision", cycle_id="c2")[0].body["findings"]}
    # an overdue finding is never itself overdue
    assert all(f.details["finding_id"] in names.values() for f in overdue_findings(read_findings(ledger), standard, [CRITICAL], at + timedelta(days=99)))
    code, out, _ = _cli(capsys, "findings", "--open", "--evidence", str(ledger.folder))
    assert code == 0 and out.split(names["critical"])[1].split("\n")[2].count("[OVERDUE: F-c2-") == 1


def test_a_reopened_finding_awaits_from_its_recurrence(tmp_path: Path):
    ledger = Ledger(tmp_path / "evidence")
    [f] = record_cycle(ledger, "c1", [CRITICAL], [conformance(CRITICAL, "PR-1")])
    record_disposition(ledger, f["id"], "remediate", "x", "y")
    record_cycle(ledger, "c2", [CRITICAL], [conformance(CRITICAL, "PR-1")])
    reopened = datetime.fromisoformat(ledger.find("cycle_decision", cycle_id="c2")[0].at.replace("Z", "+00:00"))
    assert _overdue(ledger, tmp_path, reopened + timedelta(days=2)) == {}
    assert _overdue(ledger, tmp_path, reopened + timedelta(days=3, seconds=1)) == {f["id"]: "critical"}


def test_cycle_entries_written_before_findings_had_keys_still_list(tmp_path: Path, capsys):
    ledger = Ledger(tmp_path)
    old = {"id": "F-old-01", "decision_point": PR, "kind": "conformance", "severity": "critical", "summary": "old", "statistic": 0.1}
    ledger.append("cycle_decision", {"cycle_id": "old", "decision_points": [{"id": PR}], "findings": [old]})
    [new] = record_cycle(ledger, "c2", [PR], [conformance(PR, "PR-1")])
    assert new["id"] != "F-old-01"
    code, out, _ = _cli(capsys, "findings", "--open", "--json", "--evidence", str(tmp_path))
    assert code == 0 and {r["id"] for r in json.loads(out)} == {"F-old-01", new["id"]}
