"""Start a cycle when new decisions arrive (the cursor is the high-water mark of `decided_at`), a second stage when a
critical point's plan extended, keep the demo's log growing as time passes (the living demo), and remove what a
finished cycle's step processes handed each other."""

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb

from assurance_pipeline.defs.automation.jobs import cycle_run_config, governed_cycle_job
from assurance_pipeline.defs.automation.schedules import DEFAULT_CADENCES, tier_cadence
from assurance_pipeline.defs.cycle.partitions import CYCLE_WINDOWS, window_key
from assurance_pipeline.defs.resources import DecisionLogResource, EvidenceStoreResource, configured_base_dir, run_values_folder
from assurance_pipeline.demo.replay import Pattern, pattern_of, replay
from assurance_pipeline.errors import AssuranceError, engine_error
from assurance_pipeline.sources.window import Window
from assurance_pipeline.workspace import transient_workspace

_TICK = timedelta(microseconds=1)


def latest_decision(decision_log: DecisionLogResource) -> datetime | None:
    """max(decided_at), pushed down to the source (Parquet answers it from its statistics)."""
    if decision_log.log.postgres:
        return decision_log.log.postgres.latest()
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
    key = window_key(Window(previous + _TICK, latest + _TICK))
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"new-decisions-{latest.isoformat()}", partition_key=key,
                                    run_config=cycle_run_config(), tags={"assurance/trigger": "new_decisions"})],
        dynamic_partitions_requests=[CYCLE_WINDOWS.build_add_request([key])],
    )


@dg.sensor(job=governed_cycle_job, minimum_interval_seconds=60,
           description="A second-stage cycle for every critical decision point whose two-stage plan ended 'extend'.")
def second_stage_sensor(context: dg.SensorEvaluationContext, evidence: EvidenceStoreResource):
    """Reads the ledger past its cursor (the last sequence number seen) for cycles that extended a critical point."""
    after = int(context.cursor or 0)
    entries = [e for e in evidence.ledger().entries() if e.seq > after]
    if not entries:
        return dg.SkipReason(f"no ledger entry after {after}")
    requests = [
        dg.RunRequest(  # the second stage covers the first stage's window: the same partition
            run_key=f"second-stage-{entry.body['cycle_id']}-{row['id']}", partition_key=window_key(Window.from_dict(entry.body["window"])),
            run_config=cycle_run_config(follow_up_of=entry.body["cycle_id"], points=[row["id"]]),
            tags={"assurance/trigger": "second_stage", "assurance/follow_up_of": entry.body["cycle_id"]},
        )
        for entry in entries if entry.kind == "cycle_decision"
        for row in entry.body["decision_points"] if row.get("conclusion") == "extend" and row["risk_tier"] == "critical"
    ]
    context.update_cursor(str(entries[-1].seq))
    if not requests:
        return dg.SkipReason(f"no critical decision point extended in ledger entries {after + 1} to {entries[-1].seq}")
    return dg.SensorResult(run_requests=requests,
                           dynamic_partitions_requests=[CYCLE_WINDOWS.build_add_request(sorted({r.partition_key for r in requests}))])


def now() -> datetime:
    """The instant the demo replays up to (a function, so a test can move time)."""
    return datetime.now(UTC)


@dg.sensor(minimum_interval_seconds=300, description="The living demo: adds the demo log's drift months, replayed forward, "
           "up to now as a new Parquet part of its folder source (ASSURANCE_SOURCE=data/demo), so the tier schedules and "
           "the new-decisions sensor find fresh decisions. Starts no run itself.")
def demo_replay_sensor(context: dg.SensorEvaluationContext, decision_log: DecisionLogResource):
    """Its cursor is the pattern replayed and the instant replayed through. The first tick starts where the log ends,
    or, if that is long past, as far back as the longest tier schedule looks, so every tier finds decisions."""
    try:
        pattern = pattern_of(Path(decision_log.uri), decision_log.shown)
    except AssuranceError as err:
        return dg.SkipReason(str(err))
    state = json.loads(context.cursor) if context.cursor else None
    if state and Pattern.from_dict(state["pattern"]) != pattern:
        state = None  # `assurance demo` wrote a new log (and removed what was replayed from the old one): start over
    until = now()
    reach = timedelta(days=max(tier_cadence(tier)[1] for tier in DEFAULT_CADENCES))
    after = datetime.fromisoformat(state["through"]) if state else max(pattern.end, until - reach)
    try:
        added = replay(pattern, after, until)
    except (OSError, duckdb.Error) as err:  # e.g. a folder it may not write to: the tick says so, the cursor stays
        return dg.SkipReason(f"the demo replay could not add decisions to {decision_log.shown}: {getattr(err, 'strerror', None) or err}")
    through = max(after, until)
    context.update_cursor(json.dumps({"pattern": pattern.to_dict(), "through": through.isoformat()}))
    said = (f"added {added} demo decisions decided after {after.isoformat()} through {through.isoformat()}" if until > after
            else f"the demo log already reaches {after.isoformat()}: decisions are added from then on")
    context.log.info(said)  # counts and instants only: never a decision's values
    return dg.SkipReason(said)


_FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
_OVERLAP = timedelta(minutes=1)


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Removes a finished cycle's handed-over values (ids, counts, statistics), which a run whose steps "
           "ran in processes of their own (the multiprocess executor) leaves for its steps until it ends.")
def run_values_cleanup_sensor(context: dg.SensorEvaluationContext):
    """Its cursor is the update time of the last finished run it looked at; a run that ended while the daemon was
    down is found on its next tick. Runs updated up to a minute before the cursor are looked at again (a run's
    update time may equal the cursor's to the storage's precision); removing is idempotent. Starts no run."""
    after = float(context.cursor) - _OVERLAP.total_seconds() if context.cursor else None
    records = context.instance.get_run_records(
        dg.RunsFilter(job_name=governed_cycle_job.name, statuses=_FINISHED,
                      updated_after=datetime.fromtimestamp(after, UTC) if after is not None else None),
        limit=1000, order_by="update_timestamp", ascending=True)
    removed = 0
    for record in records:
        folder = run_values_folder(context.instance, record.dagster_run, configured_base_dir(record.dagster_run))
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    if records:
        context.update_cursor(str(max(r.update_timestamp.timestamp() for r in records)))
    return dg.SkipReason(f"removed the handed-over values of {removed} finished cycle run(s)" if removed
                         else "no finished cycle run left values behind")
