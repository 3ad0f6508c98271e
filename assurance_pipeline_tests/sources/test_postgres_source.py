"""A PostgreSQL table as the decision log: the same seed selects the same decisions, with the same row fingerprints,
from PostgreSQL, Parquet, CSV and a DuckDB table; errors are one line; a password is never kept or shown; table and
schema names are identifiers, never SQL. Runs against the real server at 127.0.0.1:5432 (see postgres.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path

import duckdb
import pytest

from assurance_pipeline.cli import main
from assurance_pipeline.evidence.cycle_record import recorded_sampling
from assurance_pipeline.sampling.population import profile_population
from assurance_pipeline.sampling.selection import draw_sample
from assurance_pipeline.sampling.cycle_plan import SamplingPlan
from assurance_pipeline.sources.decision_log import DecisionLog
from assurance_pipeline.sources.window import Window
from assurance_pipeline.workspace import transient_workspace
from assurance_pipeline_tests.installation import Installation, holding
from assurance_pipeline_tests.postgres import HOST, PORT, admin_uri, load_parquet, scratch_database

HOSTILE_TABLE = 'decisions"; DROP TABLE decisions; -- %s %(seed)s'
HOSTILE_SCHEMA = "we'ird\"schema"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    """The demo's cycle over Parquet, and the same log as a CSV file, a DuckDB table and a PostgreSQL table."""
    root = tmp_path_factory.mktemp("pgdemo")
    assert main(["demo", "--dir", str(root), "--rows", "3000", "--json"]) == 0
    cycle = json.loads((root / "evidence" / "ledger.jsonl").read_text().splitlines()[-1])["body"]
    parquet = root / "decisions.parquet"
    con = duckdb.connect(str(root / "log.duckdb"))
    con.execute(f"CREATE TABLE decisions AS SELECT * FROM read_parquet('{parquet}')")
    con.execute(f"COPY decisions TO '{root / 'decisions.csv'}' (HEADER)")
    con.close()
    with scratch_database() as database:
        load_parquet(database, parquet)
        yield {"root": root, "cycle": cycle, "parquet": parquet, "database": database, "sources": {
            "parquet": str(parquet), "csv": str(root / "decisions.csv"), "duckdb": f"duckdb:///{root / 'log.duckdb'}?table=decisions",
            "postgresql": f"{admin_uri(database)}?table=decisions"}}


def _sampling(root: Path, cycle_id: str) -> dict:
    """The cycle's plan, window and selection as its evidence pack and ledger entry record them."""
    return recorded_sampling(cycle_id, root / "evidence")


def _draw(source: str, plan: SamplingPlan, window: Window) -> tuple[dict, dict]:
    log = DecisionLog(source)
    with transient_workspace() as con:
        log.attach(con, window, rows=False)
        population = profile_population(con, window, log)
        selected = draw_sample(con, plan, window, b"k" * 32, population, log)
    fingerprints = {p: population.fingerprint(p) for p in population.points()}
    return fingerprints, {p: (s.decision_ids, s.row_fingerprints) for p, s in selected.items()}


