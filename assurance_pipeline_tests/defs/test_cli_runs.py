"""A cycle started from the command line is the `governed_cycle` job, tagged with its trigger, in the instance the UI
shows; on a terminal it says what each step did as it finishes."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from assurance_pipeline.defs.cycle.assets import CYCLE_ASSETS
from assurance_pipeline.defs.cycle.partitions import add_window
from assurance_pipeline.defs.cycle.progress import STEPS
from assurance_pipeline.defs.cycle.run import run_cycle
from assurance_pipeline.standard.integrity import read_authorization
from assurance_pipeline_tests.small_cycle import CYCLE_FROM, CYCLE_TO, build_rows, prepare


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return prepare(tmp_path_factory.mktemp("cli-runs"), build_rows(planted=True))


def test_a_cli_cycle_runs_the_governed_cycle_job_tagged_with_its_trigger(store, tmp_path: Path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = run_cycle(store.standard, str(store.log), store.evidence, CYCLE_FROM, CYCLE_TO, instance=instance, trigger="cli")
        run = instance.get_run_by_id(result["cycle_id"])
        decided = instance.get_latest_materialization_event(dg.AssetKey("assurance_decision")).asset_materialization
    assert run.job_name == "governed_cycle" and run.tags["assurance/trigger"] == "cli"
    sha = read_authorization(store.standard).sha256  # the UI's definitions claim the same version: in sync
    assert decided.tags["dagster/code_version"] == f"standard-{sha[:12]}"


def test_progress_is_a_line_per_step_on_stderr_and_nothing_without_it(store, capsys):
    run_cycle(store.standard, str(store.log), store.evidence, CYCLE_FROM, CYCLE_TO, progress=True)
    lines = capsys.readouterr().err.splitlines()
    said = [line.removeprefix("  ✓ ").split(" (")[0] for line in lines if line.startswith("  ✓ ") and "check:" not in line]
    per_point = [line for line in said if line.startswith("counted ")]
    assert sorted(set(said) - set(per_point)) == sorted(STEPS.values()) and len(said) == len(STEPS) + len(per_point)  # each once, in words
    assert len(per_point) >= 2 and all(line.endswith(" for drift") for line in per_point)  # a drift step per decision point
    assert said[:2] == [STEPS["confirmed_standard"], STEPS["sampling_plan"]]
    assert said.index(STEPS["decision_sample"]) < said.index(STEPS["validation_results"]) and said[-1] == STEPS["assurance_decision"]
    assert "  ✓ check: standard is authorized" in [line.split(" (")[0] for line in lines]
    run_cycle(store.standard, str(store.log), store.evidence, CYCLE_FROM, CYCLE_TO)
    assert capsys.readouterr().err == ""


def test_the_cycle_assets_code_version_is_the_authorized_standards_sha256(store, monkeypatch, tmp_path: Path):
    from assurance_pipeline.definitions import build_definitions

    monkeypatch.setenv("ASSURANCE_STANDARD", str(store.standard))
    sha = read_authorization(store.standard).sha256
    versions = {spec.key.to_user_string(): spec.code_version for spec in build_definitions().resolve_all_asset_specs()}
    assert set(versions) == {key.to_user_string() for a in CYCLE_ASSETS for key in a.keys} and set(versions.values()) == {f"standard-{sha[:12]}"}
    monkeypatch.setenv("ASSURANCE_STANDARD", str(tmp_path))  # not authorized: no version claimed
    assert {spec.code_version for spec in build_definitions().resolve_all_asset_specs()} == {None}


def test_a_window_added_in_the_ui_that_is_not_one_names_the_partition(store):
    """A window typed into the launchpad as a new partition: the first step fails with one line naming it."""
    from assurance_pipeline.defs.automation.jobs import governed_cycle_job
    from assurance_pipeline.defs.cycle.assets import CYCLE_ASSETS
    from assurance_pipeline.defs.cycle.checks import CYCLE_CHECKS
    from assurance_pipeline.defs.resources import cycle_resources

    job = dg.Definitions(assets=CYCLE_ASSETS, asset_checks=CYCLE_CHECKS, jobs=[governed_cycle_job],
                         resources={**cycle_resources(store.standard, store.log, store.evidence), "io_manager": dg.mem_io_manager}
                         ).resolve_job_def("governed_cycle")
    instance = dg.DagsterInstance.ephemeral()
    add_window(instance, "2026-13-01--2026-02-28")
    run = job.execute_in_process(instance=instance, partition_key="2026-13-01--2026-02-28", raise_on_error=False)
    assert run.dagster_run.tags["assurance/trigger"] == "ui"  # launched without a trigger of its own: the job's tag
    [failure] = run.get_step_failure_events()
    description = failure.step_failure_data.user_failure_data.description
    assert failure.step_key == "confirmed_standard"
    assert description == "partition '2026-13-01--2026-02-28': from '2026-13-01': not a date (use YYYY-MM-DD or an ISO-8601 timestamp)"


def test_the_tables_are_tables_and_the_rates_plot_per_point(tmp_path: Path):
    """What the asset pages show: typed tables inline (not markdown behind a link), and per decision point the
    numbers the UI's Plots view draws across cycles."""
    from assurance_pipeline_tests.small_cycle import CRITICAL, PLANNED, materialize

    cycle = materialize(prepare(tmp_path, build_rows(planted=True)))  # a first cycle: planned sizes, no heightening
    metadata = {e.asset_key.to_user_string(): e.materialization.metadata for e in cycle.run.get_asset_materialization_events()}
    for asset, key in (("sampling_plan", "plan"), ("validation_results", "conformance"), ("outcome_evidence", "outcomes"),
                       ("drift_tests", "drift_tests"), ("findings", "findings"), ("assurance_decision", "decided_by")):
        assert isinstance(metadata[asset][key], dg.TableMetadataValue), (asset, key)
    plan = metadata["sampling_plan"]
    assert plan[f"{CRITICAL}/sample_size"].value == PLANNED[CRITICAL] and plan[f"{CRITICAL}/population"].value == 500
    conformance = metadata["validation_results"]
    assert 0 < conformance[f"{CRITICAL}/deviation_rate"].value <= conformance[f"{CRITICAL}/upper_deviation_limit"].value < 1
    decided = metadata["assurance_decision"]["decided_by"].records
    assert {r.data["id"] for r in decided} == {f["id"] for f in cycle.decision["findings"]}
