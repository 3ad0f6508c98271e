"""The cycle on a Dagster instance kept in PostgreSQL (deploy/dagster.postgres.yaml, dagster-postgres): it decides as
on the default instance, its runs and events are in the database, and no raw value of a sampled row that is not an
evidence field of a failing row is in any table of that database (CONTRACT section 5), nor the credentials."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import dagster as dg
import pytest

from assurance_pipeline.defs.cycle.run import run_cycle
from assurance_pipeline_tests.installation import Installation, holding
from assurance_pipeline_tests.postgres import ADMIN, HOST, PORT, admin_uri, scratch_database
from assurance_pipeline_tests.small_cycle import BASELINE_FROM, BASELINE_TO, CYCLE_FROM, CYCLE_TO, build_rows, prepare, write_log, write_standard

INSTANCE_YAML = Path(__file__).resolve().parent.parent / "deploy" / "dagster.postgres.yaml"
SEED = "pg-instance-" + uuid.uuid4().hex


def _instance_env(database: str) -> dict[str, str]:
    return {"DAGSTER_PG_HOST": HOST, "DAGSTER_PG_PORT": str(PORT), "DAGSTER_PG_DB": database, "DAGSTER_PG_USERNAME": ADMIN,
            "DAGSTER_PG_PASSWORD": "PGPW-" + uuid.uuid4().hex}  # the server trusts this address: any password does


def _home(root: Path) -> Path:
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(INSTANCE_YAML, home / "dagster.yaml")
    return home


def _every_table_as_text(database: str) -> str:
    """Every row of every table of the database, as PostgreSQL spells the row in text."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_uri(database)) as con:
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                             "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')").fetchall()
        assert len(tables) >= 5, tables  # runs, event logs, schedules, ... were created there
        return "\n".join(row[0] for schema, table in tables
                         for row in con.execute(sql.SQL("SELECT CAST(t AS text) FROM {} AS t").format(sql.Identifier(schema, table))))


def test_the_cycle_decides_on_a_postgresql_instance_as_on_the_default_one(tmp_path, monkeypatch):
    pytest.importorskip("dagster_postgres")
    rows = build_rows(planted=True)
    with scratch_database() as database:
        for name, value in _instance_env(database).items():
            monkeypatch.setenv(name, value)
        instance = dg.DagsterInstance.from_config(str(_home(tmp_path)))
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        stores = [prepare(tmp_path / kind, rows) for kind in ("postgresql", "default")]
        on_postgres = run_cycle(stores[0].standard, str(stores[0].log), stores[0].evidence, CYCLE_FROM, CYCLE_TO, seed=SEED, instance=instance)
        on_default = run_cycle(stores[1].standard, str(stores[1].log), stores[1].evidence, CYCLE_FROM, CYCLE_TO, seed=SEED)
        run = instance.get_run_by_id(on_postgres["cycle_id"])
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        materialized = {e.dagster_event.asset_key.to_user_string() for e in instance.all_logs(run.run_id)
                        if e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION}
        instance.dispose()
    assert {"sampling_plan", "decision_sample", "assurance_decision"} <= materialized
    assert on_postgres["decision"] == on_default["decision"] == "NOT_ASSURED"
    assert on_postgres["decision_points"] == on_default["decision_points"]
    assert [(f["kind"], f["decision_point"]) for f in on_postgres["findings"]] == [(f["kind"], f["decision_point"]) for f in on_default["findings"]]


def test_no_sampled_value_nor_credential_is_in_the_instance_database(tmp_path):
    """As a user runs it: `assurance baseline`, `authorize` and `cycle` with DAGSTER_HOME holding the PostgreSQL
    instance's dagster.yaml; a sentinel in a non-evidence column of every row and in the passing rows' evidence field."""
    pytest.importorskip("dagster_postgres")
    note, passing = "SECRET-" + uuid.uuid4().hex, "PASSING-" + uuid.uuid4().hex
    log = write_log(tmp_path / "decisions.parquet", build_rows(planted=True, note=note, reference=passing, failing_reference="FAILING"))
    standard, evidence = write_standard(tmp_path / "standard"), tmp_path / "evidence"
    with scratch_database() as database:
        inst = Installation(tmp_path)
        shutil.copy(INSTANCE_YAML, inst.home / "dagster.yaml")
        env = _instance_env(database)
        inst.env.update(env)
        source = ["--standard", str(standard), "--source", str(log)]
        steps = [
            inst.run("baseline", *source, "--from", BASELINE_FROM, "--to", BASELINE_TO),
            inst.run("authorize", "--standard", str(standard), "--by", "Tess Tester", "--evidence", str(evidence)),
            inst.run("cycle", *source, "--evidence", str(evidence), "--from", CYCLE_FROM, "--to", CYCLE_TO, "--seed", SEED, "--json"),
        ]
        assert [s.returncode for s in steps] == [0, 0, 0], [s.stderr for s in steps]
        dumped = _every_table_as_text(database)
    assert json.loads(steps[-1].stdout)["cycle_id"] in dumped and SEED in dumped  # the run and its config are there
    for secret in (note, passing, env["DAGSTER_PG_PASSWORD"]):
        assert secret not in dumped
        assert holding(secret, inst.home, inst.tmp, evidence, standard) == []
    assert not (inst.home / "history").exists()  # no SQLite storage beside it: everything went to PostgreSQL


def test_a_cycle_on_a_postgresql_instance_stores_its_events_over_fewer_connections_than_events(tmp_path, monkeypatch):
    """Dagster's PostgreSQL storage connects anew for every event and read unless it holds a connection, as its
    webserver does; the run's IO manager makes it hold one (`hold_database_connection`), so a cycle stores its events
    over fewer connections than it has events (measured: 62 for 169 events, against 678 without)."""
    pytest.importorskip("dagster_postgres")
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    connected = []

    def count(*_args) -> None:
        connected.append(1)

    store = prepare(tmp_path / "store", build_rows(planted=True))
    with scratch_database() as database:
        for name, value in _instance_env(database).items():
            monkeypatch.setenv(name, value)
        instance = dg.DagsterInstance.from_config(str(_home(tmp_path)))
        instance.get_runs(limit=1)  # the tables made before counting
        event.listen(Engine, "connect", count)
        try:
            cycle = run_cycle(store.standard, str(store.log), store.evidence, CYCLE_FROM, CYCLE_TO, seed=SEED, instance=instance)
        finally:
            event.remove(Engine, "connect", count)
        events = len(instance.all_logs(cycle["cycle_id"]))
        instance.dispose()
    assert events > 100 and len(connected) < events / 2, (events, len(connected))
