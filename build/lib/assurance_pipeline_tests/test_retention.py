"""the retention rule (README: What is kept, and what never is): raw values of sampled rows are never kept (evidence store, Dagster storage and event log, temp
files after the cycle), except the evidence_fields of failing rows; the transient workspace goes whether the cycle
succeeds or fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assurance_pipeline.defs.cycle.assets import decision_sample
from assurance_pipeline.defs.resources import TransientWorkspaceResource
from assurance_pipeline.workspace import ORPHAN_AGE_SECONDS, remove_orphaned_spills, transient_workspace
from assurance_pipeline_tests.installation import ASSURANCE, Installation, files_under, holding
from assurance_pipeline_tests.small_cycle import (
    BASELINE_FROM,
    BASELINE_TO,
    CRITICAL,
    CYCLE_FROM,
    CYCLE_TO,
    PLANNED,
    build_rows,
    materialize,
    prepare,
    write_log,
    write_standard,
)

SEED = "retention-seed-" + uuid.uuid4().hex


def spill_folders(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("assurance-spill-*"))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One real cycle: `assurance baseline`, `authorize`, `cycle`, as a user runs them, with a planted secret in a
    non-evidence column of every row, a marker in an evidence field of failing rows, and one in passing rows."""
    root = tmp_path_factory.mktemp("retention")
    secrets = {
        "note": "SECRET-" + uuid.uuid4().hex,  # free text on every row; in every contract, in no evidence_fields
        "failing": "EVIDENCE-" + uuid.uuid4().hex,  # `reference` (an evidence field) of the releases failing PR-1
        "passing": "PASSING-" + uuid.uuid4().hex,  # `reference` of the releases that pass: not a failing row, not kept
    }
    rows = build_rows(planted=True, note=secrets["note"], reference=secrets["passing"], failing_reference=secrets["failing"])
    log = write_log(root / "decisions.parquet", rows)
    standard = write_standard(root / "standard")
    evidence = root / "evidence"
    inst = Installation(root)
    source = ["--standard", str(standard), "--source", str(log)]
    steps = [
        inst.run("baseline", *source, "--from", BASELINE_FROM, "--to", BASELINE_TO),
        inst.run("authorize", "--standard", str(standard), "--by", "Tess Tester", "--evidence", str(evidence)),
        inst.run("cycle", *source, "--evidence", str(evidence), "--from", CYCLE_FROM, "--to", CYCLE_TO, "--seed", SEED, "--json"),
    ]
    for step in steps:
        assert step.returncode == 0, step.stderr
    return {"root": root, "inst": inst, "standard": standard, "log": log, "evidence": evidence, "secrets": secrets,
            "result": json.loads(steps[-1].stdout)}


def test_the_cycle_ran_in_a_persistent_instance(recorded: dict):
    inst, result = recorded["inst"], recorded["result"]
    assert result["decision"] == "NOT_ASSURED"
    run_id = result["cycle_id"]
    assert (inst.home / "history" / "runs" / f"{run_id}.db").is_file()  # the run's event log
    assert holding(SEED, inst.home / "history"), "the run's config should be on record in the instance's SQLite"
    stored = {p.name for p in (inst.home / "storage").iterdir()}
    assert "decision_sample" not in stored  # not the shared slot of the default IO manager: one folder per run,
    assert not (inst.home / "storage" / "runs" / run_id).exists()  # removed when the run ended


def test_no_non_evidence_value_is_kept_anywhere(recorded: dict):
    inst, secret = recorded["inst"], recorded["secrets"]["note"]
    kept = [inst.home, inst.tmp, recorded["evidence"], recorded["standard"]]
    assert len(files_under(*kept)) > 15
    assert holding(secret, *kept) == []


def test_the_fingerprint_key_is_never_kept(recorded: dict):
    inst = recorded["inst"]
    assert holding(inst.key, inst.home, inst.tmp, recorded["evidence"], recorded["standard"]) == []
    sampling = json.loads((Path(recorded["result"]["evidence_pack"]) / "sampling.json").read_text(encoding="utf-8"))
    assert sampling["plan"]["key_id"] and sampling["plan"]["key_id"] not in inst.key


def test_evidence_fields_of_passing_decisions_are_not_kept(recorded: dict):
    inst = recorded["inst"]
    assert holding(recorded["secrets"]["passing"], inst.home, inst.tmp, recorded["evidence"], recorded["standard"]) == []


def test_evidence_fields_of_failing_decisions_are_in_the_pack(recorded: dict):
    """Allowed by the retention rule (README: What is kept, and what never is), and the proof that the search above finds what is there; the run's own copy
    (its IO manager's values) went with the run."""
    pack = Path(recorded["result"]["evidence_pack"])
    assert pack / "validation.json" in holding(recorded["secrets"]["failing"], recorded["evidence"])
    assert holding(recorded["secrets"]["failing"], recorded["inst"].home) == []
    validation = json.loads((pack / "validation.json").read_text(encoding="utf-8"))[CRITICAL]
    assert validation["deviating_decisions"]
    assert {v["reference"] for v in validation["failing_evidence"].values()} == {recorded["secrets"]["failing"]}


def test_no_temp_file_outlives_the_cycle(recorded: dict):
    assert files_under(recorded["inst"].tmp) == []
    assert list(recorded["inst"].tmp.iterdir()) == []  # nor the spill folder of the transient DuckDB


