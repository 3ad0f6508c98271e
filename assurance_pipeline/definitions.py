"""The Dagster code location: the governed cycle's assets and checks, its job, schedules and sensor, and resources."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from assurance_pipeline.defs.automation.jobs import governed_cycle_job, record_disposition_job
from assurance_pipeline.defs.automation.schedules import TIER_SCHEDULES
from assurance_pipeline.defs.automation.sensors import new_decisions_sensor, second_stage_sensor
from assurance_pipeline.defs.cycle.assets import CYCLE_ASSETS
from assurance_pipeline.defs.cycle.checks import CYCLE_CHECKS
from assurance_pipeline.defs.resources import resources_from_env


def standard_version(resources: dict) -> str | None:
    """`standard-<first 12 of its sha256>` as last authorized (authorization.yaml), the cycle assets' code version:
    the lineage then shows which authorized standard produced each materialization, and a newly authorized standard
    marks them changed. None when the standard is not (validly) authorized yet."""
    from assurance_pipeline.errors import AssuranceError
    from assurance_pipeline.standard.integrity import read_authorization

    try:
        auth = read_authorization(Path(resources["standard"].path))
    except (AssuranceError, OSError):
        return None
    return f"standard-{auth.sha256[:12]}" if auth else None


def build_definitions() -> dg.Definitions:
    resources = resources_from_env()
    version = standard_version(resources)
    assets = dg.map_asset_specs(lambda spec: spec.replace_attributes(code_version=version), CYCLE_ASSETS) if version else CYCLE_ASSETS
    return dg.Definitions(
        assets=assets,
        asset_checks=CYCLE_CHECKS,
        jobs=[governed_cycle_job, record_disposition_job],
        schedules=TIER_SCHEDULES,
        sensors=[new_decisions_sensor, second_stage_sensor],
        resources=resources,
        executor=dg.in_process_executor,
    )


defs = build_definitions()
