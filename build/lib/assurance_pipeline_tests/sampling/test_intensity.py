"""Which points are sampled more deeply: open findings and deviations in their last tested cycles."""

from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.sampling.intensity import RECENT_CYCLES, recent_signals


def _cycle(ledger: Ledger, cycle_id: str, deviations: dict[str, int], findings: list[tuple[str, str]] = ()) -> None:
    ledger.append("cycle_decision", {
        "cycle_id": cycle_id,
        "decision_points": [{"id": p, "sample_size": 50, "deviations": n} for p, n in deviations.items()],
        "findings": [{"id": fid, "decision_point": point, "kind": "conformance", "severity": "high", "summary": "s",
                      "key": f"conformance|{point}|{fid}"} for fid, point in findings],
    })


def test_no_history_no_signal(tmp_path):
    assert recent_signals(Ledger(tmp_path), ["a", "b"]) == {}


def test_an_open_finding_heightens_its_point_until_disposed(tmp_path):
    ledger = Ledger(tmp_path)
    _cycle(ledger, "c1", {"a": 0, "b": 0}, [("F-c1-01", "a"), ("F-c1-02", "zzz")])
    assert recent_signals(ledger, ["a", "b"]) == {"a": "1 open finding(s) (F-c1-01)"}
    ledger.append("disposition", {"finding_id": "F-c1-01", "disposition": "false_positive", "by": "x", "note": "y", "cycle_id": "c1"})
    assert recent_signals(ledger, ["a", "b"]) == {}


def test_a_remediated_finding_heightens_its_point_until_a_cycle_without_it(tmp_path):
    ledger = Ledger(tmp_path)
    _cycle(ledger, "c1", {"a": 0, "b": 0}, [("F-c1-01", "a")])
    ledger.append("disposition", {"finding_id": "F-c1-01", "disposition": "remediate", "by": "x", "note": "y", "cycle_id": "c1"})
    remediating = {"a": "remediated, awaiting a cycle without it: F-c1-01"}
    assert recent_signals(ledger, ["a", "b"]) == remediating
    _cycle(ledger, "c2", {"b": 0})  # a cycle not over point a confirms nothing
    assert recent_signals(ledger, ["a", "b"]) == remediating
    _cycle(ledger, "c3", {"a": 0, "b": 0})
    assert recent_signals(ledger, ["a", "b"]) == {}


def test_deviations_count_only_in_the_last_tested_cycles(tmp_path):
    ledger = Ledger(tmp_path)
    _cycle(ledger, "old-cycle", {"a": 4})
    for n in range(RECENT_CYCLES):
        _cycle(ledger, f"clean-{n}", {"a": 0})
    assert recent_signals(ledger, ["a"]) == {}
    _cycle(ledger, "recent-cycle", {"a": 2, "b": 0})
    assert recent_signals(ledger, ["a", "b"]) == {"a": "deviations in recent cycles: 2 in recent-c"}
