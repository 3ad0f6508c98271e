"""Start a cycle when new decisions arrive; the cursor is the high-water mark of `decided_at`."""

from datetime import datetime, timedelta

import dagster as dg
import duckdb

from assurance_pipeline.defs.automation.jobs import cycle_run_config, governed_cycle_job
from assurance_pipeline.defs.resources import DecisionLogResource
from assurance_pipeline.errors import AssuranceError, engine_error
from assurance_pipeline.workspace import transient_workspace

_TICK = timedelta(microseconds=1)


def latest_decision(decision_log: DecisionLogResource) -> datetime | None:
    """max(decided_at), pushed down to the source (Parquet answers it from its statistics)."""
    with transient_workspace() as con:
        decision_log.attach(con)
        return con.execute("SELECT max(decided_at) FROM decisions").fetchone()[0]


@dg.sensor(job=governed_cycle_job, minimum_interval_seconds=300, description="A cycle over the decisions that arrived since the last one.")
def new_decisions_sensor(context: dg.SensorEvaluationContext, decision_log: DecisionLogResource):
    try:
        latest = latest_decision(decision_log)
    except AssuranceError as err:
        return dg.SkipReason(f"the decision log cannot be read: {err}")
    except duckdb.Error as err:  # attached, but its rows do not read (e.g. a decided_at that is not a timestamp)
        return dg.SkipReason(str(engine_error(err, "the decision log cannot be read")))
    if latest is None:
        return dg.SkipReason("the decision log is empty")
    if context.cursor is None:
        context.update_cursor(latest.isoformat())
        return dg.SkipReason(f"high-water mark set at {latest.isoformat()}; decisions after it start a cycle")
    previous = datetime.fromisoformat(context.cursor)
    if latest <= previous:
        return dg.SkipReason(f"no decision after {context.cursor}")
    context.update_cursor(latest.isoformat())
    return dg.RunRequest(
        run_key=f"new-decisions-{latest.isoformat()}",
        run_config=cycle_run_config(previous + _TICK, latest + _TICK),
        tags={"assurance/trigger": "new_decisions"},
    )
