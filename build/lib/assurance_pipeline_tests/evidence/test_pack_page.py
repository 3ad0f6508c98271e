"""The evidence pack's index.html: sealed with the pack, self-contained, escaped, and showing what each reader needs."""

import json
import re
from types import SimpleNamespace

import pytest

from assurance_pipeline.cli import main
from assurance_pipeline.evidence.frameworks import framework_mapping
from assurance_pipeline.evidence.ledger import Ledger, sha256_hex
from assurance_pipeline.evidence.pack_page import (
    changes_since, history, light_reason, outcome_trend, period_text, point_light, render_pack_page,
)


def _pack(store):
    return next(p for p in (store / "packs").iterdir() if not p.name.startswith("."))


def _entry(store, cycle_id):
    return Ledger(store).find("cycle_decision", cycle_id=cycle_id)[-1]


def test_the_page_is_sealed_by_the_ledger_entry_like_every_pack_file(recorded_store):
    pack = _pack(recorded_store)
    hashes = _entry(recorded_store, pack.name).body["pack_sha256"]
    page = (pack / "index.html").read_text(encoding="utf-8")
    assert hashes["index.html"] == sha256_hex(page)
    for name, digest in hashes.items():  # the page lists the other files' hashes as the ledger sealed them
        assert name == "index.html" or f"{name}</td><td class=\"mono\">{digest}</td>" in page


def test_the_page_is_self_contained_and_shows_the_decision_each_point_and_each_finding(recorded_store):
    pack = _pack(recorded_store)
    page = (pack / "index.html").read_text(encoding="utf-8")
    result = json.loads((pack / "result.json").read_text())
    assert "<script" not in page.lower() and not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page) and "url(" not in page
    assert "default-src 'none'" in page  # and the browser is told to fetch nothing
    assert f'id="decision-value">{result["decision"].replace("_", " ")}<' in page
    for p in result["decision_points"]:
        assert f'id="light-{p["id"]}"' in page
    for f in result["findings"]:
        assert f'id="open-{f["id"]}"' in page and f'id="finding-{f["id"]}"' in page
    rules = page[page.index('id="rules"'):page.index('id="frameworks"')]
    assert " in (" in rules or " is " in rules
    assert "inf" not in rules and "class:" not in rules and "&lt;= 0.5" not in rules
    for fw in framework_mapping().frameworks:
        assert all(f"<td>{c.id}</td>" in page for c in fw.clauses)
    assert f"assurance reperform {result['cycle_id']} --source" in page
    assert "UNSIGNED" in page  # the demo's authorization: nobody registered, so it is said


def test_an_edited_page_is_caught_by_verify(store, capsys):
    page = _pack(store) / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace("NOT ASSURED", "ASSURED"), encoding="utf-8")
    assert main(["verify", "--evidence", str(store)]) == 1
    assert f"packs/{page.parent.name}/index.html: content does not match the ledger" in capsys.readouterr().out


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_text_from_the_standard_and_findings_is_escaped(tmp_path):
    point = {"id": "p1", "risk_tier": "high", "population": 10, "planned_sample_size": 5, "sample_size": 5, "deviations": 1,
             "deviation_rate": 0.2, "upper_deviation_limit": 0.6, "tolerable_deviation_rate": 0.05, "confidence": 0.95,
             "conclusion": "exceeds", "distribution": "hypergeometric"}
    finding = {"id": "F-1", "decision_point": "p1", "kind": "conformance", "severity": "high", "summary": HOSTILE,
               "statistic": None, "threshold": None, "key": "k"}
    result = {"cycle_id": "c1", "window": {"from": None, "to": None}, "decision": "NOT_ASSURED",
              "standard": {"name": HOSTILE, "version": "1", "sha256": "0" * 64, "intact": True},
              "decision_points": [point], "findings": [finding], "outcomes": []}
    about = {"owner": HOSTILE, "points": {"p1": {"title": HOSTILE, "owner": HOSTILE}}}
    page = render_pack_page(tmp_path, result, HOSTILE, None, "2026-01-01T00:00:00Z", [], None, about, {"result.json": "a" * 64})
    assert "<script" not in page and "<img" not in page
    assert page.count("&lt;script&gt;") >= 4
    assert "no authorization of this sha256 is recorded" in page


@pytest.mark.parametrize("conclusion, sample, severities, light", [
    ("within_tolerable", 22, [], "green"),
    ("exceeds", 149, [], "red"),
    ("within_tolerable", 59, ["high"], "red"),
    ("within_tolerable", 59, ["medium"], "amber"),
    ("inconclusive", 59, [], "amber"),
    ("not_tested", 0, [], "grey"),
])
def test_the_light_of_a_point_follows_the_decision_rules(conclusion, sample, severities, light):
    assert point_light({"conclusion": conclusion, "sample_size": sample}, [{"severity": s} for s in severities]) == light


