"""Run one governed cycle in process through the same assets the UI materializes (for the CLI and tests)."""

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import dagster as dg

from assurance_pipeline.defs.automation.jobs import cycle_run_config, governed_cycle_job
from assurance_pipeline.defs.cycle.assets import CYCLE_ASSETS
from assurance_pipeline.defs.cycle.checks import CYCLE_CHECKS
from assurance_pipeline.defs.cycle.lineage import with_standard_version
from assurance_pipeline.defs.cycle.partitions import add_window, window_key
from assurance_pipeline.defs.cycle.progress import step_lines
from assurance_pipeline.defs.resources import (
    configured_base_dir,
    cycle_resources,
    hold_database_connection,
    resources_from_env,
    run_values_folder,
)
from assurance_pipeline.errors import AssuranceError, EvidenceStoreError
from assurance_pipeline.evidence.checkpoints import STORE_FILE, identity, store_key
from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.sources.decision_log import DecisionLog
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.drafts import refuse_drafts
from assurance_pipeline.standard.loading import load_standard
from assurance_pipeline.workspace import transient_workspace


# The CLI prints the result; Dagster's step-by-step console log stays in the run's event log.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def check_inputs(standard_dir: Path, source: str, evidence_dir: Path) -> None:
    """Refuse bad input before the run starts, so a mistake never leaves half a cycle in the ledger."""
    refuse_drafts(load_standard(standard_dir), "run")
    with transient_workspace() as con:
        DecisionLog(source).attach(con, rows=False)
    report = Ledger(evidence_dir).verify()
    if not report.intact:
        raise EvidenceStoreError(f"evidence store {evidence_dir} is not intact, nothing appended: {report.problem}")
    if (Path(evidence_dir) / STORE_FILE).exists():
        identity(evidence_dir, store_key())  # the key that signs its checkpoints is at hand before anything is appended


def run_cycle(
    standard_dir: Path, source: str, evidence_dir: Path, window_from: str | None = None, window_to: str | None = None,
    tiers: list[str] | None = None, seed: str | None = None, instance: dg.DagsterInstance | None = None,
    follow_up_of: str | None = None, points: list[str] | None = None, progress: bool = False, trigger: str = "cli",
    executor: str = "in_process",
) -> dict:
    """Run the `governed_cycle` job, as the UI and the schedules do; return its recorded result (the
    `assurance cycle --json` shape) or raise the step's user error. `progress`: a line per step on stderr.
    `executor="multiprocess"`: each step in its own process (see `jobs.EXECUTORS`)."""
    window = Window.parse(window_from, window_to)  # a bad date is refused here, before anything runs
    check_inputs(standard_dir, source, evidence_dir)
    loggers = {**QUIET_CONSOLE["loggers"], **({"step_lines": {}} if progress else {})}
    run_config = {**cycle_run_config(tiers, seed, follow_up_of, points, executor), "loggers": loggers}
    key, tags = window_key(window), {"assurance/trigger": trigger}
    if executor == "multiprocess":
        return _run_in_processes(standard_dir, source, evidence_dir, instance, key, run_config, tags)
    resources = cycle_resources(standard_dir, source, evidence_dir)
    if instance is None and not os.environ.get("DAGSTER_HOME"):
        resources["io_manager"] = dg.mem_io_manager  # no DAGSTER_HOME: keep nothing of the run on disk
    with _instance(instance) as active:
        add_window(active, key)
        outcome = cycle_job(resources, standard_dir).execute_in_process(
            run_config=run_config, instance=active, partition_key=key, raise_on_error=False, tags=tags)
    return _recorded(evidence_dir, outcome)


def _recorded(evidence_dir: Path, outcome) -> dict:
    """The run's recorded decision, or the step's user error when it recorded none."""
    recorded = Ledger(evidence_dir).find("cycle_decision", cycle_id=outcome.run_id)
    if recorded:
        entry = recorded[-1]
        return {**entry.body, "ledger": {"entry": entry.seq, "head": entry.hash}}
    raise _step_error(outcome)


def cycle_job(resources: dict, standard_dir: str | Path) -> dg.JobDefinition:
    """The `governed_cycle` job over these resources, its assets versioned by the authorized standard."""
    return dg.Definitions(assets=with_standard_version(CYCLE_ASSETS, standard_dir), asset_checks=CYCLE_CHECKS, jobs=[governed_cycle_job],
                          resources=resources, loggers={"console": dg.colored_console_logger, "step_lines": step_lines},
                          ).resolve_job_def(governed_cycle_job.name)


