"""A cycle started from the command line is the `governed_cycle` job, tagged with its trigger, in the instance the UI
shows; on a terminal it says what each step did as it finishes."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import pytest

from assurance_pipeline.defs.cycle.assets import CYCLE_ASSETS
from assurance_pipeline.defs.cycle.metadata import per_point_key
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
    for asset, key in (("sampling_plan", "plan"), ("sampling_plan", "plan_basis"), ("validation_results", "conformance"),
                       ("outcome_evidence", "outcomes"), ("drift_tests", "drift_tests"), ("drift_tests", "drift_methods"),
                       ("findings", "findings"), ("findings", "summaries"), ("assurance_decision", "decided_by")):
        assert isinstance(metadata[asset][key], dg.TableMetadataValue), (asset, key)
    plan = metadata["sampling_plan"]
    assert plan[per_point_key(CRITICAL, "sample_size")].value == PLANNED[CRITICAL] and plan[per_point_key(CRITICAL, "population")].value == 500
    conformance = metadata["validation_results"]
    assert 0 < conformance[per_point_key(CRITICAL, "deviation_rate")].value <= conformance[per_point_key(CRITICAL, "upper_limit")].value < 1
    decided = metadata["assurance_decision"]["decided_by"].records
    assert {r.data["id"] for r in decided} == {f["id"] for f in cycle.decision["findings"]}
    summaries = {r.data["id"]: r.data["summary"] for r in metadata["findings"]["summaries"].records}
    assert summaries == {f["id"]: f["summary"] for f in cycle.output("findings")}


# Measured in Dagster 1.13's UI at 1600 px wide: a table inside the metadata column never wraps a header or a word, each
# cell adds 16 px of padding to 8.4 px per character, and the asset page leaves it about 560 px (581 with the longest
# decision point id of the demo as the widest key; the timestamp beside it varies).
CHAR_PX, CELL_PX, ROOM_PX = 8.4, 16, 560


def narrowest(table: dg.TableMetadataValue, widest_point: int) -> float:
    """The narrowest the UI can draw `table`: per column, its header or its longest word, whichever is wider; a
    decision point id counts as `widest_point` characters, so a short id in the test log stands for a long one."""
    def longest(column: str) -> int:
        words = [w for r in table.records for w in re.split(r"\s+|(?<=-)", str(r.data[column])) if w]  # it breaks after a hyphen too
        is_point = column == "decision_point" or column == "tested"
        return max([len(column), *(max(len(w), widest_point) if is_point and w.isidentifier() else len(w) for w in words)])
    return sum(longest(c.name) * CHAR_PX + CELL_PX for c in table.schema.columns)


def test_every_table_fits_the_asset_pages_metadata_column(tmp_path: Path):
    """At 1600 px no table of the cycle scrolls sideways, even with the demo's longest decision point id
    (`access_provisioning`); every per-point key wraps at its spaces, so the key column is no wider than that id."""
    from assurance_pipeline_tests.small_cycle import materialize

    cycle = materialize(prepare(tmp_path, build_rows(planted=True)))
    for event in cycle.run.get_asset_materialization_events():
        for key, value in event.materialization.metadata.items():
            assert max(len(word) for word in key.split()) <= len("access_provisioning"), key
            if isinstance(value, dg.TableMetadataValue):
                assert narrowest(value, len("access_provisioning")) <= ROOM_PX, (event.asset_key.to_user_string(), key)


def test_the_width_estimate_catches_a_table_too_wide(tmp_path: Path):
    wide = dg.MetadataValue.table([dg.TableRecord({"decision_point": "p", "test": "cmh_permutation_stratified_by_leaf",
                                                   "expected_or_scale": "x"})],
                                  schema=dg.TableSchema(columns=[dg.TableColumn(n) for n in ("decision_point", "test", "expected_or_scale")]))
    assert narrowest(wide, 19) > ROOM_PX


def test_a_step_materialized_without_its_cycle_says_to_run_the_cycle_together(store, tmp_path: Path):
    """A cycle's values live only within its run: an asset materialized alone, in a later run, fails in one line."""
    from assurance_pipeline.defs.cycle.assets import validation_results
    from assurance_pipeline.defs.resources import cycle_resources

    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        run_cycle(store.standard, str(store.log), store.evidence, CYCLE_FROM, CYCLE_TO, instance=instance)
        key = instance.get_dynamic_partitions("cycle_windows")[-1]
        alone = dg.materialize([*CYCLE_ASSETS], selection=[validation_results], partition_key=key, instance=instance,
                               resources=cycle_resources(store.standard, store.log, store.evidence), raise_on_error=False)
    failure = alone.get_step_failure_events()[0].step_failure_data
    assert failure.user_failure_data.description.startswith("confirmed_standard was not materialized in this run")
