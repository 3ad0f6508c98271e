"""Refuse a cycle over a window that is no window before any step runs.

A governance person can add any name as a partition in the UI (*Add partition*), and Dagster 1.13 checks a dynamic
partition's name only for control characters and '...'. Nothing in a job, asset or resource runs before the run has a
worker and its first step has started, and a failure there carries a stack trace. The instance's run coordinator sees
every run first, whether it is launched from the UI, a backfill, a schedule or a sensor, so this one marks a cycle
over a name that is no window as failed, with one line naming it, and never queues it: no worker starts, no step runs.
Every other run is queued as Dagster's default coordinator queues it. Configured in `$DAGSTER_HOME/dagster.yaml`
(`assurance cycle` writes it there on a new instance):

    run_coordinator:
      module: assurance_pipeline.defs.cycle.run_coordinator
      class: WindowCheckingRunCoordinator
"""

from __future__ import annotations

import dagster as dg

from assurance_pipeline.defs.cycle.partitions import key_window
from assurance_pipeline.errors import AssuranceError

PARTITION_TAGS = ("dagster/partition", "dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def window_problem(run: dg.DagsterRun) -> str | None:
    """One line saying why a cycle run's partition is no window, or None (also for a run that is no cycle)."""
    from assurance_pipeline.defs.automation.jobs import governed_cycle_job  # imported at a run's submission, not at start
    from assurance_pipeline.defs.cycle.assets import CYCLE_ASSETS

    cycle_assets = {key for asset in CYCLE_ASSETS for key in asset.keys}
    if run.job_name != governed_cycle_job.name and not (run.asset_selection and run.asset_selection & cycle_assets):
        return None  # a disposition, or another code location's run: not ours to judge
    for tag in PARTITION_TAGS:
        if tag in run.tags:
            try:
                key_window(run.tags[tag])
            except AssuranceError as err:
                return f"refused before any step ran: {err}"
    return None


class WindowCheckingRunCoordinator(dg.QueuedRunCoordinator):
    """Dagster's queued run coordinator, which first fails a cycle over a partition that names no window."""

    def submit_run(self, context: dg.SubmitRunContext) -> dg.DagsterRun:
        problem = window_problem(context.dagster_run)
        if problem is None:
            return super().submit_run(context)
        self._instance.report_run_failed(context.dagster_run, problem)
        return self._instance.get_run_by_id(context.dagster_run.run_id) or context.dagster_run
