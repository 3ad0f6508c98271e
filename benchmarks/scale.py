"""Scale benchmark: a governed cycle over 1M, 10M and 100M decisions, side by side with the floor and the peers.

For each size, in one run, each measurement its own process (wall seconds, CPU seconds, peak resident set):

- **floor**: one DuckDB scan of every column the cycle's pushed-down queries read, over the cycle's window;
- **cycle**: `assurance cycle` over the window, and over an empty window (its fixed start-up: interpreter,
  Dagster, the run machinery, the standard), once in a new Dagster instance and once, as a recurring cycle runs,
  in the instance the cycles before it ran in (with `--postgres`, also in an instance kept in PostgreSQL); the
  steps that read the whole window (population profile and id checks, selection, drift counts, Outcome Evidence
  over the window) are summed from the run's step timings;
- **full inspection**: plain DuckDB SQL evaluating every DCT condition on every decision of the window (the
  honest strong baseline: no sampling at all);
- **Great Expectations 1.x** validating the same conditions over the window (pandas, conditional expectations);
- **Evidently** DataDriftPreset, the window against the go-live window, where the log fits in memory;
- **baseline**: `assurance baseline` over the go-live window (peak memory must not grow with the log either).

Logs are the demo's decisions (1M generated once, larger logs as copies with their own ids), in one Parquet file.
With `--postgres N`, the N-decision log is also loaded into PostgreSQL and the floor and the cycle run against it.
The peers run from the bench venv (`make bench` makes it); they are never dependencies of the product.

    .venv/bin/python benchmarks/scale.py --sizes 1000000 10000000 100000000 --postgres 10000000 --work /tmp/scale
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
BENCH = ROOT / ".venv-bench" / "bin"
GO_LIVE = ("2026-01-01", "2026-03-31")
WINDOW = ("2026-05-01", "2026-06-30")
EMPTY = ("2030-01-01", "2030-01-02")
GROWING_STEPS = ("sampling_plan", "decision_sample", "drift_tests", "outcome_evidence")  # the steps that read the whole window
PG = "postgresql://postgres@127.0.0.1:5432"


def measure(argv: list[str], env: dict | None = None) -> dict:
    """Wall, CPU and peak RSS of one command, run from a fresh parent so that RUSAGE_CHILDREN is its own."""
    code = ("import json, resource, subprocess, sys, time; argv = json.loads(sys.argv[1]); t = time.perf_counter(); "
            "p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True); wall = time.perf_counter() - t; "
            "r = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "print(json.dumps({'wall': wall, 'cpu': r.ru_utime + r.ru_stime, 'rss_mib': r.ru_maxrss / 1024, 'rc': p.returncode, 'err': p.stderr[-2000:]}))")
    out = subprocess.run([sys.executable, "-c", code, json.dumps([str(a) for a in argv])], capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    if result["rc"] != 0:
        result["error"] = result["err"].strip().splitlines()[-1] if result["err"].strip() else f"exit {result['rc']}"
    return result


def make_log(work: Path, rows: int) -> Path:
    """The demo's 1M decisions, copied rows / 1M times with the copy's number in front of each id."""
    base = work / "base1m"
    if not (base / "decisions.parquet").exists():
        subprocess.run([BIN / "python", "-c", "from pathlib import Path; from assurance_pipeline.demo.generator import write_demo; "
                        f"write_demo(Path({str(base)!r}), rows=1_000_000)"], check=True)
    path = work / f"log{rows // 1_000_000}m.parquet"
    if not path.exists():
        copies = rows // 1_000_000
        width = len(str(copies - 1))
        parts = " UNION ALL ".join(f"SELECT * REPLACE ('{i:0{width}d}' || decision_id AS decision_id) FROM read_parquet('{base}/decisions.parquet')"
                                   for i in range(copies))
        sql = f"SET preserve_insertion_order = false; COPY ({parts}) TO '{path}.tmp' (FORMAT parquet)"
        subprocess.run([BIN / "python", "-c", f"import duckdb; duckdb.connect().execute({sql!r})"], check=True)
        Path(f"{path}.tmp").rename(path)
    return path


def cycle_columns(standard: Path) -> list[str]:
    """Every column a cycle's pushed-down queries read: the profile's, and each point's drift inputs and decision."""
    code = (f"from assurance_pipeline.standard.loading import load_standard; s = load_standard({str(standard)!r}); "
            "cols = {'decision_id', 'decision_point', 'decided_at', 'actor_type', 'actor_id', 'actor_version', 'cost', 'overridden'}; "
            "[cols.update([*p.drift_inputs(), *([p.decision_field] if p.decision_field else [])]) for p in s.decision_points.values()]; "
            "print(' '.join(sorted(cols)))")
    return subprocess.run([BIN / "python", "-c", code], capture_output=True, text=True, check=True).stdout.split()