def test_what_changed_names_new_recurring_and_no_longer_seen_findings():
    previous = SimpleNamespace(at="2026-01-01T00:00:00Z", body={
        "cycle_id": "c1", "decision": "NOT_ASSURED", "window": {},
        "findings": [{"id": "A", "decision_point": "p1"}, {"id": "B", "decision_point": "p1"}, {"id": "C", "decision_point": "p2"}]})
    result = {"decision": "ASSURED_WITH_EXCEPTIONS", "decision_points": [{"id": "p1"}],
              "findings": [{"id": "A", "decision_point": "p1"}, {"id": "D", "decision_point": "p1"}]}
    changes = changes_since(previous, result)
    assert [f["id"] for f in changes["new"]] == ["D"] and [f["id"] for f in changes["recurring"]] == ["A"]
    assert [f["id"] for f in changes["resolved"]] == ["B"]  # p2 was not tested this cycle: C is not said to be gone
    assert [f["id"] for f in changes["not_looked_at"]] == ["C"] and changes["decision"] == "NOT_ASSURED"
    assert changes_since(None, result) is None


def test_the_outcome_trend_follows_a_metric_across_the_cycles_that_measured_it():
    def body(cycle, value, withheld=False):
        return {"cycle_id": cycle, "window": {"to": f"2026-0{cycle[-1]}-01"},
                "outcomes": [{"decision_point": "p", "outcome_id": "M", "value": value, "withheld": withheld}]}
    earlier = [SimpleNamespace(body=body("c1", 0.1), at="x"), SimpleNamespace(body={"outcomes": []}, at="y"),
               SimpleNamespace(body=body("c3", None, withheld=True), at="z")]
    current = {**body("c4", 0.3), "outcomes": [{"decision_point": "p", "outcome_id": "M", "value": 0.3, "withheld": False,
                                                  "expect_min": None, "expect_max": 0.25}]}
    [series] = outcome_trend(earlier, current)
    chart = series["chart"]
    assert [m["label"] for m in chart["marks"]] == ["2026-01-01", "2026-04-01"]  # the withheld cycle leaves a gap
    assert chart["lines"] == [] and [b["label"] for b in chart["bounds"]] == ["max 0.25"]


@pytest.mark.parametrize("window, text", [
    ({"from": "2026-05-01T00:00:00Z", "to": "2026-07-01T00:00:00Z"}, "1 May 2026 to 30 June 2026"),  # an exclusive end
    ({"from": "2026-05-01T00:00:00Z", "to": "2026-07-01T12:00:00Z"}, "1 May 2026 to 1 July 2026"),
    ({"from": None, "to": None}, "the start of the log to the end of the log"),
])
def test_the_window_reads_as_days(window, text):
    assert period_text(window) == text


@pytest.mark.parametrize("light, conclusion, severities, why", [
    ("red", "exceeds", ["critical"], "over its tolerable deviation rate; 1 critical or high finding"),
    ("red", "within_tolerable", ["high", "high", "low"], "2 critical or high findings"),
    ("amber", "within_tolerable", ["medium"], "1 medium or low finding"),
    ("amber", "inconclusive", [], "not yet concluded: a larger sample is needed"),
    ("green", "within_tolerable", [], "within tolerance, no finding"),
])
def test_each_light_says_why(light, conclusion, severities, why):
    point = {"conclusion": conclusion, "sample_size": 10}
    findings = [{"severity": s} for s in severities]
    assert point_light(point, findings) == light and light_reason(light, point, findings) == why


def test_a_findings_history_is_in_the_order_it_was_recorded():
    record = {"sightings": [{"seq": 3, "at": "a3", "cycle_id": "c1", "severity": "high", "summary": "s1"},
                            {"seq": 9, "at": "a9", "cycle_id": "c2", "severity": "high", "summary": "s2"}],
              "dispositions": [{"seq": 5, "at": "a5", "disposition": "remediate", "to": None, "by": "Ann", "signed": False,
                                "superseded": True, "note": "fixed"},
                               {"seq": 11, "at": "a11", "disposition": "escalate", "to": "Board", "by": "Bo", "signed": True,
                                "superseded": False, "note": "again"}]}
    events = history(record)
    assert [e["seq"] for e in events] == [3, 5, 9, 11]
    assert events[1]["what"] == "remediate by Ann (UNSIGNED) (superseded)" and events[3]["what"] == "escalate to Board by Bo"
    assert history(None) == []
