"""The code location loads; the tier schedules and the new-decisions sensor ask for the right cycles."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from assurance_pipeline.definitions import defs
from assurance_pipeline.defs.automation.jobs import governed_cycle_job
from assurance_pipeline.defs.automation.schedules import TIER_SCHEDULES, tier_schedule
from assurance_pipeline.defs.automation.sensors import new_decisions_sensor
from assurance_pipeline.defs.cycle.assets import CYCLE_ASSETS
from assurance_pipeline.defs.cycle.checks import CYCLE_CHECKS
from assurance_pipeline.defs.resources import DecisionLogResource, cycle_resources
from assurance_pipeline.defs.cycle.partitions import CYCLE_WINDOWS, key_window
from assurance_pipeline_tests.small_cycle import CRITICAL, build_rows, write_log
from assurance_pipeline_tests.small_cycle import prepare

SCHEDULED_AT = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
LOOKBACK_DAYS = {"critical": 1, "high": 7, "routine": 31}
TICK = dt.timedelta(microseconds=1)


def cycle_config(run_request: dg.RunRequest) -> dict:
    return run_request.run_config["ops"]["confirmed_standard"]["config"]


@pytest.fixture
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


def schedule_context(at: dt.datetime, instance: dg.DagsterInstance) -> dg.ScheduleEvaluationContext:
    """A schedule adds its window as a partition, so it needs an instance."""
    return dg.build_schedule_context(scheduled_execution_time=at, instance=instance, repository_def=defs.get_repository_def())


@pytest.fixture(scope="module")
def job() -> dg.JobDefinition:
    return defs.resolve_job_def("governed_cycle")


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dt.datetime]:
    rows = build_rows(planted=True)
    return write_log(tmp_path_factory.mktemp("sensor") / "decisions.parquet", rows), max(r["decided_at"] for r in rows)


def sensor_context(uri: str, cursor: str | None, instance: dg.DagsterInstance | None = None) -> dg.SensorEvaluationContext:
    return dg.build_sensor_context(cursor=cursor, resources={"decision_log": DecisionLogResource(uri=uri)}, definitions=defs,
                                   instance=instance)


# --- the code location ---------------------------------------------------------------------------------------------------


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)


def test_job_schedules_and_sensor_are_defined(job: dg.JobDefinition):
    assert job.name == "governed_cycle"
    assert {s.name for s in defs.schedules} == {"critical_tier_cycle", "high_tier_cycle", "routine_tier_cycle"}
    assert {s.name for s in defs.sensors} == {"new_decisions_sensor", "second_stage_sensor", "demo_replay_sensor", "run_values_cleanup_sensor"}
    quiet = {"demo_replay_sensor", "run_values_cleanup_sensor"}  # start no run
    starters = [*defs.schedules, *(s for s in defs.sensors if s.name not in quiet)]
    assert all(s.job_name == "governed_cycle" for s in starters) and not any(defs.get_sensor_def(name).has_jobs for name in quiet)
    assert all(s.default_status == dg.DefaultSensorStatus.STOPPED for s in defs.sensors if s.name != "run_values_cleanup_sensor")  # on by hand
    assert defs.get_sensor_def("run_values_cleanup_sensor").default_status == dg.DefaultSensorStatus.RUNNING  # tidying needs no one
    cycle_steps = {a.key.path[-1] for a in CYCLE_ASSETS}
    assert cycle_steps <= {key.path[-1] for key in job.asset_layer.executable_asset_keys}
    assert {c.check_key.name for c in CYCLE_CHECKS} <= {key.name for key in job.asset_layer.asset_graph.asset_check_keys}


# --- the tier schedules ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["critical", "high", "routine"])
def test_tier_schedule_scopes_the_cycle_to_its_tier_and_window(tier: str, job: dg.JobDefinition, instance):
    schedule = next(s for s in TIER_SCHEDULES if s.name == f"{tier}_tier_cycle")
    assert schedule.execution_timezone == "UTC"
    context = schedule_context(SCHEDULED_AT, instance)
    [request] = schedule.evaluate_tick(context).run_requests
    assert schedule(context).run_config == request.run_config  # called directly, the same request
    config = cycle_config(request)
    assert config["risk_tiers"] == [tier]
    window = key_window(request.partition_key)  # the window is the run's partition, added to the instance
    assert context.instance.has_dynamic_partition(CYCLE_WINDOWS.name, request.partition_key)
    assert window.end == SCHEDULED_AT
    assert window.end - window.start == dt.timedelta(days=LOOKBACK_DAYS[tier])
    assert request.run_key == f"{tier}-{SCHEDULED_AT.isoformat()}"
    assert request.tags["assurance/tier"] == tier
    assert dg.validate_run_config(job, request.run_config)["ops"]["confirmed_standard"]["config"]["risk_tiers"] == [tier]


def test_default_cadences():
    assert {s.name: s.cron_schedule for s in TIER_SCHEDULES} == {
        "critical_tier_cycle": "0 2 * * *", "high_tier_cycle": "0 3 * * 1", "routine_tier_cycle": "0 4 1 * *",
    }


def test_cadence_and_lookback_are_overridable_by_environment(monkeypatch: pytest.MonkeyPatch, instance):
    monkeypatch.setenv("ASSURANCE_CRON_CRITICAL", "30 */6 * * *")
    monkeypatch.setenv("ASSURANCE_LOOKBACK_DAYS_CRITICAL", "2")
    schedule = tier_schedule("critical")
    assert schedule.cron_schedule == "30 */6 * * *"
    [request] = schedule.evaluate_tick(schedule_context(SCHEDULED_AT, instance)).run_requests
    window = key_window(request.partition_key)
    assert window.end - window.start == dt.timedelta(days=2)


def test_a_scheduled_run_config_runs_a_cycle_of_that_tier_only(tmp_path: Path, instance):
    store = prepare(tmp_path, build_rows(planted=True))
    local = dg.Definitions(
        assets=CYCLE_ASSETS, asset_checks=CYCLE_CHECKS, jobs=[governed_cycle_job],
        resources={**cycle_resources(store.standard, store.log, store.evidence), "io_manager": dg.mem_io_manager},
    )
    # Scheduled Feb 19 02:00, the critical cycle covers the releases of Feb 18 02:00 to Feb 19 02:00 (one an hour);
    # the same day a refund was executed by the unregistered refund-agent 9.9-beta, which is no concern of this cycle.
    context = schedule_context(dt.datetime(2026, 2, 19, 2, tzinfo=dt.UTC), instance)
    [request] = tier_schedule("critical").evaluate_tick(context).run_requests
    run = local.resolve_job_def("governed_cycle").execute_in_process(
        run_config=request.run_config, instance=context.instance, partition_key=request.partition_key, raise_on_error=False)
    assert run.success
    decision = run.output_for_node("assurance_decision")
    [point] = decision["decision_points"]
    # 24 releases at 2% tolerable: one deviating release is already 4%, and 23 of 24 find it 95.8% of the time.
    assert (point["id"], point["population"], point["sample_size"], point["distribution"]) == (CRITICAL, 24, 23, "hypergeometric")
    assert {f["decision_point"] for f in decision["findings"]} == {CRITICAL}  # nothing about points of other tiers


# --- the new-decisions sensor ------------------------------------------------------------------------------------------------


def test_first_evaluation_sets_the_high_water_mark_and_requests_nothing(log):
    path, latest = log
    result = new_decisions_sensor.evaluate_tick(sensor_context(str(path), None))
    assert result.run_requests == []
    assert result.cursor == latest.isoformat()
    assert "high-water mark" in result.skip_message


def test_new_decisions_after_the_cursor_request_a_cycle_over_them(log, job: dg.JobDefinition, instance):
    path, latest = log
    cursor = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)
    context = sensor_context(str(path), cursor.isoformat(), instance)
    result = new_decisions_sensor(context)  # the daemon adds the window, then launches its run; called directly here
    [request] = result.run_requests
    config = cycle_config(request)
    assert config["risk_tiers"] == []
    window = key_window(request.partition_key)
    assert [list(r.partition_keys) for r in result.dynamic_partitions_requests] == [[request.partition_key]]  # added first
    assert window.start == cursor + TICK  # a decision at the cursor was in the previous cycle
    assert window.end == latest + TICK  # the window is end-exclusive: the latest decision is in it
    assert context.cursor == latest.isoformat()
    assert request.run_key == f"new-decisions-{latest.isoformat()}"
    dg.validate_run_config(job, request.run_config)


def test_sensor_called_directly_returns_the_same_request(log, instance):
    path, latest = log
    context = sensor_context(str(path), dt.datetime(2026, 2, 10, tzinfo=dt.UTC).isoformat(), instance)
    result = new_decisions_sensor(context)
    assert isinstance(result, dg.SensorResult) and len(result.run_requests) == 1
    assert context.cursor == latest.isoformat()


def test_no_decision_after_the_cursor_skips(log):
    path, latest = log
    result = new_decisions_sensor.evaluate_tick(sensor_context(str(path), latest.isoformat()))
    assert result.run_requests == []
    assert result.skip_message == f"no decision after {latest.isoformat()}"
    later = new_decisions_sensor.evaluate_tick(sensor_context(str(path), (latest + dt.timedelta(days=1)).isoformat()))
    assert later.run_requests == [] and later.skip_message.startswith("no decision after")


@pytest.mark.parametrize("source", ["missing.parquet", "garbage.parquet", "bad_timestamps.csv", "no_decided_at.csv"])
def test_an_unreadable_source_skips_with_a_reason(source: str, tmp_path: Path):
    path = tmp_path / source
    if source == "garbage.parquet":
        path.write_bytes(b"this is not parquet")
    elif source == "bad_timestamps.csv":
        path.write_text("decision_id,decision_point,decided_at,actor_type,actor_id\n1,refund,yesterday,human,x\n", encoding="utf-8")
    elif source == "no_decided_at.csv":
        path.write_text("decision_id,decision_point,actor_type,actor_id\n1,refund,human,x\n", encoding="utf-8")
    cursor = "2026-02-01T00:00:00+00:00"
    result = new_decisions_sensor.evaluate_tick(sensor_context(str(path), cursor))
    assert result.run_requests == []
    assert result.skip_message.startswith("the decision log cannot be read: ")
    assert result.cursor == cursor  # the high-water mark does not move