FLOOR = """
import duckdb, sys
relation, columns = sys.argv[1], sys.argv[2].split()
con = duckdb.connect(); con.execute("SET TimeZone = 'UTC'")
print(con.execute(f"SELECT count(*) FROM {relation} WHERE decided_at >= TIMESTAMPTZ '2026-05-01' AND decided_at < TIMESTAMPTZ '2026-07-01' "
                  f"AND hash({', '.join(columns)}) IS NOT NULL").fetchall())
"""

FULL_INSPECTION = """
import duckdb, sys
from assurance_pipeline.validation.point_rows import window_relation
from assurance_pipeline.sources.decision_log import DecisionLog
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.loading import load_standard
from assurance_pipeline.validation.conformance import _condition_columns, _outcomes_sql, sample_columns
from assurance_pipeline.validation.point_rows import point_rows_sql
con = duckdb.connect(); con.execute("SET TimeZone = 'UTC'")
DecisionLog(sys.argv[1]).attach(con)
window = Window.parse(*sys.argv[3:5])
present = sample_columns(con, "decisions")
for point in load_standard(sys.argv[2]).decision_points.values():
    rows = point_rows_sql(point, present & set(point.contract), relation=window_relation(window.predicate()))
    outcomes = _outcomes_sql(point, rows, set(point.contract) - present).replace("ORDER BY decision_id", "")
    counts = ", ".join(f"histogram({c})" for c in _condition_columns(point))
    print(point.id, con.execute(f"SELECT {counts} FROM ({outcomes})", {"decision_point": point.id}).fetchall())
"""

# The demo's DCT conditions as pandas conditions: rows where `when` holds and `require` does not are unexpected.
GX_CONDITIONS = {
    "AC-1": "access_action == 'grant' and privileged == True and manager_approved_by.isnull()",
    "AC-2": "access_action == 'grant' and sod_conflict == True",
    "AC-3": "access_action == 'grant' and privileged == True and (access_duration_days.isnull() or access_duration_days > 90)",
    "PR-1": "hold_action == 'release' and amount > 10000 and legal_signoff_by.isnull()",
    "PR-2": "hold_action == 'release' and reviewed_by.isnull() and actor_type != 'human'",
    "PR-3": "hold_action == 'release' and hold_reason == 'bank_change' and bank_callback_verified != True",
    "RF-1": "refund_amount > 500 and reviewed_by.isnull() and actor_type != 'human'",
    "RF-2": "refund_amount.notnull() and refund_amount > order_total",
    "RF-3": "customer_tenure_days < 30 and reviewed_by.isnull() and actor_type != 'human'",
    "VO-1": "onboarding_action == 'approve' and sanctions_screening != 'passed'",
    "VO-2": "onboarding_action == 'approve' and bank_details_verified != True",
    "VO-3": "onboarding_action == 'approve' and country_risk == 'high' and reviewed_by.isnull() and actor_type != 'human'",
}

