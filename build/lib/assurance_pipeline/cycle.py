"""The governed cycle's two conclusions, as plain functions the Dagster shell calls."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from assurance_pipeline.drift.cost import cost_findings
from assurance_pipeline.drift.detectors import drift_findings
from assurance_pipeline.drift.rules import column_types, rules_text
from assurance_pipeline.drift.trend import outcome_trend_findings
from assurance_pipeline.evidence.cycle_record import record_cycle
from assurance_pipeline.evidence.cycle_result import cycle_result, point_rows
from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.findings import detect
from assurance_pipeline.findings.decision import decide
from assurance_pipeline.findings.lifecycle import carry_forward, read_findings
from assurance_pipeline.findings.model import Finding, number_findings
from assurance_pipeline.sampling.population import PopulationProfile
from assurance_pipeline.standard.integrity import IntegrityReport
from assurance_pipeline.standard.models import Standard


def gather_findings(
    cycle_id: str, standard: Standard, integrity: IntegrityReport, population: PopulationProfile,
    validations: dict[str, dict], outcomes: list[dict], baseline: dict | None, ledger: Ledger,
    points: list[str], drift_tests: list[dict] | None = None, now: datetime | None = None,
) -> list[Finding]:
    """Every finding kind this cycle can raise, in a stable order; a problem still open keeps its finding (a
    recurrence), a new one is numbered for disposition."""
    records = read_findings(ledger)
    findings = [
        *detect.integrity_findings(integrity),
        *detect.conformance_findings(standard, validations),
        *detect.contract_findings(standard, validations),
        *detect.decision_id_findings(standard, population, points),
        *detect.outcome_findings(standard, outcomes),
        *detect.ungoverned_change_findings(standard, population, points),
        *cost_findings(standard, population, baseline, points),
        *drift_findings(drift_tests or []),
        *outcome_trend_findings(ledger, outcomes, baseline),
        *detect.unknown_point_findings(standard, population),
        *detect.overdue_findings(records, standard, points, now),
    ]
    return number_findings(cycle_id, carry_forward(records, findings))


def conclude(evidence_dir: Path, cycle_id: str, window: dict, standard_info: dict, plan: dict,
             population: dict, selected: dict, validations: dict, outcomes: list[dict], findings: list[Finding],
             drift_tests: list[dict] | None = None, baseline: dict | None = None, about: dict | None = None) -> dict:
    """Decide by the written rules, write the evidence pack, append the decision to the ledger."""
    points = point_rows(plan, validations)
    decision, reason = decide(standard_info["intact"], findings, points, outcomes)
    result = cycle_result(cycle_id, window, standard_info, decision, points, findings, outcomes)
    pack = {
        "sampling.json": {"plan": plan, "population": population, "selected": selected},
        "validation.json": validations,
        "outcomes.json": outcomes,
        "findings.json": [f.to_dict() for f in findings],
        "drift.json": drift_tests or [],
        "decision_rules.md": decision_rules(baseline),
    }
    return record_cycle(evidence_dir, result, reason, pack, plan, baseline, about)


def decision_rules(baseline: dict | None) -> str:
    """The go-live decision scenarios each point's decisions are held to, as the baseline model's rules."""
    lines = ["# Go-live decision rules (baseline decision models)", ""]
    for point, data in sorted(((baseline or {}).get("points") or {}).items()):
        model = data.get("decision_model")
        if model:
            lines += [f"## {point}: {model['decision_field']}", "",
                      f"Learned from {model['trained_on']} go-live decisions; {model['baseline_disagreement']:.1%} of "
                      f"{model['held_out']} held-out go-live decisions disagree with these rules.", "", "```",
                      rules_text(model, column_types(data)), "```", ""]
    return "\n".join(lines if len(lines) > 2 else [*lines, "No decision point declares a decision_field, so none has a model."]) + "\n"


def conclude_unauthorized(evidence_dir: Path, cycle_id: str, window: dict, standard_info: dict, integrity: IntegrityReport,
                          about: dict | None = None) -> dict:
    """A standard that changed without authorization ends the cycle NOT_ASSURED before anything is sampled."""
    found = carry_forward(read_findings(Ledger(evidence_dir)), detect.integrity_findings(integrity))
    findings = number_findings(cycle_id, found)
    decision, reason = decide(integrity.intact, findings, [])
    result = cycle_result(cycle_id, window, standard_info, decision, [], findings)
    pack = {"standard.json": integrity.to_dict(), "findings.json": [f.to_dict() for f in findings]}
    return record_cycle(evidence_dir, result, reason, pack, None, about=about)
