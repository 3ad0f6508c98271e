"""The Dagster code location: the governed cycle's assets and checks, its job, schedules and sensor, and resources."""

from __future__ import annotations

import dagster as dg

from assurance_pipeline.defs.automation.jobs import governed_cycle_job, record_disposition_job
from assurance_pipeline.defs.automation.schedules import TIER_SCHEDULES
from assurance_pipeline.defs.automation.sensors import (
    demo_replay_sensor,
    new_decisions_sensor,
    run_values_cleanup_sensor,
    second_stage_sensor,
)
from assurance_pipeline.defs.cycle.assets import CYCLE_ASSETS
from assurance_pipeline.defs.cycle.checks import CYCLE_CHECKS
from assurance_pipeline.defs.cycle.lineage import with_standard_version
from assurance_pipeline.defs.resources import resources_from_env


def build_definitions() -> dg.Definitions:
    resources = resources_from_env()
    return dg.Definitions(
        assets=with_standard_version(CYCLE_ASSETS, resources["standard"].path),
        asset_checks=CYCLE_CHECKS,
        jobs=[governed_cycle_job, record_disposition_job],
        schedules=TIER_SCHEDULES,
        sensors=[new_decisions_sensor, second_stage_sensor, demo_replay_sensor, run_values_cleanup_sensor],
        resources=resources,
        executor=dg.in_process_executor,
    )


defs = build_definitions()
