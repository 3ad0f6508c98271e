"""A schedule per risk tier: critical decision points daily, high weekly, routine monthly (configurable)."""

import os
from datetime import timedelta

import dagster as dg

from assurance_pipeline.defs.automation.jobs import cycle_run_config, governed_cycle_job
from assurance_pipeline.defs.cycle.partitions import add_window, window_key
from assurance_pipeline.sources.window import Window

# tier -> (cron, days of decisions each cycle covers); override with ASSURANCE_CRON_<TIER> / ASSURANCE_LOOKBACK_DAYS_<TIER>.
DEFAULT_CADENCES = {"critical": ("0 2 * * *", 1), "high": ("0 3 * * 1", 7), "routine": ("0 4 1 * *", 31)}


def tier_cadence(tier: str) -> tuple[str, int]:
    cron, days = DEFAULT_CADENCES[tier]
    return os.environ.get(f"ASSURANCE_CRON_{tier.upper()}", cron), int(os.environ.get(f"ASSURANCE_LOOKBACK_DAYS_{tier.upper()}", days))


def tier_schedule(tier: str) -> dg.ScheduleDefinition:
    cron, lookback_days = tier_cadence(tier)

    @dg.schedule(
        name=f"{tier}_tier_cycle", cron_schedule=cron, job=governed_cycle_job, execution_timezone="UTC",
        description=f"A governed cycle over {tier} decision points: the last {lookback_days} day(s) of decisions.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        end = context.scheduled_execution_time
        key = window_key(Window(end - timedelta(days=lookback_days), end))
        add_window(context.instance, key)  # the window becomes a partition before its run is launched
        return dg.RunRequest(
            run_key=f"{tier}-{end.isoformat()}", partition_key=key, run_config=cycle_run_config([tier]),
            tags={"assurance/tier": tier, "assurance/trigger": "schedule"},
        )

    return _schedule


TIER_SCHEDULES = [tier_schedule(tier) for tier in DEFAULT_CADENCES]
