"""A cycle over a partition that names no window is refused when it is submitted: failed with one line, never queued,
so no worker starts and no step runs. Every other run is queued as Dagster's own coordinator queues it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from dagster._core.utils import make_new_run_id

from assurance_pipeline.defs.cycle.run import shared_instance
from assurance_pipeline.defs.cycle.run_coordinator import WindowCheckingRunCoordinator

COORDINATOR = {"module": "assurance_pipeline.defs.cycle.run_coordinator", "class": "WindowCheckingRunCoordinator"}


@pytest.fixture
def instance():
    with dg.instance_for_test(overrides={"run_coordinator": COORDINATOR}) as active:
        yield active


def submitted(instance: dg.DagsterInstance, job_name: str, tags: dict, assets: set | None = None) -> dg.DagsterRun:
    run = instance.add_run(dg.DagsterRun(job_name=job_name, run_id=make_new_run_id(), tags=tags,
                                         asset_selection=frozenset(assets) if assets else None))
    return instance.run_coordinator.submit_run(dg.SubmitRunContext(run, workspace=None))


@pytest.mark.parametrize(("key", "said"), [
    ("foo", "refused before any step ran: partition 'foo': not a window (write FROM--TO, e.g. 2026-05-01--2026-06-30, or all)"),
    ("2026-13-01--2026-14-01", "refused before any step ran: partition '2026-13-01--2026-14-01': from '2026-13-01': not a date "
                               "(use YYYY-MM-DD or an ISO-8601 timestamp)"),
    ("2026-06-30--2026-05-01", None),  # the window's own check words it; asserted below as a one-liner
])
def test_a_cycle_over_no_window_fails_with_one_line_and_never_queues(instance, key, said):
    run = submitted(instance, "governed_cycle", {"dagster/partition": key})
    assert run.status == dg.DagsterRunStatus.FAILURE
    events = [e.dagster_event for e in instance.all_logs(run.run_id) if e.dagster_event]
    assert [e.event_type_value for e in events] == ["PIPELINE_FAILURE"]  # never enqueued, so never started
    message = events[0].message
    assert "\n" not in message and message.startswith(f"refused before any step ran: partition {key!r}: ")
    assert said is None or message == said


def test_the_asset_pages_materialize_button_is_refused_alike(instance):
    """The UI's Materialize runs the implicit asset job over the assets picked, not `governed_cycle`."""
    run = submitted(instance, "__ASSET_JOB", {"dagster/partition": "foo"}, {dg.AssetKey("confirmed_standard")})
    assert run.status == dg.DagsterRunStatus.FAILURE


@pytest.mark.parametrize(("job", "tags", "assets"), [
    ("governed_cycle", {"dagster/partition": "2026-05-01--2026-06-30"}, None),
    ("governed_cycle", {"dagster/partition": "all"}, None),
    ("record_disposition", {}, None),
    ("__ASSET_JOB", {"dagster/partition": "not-ours"}, {dg.AssetKey("someone_elses_asset")}),
])
def test_every_other_run_is_passed_on_to_dagsters_queue(instance, job, tags, assets, monkeypatch):
    queued = []
    monkeypatch.setattr(dg.QueuedRunCoordinator, "submit_run", lambda self, context: queued.append(context.dagster_run) or context.dagster_run)
    run = submitted(instance, job, tags, assets)  # (a queued run needs a code location's origin, which this one lacks)
    assert [r.run_id for r in queued] == [run.run_id] and instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.NOT_STARTED


def test_a_new_instance_of_the_cli_refuses_bad_windows(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    instance = shared_instance(tmp_path)
    try:
        assert isinstance(instance.run_coordinator, WindowCheckingRunCoordinator)
    finally:
        instance.dispose()