def test_a_cycle_failing_after_sampling_leaves_no_rows_behind(recorded: dict):
    """The evidence pack cannot be written (`packs` is a file): the last asset fails after the sample was drawn."""
    inst, secret = recorded["inst"], recorded["secrets"]["note"]
    evidence = recorded["root"] / "evidence-broken"
    authorized = inst.run("authorize", "--standard", str(recorded["standard"]), "--by", "Tess Tester", "--evidence", str(evidence))
    assert authorized.returncode == 0, authorized.stderr
    (evidence / "packs").write_text("not a folder\n", encoding="utf-8")

    failed = inst.run("cycle", "--standard", str(recorded["standard"]), "--source", str(recorded["log"]), "--evidence", str(evidence),
                      "--from", CYCLE_FROM, "--to", CYCLE_TO, "--seed", SEED)

    assert failed.returncode == 3
    assert "cannot write the evidence pack" in failed.stderr
    assert [line for line in failed.stderr.splitlines() if line.startswith("assurance: error:")]
    assert spill_folders(inst.tmp) == [] and list(inst.tmp.iterdir()) == []
    assert holding(secret, inst.home, inst.tmp, evidence) == []


# --- the transient workspace, directly ---------------------------------------------------------------------------------


def spill_directory(con: duckdb.DuckDBPyConnection) -> Path:
    return Path(con.execute("SELECT current_setting('temp_directory')").fetchone()[0])


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_transient_workspace_is_removed_when_the_body_raises(private_tmp: Path):
    with pytest.raises(RuntimeError, match="mid-cycle"):
        with transient_workspace() as con:
            spill = spill_directory(con)
            assert spill.parent == private_tmp and spill.name.startswith("assurance-spill-") and spill.is_dir()
            # Make DuckDB really spill: a table larger than its memory limit is written into the spill folder.
            con.execute("SET memory_limit = '16MB'; SET threads = 1")
            con.execute("CREATE TABLE big AS SELECT i, md5(CAST(i AS VARCHAR)) AS s FROM range(500000) t(i)")
            assert any(p.stat().st_size for p in spill.iterdir())
            raise RuntimeError("a step failed mid-cycle")
    assert not spill.exists()
    assert spill_folders(private_tmp) == []
    with pytest.raises(duckdb.ConnectionException):
        con.execute("SELECT 1")


def test_transient_workspace_resource_closes_when_the_run_fails(private_tmp: Path, tmp_path: Path):
    seen: dict = {}

    @dg.asset(deps=[decision_sample])
    def step_that_fails(workspace: TransientWorkspaceResource) -> None:
        con = workspace.connection
        seen["con"], seen["spill"] = con, spill_directory(con)
        seen["sampled"] = con.execute("SELECT count(*) FROM sample").fetchone()[0]
        seen["spill_existed"] = seen["spill"].is_dir()
        raise RuntimeError("a step failed mid-cycle")

    store = prepare(tmp_path / "cycle", build_rows(planted=True))
    cycle = materialize(store, extra=[step_that_fails])

    assert not cycle.run.success
    assert [e.step_key for e in cycle.run.get_step_failure_events()] == ["step_that_fails"]
    assert seen["sampled"] == sum(PLANNED.values()) and seen["spill_existed"]  # the rows were there while the run ran
    assert seen["spill"].parent == private_tmp
    assert not seen["spill"].exists() and spill_folders(private_tmp) == []
    with pytest.raises(duckdb.ConnectionException):
        seen["con"].execute("SELECT count(*) FROM sample")


def test_transient_workspace_resource_is_unusable_outside_a_run():
    with pytest.raises(dg.Failure, match="not open"):
        TransientWorkspaceResource().connection


# --- a killed cycle -------------------------------------------------------------------------------------------------


def test_the_next_run_removes_the_spill_folders_of_killed_cycles(recorded: dict):
    """SIGKILL gives a cycle no chance to clean up: the next run removes what the killed ones left in TMPDIR."""
    inst, secret = recorded["inst"], recorded["secrets"]["note"]
    evidence = recorded["root"] / "evidence-killed"
    assert inst.run("authorize", "--standard", str(recorded["standard"]), "--by", "Tess Tester", "--evidence", str(evidence)).returncode == 0
    cycle = [str(ASSURANCE), "cycle", "--standard", str(recorded["standard"]), "--source", str(recorded["log"]),
             "--evidence", str(evidence), "--from", CYCLE_FROM, "--to", CYCLE_TO]
    left = []
    for after in (0.0, 1.5, 3.0):  # seconds after the workspace opened (its spill folder appears)
        process = subprocess.Popen(cycle, env=inst.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not spill_folders(inst.tmp) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(after)
        process.kill()
        process.wait()
        left += spill_folders(inst.tmp)
    assert left, "no kill point caught a cycle with its workspace open: the test would prove nothing"

    finished = inst.run(*cycle[1:], timeout=600)  # a cold start on a loaded machine can take minutes

    assert finished.returncode == 0, finished.stderr
    assert spill_folders(inst.tmp) == [] and list(inst.tmp.iterdir()) == []
    assert holding(secret, inst.home, inst.tmp, evidence) == []


def test_only_orphaned_spill_folders_are_removed(tmp_path: Path):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead, old = int(ended.stdout), time.time() - ORPHAN_AGE_SECONDS - 60
    folders = {name: tmp_path / name for name in (
        f"assurance-spill-{dead}-a1", f"assurance-spill-{os.getpid()}-b2", "assurance-spill-c3", "assurance-spill-d4", "someone-else")}
    for folder in folders.values():
        folder.mkdir()
    os.utime(folders["assurance-spill-d4"], (old, old))  # no owner in its name, older than any cycle runs
    (tmp_path / "assurance-spill-file").write_text("not a folder", encoding="utf-8")

    removed = remove_orphaned_spills(tmp_path)

    assert sorted(p.name for p in removed) == sorted([f"assurance-spill-{dead}-a1", "assurance-spill-d4"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"assurance-spill-{os.getpid()}-b2", "assurance-spill-c3", "assurance-spill-file", "someone-else"])
