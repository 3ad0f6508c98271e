"""The governed cycle as a job, the run config that scopes one cycle, and the job that records a disposition."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from assurance_pipeline.defs.cycle.assets import GROUP, user_errors
from assurance_pipeline.defs.resources import EvidenceStoreResource
from assurance_pipeline.evidence.dispositions import record_disposition
from assurance_pipeline.findings.model import DispositionKind

# In one process by default, so every step of a run shares the one transient workspace and nothing is handed over
# on disk. `multiprocess` runs each step in its own process: the decision points' drift steps in parallel, and a
# step that needs the sample re-draws it from the source (a Parquet file or folder, PostgreSQL) and checks it is
# the one recorded. A run launched from the UI (or a backfill) keeps the trigger tag "ui"; the CLI, schedules and
# sensors set their own.
EXECUTORS = ("in_process", "multiprocess")
governed_cycle_job = dg.define_asset_job(
    "governed_cycle", selection=dg.AssetSelection.groups(GROUP), executor_def=dg.multi_or_in_process_executor,
    description="One governed assurance cycle: re-confirm, sample, validate, surface drift, record the decision.",
    tags={"assurance/trigger": "ui"}, config={"execution": {"config": {"in_process": {}}}},
)


def cycle_run_config(
    tiers: list[str] | None = None, seed: str | None = None, follow_up_of: str | None = None, points: list[str] | None = None,
    executor: str = "in_process",
) -> dict:
    """The run config of one cycle; its window is the run's partition (`partitions.window_key`)."""
    config: dict = {"risk_tiers": tiers or [], "decision_points": points or []}
    if follow_up_of:
        config["follow_up_of"] = follow_up_of
    if seed:
        config["seed"] = seed
    return {"ops": {"confirmed_standard": {"config": config}}, "execution": {"config": {executor: {}}}}


class DispositionConfig(dg.Config):
    """A disposition as `assurance dispose` takes it: escalate needs `to`; a finding already disposed needs `supersede`."""

    finding_id: str
    disposition: DispositionKind
    by: str
    note: str
    supersede: bool = False
    to: str | None = None
    key_file: str | None = Field(default=None, description="the signer's private key file on the machine that runs the job "
                                 "(needed once people are registered; else ASSURANCE_SIGNING_KEY)")


@dg.op(name="dispose_finding")
def dispose_finding(context: dg.OpExecutionContext, config: DispositionConfig, evidence: EvidenceStoreResource) -> dg.Output[dict]:
    """Record the disposition through the same function as the CLI, so both check the finding's lifecycle alike."""
    with user_errors():
        entry = record_disposition(evidence.ledger(), config.finding_id, config.disposition, config.by, config.note,
                                   config.supersede, config.to, Path(config.key_file) if config.key_file else None)
    signed = f"signed by {entry.signature.by}" if entry.signature else "UNSIGNED: no people registered"
    context.log.info(f"{config.finding_id}: disposed as {config.disposition} by {config.by}, {signed} (ledger entry {entry.seq})")
    return dg.Output(entry.body, metadata={"finding_id": config.finding_id, "disposition": config.disposition,
                                           "by": config.by, "signed": bool(entry.signature), "ledger_entry": entry.seq})


@dg.job(name="record_disposition", executor_def=dg.in_process_executor,
        description="Record a human disposition of a finding in the evidence ledger (as `assurance dispose`).")
def record_disposition_job() -> None:
    dispose_finding()