GX = """
import json, sys, duckdb, great_expectations as gx
frame = duckdb.connect().execute("SELECT * FROM read_parquet(?) WHERE decided_at >= TIMESTAMPTZ '2026-05-01' AND decided_at < TIMESTAMPTZ '2026-07-01'", [sys.argv[1]]).df()
context = gx.get_context(mode="ephemeral")
batch = context.data_sources.add_pandas("log").add_dataframe_asset("decisions").add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame})
suite = context.suites.add(gx.ExpectationSuite(name="dct"))
for condition in json.loads(sys.argv[2]).values():
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeNull(column="decision_id", row_condition=condition, condition_parser="pandas",
                                                                     result_format="SUMMARY"))
result = batch.validate(suite)
print(sum(r.result.get("unexpected_count", 0) for r in result.results))
"""

EVIDENTLY = """
import sys, duckdb
from evidently import Report
from evidently.presets import DataDriftPreset
columns = sys.argv[2].split()
con = duckdb.connect(); con.execute("SET TimeZone = 'UTC'")
def window(start, end):
    return con.execute(f"SELECT {', '.join(columns)} FROM read_parquet(?) WHERE decided_at >= TIMESTAMPTZ '{start}' AND decided_at < TIMESTAMPTZ '{end}'", [sys.argv[1]]).df()
Report([DataDriftPreset()]).run(window("2026-05-01", "2026-07-01"), window("2026-01-01", "2026-04-01"))
"""


def drift_columns(standard: Path) -> list[str]:
    code = (f"from assurance_pipeline.standard.loading import load_standard; s = load_standard({str(standard)!r}); "
            "print(' '.join(sorted({c for p in s.decision_points.values() for c in p.drift_inputs()})))")
    return subprocess.run([BIN / "python", "-c", code], capture_output=True, text=True, check=True).stdout.split()


def prepare_standard(work: Path, name: str, source: str) -> tuple[Path, Path, dict]:
    """A copy of the demo standard with its go-live baseline over `source` (measured), authorized into a new store."""
    standard, evidence = work / f"standard-{name}", work / f"evidence-{name}"
    subprocess.run(["rm", "-rf", standard, evidence], check=True)
    subprocess.run(["cp", "-r", work / "base1m" / "standard", standard], check=True)
    baseline = measure([BIN / "assurance", "baseline", "--standard", standard, "--source", source, "--from", GO_LIVE[0], "--to", GO_LIVE[1]])
    subprocess.run([BIN / "assurance", "authorize", "--standard", standard, "--by", "bench", "--evidence", evidence], check=True, stdout=subprocess.DEVNULL)
    return standard, evidence, baseline


def run_cycle(standard: Path, evidence: Path, source: str, window: tuple[str, str], home: Path, fresh: bool = True,
              env: dict | None = None) -> dict:
    """One cycle in a new Dagster instance (`fresh`), or in the one earlier cycles ran in, as a recurring cycle does;
    with the summed durations of the steps that grow with the log."""
    if fresh:
        subprocess.run(["rm", "-rf", home], check=True)
        home.mkdir(parents=True)
    env = {**(env or {}), "DAGSTER_HOME": str(home)}
    result = measure([BIN / "assurance", "cycle", "--standard", standard, "--source", source, "--evidence", evidence,
                      "--from", window[0], "--to", window[1], "--seed", "scale-bench"], env=env)
    code = ("import dagster as dg, json; i = dg.DagsterInstance.get(); r = i.get_runs(limit=1)[0]; "
            "print(json.dumps({s.step_key: s.end_time - s.start_time for s in i.get_run_step_stats(r.run_id)}))")
    steps = json.loads(subprocess.run([BIN / "python", "-c", code], capture_output=True, text=True, check=True,
                                      env={**os.environ, **env}).stdout.strip().splitlines()[-1])
    result["growing_s"] = sum(took for step, took in steps.items() if step.split(".")[0] in GROWING_STEPS)  # a graph asset's ops: asset.op
    result["steps"] = steps
    return result


def new_database(database: str) -> None:
    """An empty PostgreSQL database of this name (dropped first if it was there)."""
    for sql in (f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database}"):
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)


