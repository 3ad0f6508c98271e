"""UI metadata for the cycle's assets: markdown summaries and tables of ids, counts and rates, never row values."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from assurance_pipeline.evidence.pack_page import PAGE
from assurance_pipeline.findings.lifecycle import FindingRecord
from assurance_pipeline.sampling.cycle_plan import SamplingPlan
from assurance_pipeline.sampling.plans import format_upper_limit, rounded_up


def _table(columns: list[tuple[str, str]], rows: list[list[object]], descriptions: dict[str, str] | None = None) -> dg.TableMetadataValue:
    """A table the UI shows inline (not markdown behind a link): `columns` are (name, type) pairs, types as Dagster's
    TableSchema takes them (string, int, float, bool), so numbers sort and read as numbers. The UI never wraps a
    header or a word, so every table here keeps to short headers and words: it fits the asset page's metadata
    column at 1600 px (the longest words are the decision point ids; long text goes into a table of its own)."""
    names = [name for name, _ in columns]
    schema = dg.TableSchema(columns=[dg.TableColumn(name, kind, description=(descriptions or {}).get(name)) for name, kind in columns])
    return dg.MetadataValue.table([dg.TableRecord(dict(zip(names, row, strict=True))) for row in rows], schema=schema)


def _words(identifier: str) -> str:
    """A method's or measure's name as words (`chi_square_permutation` -> `chi square permutation`), so it wraps."""
    return identifier.replace("_", " ")


def _percent(rate: float) -> str:
    return f"{rate:.1%}".replace(".0%", "%")


def per_point_key(point: str, key: str) -> str:
    """The metadata key of one point's number, which the UI plots across cycles. The space lets the UI wrap the key,
    so the key column stays as narrow as a decision point id and the tables beside it keep their width."""
    return f"{point} / {key}"


def _per_point(key: str, values: dict[str, float | int | None], rounding=None) -> dict:
    """One numeric entry per decision point, which the UI plots across cycles (`rounding` for the rates shown)."""
    return {per_point_key(point, key): (rounding or float)(v) if isinstance(v, float) else v for point, v in values.items() if v is not None}


def _rate(value: float) -> float:
    return round(value, 4)


def _rate_up(value: float) -> float:
    """An upper limit rounded UP to 0.01%, like every upper limit shown (`plans.rounded_up`)."""
    return rounded_up(value, 4)


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
    """The sizes in one table, how each was planned in another (its words would widen the first)."""
    sizes = [[p.decision_point, p.risk_tier, p.population, p.planned_sample_size, p.sample_size] for p in plan.points]
    basis = [[p.decision_point,
              f"{'two-stage, stage ' + str(p.stage) if p.two_stage else 'single'}, {p.distribution}, "
              f"{p.confidence:.0%} confidence, tolerable {_percent(p.tolerable_deviation_rate)}",
              p.intensity + (f": {p.expansion_reason}" if p.expansion_reason else "")] for p in plan.points]
    return {
        "plan": _table([("decision_point", "string"), ("tier", "string"), ("population", "int"), ("planned", "int"), ("sample", "int")],
                       sizes, {"planned": "the tier's sample size for this population", "sample": "drawn this cycle"}),
        "plan_basis": _table([("decision_point", "string"), ("plan", "string"), ("intensity", "string")], basis),
        **_per_point("population", {p.decision_point: p.population for p in plan.points}),
        **_per_point("sample_size", {p.decision_point: p.sample_size for p in plan.points}),
        "population": sum(p.population for p in plan.points),
        "sample_size": sum(p.sample_size for p in plan.points),
        # The seed's hash as a short id (the first 16 hex digits), whole in the ledger's sampling_plan entry: all 64
        # digits are one word the UI cannot wrap, which would push the plan's tables past the page.
        "seed_sha256": plan.seed_sha256[:16] + "…",
        "algorithm": plan.algorithm,
    }


def validation_metadata(value: dict) -> dict:
    rows = []
    for point, v in value.items():
        ev, broken = v["evaluation"], len(v["contract_failures"])
        rows.append([point, f"{ev['deviations']} of {v['sample_size']}",
                     f"{format_upper_limit(ev['upper_deviation_limit'])} (tolerable {_percent(ev['tolerable_deviation_rate'])})",
                     _words(ev["conclusion"]) + (f"; {broken} break the contract" if broken else "")])
    columns = [("decision_point", "string"), ("deviations", "string"), ("upper_limit", "string"), ("conclusion", "string")]
    return {
        "conformance": _table(columns, rows, {"deviations": "deviating decisions of the sample",
                                              "upper_limit": "upper deviation limit (rounded up) against the tolerable rate"}),
        "deviations": sum(v["evaluation"]["deviations"] for v in value.values()),
        **_per_point("deviation_rate", {p: v["evaluation"]["deviation_rate"] for p, v in value.items()}, _rate),
        **_per_point("upper_limit", {p: v["evaluation"]["upper_deviation_limit"] for p, v in value.items()}, _rate_up),
    }


def outcome_metadata(value: list) -> dict:
    def measured(o: dict) -> str:
        if o["value"] is None:
            return "-"
        shown = f"{o['value']:.4g}"
        if o["over"] == "window" or o["interval_low"] is None:
            return f"{shown} over all {o['sample_size']:,} decisions"
        return (f"{shown} ({o['interval_low']:.4g} to {o['interval_high']:.4g} at {o['confidence']:.0%}, {o['method']}) "
                f"over {o['sample_size']:,} sampled")

    def expected(o: dict) -> str:
        low, high = o["expect_min"], o["expect_max"]
        if low is not None and high is not None:
            return f"{low:g} to {high:g}"
        return f"at least {low:g}" if low is not None else (f"at most {high:g}" if high is not None else "-")

    def conclusion(o: dict) -> str:
        if o["conclusion"] == "inconclusive" and o["deciding_sample_size"]:
            return f"inconclusive: about {o['deciding_sample_size']:,} values would decide"
        return _words(o["conclusion"])

    rows = [[o["decision_point"], f"{o['outcome_id']}: {o['title']}", measured(o), expected(o), conclusion(o)] for o in value]
    columns = [("decision_point", "string"), ("metric", "string"), ("value", "string"), ("expected", "string"), ("conclusion", "string")]
    return {"outcomes": _table(columns, rows)}


DRIFT_KINDS = {"data_drift": "input", "decision_drift": "decision", "override": "overrides"}


def _tested(test: dict) -> str:
    """What a drift test tested, in words that wrap: `vendor_onboarding input bank_details_verified`."""
    kind = DRIFT_KINDS.get(test["kind"], _words(test["kind"]))
    return f"{test['decision_point']} {kind}" + ("" if test["subject"] == "overridden" else f" {test['subject']}")


def drift_metadata(value: list) -> dict:
    """Each test's effect against its floor and its p-value; how it was tested in a second table."""
    results = [[_tested(t), _words(t["effect_name"]), round(t["effect"], 4), t["effect_floor"], float(f"{t['p_value']:.2g}")] for t in value]
    methods = [[_tested(t), ", ".join([_words(t["test"]), *([t["shape"]] if t.get("shape") else []), f"n = {t['sample_size']:,}"]),
                float(f"{t['statistic']:.4g}"), _expected_or_scale(t)] for t in value]
    return {
        "drift_tests": _table([("tested", "string"), ("measure", "string"), ("effect", "float"), ("floor", "float"), ("p_value", "float")],
                              results, {"floor": "the smallest effect that counts as drift", "tested": "decision point, what, field"}),
        "drift_methods": _table([("tested", "string"), ("test", "string"), ("statistic", "float"), ("expected", "string")],
                                methods, {"test": "the test, the field's shape and n, the decisions of the window tested",
                                          "expected": "what the go-live rules expect for the window's inputs, or the go-live scale "
                                          "a number's effect is measured in"}),
        "tests": len(value),
    }