@pytest.mark.parametrize("kind", ["parquet", "csv", "duckdb", "postgresql"])
def test_every_source_reperforms_the_parquet_cycle_exactly(demo, kind, capsys):
    """reperform re-draws with the recorded seed and compares population, ids in order and row fingerprints."""
    code = main(["reperform", demo["cycle"]["cycle_id"], "--source", demo["sources"][kind], "--evidence", str(demo["root"] / "evidence"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["same"], report
    assert report["decisions"] == sum(len(s["decision_ids"]) for s in _sampling(demo["root"], demo["cycle"]["cycle_id"])["selected"].values())


def test_the_same_seed_selects_the_same_decisions_from_all_four_sources(demo):
    sampling = _sampling(demo["root"], demo["cycle"]["cycle_id"])
    plan, window = SamplingPlan.from_dict(sampling["plan"]), Window.from_dict(sampling["window"])
    drawn = {kind: _draw(source, plan, window) for kind, source in demo["sources"].items()}
    assert sum(len(ids) for ids, _ in drawn["parquet"][1].values()) > 50
    for kind in ("csv", "duckdb", "postgresql"):
        assert drawn[kind] == drawn["parquet"], kind


def _close(ours: object, theirs: object, where: str = "baseline") -> None:
    """Equal, floats within 1e-12 (a sum's last bits depend on the order rows arrive in)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and ours.keys() == theirs.keys(), where
        for key in theirs:
            _close(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _close(a, b, f"{where}[{i}]")
    elif isinstance(theirs, float):
        assert ours == pytest.approx(theirs, rel=1e-12, nan_ok=True), where
    else:
        assert ours == theirs, where


def test_the_go_live_baseline_is_the_same_from_all_four_sources(demo):
    """A PostgreSQL source's go-live window is copied into the workspace (as Parquet in its spill folder): the
    baseline recorded from it is the Parquet file's, to the last count."""
    from assurance_pipeline.drift.baseline import compute_baseline, read_baseline
    from assurance_pipeline.standard.loading import load_standard

    standard = load_standard(demo["root"] / "standard")
    window = Window.from_dict(read_baseline(demo["root"] / "standard")["window"])
    recorded = {}
    for kind, source in demo["sources"].items():
        with transient_workspace() as con:
            DecisionLog(source).attach(con, window)
            recorded[kind] = compute_baseline(con, standard, window) | {"created_at": None}
            spill = Path(con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
            copies = {f.name for f in spill.iterdir()} & {"source-window.parquet", "source-window.csv"}
            assert copies == ({"source-window.parquet"} if kind == "postgresql" else set()), kind
        assert not spill.exists()
    assert sum(p["population"] for p in recorded["parquet"]["points"].values()) > 1_000
    for kind in ("csv", "duckdb", "postgresql"):
        _close(recorded[kind], recorded["parquet"], kind)


def _copies_asked(monkeypatch) -> list:
    """The columns each copy of a PostgreSQL window is asked for (None: all), as they are asked."""
    from assurance_pipeline.sources.postgres import PostgresTable

    asked, load = [], PostgresTable.load_window
    monkeypatch.setattr(PostgresTable, "load_window", lambda self, duck, window, only=None: asked.append(only) or load(self, duck, window, only))
    return asked


def test_a_baseline_copies_only_the_standards_columns_out_of_the_server(demo, tmp_path, monkeypatch, capsys):
    """A column the standard does not read (here an email beside each decision) never leaves the server: not in the
    workspace's copy of the go-live window, not in its spill folder; `assurance baseline` asks for the standard's
    columns only, and records the same baseline as from the table without that column."""
    import shutil

    import psycopg

    from assurance_pipeline.drift.baseline import read_baseline
    from assurance_pipeline.standard.loading import load_standard

    with psycopg.connect(admin_uri(demo["database"]), autocommit=True) as pg:
        pg.execute("CREATE TABLE decisions_wide AS SELECT *, 'secret-' || decision_id || '@example.com' AS customer_email FROM decisions")
    wide = f"{admin_uri(demo['database'])}?table=decisions_wide"
    standard = load_standard(demo["root"] / "standard")
    window = Window.from_dict(read_baseline(demo["root"] / "standard")["window"])
    with transient_workspace() as con:
        DecisionLog(wide, frozenset(standard.columns())).attach(con, window)
        seen = {row[0] for row in con.execute("DESCRIBE decisions").fetchall()}
        spill = Path(con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
        copied = b"".join(f.read_bytes() for f in spill.rglob("*") if f.is_file())
    assert "customer_email" not in seen and standard.columns() <= seen and b"secret-" not in copied
    with transient_workspace() as con:
        DecisionLog(wide).attach(con, window)  # without columns (as init reads it): every column
        assert "customer_email" in {row[0] for row in con.execute("DESCRIBE decisions").fetchall()}

    asked = _copies_asked(monkeypatch)
    recorded, bounds = {}, window.to_dict()
    days = (bounds["from"][:10], (dt.date.fromisoformat(bounds["to"][:10]) - dt.timedelta(days=1)).isoformat())
    for table in ("decisions", "decisions_wide"):
        shutil.copytree(demo["root"] / "standard", tmp_path / table)
        assert main(["baseline", "--standard", str(tmp_path / table), "--source", f"{admin_uri(demo['database'])}?table={table}",
                     "--from", days[0], "--to", days[1], "--json"]) == 0
        recorded[table] = read_baseline(tmp_path / table) | {"created_at": None}
    capsys.readouterr()
    assert asked == [frozenset(standard.columns())] * 2
    _close(recorded["decisions_wide"], recorded["decisions"])


def test_a_cycle_that_must_copy_the_window_copies_only_the_standards_columns(demo, tmp_path, monkeypatch, capsys):
    """Refund amounts stored as text: the server cannot count them as DuckDB does, so the cycle copies the window
    into the workspace, once for every step that needs it, and only the standard's columns: the table's email
    column stays in the server."""
    import shutil

    import psycopg

    from assurance_pipeline.standard.loading import load_standard

    with psycopg.connect(admin_uri(demo["database"]), autocommit=True) as pg:
        pg.execute("CREATE TABLE decisions_copied AS SELECT *, 'secret-' || decision_id AS customer_email FROM decisions")
        pg.execute("ALTER TABLE decisions_copied ALTER COLUMN refund_amount TYPE text USING refund_amount::text")
    for folder in ("standard", "evidence"):
        shutil.copytree(demo["root"] / folder, tmp_path / folder)
    asked = _copies_asked(monkeypatch)
    window = _sampling(demo["root"], demo["cycle"]["cycle_id"])["window"]
    assert main(["cycle", "--standard", str(tmp_path / "standard"), "--source", f"{admin_uri(demo['database'])}?table=decisions_copied",
                 "--evidence", str(tmp_path / "evidence"), "--from", window["from"], "--to", window["to"], "--json"]) == 0
    capsys.readouterr()
    columns = frozenset(load_standard(tmp_path / "standard").columns())
    assert asked and set(asked) == {columns} and "customer_email" not in columns

def test_init_drafts_the_same_standard_from_postgresql_as_from_the_file(demo, tmp_path, capsys):
    """Foundation Initialization over a PostgreSQL table copies its window into the workspace, as the baseline does:
    the draft is the file's, but for where it came from and when."""
    drafts = {}
    for kind in ("parquet", "postgresql"):
        assert main(["init", "--source", demo["sources"][kind], "--out", str(tmp_path / kind), "--json"]) == 0
        drafts[kind] = {path.relative_to(tmp_path / kind).as_posix(): [line for line in path.read_text().splitlines()
                                                                       if not line.strip().startswith(("drafted_at:", "source:"))]
                        for path in sorted((tmp_path / kind).rglob("*")) if path.is_file()}
    capsys.readouterr()
    assert "standard.yaml" in drafts["parquet"] and len(drafts["parquet"]) > 1
    assert drafts["postgresql"] == drafts["parquet"]

def test_a_cycle_over_postgresql_draws_as_the_parquet_cycle(demo, capsys):
    """The same seed and window: the same populations, and each point's sample begins with the Parquet cycle's (the
    open findings of that cycle may raise this one's sample sizes: the lowest n keys extend the lowest m). The
    PostgreSQL cycle then reperforms exactly from the Parquet file."""
    sampling = _sampling(demo["root"], demo["cycle"]["cycle_id"])
    window = sampling["window"]
    code = main(["cycle", "--standard", str(demo["root"] / "standard"), "--source", demo["sources"]["postgresql"],
                 "--evidence", str(demo["root"] / "evidence"), "--from", window["from"], "--to", window["to"],
                 "--seed", sampling["plan"]["seed"], "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [p["population"] for p in result["decision_points"]] == [p["population"] for p in demo["cycle"]["decision_points"]]
    again = _sampling(demo["root"], result["cycle_id"])["selected"]
    for point, then in sampling["selected"].items():
        assert {k: v[:len(then["decision_ids"])] for k, v in again[point].items()} == then, point
    # Drift counts every decision of the window, in the server: the same tests as from the file.
    drift = {cycle: json.loads((demo["root"] / "evidence" / "packs" / cycle / "drift.json").read_text())
             for cycle in (demo["cycle"]["cycle_id"], result["cycle_id"])}
    file_tests, server_tests = drift.values()
    assert len(file_tests) == len(server_tests) >= 10
    for ours, theirs in zip(server_tests, file_tests, strict=True):
        assert {k: v for k, v in ours.items() if not isinstance(v, float)} == {k: v for k, v in theirs.items() if not isinstance(v, float)}
        assert {k: v for k, v in ours.items() if isinstance(v, float)} == pytest.approx({k: v for k, v in theirs.items() if isinstance(v, float)}, rel=1e-9)
    # Outcome Evidence over the window, computed in the server too: the file's values.
    window_metrics = [[o for o in json.loads((demo["root"] / "evidence" / "packs" / cycle / "outcomes.json").read_text()) if o["over"] == "window"]
                      for cycle in (demo["cycle"]["cycle_id"], result["cycle_id"])]
    assert len(window_metrics[0]) >= 4 and [o["conclusion"] for o in window_metrics[0]] == [o["conclusion"] for o in window_metrics[1]]
    assert [o["value"] for o in window_metrics[1]] == pytest.approx([o["value"] for o in window_metrics[0]], rel=1e-12)
    code = main(["reperform", result["cycle_id"], "--source", demo["sources"]["parquet"], "--evidence", str(demo["root"] / "evidence"), "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["same"]


def test_ids_logged_twice_or_not_at_all_are_profiled_and_left_out_alike(demo, tmp_path):
    """Rows without an id and ids logged twice are counted the same way and never drawn, in either engine."""
    parquet = tmp_path / "dirty.parquet"
    duckdb.execute(f"COPY (SELECT * FROM read_parquet('{demo['parquet']}') UNION ALL "
                   f"(SELECT * REPLACE (NULL AS decision_id) FROM read_parquet('{demo['parquet']}') ORDER BY decision_id LIMIT 5) UNION ALL "
                   f"(SELECT * FROM read_parquet('{demo['parquet']}') ORDER BY decision_id DESC LIMIT 40)) TO '{parquet}'")
    sampling = _sampling(demo["root"], demo["cycle"]["cycle_id"])
    plan, window = SamplingPlan.from_dict(sampling["plan"]), Window.from_dict({"from": None, "to": None})
    with scratch_database() as database:
        load_parquet(database, parquet)
        from_postgres = _draw(f"{admin_uri(database)}?table=decisions", plan, window)
        log = DecisionLog(f"{admin_uri(database)}?table=decisions")
        with transient_workspace() as con:
            problems = profile_population(con, window, log).id_problems
    assert from_postgres == _draw(str(parquet), plan, window)
    with transient_workspace() as con:
        DecisionLog(str(parquet)).attach(con)
        assert problems == profile_population(con, window).id_problems and problems


def test_table_and_schema_names_are_identifiers_never_sql(demo, capsys):
    with scratch_database() as database:
        load_parquet(database, demo["parquet"], table=HOSTILE_TABLE, schema=HOSTILE_SCHEMA)
        load_parquet(database, demo["parquet"])  # what the name would drop, were it spliced into SQL
        from urllib.parse import urlencode

        source = f"{admin_uri(database)}?{urlencode({'table': HOSTILE_TABLE, 'schema': HOSTILE_SCHEMA})}"
        code = main(["reperform", demo["cycle"]["cycle_id"], "--source", source, "--evidence", str(demo["root"] / "evidence"), "--json"])
        assert code == 0 and json.loads(capsys.readouterr().out)["same"]
        import psycopg

        with psycopg.connect(admin_uri(database)) as con:
            assert con.execute("SELECT count(*) FROM decisions").fetchone()[0] == 3000


@pytest.mark.parametrize(("where", "code", "says"), [
    ("port", 3, "cannot connect"),
    ("role", 3, "cannot connect"),
    ("table", 3, "no table missing_table in the database"),
    ("column", 2, "missing required column(s) actor_id"),
    ("no-table", 2, "name the table"),
])
def test_a_bad_postgresql_source_is_one_line_and_an_exit_code(demo, capsys, where, code, says):
    database = demo["database"]
    if where == "column":
        import psycopg

        with psycopg.connect(admin_uri(database), autocommit=True) as con:
            con.execute("CREATE TABLE IF NOT EXISTS no_actor AS SELECT decision_id, decision_point, decided_at, actor_type FROM decisions")
    source = {
        "port": f"postgresql://postgres:SENTINEL-PW@{HOST}:1/{database}?table=decisions",
        "role": f"postgresql://no_such_role_{uuid.uuid4().hex[:8]}:SENTINEL-PW@{HOST}:{PORT}/{database}?table=decisions",
        "table": f"postgresql://postgres:SENTINEL-PW@{HOST}:{PORT}/{database}?table=missing_table",
        "column": f"postgresql://postgres:SENTINEL-PW@{HOST}:{PORT}/{database}?table=no_actor",
        "no-table": f"postgresql://postgres:SENTINEL-PW@{HOST}:{PORT}/{database}",
    }[where]
    assert main(["reperform", demo["cycle"]["cycle_id"], "--source", source, "--evidence", str(demo["root"] / "evidence")]) == code
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and says in err, err
    assert "SENTINEL-PW" not in err and "Traceback" not in err and ":***@" in err


def test_a_password_is_never_kept_or_shown(demo, tmp_path):
    """A role that needs a password (the server may trust this address, so the test is that the password, in the URI,
    in PGPASSWORD or in a .pgpass file, appears in no output and no file the commands leave: Dagster's instance, the evidence store)."""
    import psycopg
    from psycopg import sql

    role, password, env_password = f"reader_{uuid.uuid4().hex[:8]}", "PW-" + uuid.uuid4().hex, "ENV-PW-" + uuid.uuid4().hex
    file_password = "FILE-PW-" + uuid.uuid4().hex
    with psycopg.connect(admin_uri(demo["database"]), autocommit=True) as con:
        con.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
        con.execute(sql.SQL("GRANT SELECT ON decisions TO {}").format(sql.Identifier(role)))
    try:
        inst = Installation(tmp_path)
        inst.env.pop("ASSURANCE_FINGERPRINT_KEY")  # the demo store's keys, so that its cycle can be reperformed
        inst.env.update({k: v for k, v in os.environ.items() if k.startswith("ASSURANCE_") and k.endswith("_FILE")})
        evidence, standard = demo["root"] / "evidence", demo["root"] / "standard"
        base = f"{HOST}:{PORT}/{demo['database']}?table=decisions"
        runs = [
            inst.run("cycle", "--standard", str(standard), "--source", f"postgresql://{role}:{password}@{base}", "--evidence", str(evidence), "--json"),
            inst.run("reperform", demo["cycle"]["cycle_id"], "--source", f"postgresql://{role}:{password}@{base}", "--evidence", str(evidence)),
            inst.run("cycle", "--standard", str(standard), "--source", f"postgresql://{role}:{password}@{base.replace('decisions', 'gone')}",
                     "--evidence", str(evidence)),
        ]
        inst.env["PGPASSWORD"] = env_password
        runs.append(inst.run("cycle", "--standard", str(standard), "--source", f"postgresql://{role}@{base}", "--evidence", str(evidence)))
        del inst.env["PGPASSWORD"]
        pgpass = tmp_path / "pgpass"
        pgpass.write_text(f"{HOST}:{PORT}:*:{role}:{file_password}\n", encoding="utf-8")
        pgpass.chmod(0o600)
        inst.env["PGPASSFILE"] = str(pgpass)
        runs.append(inst.run("cycle", "--standard", str(standard), "--source", f"postgresql://{role}@{base}", "--evidence", str(evidence)))
    finally:
        with psycopg.connect(admin_uri(demo["database"]), autocommit=True) as con:
            con.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            con.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    assert [r.returncode for r in runs] == [0, 0, 3, 0, 0], [r.stderr for r in runs]
    assert "no table gone" in runs[2].stderr and ":***@" in runs[2].stderr
    for secret in (password, env_password, file_password):
        assert not any(secret in r.stdout + r.stderr for r in runs)
        assert holding(secret, inst.home, inst.tmp, evidence, standard) == []
    assert list((inst.home / "history" / "runs").glob("*.db"))  # the runs' event logs were there to search


def test_the_new_decisions_sensor_asks_the_server_for_the_latest_decision(demo):
    from assurance_pipeline.defs.automation.sensors import latest_decision
    from assurance_pipeline.defs.resources import DecisionLogResource

    latest = {kind: latest_decision(DecisionLogResource(uri=demo["sources"][kind])) for kind in ("parquet", "postgresql")}
    assert latest["postgresql"] == latest["parquet"] is not None