def load_postgres(log: Path, database: str) -> str:
    """The log as a PostgreSQL table (`decisions` in `database`, its primary key decision_id), copied in once; returns
    the source URI."""
    new_database(database)
    csv = log.with_suffix(".csv")
    code = f"""
import duckdb, psycopg
con = duckdb.connect()
con.execute("COPY (SELECT * FROM read_parquet('{log}')) TO '{csv}' (HEADER, DELIMITER ',')")
kinds = {{'VARCHAR': 'text', 'DOUBLE': 'double precision', 'BIGINT': 'bigint', 'BOOLEAN': 'boolean', 'TIMESTAMP WITH TIME ZONE': 'timestamptz'}}
columns = ', '.join(f'"{{n}}" {{kinds[t]}}' for n, t, *_ in con.execute("DESCRIBE SELECT * FROM read_parquet('{log}')").fetchall())
with psycopg.connect('{PG}/{database}') as pg:
    pg.execute(f'CREATE TABLE decisions ({{columns}})')
"""
    subprocess.run([BIN / "python", "-c", code], check=True)
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qc", f"\\copy decisions FROM '{csv}' CSV HEADER"], check=True)
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qc",  # as a production table of decisions has
                    "ALTER TABLE decisions ADD PRIMARY KEY (decision_id)"], check=True)
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qc", "VACUUM (ANALYZE) decisions"], check=True)
    csv.unlink()
    return f"{PG}/{database}?table=decisions"


def pg_instance(work: Path, database: str) -> tuple[Path, dict]:
    """A Dagster home whose instance (runs, events, schedules) is kept in PostgreSQL, in a new `database`, as
    `deploy/dagster.postgres.yaml` sets it up; with the variables it reads."""
    new_database(database)
    home = work / "home-pg"
    subprocess.run(["rm", "-rf", home], check=True)
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text((ROOT / "deploy" / "dagster.postgres.yaml").read_text())
    return home, {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": "5432", "DAGSTER_PG_DB": database,
                  "DAGSTER_PG_USERNAME": "postgres", "DAGSTER_PG_PASSWORD": ""}