def governed_cycle_from_env() -> dg.JobDefinition:
    """The job as each step's process rebuilds it under the multiprocess executor, from the ASSURANCE_* variables
    `_run_in_processes` sets (the source through its variable, so a password in it is never recorded)."""
    resources = resources_from_env()
    return cycle_job(resources, resources["standard"].path)


def _run_in_processes(standard_dir: Path, source: str, evidence_dir: Path, instance: dg.DagsterInstance | None, key: str,
                      run_config: dict, tags: dict) -> dict:
    """The cycle under the multiprocess executor, on a persistent instance (DAGSTER_HOME's, or a temporary one);
    the run's folder of handed-over values (ids, counts, statistics) is removed when it ends."""
    env = {"ASSURANCE_STANDARD": str(standard_dir), "ASSURANCE_SOURCE": str(source), "ASSURANCE_EVIDENCE": str(evidence_dir)}
    with _environment(env), _persistent_instance(instance) as active:
        add_window(active, key)
        with dg.execute_job(dg.reconstructable(governed_cycle_from_env), instance=active, run_config=run_config,
                            tags={**tags, "dagster/partition": key}, raise_on_error=False) as outcome:
            shutil.rmtree(run_values_folder(active, outcome.dagster_run, configured_base_dir(outcome.dagster_run)), ignore_errors=True)
            return _recorded(evidence_dir, outcome)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Variables the step processes inherit, restored afterwards."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _persistent_instance(instance: dg.DagsterInstance | None) -> Iterator[dg.DagsterInstance]:
    if instance is not None or os.environ.get("DAGSTER_HOME"):
        with _instance(instance) as active:
            yield active
        return
    with tempfile.TemporaryDirectory(prefix="assurance-run-") as home, dg.DagsterInstance.local_temp(home) as active:
        yield active


def _instance(instance: dg.DagsterInstance | None):
    if instance is not None:
        return nullcontext(instance)
    home = os.environ.get("DAGSTER_HOME")
    return shared_instance(Path(home)) if home else dg.DagsterInstance.ephemeral()


INSTANCE_YAML = """\
# Written by `assurance cycle`: Dagster's defaults (SQLite storage under this folder), without telemetry, and a run
# coordinator that refuses a cycle over a partition that names no window before any step runs.
telemetry:
  enabled: false
run_coordinator:
  module: assurance_pipeline.defs.cycle.run_coordinator
  class: WindowCheckingRunCoordinator
"""


def shared_instance(home: Path) -> dg.DagsterInstance:
    """The DAGSTER_HOME instance, its SQLite storage created under a file lock: cycles started together would
    otherwise race to create and migrate the same databases. Once they exist, SQLite serializes the runs' writes."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".assurance-instance.lock", "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the file is closed
        config = home / "dagster.yaml"
        if not config.exists():
            config.write_text(INSTANCE_YAML, encoding="utf-8")
        instance = dg.DagsterInstance.get()
        instance.get_runs(limit=1)  # creates (or migrates) the run, event log and schedule storage now
        instance.event_log_storage.get_asset_records()
        instance.schedule_storage.all_instigator_state()
    hold_database_connection(instance)
    return instance


def _step_error(outcome: dg.ExecuteInProcessResult) -> AssuranceError:
    for event in outcome.get_step_failure_events():
        error = event.step_failure_data.error
        if _interrupted(error):
            raise KeyboardInterrupt  # Ctrl-C while a step ran: Dagster ended the run; the CLI says it was interrupted
        metadata = event.step_failure_data.user_failure_data
        if metadata is not None and "exit_code" in metadata.metadata:
            err = AssuranceError(metadata.description or error.message.strip())
            err.exit_code = int(metadata.metadata["exit_code"].value)
            return err
        if error is not None:
            return AssuranceError(f"step {event.step_key} failed: {_root_message(error)}")
    for failure in outcome.filter_events(lambda event: event.is_run_failure):
        if failure.job_failure_data and _interrupted(failure.job_failure_data.error):
            raise KeyboardInterrupt
    return AssuranceError("the cycle did not record a decision (see the Dagster run log)")


def _root_message(error) -> str:
    """The first line of the innermost cause, without its exception class (Dagster wraps every step error)."""
    while error.cause is not None:
        error = error.cause
    line = (error.message.strip().splitlines() or [""])[0]
    line = line.split(f"{error.cls_name}: ", 1)[-1].strip()
    return line if line and error.cls_name not in line else "an internal error (see the Dagster run log)"


def _interrupted(error) -> bool:
    while error is not None:
        if error.cls_name == "DagsterExecutionInterruptedError":
            return True
        error = error.cause
    return False
