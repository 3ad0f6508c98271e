"""Asset checks: the cycle's gates (blocking) and its warnings."""

import warnings

import dagster as dg

from assurance_pipeline import cycle
from assurance_pipeline.defs.cycle.assets import (
    assurance_decision,
    checked_standard,
    confirmed_standard,
    decision_sample,
    validation_results,
)
from assurance_pipeline.defs.cycle.partitions import CYCLE_WINDOWS

# Partitioned asset checks are a Dagster preview (1.13); the cycle's checks need them to be per window. The warning is
# for us, not for a person running a cycle.
warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=dg.PreviewWarning)
from assurance_pipeline.defs.resources import EvidenceStoreResource
from assurance_pipeline.evidence.pack_page import standard_about
from assurance_pipeline.evidence.verification import verify_store
from assurance_pipeline.standard.integrity import IntegrityReport

STANDARD_IS_AUTHORIZED = "standard_is_authorized"
SAMPLE_SIZE_REACHED = "sample_size_reached"
DATA_CONTRACT_HOLDS = "data_contract_holds"
LEDGER_IS_INTACT = "ledger_is_intact"


@dg.asset_check(partitions_def=CYCLE_WINDOWS, asset=confirmed_standard, name=STANDARD_IS_AUTHORIZED, blocking=True)
def standard_is_authorized(confirmed_standard: dict, evidence: EvidenceStoreResource) -> dg.AssetCheckResult:
    """Gate: nothing is sampled against a standard that changed without authorization; the cycle is recorded NOT_ASSURED."""
    report = IntegrityReport(**confirmed_standard["integrity"])
    if report.intact:
        return dg.AssetCheckResult(passed=True, metadata={"standard_sha256": report.sha256, "authorized_by": report.authorized_by})
    result = cycle.conclude_unauthorized(
        evidence.path, confirmed_standard["cycle_id"], confirmed_standard["window"], confirmed_standard["standard"], report,
        standard_about(checked_standard(confirmed_standard)),
    )
    return dg.AssetCheckResult(
        passed=False, severity=dg.AssetCheckSeverity.ERROR, description="; ".join(report.problems),
        metadata={"decision": result["decision"], "ledger_entry": result["ledger"]["entry"], "evidence_pack": result["evidence_pack"]},
    )


@dg.asset_check(partitions_def=CYCLE_WINDOWS, asset=decision_sample, name=SAMPLE_SIZE_REACHED, blocking=True, additional_ins={"sampling_plan": dg.AssetIn("sampling_plan")})
def sample_size_reached(decision_sample: dict, sampling_plan: dict) -> dg.AssetCheckResult:
    """Gate: every point's sample reached its planned size, or the whole (smaller) population was tested."""
    short = [
        f"{p['decision_point']}: {len(decision_sample[p['decision_point']]['decision_ids'])} of {p['sample_size']}"
        for p in sampling_plan["plan"]["points"]
        if len(decision_sample[p["decision_point"]]["decision_ids"]) != p["sample_size"]
    ]
    return dg.AssetCheckResult(
        passed=not short, severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(short) if short else "every sample reached its planned size or the whole population",
        metadata={"short_points": len(short)},
    )


@dg.asset_check(partitions_def=CYCLE_WINDOWS, asset=validation_results, name=DATA_CONTRACT_HOLDS)
def data_contract_holds(validation_results: dict) -> dg.AssetCheckResult:
    """Warning: sampled rows that break their point's data contract (types, nulls, ranges, a renamed field)."""
    broken = {p: sum(len(f["decision_ids"]) for f in v["contract_failures"]) + len(v["missing_columns"]) for p, v in validation_results.items()}
    failing = {p: n for p, n in broken.items() if n}
    return dg.AssetCheckResult(
        passed=not failing, severity=dg.AssetCheckSeverity.WARN,
        metadata={"failing_points": dg.MetadataValue.json(failing), "failures": sum(failing.values())},
    )


@dg.asset_check(partitions_def=CYCLE_WINDOWS, asset=assurance_decision, name=LEDGER_IS_INTACT)
def ledger_is_intact(evidence: EvidenceStoreResource) -> dg.AssetCheckResult:
    """`assurance verify` as a (non-blocking) check: after the decision is appended, the whole evidence store (ledger
    chain, signed checkpoints, signatures, every pack file and so the pack's index.html) still verifies."""
    report = verify_store(evidence.path)
    return dg.AssetCheckResult(
        passed=report.intact, severity=dg.AssetCheckSeverity.ERROR,
        description=f"intact: {report.entries} entries" if report.intact else f"{'INTERRUPTED' if report.interrupted else 'TAMPERED'}: {report.problem}",
        metadata={"entries": report.entries, "head": report.head or "", "checkpoint": report.checkpoint or 0},
    )


CYCLE_CHECKS = [standard_is_authorized, sample_size_reached, data_contract_holds, ledger_is_intact]
