"""The cycle under the multiprocess executor: a process per step, a drift step per decision point, and the steps
that need the sample re-drawing it from the source. Same seed, same window: the same decision, sample, findings
and drift tests as in one process; a sample that cannot be drawn again identically stops the step."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from assurance_pipeline.defs.cycle.assets import sample_workspace
from assurance_pipeline.defs.cycle.run import run_cycle
from assurance_pipeline.defs.resources import DecisionLogResource, TransientWorkspaceResource
from assurance_pipeline.errors import AssuranceError
from assurance_pipeline_tests.small_cycle import CYCLE_FROM, CYCLE_TO, SEED, build_rows, materialize, prepare


def _pack(evidence: Path, result: dict) -> dict:
    pack = evidence / "packs" / result["cycle_id"]
    return {name: json.loads((pack / name).read_text()) for name in ("sampling.json", "drift.json")}


def test_a_multiprocess_cycle_decides_as_the_in_process_one(tmp_path_factory):
    one, many = (prepare(tmp_path_factory.mktemp(name), build_rows(planted=True)) for name in ("one", "many"))
    alone = run_cycle(one.standard, str(one.log), one.evidence, CYCLE_FROM, CYCLE_TO, seed=SEED)
    with dg.instance_for_test(temp_dir=str(tmp_path_factory.mktemp("home"))) as instance:
        spread = run_cycle(many.standard, str(many.log), many.evidence, CYCLE_FROM, CYCLE_TO, seed=SEED, instance=instance,
                           executor="multiprocess")
        steps = {s.step_key for s in instance.get_run_step_stats(spread["cycle_id"])}
        assert not (Path(instance.storage_directory()) / "runs" / spread["cycle_id"]).exists()  # handed-over values removed
    assert {s for s in steps if s.startswith("drift_tests.point_drift[")} == {
        f"drift_tests.point_drift[{i}_{p['id']}]" for i, p in enumerate(p for p in alone["decision_points"] if p["population"])}
    assert spread["decision"] == alone["decision"] and spread["decision_points"] == alone["decision_points"]
    assert [(f["kind"], f["summary"]) for f in spread["findings"]] == [(f["kind"], f["summary"]) for f in alone["findings"]]
    ours, theirs = _pack(many.evidence, spread), _pack(one.evidence, alone)
    assert ours["sampling.json"]["selected"] == theirs["sampling.json"]["selected"] and ours["drift.json"] == theirs["drift.json"]


def test_a_step_that_draws_a_different_sample_stops(tmp_path_factory):
    """A step in a new process re-draws the sample; if the log changed since decision_sample, it refuses to go on."""
    store = prepare(tmp_path_factory.mktemp("changed"), build_rows(planted=False))
    cycle = materialize(store)
    recorded = {p: dict(v) for p, v in cycle.output("decision_sample").items()}
    point = next(p for p, v in recorded.items() if v["decision_ids"])
    recorded[point]["row_fingerprints"] = ["0" * 64, *recorded[point]["row_fingerprints"][1:]]  # as if a row changed
    workspace = TransientWorkspaceResource()
    with workspace.yield_for_execution(dg.build_init_resource_context()) as opened:
        with pytest.raises(AssuranceError, match=f"{point}: the sample drawn again for this step is not the one decision_sample recorded"):
            sample_workspace(opened, cycle.output("confirmed_standard"), cycle.output("sampling_plan"), recorded,
                             DecisionLogResource(uri=str(store.log)))
        assert not opened.connection.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'sample'").fetchall()[0][0]
        same = cycle.output("decision_sample")
        assert sample_workspace(opened, cycle.output("confirmed_standard"), cycle.output("sampling_plan"), same,
                                DecisionLogResource(uri=str(store.log))) is opened.connection
        assert opened.connection.execute("SELECT count(*) FROM sample").fetchall()[0][0] == sum(len(v["decision_ids"]) for v in same.values())