def pg_floor(database: str, columns: list[str]) -> dict:
    hashed = " || ".join(f"coalesce(CAST({c} AS text), '')" for c in columns)
    sql = (f"SELECT count(*) FROM decisions WHERE decided_at >= '2026-05-01' AND decided_at < '2026-07-01' AND md5({hashed}) IS NOT NULL")
    return measure(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qAtc", sql])


def one_size(work: Path, rows: int, peers: bool) -> dict:
    log = make_log(work, rows)
    name = f"{rows // 1_000_000}m"
    standard, evidence, baseline = prepare_standard(work, name, str(log))
    columns = cycle_columns(standard)
    out = {"rows": rows, "parquet_mib": log.stat().st_size / 2**20, "baseline": baseline}
    out["floor"] = measure([BIN / "python", "-c", FLOOR, f"read_parquet('{log}')", " ".join(columns)])
    out["empty"] = run_cycle(standard, evidence, str(log), EMPTY, work / "home")
    out["cycle"] = run_cycle(standard, evidence, str(log), WINDOW, work / "home")
    out["empty_recurring"] = run_cycle(standard, evidence, str(log), EMPTY, work / "home", fresh=False)
    out["full_inspection"] = measure([BIN / "python", "-c", FULL_INSPECTION, log, standard, *WINDOW], env={"PYTHONPATH": str(ROOT)})
    if peers and BENCH.exists():
        out["gx"] = measure([BENCH / "python", "-c", GX, log, json.dumps(GX_CONDITIONS)])
        out["evidently"] = measure([BENCH / "python", "-c", EVIDENTLY, log, " ".join(drift_columns(standard))])
    return out


def one_postgres(work: Path, rows: int) -> dict:
    log = make_log(work, rows)
    database = f"assurance_scale_{rows // 1_000_000}m"
    started = time.perf_counter()
    source = load_postgres(log, database)
    standard, evidence, baseline = prepare_standard(work, f"pg{rows // 1_000_000}m", source)
    out = {"rows": rows, "load_s": time.perf_counter() - started, "baseline": baseline}
    out["floor"] = pg_floor(database, cycle_columns(standard))
    out["empty"] = run_cycle(standard, evidence, source, EMPTY, work / "home")
    out["cycle"] = run_cycle(standard, evidence, source, WINDOW, work / "home")
    out["empty_recurring"] = run_cycle(standard, evidence, source, EMPTY, work / "home", fresh=False)
    home, env = pg_instance(work, f"{database}_dagster")
    run_cycle(standard, evidence, source, EMPTY, home, fresh=False, env=env)  # makes the instance's tables
    out["empty_pg_instance"] = run_cycle(standard, evidence, source, EMPTY, home, fresh=False, env=env)
    return out


def table(results: list[dict]) -> str:
    """The README's table: seconds (wall) and peak MiB per measurement, and the ratios the targets are stated in."""
    def cell(r: dict | None) -> str:
        if not r:
            return "–"
        return f"{r['wall']:.1f} s, {r['rss_mib']:.0f} MiB" if r.get("rc") == 0 else f"failed: {r.get('error', '')[:40]}"

    def fixed(r: dict) -> str:
        others = [f"{r[key]['wall']:.1f} s {label}" for key, label in (("empty_recurring", "recurring"),
                  ("empty_pg_instance", "on a PostgreSQL instance")) if r.get(key)]
        return f"{r['empty']['wall']:.1f} s" + (f" ({'; '.join(others)})" if others else "")

    lines = ["| source | decisions | floor | cycle | of which fixed (empty window: new instance, recurring) | growing steps | full inspection | GX | Evidently | baseline |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['source']} | {r['rows']:,} | {cell(r['floor'])} | {cell(r['cycle'])} | {fixed(r)} | "
                     f"{r['cycle']['growing_s']:.1f} s | {cell(r.get('full_inspection'))} | {cell(r.get('gx'))} | {cell(r.get('evidently'))} | "
                     f"{cell(r['baseline'])} |")
    lines += ["", "| source | decisions | cycle / floor | growing steps / floor | cycle / full inspection | GX / cycle | Evidently / cycle |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        cycle, floor = r["cycle"]["wall"], r["floor"]["wall"]
        ratio = lambda other: f"{other['wall'] / cycle:.1f}x" if other and other.get("rc") == 0 else "–"  # noqa: E731
        full = r.get("full_inspection")
        lines.append(f"| {r['source']} | {r['rows']:,} | {cycle / floor:.0f}x | {r['cycle']['growing_s'] / floor:.0f}x | "
                     f"{cycle / full['wall']:.1f}x | {ratio(r.get('gx'))} | {ratio(r.get('evidently'))} |" if full else
                     f"| {r['source']} | {r['rows']:,} | {cycle / floor:.0f}x | {r['cycle']['growing_s'] / floor:.0f}x | – | – | – |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--postgres", type=int, nargs="*", default=[])
    parser.add_argument("--no-peers-above", type=int, default=10_000_000, help="run GX and Evidently only up to this size")
    parser.add_argument("--work", type=Path, default=Path("/tmp/assurance-scale"))
    parser.add_argument("--out", type=Path, help="append each result as a JSON line to this file")
    parser.add_argument("--table", type=Path, help="only print the README's tables from this file of results")
    args = parser.parse_args()
    if args.table:
        print(table([json.loads(line) for line in args.table.read_text().splitlines() if line.strip()]))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    jobs = [("parquet", rows) for rows in args.sizes] + [("postgres", rows) for rows in args.postgres]
    for kind, rows in jobs:
        result = one_postgres(args.work, rows) if kind == "postgres" else one_size(args.work, rows, rows <= args.no_peers_above)
        result["source"] = kind
        line = json.dumps(result)
        print(line, flush=True)
        if args.out:
            with args.out.open("a") as f:
                f.write(line + "\n")


if __name__ == "__main__":
    main()