def _expected_or_scale(test: dict) -> str:
    """What a decision test expected for the window's inputs, or the go-live scale a number's effect is in."""
    expected = test.get("expected")
    if isinstance(expected, dict):
        return ", ".join(f"{k} {v:.0%}" for k, v in sorted(expected.items(), key=lambda kv: -kv[1])[:3])
    if expected is not None:
        return f"{expected:.1%} disagreeing"
    return f"{_words(test['scale_kind'])} {test['scale']:.4g}" if test.get("scale") else "-"


FINDING_STATUS_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("id", "string"), dg.TableColumn("severity", "string"),
    dg.TableColumn("status", "string", description="where it stands after this cycle"),
    dg.TableColumn("seen", "string", description="how many cycles saw the same problem (this one and every earlier one), "
                   "since the day (UTC) the first did"),
])
FINDING_SUMMARY_SCHEMA = dg.TableSchema(columns=[dg.TableColumn("id", "string"), dg.TableColumn("kind", "string"),
                                                  dg.TableColumn("summary", "string")])


def findings_metadata(value: list, earlier: dict[str, FindingRecord]) -> dict:
    """This cycle's findings with their status: a new one is open; a recurrence keeps its finding's disposition.
    What each finding is (its kind and summary, which names its decision point) is a table of its own: in one
    table they would widen the status past the page."""
    overdue = {f["details"]["finding_id"] for f in value if f["kind"] == "overdue_disposition"}
    records = []
    for f in value:
        record = earlier.get(f["id"])
        records.append(dg.TableRecord({
            "id": f["id"], "severity": f["severity"],
            "status": finding_status(record) + ("; overdue" if f["id"] in overdue else ""),
            "seen": f"{1 + len(record.sightings)} cycles since {record.sightings[0].at[:10]}" if record else "this cycle",
        }))
    return {"findings": dg.MetadataValue.table(records, schema=FINDING_STATUS_SCHEMA),
            "summaries": _summaries(value), "count": len(value),
            "recurrences": sum(1 for f in value if f.get("recurrence_of"))}


def _summaries(findings: list[dict]) -> dg.TableMetadataValue:
    return dg.MetadataValue.table([dg.TableRecord({"id": f["id"], "kind": _words(f["kind"]), "summary": f["summary"]}) for f in findings],
                                  schema=FINDING_SUMMARY_SCHEMA)


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
    """The findings that decided, each summary naming its decision point."""
    deciding = [[f["id"], f["severity"], _words(f["kind"]), f["summary"]] for f in result["findings"]]
    columns = [("id", "string"), ("severity", "string"), ("kind", "string"), ("summary", "string")]
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
