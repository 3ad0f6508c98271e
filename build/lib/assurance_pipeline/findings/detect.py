"""Turn a cycle's results into findings, one function per kind; each says in words what moved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from assurance_pipeline.disclosure import MIN_DECISIONS_SHOWN
from assurance_pipeline.findings.lifecycle import AWAITING, FindingRecord
from assurance_pipeline.findings.model import Finding
from assurance_pipeline.sampling.plans import HYPERGEOMETRIC, format_upper_limit
from assurance_pipeline.sampling.population import PopulationProfile
from assurance_pipeline.standard.integrity import IntegrityReport
from assurance_pipeline.standard.models import SEVERITY_ORDER, Standard


def integrity_findings(report: IntegrityReport) -> list[Finding]:
    if report.intact:
        return []
    return [Finding("standard_integrity", "critical", "the standard changed without authorization: " + "; ".join(report.problems), details={"problems": report.problems})]


def contract_findings(standard: Standard, validations: dict[str, dict]) -> list[Finding]:
    findings = []
    for point_id, result in validations.items():
        failures = result["contract_failures"]
        if not failures:
            continue
        tier = standard.decision_points[point_id].risk_tier
        rows = sorted({d for f in failures for d in f["decision_ids"]})
        # A contract column missing from the log (renamed or dropped) is missing from every sampled decision.
        broken = result["sample_size"] if result.get("missing_columns") else len(rows)
        parts = "; ".join(f"{f['column']}: {f['check']}" + (f" ({len(f['decision_ids'])})" if f["decision_ids"] else "") for f in failures)
        findings.append(Finding(
            "contract", "medium" if tier == "routine" else "high",
            f"{point_id}: {broken} of {result['sample_size']} sampled decisions break the data contract ({parts})",
            point_id, statistic=broken / result["sample_size"] if result["sample_size"] else None, threshold=0.0,
            details={"failures": failures},
        ))
    return findings


def decision_id_findings(standard: Standard, population: PopulationProfile, points: list[str]) -> list[Finding]:
    """Rows without a decision_id or sharing one with another row break the log's contract; they are outside the
    sampling frame, so the finding says how many (and names up to ten duplicated ids, never a row's values)."""
    findings = []
    for point_id in points:
        problems = population.problems(point_id)
        if problems is None:
            continue
        parts = []
        if problems.duplicated_ids:
            shown = ", ".join(problems.examples) + (" …" if problems.duplicated_ids > len(problems.examples) else "")
            parts.append(f"{problems.duplicated_ids} decision ids are logged more than once ({problems.duplicated_rows} rows: {shown})")
        if problems.null_ids:
            parts.append(f"{problems.null_ids} rows have no decision_id")
        rows = population.count(point_id)
        excluded = problems.duplicated_rows + problems.null_ids
        findings.append(Finding(
            "contract", "medium" if standard.decision_points[point_id].risk_tier == "routine" else "high",
            f"{point_id}: " + " and ".join(parts) + f" in the window; these {excluded} of {rows} rows are not sampled",
            point_id, statistic=excluded / rows if rows else None, threshold=0.0,
            details={"null_ids": problems.null_ids, "duplicated_ids": problems.duplicated_ids,
                     "duplicated_rows": problems.duplicated_rows, "example_ids": problems.examples, "rows": rows},
        ))
    return findings


def conformance_findings(standard: Standard, validations: dict[str, dict]) -> list[Finding]:
    """Every deviation is surfaced; severity follows the attribute-sampling conclusion."""
    findings = []
    for point_id, result in validations.items():
        ev = result["evaluation"]
        if ev["deviations"] == 0:
            continue
        point = standard.decision_points[point_id]
        deviated = [c for c in point.conditions if result["condition_counts"][c.id]["fail"] + result["condition_counts"][c.id]["untestable"]]
        worst = max((c.severity for c in deviated), key=SEVERITY_ORDER.__getitem__)
        severity = {"exceeds": worst, "inconclusive": "medium", "extend": "medium", "within_tolerable": "low"}[ev["conclusion"]]
        counts = ", ".join(_condition_count(c.id, result["condition_counts"][c.id]) for c in deviated)
        verdict = {"exceeds": "exceeds", "inconclusive": "is above", "extend": "is above", "within_tolerable": "is within"}[ev["conclusion"]]
        follow = "; the two-stage plan extends: a second-stage sample follows" if ev["conclusion"] == "extend" else ""
        findings.append(Finding(
            "conformance", severity,
            f"{point_id}: {ev['deviations']} of {ev['sample_size']} sampled decisions deviate ({counts}); "
            f"upper deviation limit {format_upper_limit(ev['upper_deviation_limit'])} {verdict} tolerable {ev['tolerable_deviation_rate']:.1%} "
            f"at {ev['confidence']:.0%} confidence{_finite_population(ev)}{follow}",
            point_id, statistic=ev["upper_deviation_limit"], threshold=ev["tolerable_deviation_rate"],
            details={"evaluation": ev, "deviating_decisions": result["deviating_decisions"], "conditions": [c.id for c in deviated]},
        ))
    return findings


def _finite_population(ev: dict) -> str:
    """How a small population was accounted for; nothing for the binomial, the large-population rule."""
    if ev["distribution"] != HYPERGEOMETRIC:
        return ""
    if ev["sample_size"] == ev["population"]:
        return f" (all {ev['population']} decisions tested: the rate is exact)"
    return f" (hypergeometric: {ev['sample_size']} of a population of {ev['population']})"


def _condition_count(condition_id: str, counts: dict[str, int]) -> str:
    text = f"{condition_id} failed {counts['fail']}"
    return text + (f", untestable {counts['untestable']}" if counts["untestable"] else "")


def outcome_findings(standard: Standard, outcomes: list[dict]) -> list[Finding]:
    """A metric beyond its expectation (over the window, or the whole interval over the sample), or not computable."""
    findings = []
    for oe in outcomes:
        if oe["conclusion"] not in ("exceeds", "not_computed"):
            continue
        tier = standard.decision_points[oe["decision_point"]].risk_tier
        value = oe["value"]
        above = oe["expect_max"] is not None and (value is None or value > oe["expect_max"])
        bound = oe["expect_max"] if above else oe["expect_min"]
        expect = " and ".join(f"{k} {v:g}" for k, v in (("min", oe["expect_min"]), ("max", oe["expect_max"])) if v is not None)
        beyond = None if value is None or bound is None else abs(value - bound)
        findings.append(Finding(
            "outcome", "medium" if tier == "routine" else "high",
            f"{oe['decision_point']}: {oe['outcome_id']} ({oe['title']}) {_outcome_value(oe, beyond)}, expected {expect}",
            oe["decision_point"], statistic=value, threshold=bound,
            details={"outcome": oe, "effect_name": "beyond_bound", "effect": beyond, "sample_size": oe["sample_size"]},
        ))
    return findings


def _outcome_value(oe: dict, beyond: float | None) -> str:
    if oe.get("withheld"):
        return (f"is beyond the bound over {oe['sample_size']} decisions (its value is withheld: fewer than "
                f"{MIN_DECISIONS_SHOWN} decisions have one, and it would be theirs)")
    if beyond is None:
        return f"could not be computed over {oe['sample_size']} decisions"
    if oe["over"] == "window":
        return f"is {oe['value']:.4g}, {beyond:.4g} beyond the bound, over all {oe['sample_size']} decisions in the window"
    return (f"is {oe['value']:.4g} over {oe['values']} sampled decisions, its {oe['confidence']:.0%} interval "
            f"{oe['interval_low']:.4g} to {oe['interval_high']:.4g} wholly beyond the bound")


def ungoverned_change_findings(standard: Standard, population: PopulationProfile, points: list[str]) -> list[Finding]:
    """Decisions executed by an actor, actor type or version the standard does not register (at the cycle's points)."""
    unregistered: dict[tuple, int] = {}
    for g in population.groups:
        if g.decision_point not in points:  # the cycle's points, all of them decision points of the standard
            continue
        actor = standard.header.actor(g.actor_id or "")
        reason = _unregistered_reason(actor, g.actor_type, g.actor_version)
        if reason:
            key = (g.decision_point, g.actor_id, g.actor_version, reason)
            unregistered[key] = unregistered.get(key, 0) + g.decisions
    findings = []
    for (point_id, actor_id, version, reason), count in sorted(unregistered.items(), key=lambda kv: tuple(map(str, kv[0]))):
        total = population.count(point_id)
        findings.append(Finding(
            "ungoverned_change", "high",
            f"{point_id}: {actor_id} {reason} executed {count} of {total} decisions in the window",
            point_id, statistic=count / total, threshold=0.0,
            details={"actor_id": actor_id, "actor_version": version, "decisions": count, "reason": reason},
        ))
    return findings


def _unregistered_reason(actor, actor_type: str | None, version: str | None) -> str | None:
    if actor is None:
        return "(not a registered actor)"
    if actor.type != actor_type:
        return f"(registered as {actor.type}, logged as {actor_type})"
    if actor.versions is not None and version not in actor.versions:
        return f"version {version} (not a registered version: {', '.join(actor.versions)})"
    return None


def unknown_point_findings(standard: Standard, population: PopulationProfile) -> list[Finding]:
    unknown = {p: n for p, n in population.points().items() if p not in standard.decision_points}
    return [
        Finding("unknown_decision_point", "medium", f"{n} decisions in the window are at decision point '{p}', which the standard does not govern",
                p, statistic=float(n), threshold=0.0, details={"decisions": n})
        for p, n in sorted(unknown.items(), key=lambda kv: str(kv[0]))
    ]


def overdue_findings(records: dict[str, FindingRecord], standard: Standard, points: list[str], now: datetime | None = None) -> list[Finding]:
    """One overdue finding per finding at the cycle's points (or at none, or at a point the standard does not govern)
    that has awaited a disposition longer than its tier's grace; it carries that finding's severity, so a critical
    finding left undisposed keeps the cycle NOT_ASSURED however it was found."""
    now = now or datetime.now(UTC)
    findings = []
    for record in records.values():
        if record.status not in AWAITING or record.kind == "overdue_disposition" or not _in_cycle(record, standard, points):
            continue
        grace = disposition_grace(standard, record.decision_point)
        waited = now - _instant(record.awaiting_since)
        if waited < timedelta(days=grace):
            continue
        severity = record.latest.severity
        findings.append(Finding(
            "overdue_disposition", severity,
            f"{record.id} ({severity} {record.kind}{f' at {record.decision_point}' if record.decision_point else ''}) has awaited "
            f"a disposition for {waited.days} days, over the {grace}-day grace for its tier",
            record.decision_point, statistic=float(waited.days), threshold=float(grace),
            details={"finding_id": record.id, "awaiting_since": record.awaiting_since, "grace_days": grace},
        ))
    return findings


def disposition_grace(standard: Standard, point_id: str | None) -> int:
    """The grace of the point's tier; the critical grace for a finding without a governed point (the standard itself,
    an ungoverned decision point)."""
    point = standard.decision_points.get(point_id or "")
    return getattr(standard.header.disposition_grace_days, point.risk_tier if point else "critical")


def _in_cycle(record: FindingRecord, standard: Standard, points: list[str]) -> bool:
    return record.decision_point is None or record.decision_point in points or record.decision_point not in standard.decision_points


def _instant(at: str) -> datetime:
    return datetime.fromisoformat(at.replace("Z", "+00:00"))
