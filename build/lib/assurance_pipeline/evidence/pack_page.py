"""The evidence pack's `index.html`: one self-contained page (inline CSS and SVG, no script, no network) that reads
top-down for a board member (the decision, a light per decision point, what changed, who owns what is open), then an
auditor (the standard, the sample and how to re-draw it, every test against its bound, findings' histories, what
seals the pack), then the go-live decision rules and the framework mapping.

It is rendered from what the pack already holds (the result, plan, drift tests, findings) and the ledger as it is
before the pack's own entry: no sampled row value beyond the `evidence_fields` of failing decisions, which the page
does not show either. Every text from the standard or a finding is escaped by the template engine.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jinja2

from assurance_pipeline.drift.rules import column_types, simplified_rules
from assurance_pipeline.evidence import charts
from assurance_pipeline.evidence.dispositions import list_findings, status_text, when
from assurance_pipeline.evidence.frameworks import SECTIONS, framework_mapping
from assurance_pipeline.evidence.ledger import Ledger, LedgerEntry
from assurance_pipeline.findings.lifecycle import OPEN
from assurance_pipeline.sampling.plans import format_upper_limit

PAGE = "index.html"
HTML = jinja2.Environment(loader=jinja2.PackageLoader("assurance_pipeline.evidence", "templates"), autoescape=True,
                          undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
HTML.filters.update(upper_limit=format_upper_limit, when=when, period=lambda w: period_text(w), pct=lambda v: "-" if v is None else f"{100 * v:.1f}%")
HTML.globals.update(SECTIONS=SECTIONS, COLOURS=charts.DECISION_COLOURS)

SENTENCES = {
    "ASSURED": "The decisions tested conform to the authorized standard: every decision point is within its tolerable "
               "deviation rate and nothing needs a disposition.",
    "ASSURED_WITH_EXCEPTIONS": "The decisions tested conform to the authorized standard, with exceptions of medium or low "
                               "severity that their owners must dispose of.",
    "INCONCLUSIVE": "This cycle could not conclude: more decisions must be tested before it can be said whether they "
                    "conform.",
    "NOT_ASSURED": "The decisions tested do NOT conform to the authorized standard: at least one critical or high finding "
                   "(or a standard changed without authorization) needs action.",
}


def standard_about(standard) -> dict:
    """Who owns the standard and each decision point, and each point's title, as the page names them."""
    return {"owner": standard.header.owner,
            "points": {p.id: {"title": p.title, "owner": p.owner} for p in standard.decision_points.values()}}


def render_pack_page(evidence_dir: Path, result: dict, reason: str, plan: dict | None, recorded_at: str, drift: list[dict],
                     baseline: dict | None, about: dict | None, file_hashes: dict[str, str]) -> str:
    """The page for this cycle; `file_hashes` are the pack's other files' sha256 (the page's own is in the ledger)."""
    ledger = Ledger(evidence_dir)
    entries = list(ledger.entries())
    about = about or {"owner": None, "points": {}}
    earlier = [e for e in entries if e.kind == "cycle_decision"]
    records = {r["id"]: r for r in list_findings(ledger)}
    points = [_point(p, result, about) for p in result["decision_points"]]
    return HTML.get_template("index.html.j2").render(
        result=result, reason=reason, plan=plan or {}, recorded_at=recorded_at, sentence=SENTENCES.get(result["decision"], ""),
        points=points, deviation=charts.deviation_chart(result["decision_points"]) if points else None,
        changes=changes_since(earlier[-1] if earlier else None, result),
        open_findings=open_findings(result, records, about), findings=_findings(result, records, about),
        drift=[{**t, "bar": charts.effect_bar(t["effect"], t["effect_floor"])} for t in drift],
        trend=outcome_trend(earlier, result), cycles=_cycles(earlier, result),
        authorization=authorization_of(entries, result["standard"]["sha256"]), rules=decision_rules(baseline),
        frameworks=framework_mapping().frameworks, file_hashes=file_hashes,
    )


