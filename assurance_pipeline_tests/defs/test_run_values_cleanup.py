"""A finished cycle's handed-over values are removed by the cleanup sensor, whoever started the run: the CLI removes
them itself, a run launched from the UI with the multiprocess executor left them behind before this sensor."""

from pathlib import Path

import dagster as dg
from dagster._core.test_utils import create_run_for_test

from assurance_pipeline.defs.automation.sensors import run_values_cleanup_sensor


def _run_with_values(instance: dg.DagsterInstance, status: dg.DagsterRunStatus, job_name: str = "governed_cycle",
                     base_dir: Path | None = None) -> Path:
    """A run, and a folder of values where the IO manager keeps them (`<base_dir or storage>/runs/<run id>/`)."""
    run_config = {"resources": {"io_manager": {"config": {"base_dir": str(base_dir)}}}} if base_dir else {}
    run = create_run_for_test(instance, job_name=job_name, status=status, run_config=run_config)
    folder = (base_dir or Path(instance.storage_directory())) / "runs" / run.run_id
    (folder / "decision_sample").mkdir(parents=True)
    (folder / "decision_sample" / "value").write_bytes(b"ids and counts")
    return folder


def _tick(instance: dg.DagsterInstance, cursor: str | None) -> tuple[str, str | None]:
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    result = run_values_cleanup_sensor(context)
    return result.skip_message, context.cursor


def test_the_values_of_finished_cycles_go_and_only_theirs(tmp_path):
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        finished = [_run_with_values(instance, status) for status in
                    (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)]
        elsewhere = _run_with_values(instance, dg.DagsterRunStatus.SUCCESS, base_dir=tmp_path / "shared")
        running = _run_with_values(instance, dg.DagsterRunStatus.STARTED)
        other_job = _run_with_values(instance, dg.DagsterRunStatus.SUCCESS, job_name="record_disposition")

        said, cursor = _tick(instance, None)
        assert said == "removed the handed-over values of 4 finished cycle run(s)" and cursor
        assert not any(folder.exists() for folder in [*finished, elsewhere])
        assert running.exists() and other_job.exists()  # a running cycle's steps still need theirs

        later = _run_with_values(instance, dg.DagsterRunStatus.SUCCESS)  # finished after the last tick
        said, cursor = _tick(instance, cursor)
        assert said == "removed the handed-over values of 1 finished cycle run(s)" and not later.exists()
        said, _ = _tick(instance, cursor)
        assert said == "no finished cycle run left values behind" and running.exists()
