"""UI metadata for the cycle's assets: markdown summaries and tables of ids, counts and rates, never row values."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from assurance_pipeline.evidence.pack_page import PAGE
from assurance_pipeline.findings.lifecycle import FindingRecord
from assurance_pipeline.sampling.cycle_plan import SamplingPlan
from assurance_pipeline.sampling.plans import format_upper_limit


def _table(columns: list[tuple[str, str]], rows: list[list[object]]) -> dg.TableMetadataValue:
    """A table the UI shows inline (not markdown behind a link): `columns` are (name, type) pairs, types as Dagster's
    TableSchema takes them (string, int, float, bool), so numbers sort and read as numbers."""
    names = [name for name, _ in columns]
    schema = dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in columns])
    return dg.MetadataValue.table([dg.TableRecord(dict(zip(names, row, strict=True))) for row in rows], schema=schema)


def _per_point(key: str, values: dict[str, float | int | None]) -> dict:
    """One numeric entry per decision point (`<point>/<key>`), which the UI plots across cycles."""
    return {f"{point}/{key}": float(v) if isinstance(v, float) else v for point, v in values.items() if v is not None}


def standard_metadata(value: dict) -> dict:
    integrity = value["integrity"]
    status = "intact" if integrity["intact"] else "**NOT INTACT**"
    lines = [f"**{value['standard']['name']}** v{value['standard']['version']}: {status}",
             f"authorized by {integrity['authorized_by'] or '-'} at {integrity['authorized_at'] or '-'}"]
    lines += [f"- {p}" for p in integrity["problems"]]
    return {
        "summary": dg.MetadataValue.md("\n\n".join(lines[:2]) + "\n\n" + "\n".join(lines[2:])),
        "standard_sha256": value["standard"]["sha256"],
        "intact": integrity["intact"],
        "window": dg.MetadataValue.json(value["window"]),
    }


def plan_metadata(plan: SamplingPlan) -> dict:
    rows = [[p.decision_point, p.risk_tier, p.confidence, p.tolerable_deviation_rate, p.population,
             p.planned_sample_size, p.sample_size, f"two-stage, stage {p.stage}" if p.two_stage else "single", p.distribution,
             p.intensity + (f": {p.expansion_reason}" if p.expansion_reason else "")] for p in plan.points]
    columns = [("decision_point", "string"), ("tier", "string"), ("confidence", "float"), ("tolerable", "float"),
               ("population", "int"), ("planned", "int"), ("sample", "int"), ("plan", "string"), ("distribution", "string"),
               ("intensity", "string")]
    return {
        "plan": _table(columns, rows),
        **_per_point("population", {p.decision_point: p.population for p in plan.points}),
        **_per_point("sample_size", {p.decision_point: p.sample_size for p in plan.points}),
        "population": sum(p.population for p in plan.points),
        "sample_size": sum(p.sample_size for p in plan.points),
        "seed_sha256": plan.seed_sha256,
        "algorithm": plan.algorithm,
    }


def validation_metadata(value: dict) -> dict:
    rows = []
    for point, v in value.items():
        ev = v["evaluation"]
        rows.append([point, v["sample_size"], ev["deviations"], round(ev["deviation_rate"], 4), format_upper_limit(ev["upper_deviation_limit"]),
                     ev["tolerable_deviation_rate"], ev["conclusion"], len(v["contract_failures"])])
    columns = [("decision_point", "string"), ("sample", "int"), ("deviations", "int"), ("rate", "float"),
               ("upper_limit", "string"), ("tolerable", "float"), ("conclusion", "string"), ("contract_failures", "int")]
    return {
        "conformance": _table(columns, rows),
        "deviations": sum(v["evaluation"]["deviations"] for v in value.values()),
        **_per_point("deviation_rate", {p: v["evaluation"]["deviation_rate"] for p, v in value.items()}),
        **_per_point("upper_deviation_limit", {p: v["evaluation"]["upper_deviation_limit"] for p, v in value.items()}),
    }


def outcome_metadata(value: list) -> dict:
    def interval(o: dict) -> str:
        if o["over"] == "window" or o["interval_low"] is None:
            return "exact"
        return f"{o['interval_low']:.4g} to {o['interval_high']:.4g} ({o['confidence']:.0%}, {o['method']})"

    def conclusion(o: dict) -> str:
        if o["conclusion"] == "inconclusive" and o["deciding_sample_size"]:
            return f"inconclusive: about {o['deciding_sample_size']:,} values would decide"
        return o["conclusion"] if o["conclusion"] == "within" else f"**{o['conclusion']}**"

    rows = [[o["decision_point"], f"{o['outcome_id']}: {o['title']}", o["over"], o["sample_size"],
             None if o["value"] is None else float(f"{o['value']:.4g}"), interval(o),
             o["expect_min"], o["expect_max"], conclusion(o).strip("*")] for o in value]
    columns = [("decision_point", "string"), ("metric", "string"), ("over", "string"), ("decisions", "int"), ("value", "float"),
               ("interval", "string"), ("min", "float"), ("max", "float"), ("conclusion", "string")]
    return {"outcomes": _table(columns, rows)}


def drift_metadata(value: list) -> dict:
    rows = [[t["decision_point"], t["kind"], t["subject"], t.get("shape") or "-", t["test"], round(t["statistic"], 4), float(f"{t['p_value']:.3g}"),
             t["effect_name"], round(t["effect"], 4), t["effect_floor"], _expected_or_scale(t), t["sample_size"]] for t in value]
    columns = [("decision_point", "string"), ("kind", "string"), ("subject", "string"), ("shape", "string"), ("test", "string"),
               ("statistic", "float"), ("p_value", "float"), ("effect", "string"), ("effect_size", "float"), ("floor", "float"),
               ("expected_or_scale", "string"), ("window_n", "int")]
    return {"drift_tests": _table(columns, rows), "tests": len(value)}


def _expected_or_scale(test: dict) -> str:
    """What a decision test expected for the window's inputs, or the go-live scale a number's effect is in."""
    expected = test.get("expected")
    if isinstance(expected, dict):
        return ", ".join(f"{k} {v:.0%}" for k, v in sorted(expected.items(), key=lambda kv: -kv[1])[:3])
    if expected is not None:
        return f"{expected:.1%} disagreeing"
    return f"{test['scale_kind']} {test['scale']:.4g}" if test.get("scale") else "-"


FINDING_STATUS_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("id", "string"), dg.TableColumn("severity", "string"), dg.TableColumn("kind", "string"),
    dg.TableColumn("decision_point", "string"), dg.TableColumn("status", "string", description="where it stands after this cycle"),
    dg.TableColumn("cycles_seen", "int", description="this cycle and every earlier one that saw the same problem"),
    dg.TableColumn("first_seen", "string"), dg.TableColumn("summary", "string"),
])


def findings_metadata(value: list, earlier: dict[str, FindingRecord]) -> dict:
    """This cycle's findings with their status: a new one is open; a recurrence keeps its finding's disposition."""
    overdue = {f["details"]["finding_id"] for f in value if f["kind"] == "overdue_disposition"}
    records = []
    for f in value:
        record = earlier.get(f["id"])
        records.append(dg.TableRecord({
            "id": f["id"], "severity": f["severity"], "kind": f["kind"], "decision_point": f["decision_point"] or "-",
            "status": finding_status(record) + ("; overdue" if f["id"] in overdue else ""),
            "cycles_seen": 1 + (len(record.sightings) if record else 0),
            "first_seen": record.sightings[0].at if record else "this cycle", "summary": f["summary"],
        }))
    return {"findings": dg.MetadataValue.table(records, schema=FINDING_STATUS_SCHEMA), "count": len(value),
            "recurrences": sum(1 for f in value if f.get("recurrence_of"))}


def finding_status(record: FindingRecord | None) -> str:
    """Where a finding this cycle saw stands: new, or its earlier finding's status with this recurrence."""
    if record is None:
        return "open (new)"
    d = record.current
    if d is None or record.status == "reopened":
        return record.status + (f" (recurred after remediate by {d.by})" if d else "")
    if record.status == "remediated":
        return f"reopened (recurred after remediate by {d.by})"
    if record.status == "owed":
        return f"owed (disposed as accept_change by {d.by}; not yet authorized)"
    return f"disposed as {d.disposition}" + (f" to {d.to}" if d.to else "") + f" by {d.by}"


def decision_metadata(result: dict) -> dict:
    deciding = [[f["id"], f["severity"], f["kind"], f.get("decision_point") or "-", f["summary"]] for f in result["findings"]]
    columns = [("id", "string"), ("severity", "string"), ("kind", "string"), ("decision_point", "string"), ("summary", "string")]
    return {
        "decision": result["decision"],
        "reason": result["reason"],
        "findings": len(result["findings"]),
        "decided_by": _table(columns, deciding),
        "ledger_entry": result["ledger"]["entry"],
        "ledger_head": result["ledger"]["head"],
        "evidence_pack": dg.MetadataValue.path(result["evidence_pack"]),
        "evidence_page": dg.MetadataValue.url(pack_page_uri(result["evidence_pack"])),
    }


def pack_page_uri(pack: str) -> str:
    """The pack's index.html as a file:// link the UI opens (the page needs no server)."""
    return (Path(pack).resolve() / PAGE).as_uri()