def _point(p: dict, result: dict, about: dict) -> dict:
    info = about["points"].get(p["id"], {})
    found = [f for f in result["findings"] if f["decision_point"] == p["id"]]
    light = point_light(p, found)
    return {**p, "title": info.get("title", ""), "owner": info.get("owner") or about.get("owner") or "-", "light": light,
            "why": light_reason(light, p, found)}


def point_light(point: dict, findings: list[dict]) -> str:
    """Red: over its tolerable rate or a critical/high finding; amber: any other finding or not concluded; grey: nothing
    was tested; green otherwise (the decision rules, per point)."""
    if point["conclusion"] == "exceeds" or any(f["severity"] in ("critical", "high") for f in findings):
        return "red"
    if point["sample_size"] == 0 and not findings:
        return "grey"
    if findings or point["conclusion"] in ("inconclusive", "extend", "not_tested"):
        return "amber"
    return "green"


def light_reason(light: str, point: dict, findings: list[dict]) -> str:
    """Why the point has its light, in the words of the rule that set it."""
    blocking = sum(f["severity"] in ("critical", "high") for f in findings)
    if light == "red":
        over = "over its tolerable deviation rate" if point["conclusion"] == "exceeds" else ""
        return "; ".join(x for x in (over, f"{blocking} critical or high finding{'s' if blocking != 1 else ''}" if blocking else "") if x)
    if light == "amber":
        return f"{len(findings)} medium or low finding{'s' if len(findings) != 1 else ''}" if findings else "not yet concluded: a larger sample is needed"
    return "within tolerance, no finding" if light == "green" else "no decision in the window to test"


def period_text(window: dict) -> str:
    """The window as a person reads it: `1 May 2026 to 30 June 2026` (an exclusive midnight end is the day before)."""
    def parse(text: str | None) -> dt.datetime | None:
        try:
            return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
        except ValueError:
            return None

    start, end = parse(window.get("from")), parse(window.get("to"))
    if end is not None and (end.hour, end.minute, end.second, end.microsecond) == (0, 0, 0, 0):
        end -= dt.timedelta(days=1)
    day = lambda d: f"{d.day} {d:%B %Y}"  # noqa: E731
    return f"{day(start) if start else 'the start of the log'} to {day(end) if end else 'the end of the log'}"


def changes_since(previous: LedgerEntry | None, result: dict) -> dict | None:
    """New, recurring and resolved findings and the decision's change against the last recorded cycle."""
    if previous is None:
        return None
    before = {str(f["id"]): f for f in previous.body.get("findings") or []}
    now = {f["id"]: f for f in result["findings"]}
    covered = {p["id"] for p in result["decision_points"]}
    gone = [f for fid, f in before.items() if fid not in now]
    return {"cycle_id": previous.body.get("cycle_id"), "at": previous.at, "decision": previous.body.get("decision"),
            "window": previous.body.get("window") or {},
            "new": [f for fid, f in now.items() if fid not in before], "recurring": [f for fid, f in now.items() if fid in before],
            "resolved": [f for f in gone if not f.get("decision_point") or f.get("decision_point") in covered],
            "not_looked_at": [f for f in gone if f.get("decision_point") and f.get("decision_point") not in covered]}


def _owner(finding: dict, about: dict) -> str:
    point = about["points"].get(finding.get("decision_point") or "", {})
    return point.get("owner") or about.get("owner") or "-"


def open_findings(result: dict, records: dict[str, dict], about: dict) -> list[dict]:
    """This cycle's findings, then those earlier cycles opened that still await a disposition, are escalated or owed."""
    rows = [{**f, "owner": _owner(f, about), "status": seen_status(records.get(f["id"])), "this_cycle": True} for f in result["findings"]]
    seen = {f["id"] for f in result["findings"]}
    rows += [{**r, "owner": _owner(r, about), "status": status_text(r), "this_cycle": False}
             for r in records.values() if r["id"] not in seen and r["status"] in OPEN]
    return rows


