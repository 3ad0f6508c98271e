"""Cycles that share a DAGSTER_HOME, every kind of source, decision ids that are not one per decision, passwords in
source URIs, out-of-range dates, special files, signals, and user errors raised inside a step."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from assurance_pipeline.cli import main
from assurance_pipeline.defs.cycle.run import run_cycle
from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.sampling.plans import attribute_sample_size
from assurance_pipeline.sampling.reperform import reperform
from assurance_pipeline.standard.integrity import authorize
from assurance_pipeline_tests.small_cycle import (
    COLUMNS, CYCLE_FROM, CYCLE_TO, PLANNED, ROUTINE, SEED, Store, build_rows, materialize, prepare,
)

CLI = [sys.executable, "-m", "assurance_pipeline.cli"]
SECRET = "s3cr3t-Passw0rd"


def cli_env(**extra: str) -> dict[str, str]:
    root = Path(__file__).resolve().parent.parent
    return {**os.environ, "PYTHONPATH": str(root), **extra}


def cycle_argv(store: Store, source: str | Path | None = None) -> list[str]:
    return ["cycle", "--standard", str(store.standard), "--source", str(source or store.log), "--evidence",
            str(store.evidence), "--from", CYCLE_FROM, "--to", CYCLE_TO]


def write_duckdb(path: Path, rows: list[dict]) -> Path:
    table = pa.Table.from_pylist(rows, schema=pa.schema(COLUMNS))
    with duckdb.connect(str(path)) as con:
        con.register("rows_arrow", table)
        con.execute("CREATE TABLE decisions AS SELECT * FROM rows_arrow")
    return path


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return prepare(tmp_path, build_rows(planted=True))


# --- concurrent cycles --------------------------------------------------------------------------------------------------


def test_four_cycles_at_once_on_one_dagster_home_keep_their_values_apart(store: Store, tmp_path: Path):
    home = tmp_path / "dagster_home"  # not created: the first cycle to lock it creates it and its storage
    env = cli_env(DAGSTER_HOME=str(home))
    runs = [subprocess.Popen([*CLI, *cycle_argv(store), "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(4)]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0], [err for _, err in outputs]
    assert all(err == "" for _, err in outputs)
    ids = {json.loads(out)["cycle_id"] for out, _ in outputs}
    assert len(ids) == 4
    ledger = Ledger(store.evidence)
    plans = ledger.find("sampling_plan")
    assert sorted(e.body["cycle_id"] for e in plans) == sorted(ids)  # each plan under its own cycle, none orphaned
    assert {e.body["cycle_id"] for e in ledger.find("cycle_decision")} == ids
    assert len({e.body["seed_sha256"] for e in plans}) == 4  # four fresh seeds, none read from another run
    verified = subprocess.run([*CLI, "verify", "--evidence", str(store.evidence)], env=env, capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert not any((home / "storage" / "runs").iterdir())  # each run's values went with its run


# --- a DuckDB file as the source ----------------------------------------------------------------------------------------


def test_a_cycle_runs_from_a_duckdb_table(store: Store, tmp_path: Path):
    database = write_duckdb(tmp_path / "log.duckdb", store.rows)
    source = f"duckdb://{database}?table=decisions"
    result = run_cycle(store.standard, source, store.evidence, CYCLE_FROM, CYCLE_TO, seed=SEED)
    assert {p["id"]: p["sample_size"] for p in result["decision_points"]} == PLANNED
    ledger = Ledger(store.evidence)
    assert [e.body["cycle_id"] for e in ledger.find("sampling_plan")] == [result["cycle_id"]]
    assert reperform(result["cycle_id"], source, store.evidence).same


# --- duplicated and missing decision ids --------------------------------------------------------------------------------


def with_bad_ids(rows: list[dict], point: str, duplicated: int, missing: int) -> tuple[list[dict], set[str]]:
    """The log with `duplicated` February ids of `point` logged twice (the copy with another note) and `missing`
    other February rows of it without an id."""
    february = [r for r in rows if r["decision_point"] == point and r["decided_at"] >= dt.datetime(2026, 2, 1, tzinfo=dt.UTC)]
    copies = [{**r, "note": f"copy of a row {i}"} for i, r in enumerate(february[:duplicated])]
    for r in february[duplicated:duplicated + missing]:
        r["decision_id"] = None
    return rows + copies, {r["decision_id"] for r in february[:duplicated]}


def test_duplicated_and_missing_ids_are_a_contract_finding_and_never_sampled(tmp_path: Path):
    rows, duplicated = with_bad_ids(build_rows(planted=False), ROUTINE, duplicated=5, missing=3)
    cycle = materialize(prepare(tmp_path, rows))
    assert cycle.run.success
    logged = sum(1 for r in rows if r["decision_point"] == ROUTINE and r["decided_at"] >= dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    frame = [r["decision_id"] for r in rows if r["decision_point"] == ROUTINE and r["decided_at"] >= dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
             and r["decision_id"] is not None and r["decision_id"] not in duplicated]
    assert logged == 205 and len(frame) == 192  # 200 + 5 copies; without 3 NULL ids and the 10 rows of 5 duplicated ids
    point = cycle.points()[ROUTINE]
    expected = attribute_sample_size(0.90, 0.10, 0.0, len(frame))
    assert (point["population"], point["sample_size"]) == (len(frame), expected.sample_size)
    drawn = cycle.output("decision_sample")[ROUTINE]["decision_ids"]
    assert drawn == sorted(frame, key=lambda d: hashlib.sha256(f"{SEED}:{d}".encode()).hexdigest())[:expected.sample_size]
    assert cycle.output("validation_results")[ROUTINE]["sample_size"] == expected.sample_size
    [finding] = [f for f in cycle.decision["findings"] if f["kind"] == "contract" and f["decision_point"] == ROUTINE]
    assert finding["summary"] == (
        f"{ROUTINE}: 5 decision ids are logged more than once (10 rows: {', '.join(sorted(duplicated))}) and 3 rows have "
        "no decision_id in the window; these 13 of 205 rows are not sampled")
    assert "copy of a row" not in json.dumps(cycle.decision)  # the ids only, never a row's values


def test_a_cycle_with_duplicated_ids_is_reperformed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    rows, _ = with_bad_ids(build_rows(planted=False), ROUTINE, duplicated=4, missing=2)
    store = prepare(tmp_path, rows)
    result = run_cycle(store.standard, str(store.log), store.evidence, CYCLE_FROM, CYCLE_TO, seed=SEED)
    assert reperform(result["cycle_id"], str(store.log), store.evidence).same


# --- passwords in source URIs -------------------------------------------------------------------------------------------


def files_containing(folder: Path, text: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and text.encode() in p.read_bytes()]


def test_a_password_in_the_source_uri_is_never_shown_or_stored(store: Store, tmp_path: Path):
    database = write_duckdb(tmp_path / "log.duckdb", store.rows)
    home = tmp_path / "dagster_home"
    env = cli_env(DAGSTER_HOME=str(home))
    ran = subprocess.run([*CLI, *cycle_argv(store, f"duckdb://auditor:{SECRET}@{database}?table=decisions")],
                         env=env, capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stderr
    missing = subprocess.run([*CLI, *cycle_argv(store, f"duckdb://auditor:{SECRET}@{tmp_path}/nowhere.duckdb?table=decisions")],
                             env=env, capture_output=True, text=True, timeout=600)
    postgres = subprocess.run([*CLI, *cycle_argv(store, f"postgresql://auditor:{SECRET}@db.example/prod")],
                              env=env, capture_output=True, text=True, timeout=600)
    assert (missing.returncode, postgres.returncode) == (3, 2)
    assert "auditor:***@" in missing.stderr and "auditor:***@" in postgres.stderr
    assert SECRET not in ran.stdout + ran.stderr + missing.stderr + postgres.stderr
    assert files_containing(home, SECRET) == [] and files_containing(store.evidence, SECRET) == []


# --- dates, special files, signals --------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag, value", [("--to", "9999-12-31"), ("--to", "9999-12-31T23:00:00-05:00"), ("--from", "9999-12-31T23:00:00-05:00")])
def test_a_date_beyond_the_calendar_is_one_line(store: Store, capsys, flag: str, value: str):
    argv = [a for a in cycle_argv(store) if a not in ("--from", "--to", CYCLE_FROM, CYCLE_TO)] + [flag, value]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"assurance: error: {flag} {value!r}: out of range (the last day a window can include is 9999-12-30)"]


def test_a_fifo_as_source_is_refused_not_read(store: Store, tmp_path: Path):
    fifo = tmp_path / "decisions.parquet"
    fifo.unlink() if fifo.exists() else None
    os.mkfifo(fifo)
    ran = subprocess.run([*CLI, *cycle_argv(store, fifo)], env=cli_env(), capture_output=True, text=True, timeout=120)
    assert ran.returncode == 2
    assert ran.stderr.splitlines() == [f"assurance: error: source {fifo}: {fifo} is not a regular file or folder"]


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_a_cycle_exits_128_plus_it_in_one_line(store: Store, tmp_path: Path, signum: int, code: int):
    env = cli_env(DAGSTER_HOME=str(tmp_path / "dagster_home"))
    run = subprocess.Popen([*CLI, *cycle_argv(store)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not (tmp_path / "dagster_home" / "history").exists() and run.poll() is None:  # the run is starting
        time.sleep(0.05)
    run.send_signal(signum)
    out, err = run.communicate(timeout=600)
    assert run.returncode == code, err
    assert err.splitlines() == [f"assurance: error: interrupted by {signal.Signals(signum).name}: the command stopped; "
                                "a cycle it was running recorded no decision (its evidence store is intact)"]
    assert Ledger(store.evidence).verify().intact and not Ledger(store.evidence).find("cycle_decision")


# --- user errors inside a step ------------------------------------------------------------------------------------------


def test_a_baseline_of_the_wrong_shape_is_one_line_naming_it(store: Store, capsys):
    """`authorize` will not sign it off, and a cycle over it (the change unauthorized) stops with the same one line."""
    baseline = store.standard / "baseline" / "baseline.json"
    data = json.loads(baseline.read_text())
    baseline.write_text(json.dumps({**data, "points": list(data["points"])}))
    message = (f"{baseline}: not a baseline (its 'points' must map each decision point to "
               "its aggregates): record it again with `assurance baseline` and re-authorize")
    ledger = (store.evidence / "ledger.jsonl").read_bytes()
    with pytest.raises(AssuranceError) as refused:
        authorize(store.standard, "Tess Tester", "a hand-edited baseline", Ledger(store.evidence))
    assert str(refused.value) == message and (store.evidence / "ledger.jsonl").read_bytes() == ledger
    assert main(cycle_argv(store)) == 2
    assert capsys.readouterr().err.splitlines() == [f"assurance: error: {message}"]