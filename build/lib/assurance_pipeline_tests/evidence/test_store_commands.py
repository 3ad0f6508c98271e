"""`assurance verify`, `dispose` and `findings` against a real evidence store made by a demo cycle."""

import json
from pathlib import Path

import pytest

from assurance_pipeline.cli import main
from assurance_pipeline.evidence.ledger import Ledger


def _lines(store: Path) -> list[str]:
    return (store / "ledger.jsonl").read_text().splitlines(keepends=True)


def test_verify_intact_store(store, capsys):
    assert main(["verify", "--evidence", str(store), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["intact"] and report["entries"] == 3


def test_verify_names_an_edited_entry(store, capsys):
    lines = _lines(store)
    entry = json.loads(lines[2])
    entry["body"]["decision"] = "ASSURED"
    lines[2] = json.dumps(entry) + "\n"
    (store / "ledger.jsonl").write_text("".join(lines))
    assert main(["verify", "--evidence", str(store)]) == 1
    assert "line 3 (seq 3)" in capsys.readouterr().out


def test_verify_names_a_removed_entry(store, capsys):
    lines = _lines(store)
    (store / "ledger.jsonl").write_text(lines[0] + lines[2])
    assert main(["verify", "--evidence", str(store)]) == 1
    assert "line 2" in capsys.readouterr().out


def test_verify_finds_reordered_entries(store, capsys):
    lines = _lines(store)
    (store / "ledger.jsonl").write_text(lines[1] + lines[0] + lines[2])
    assert main(["verify", "--evidence", str(store)]) == 1
    assert "line 1" in capsys.readouterr().out


def test_verify_finds_an_edited_pack_file(store, capsys):
    pack = next((store / "packs").iterdir())
    summary = pack / "summary.md"
    summary.write_text(summary.read_text().replace("NOT_ASSURED", "ASSURED"))
    assert main(["verify", "--evidence", str(store)]) == 1
    assert f"packs/{pack.name}/summary.md" in capsys.readouterr().out


def test_verify_finds_a_pack_whose_ledger_entry_was_removed(store, capsys):
    lines = _lines(store)
    (store / "ledger.jsonl").write_text("".join(lines[:2]))  # the last entry: the chain alone cannot tell, the checkpoint can
    assert main(["verify", "--evidence", str(store)]) == 1
    assert "covers 3 entries, the ledger holds 2: entries were removed" in capsys.readouterr().out
    for checkpoint in sorted((store / "checkpoints").iterdir())[2:]:
        checkpoint.unlink()  # the checkpoints removed too: the pack still tells
    assert main(["verify", "--evidence", str(store)]) == 1
    assert "no ledger entry records this pack" in capsys.readouterr().out


def test_findings_start_open_and_a_disposition_closes_one(store, capsys):
    assert main(["findings", "--evidence", str(store), "--open", "--json"]) == 0
    open_before = json.loads(capsys.readouterr().out)
    assert open_before and all(f["disposition"] is None for f in open_before)
    target = open_before[0]["id"]

    assert main(["dispose", target, "--as", "remediate", "--by", "Controller", "--note", "legal sign-off re-trained", "--evidence", str(store)]) == 0
    capsys.readouterr()
    assert main(["findings", "--evidence", str(store), "--open", "--json"]) == 0
    open_after = json.loads(capsys.readouterr().out)
    assert {f["id"] for f in open_after} == {f["id"] for f in open_before} - {target}

    last = list(Ledger(store).entries())[-1]
    assert last.kind == "disposition" and last.body["finding_id"] == target and last.body["by"] == "Controller"
    assert main(["verify", "--evidence", str(store)]) == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["dispose", "F-nope-01", "--as", "remediate", "--by", "x", "--note", "y"], "not in the evidence ledger"),
        (["dispose", "F-nope-01", "--as", "ignore", "--by", "x", "--note", "y"], "invalid choice"),
        (["dispose", "F-nope-01", "--as", "remediate", "--by", " ", "--note", "y"], "must not be empty"),
    ],
)
def test_bad_dispositions_are_refused_and_leave_the_ledger_alone(store, capsys, argv, message):
    before = (store / "ledger.jsonl").read_bytes()
    assert main([*argv, "--evidence", str(store)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert (store / "ledger.jsonl").read_bytes() == before


def test_the_pack_holds_the_drift_tests_and_the_go_live_decision_rules(recorded_store):
    pack = next((recorded_store / "packs").iterdir())
    tests = json.loads((pack / "drift.json").read_text())
    points = {"payment_release", "refund_decision", "vendor_onboarding", "access_provisioning"}
    assert {t["decision_point"] for t in tests} == points
    assert {t["kind"] for t in tests} == {"data_drift", "decision_drift", "override"}
    assert all(0.0 <= t["p_value"] <= 1.0 and t["effect_floor"] > 0 for t in tests)
    disagreement = [t for t in tests if t["test"] == "exact_stratified_by_leaf"]  # one per point: what its inputs lead to expect
    assert len(disagreement) == 4 and all(t["effect"] == pytest.approx(t["statistic"] - t["expected"]) for t in disagreement)
    assert all(t["scale_kind"] in ("iqr/1.349", "sd") and t["scale"] > 0 for t in tests if t["test"] == "cramer_von_mises_permutation")
    rules = (pack / "decision_rules.md").read_text()
    assert all(f"## {p}: " in rules for p in points) and " THEN " in rules and "inf" not in rules and "class: " not in rules
