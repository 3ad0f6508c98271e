"""The governed cycle as a job, and the run config that scopes one cycle."""

from datetime import datetime

import dagster as dg

from assurance_pipeline.defs.cycle.assets import GROUP

# In one process, so every step of a run shares the one transient workspace (and nothing is handed over on disk).
governed_cycle_job = dg.define_asset_job(
    "governed_cycle", selection=dg.AssetSelection.groups(GROUP), executor_def=dg.in_process_executor,
    description="One governed assurance cycle: re-confirm, sample, validate, surface drift, record the decision.",
)


def cycle_run_config(
    start: datetime | None, end: datetime | None, tiers: list[str] | None = None, seed: str | None = None,
    follow_up_of: str | None = None, points: list[str] | None = None,
) -> dict:
    config: dict = {"risk_tiers": tiers or [], "decision_points": points or []}
    if follow_up_of:
        config["follow_up_of"] = follow_up_of
    if start:
        config["window_from"] = start.isoformat()
    if end:
        config["window_to"] = end.isoformat()
    if seed:
        config["seed"] = seed
    return {"ops": {"confirmed_standard": {"config": config}}}