def seen_status(record: dict | None) -> str:
    """Where a finding this cycle saw stands once the cycle is recorded: new, reopened (a remediated problem seen
    again), or as its disposition left it."""
    if record is None:
        return "OPEN (new): awaiting a disposition"
    if record["status"] == "remediated":
        d = record["disposition"]
        return f"REOPENED: seen again by this cycle after it was remediated by {d['by']} on {when(d['at'])}"
    return status_text(record)


def _findings(result: dict, records: dict[str, dict], about: dict) -> list[dict]:
    """Each finding of this cycle with every earlier sighting and disposition on record."""
    return [{**f, "owner": _owner(f, about), "status": seen_status(records.get(f["id"])),
             "history": history(records.get(f["id"]))} for f in result["findings"]]


def history(record: dict | None) -> list[dict]:
    """Each earlier cycle that saw the finding and each disposition, in the order they were recorded."""
    if record is None:
        return []
    seen = [{"seq": s["seq"], "at": s["at"], "cycle_id": s["cycle_id"], "what": "seen", "detail": f"[{s['severity']}] {s['summary']}"}
            for s in record["sightings"]]
    disposed = [{"seq": d["seq"], "at": d["at"], "what": d["disposition"] + (f" to {d['to']}" if d["to"] else "")
                 + f" by {d['by']}" + ("" if d["signed"] else " (UNSIGNED)") + (" (superseded)" if d["superseded"] else ""),
                 "detail": d["note"]} for d in record["dispositions"]]
    return sorted(seen + disposed, key=lambda event: event["seq"])


def authorization_of(entries: list[LedgerEntry], sha256: str) -> dict | None:
    """The ledger's authorization of this very standard (by, when, signed or not), the latest if several."""
    found = [e for e in entries if e.kind == "authorization" and e.body.get("sha256") == sha256]
    if not found:
        return None
    entry = found[-1]
    return {"by": entry.body.get("authorized_by"), "at": entry.at, "seq": entry.seq, "note": entry.body.get("note") or "",
            "signed_by": entry.signature.by if entry.signature else None}


def _label(body: dict, at: str) -> str:
    window = body.get("window") or {}
    return str(window.get("to") or at)[:10]


def _cycles(earlier: list[LedgerEntry], result: dict) -> dict:
    rows = [{"cycle_id": e.body.get("cycle_id"), "decision": e.body.get("decision"), "label": _label(e.body, e.at)} for e in earlier]
    rows.append({"cycle_id": result["cycle_id"], "decision": result["decision"], "label": _label(result, "this cycle")})
    rows = rows[-12:]
    return {"rows": rows, "chart": charts.decision_strip(rows)}


def outcome_trend(earlier: list[LedgerEntry], result: dict, last: int = 12) -> list[dict]:
    """Each outcome metric this cycle measured, over the last cycles that measured its point (oldest first)."""
    series = []
    history = [(e.body, e.at) for e in earlier] + [(result, "this cycle")]
    for o in result.get("outcomes") or []:
        values, labels = [], []
        for body, at in history:
            match = next((x for x in body.get("outcomes") or [] if x.get("decision_point") == o["decision_point"]
                          and x.get("outcome_id") == o["outcome_id"]), None)
            if match is not None:
                values.append(None if match.get("withheld") else match.get("value"))
                labels.append(_label(body, at))
        values, labels = values[-last:], labels[-last:]
        series.append({**o, "chart": charts.trend_chart(values, labels, o.get("expect_min"), o.get("expect_max"))})
    return series


def decision_rules(baseline: dict | None) -> list[dict]:
    """Each point's go-live decision model as simplified rules."""
    out = []
    for point, data in sorted(((baseline or {}).get("points") or {}).items()):
        model = data.get("decision_model")
        if model:
            out.append({"point": point, "field": model["decision_field"], "rules": simplified_rules(model, column_types(data)),
                        "trained_on": model["trained_on"], "held_out": model["held_out"],
                        "disagreement": model["baseline_disagreement"]})
    return out
