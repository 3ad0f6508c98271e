"""The go-live baseline: aggregates of the decision log over a clean window, never rows.

Stored as `baseline/baseline.json` inside the standard, so the authorization hash covers it. Format
version 2 holds, per decision point: population, cost and override statistics, actor mix, outcome
metrics, per contract column a profile (numbers: the 1st to 99th percentiles; categories with `isin` and
booleans: frequencies; free text: null and distinct counts only, since its values could identify
people), and, where the point names its `decision_field`, the go-live decision model as readable rules.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from assurance_pipeline.drift.decision_model import train
from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.sampling.population import profile_population
from assurance_pipeline.sources.decision_log import quote_ident
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.models import ContractColumn, DecisionPoint, Standard
from assurance_pipeline.validation.outcomes import compute_outcomes

BASELINE_FILE = Path("baseline") / "baseline.json"
FORMAT_VERSION = 2
PERCENTILES = [k / 100 for k in range(1, 100)]
TRAINING_ROWS = 20_000


def compute_baseline(con: duckdb.DuckDBPyConnection, standard: Standard, window: Window) -> dict:
    """Aggregate the `decisions` view over `window` per decision point (the view must be attached)."""
    population = profile_population(con, window)
    con.execute(f"CREATE OR REPLACE TEMP VIEW sample AS SELECT * FROM decisions WHERE {window.predicate()}")
    present = {row[0] for row in con.execute("DESCRIBE sample").fetchall()}
    points = {}
    for point in standard.decision_points.values():
        count = population.count(point.id)
        mean_cost, costed = population.mean_cost(point.id)
        groups = [g for g in population.groups if g.decision_point == point.id]
        known = sum(g.override_known for g in groups)
        overrides = sum(g.overrides for g in groups)
        points[point.id] = {
            "population": count,
            "cost": {"mean": mean_cost, "costed": costed},
            "override_rate": (overrides / known) if known else None,
            "overrides": {"known": known, "overridden": overrides},
            "decision_model": _decision_model(con, point, present) if count and point.decision_field else None,
            "actors": {f"{g.actor_id}@{g.actor_version}": g.decisions for g in groups},
            "outcomes": {o.outcome_id: o.value for o in compute_outcomes(con, point)} if count else {},
            "columns": {name: _profile_column(con, point, name, spec) for name, spec in point.contract.items() if name in present},
        }
    if not any(p["population"] for p in points.values()):
        raise AssuranceError(f"baseline window {window.to_dict()}: no decision of the standard's decision points in it")
    return {"format_version": FORMAT_VERSION, "window": window.to_dict(), "created_at": _now(), "points": points}


def _profile_column(con, point: DecisionPoint, name: str, spec: ContractColumn) -> dict:
    col = quote_ident(name)
    where = "WHERE decision_point = $p"
    total, nulls, distinct = con.execute(f"SELECT count(*), count(*) - count({col}), count(DISTINCT {col}) FROM sample {where}", {"p": point.id}).fetchone()
    profile = {"type": spec.type, "count": total, "nulls": nulls, "distinct": distinct}
    if spec.type in ("integer", "float"):
        mean, std, qs = con.execute(
            f"SELECT avg(TRY_CAST({col} AS DOUBLE)), stddev_samp(TRY_CAST({col} AS DOUBLE)), "
            f"quantile_cont(TRY_CAST({col} AS DOUBLE), {PERCENTILES}) FROM sample {where}", {"p": point.id}
        ).fetchone()
        profile.update(mean=mean, std=std, percentiles=qs)
    elif spec.type == "boolean" or spec.isin is not None:
        rows = con.execute(f"SELECT CAST({col} AS VARCHAR), count(*) FROM sample {where} AND {col} IS NOT NULL GROUP BY 1 ORDER BY 1", {"p": point.id}).fetchall()
        profile["frequencies"] = {value: n for value, n in rows if spec.type == "boolean" or _allowed(value, spec)}
    return profile


def _decision_model(con, point: DecisionPoint, present: set[str]) -> dict | None:
    """Fit the go-live decision rules on a reproducible reservoir sample of the window (rows stay in memory only)."""
    columns = [c for c in [*point.drift_inputs(), point.decision_field] if c in present]
    if point.decision_field not in columns:
        return None
    select = ", ".join(quote_ident(c) for c in columns)
    frame = con.execute(
        f"SELECT {select} FROM sample WHERE decision_point = $p USING SAMPLE reservoir({TRAINING_ROWS} ROWS) REPEATABLE (7)",
        {"p": point.id},
    ).df()
    return train(frame, {n: c for n, c in point.drift_inputs().items() if n in present}, point.decision_field)


def _allowed(value: str, spec: ContractColumn) -> bool:
    """Only authored categories are recorded by name; anything else is counted, not named."""
    return value in {str(v) for v in spec.isin or []}


def write_baseline(standard_dir: Path, baseline: dict) -> Path:
    path = standard_dir / BASELINE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".baseline.json.tmp")
    tmp.write_text(json.dumps(baseline, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_baseline(standard_dir: Path) -> dict | None:
    path = standard_dir / BASELINE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise AssuranceError(f"{path}: not a readable baseline ({err})") from None
    if data.get("format_version") != FORMAT_VERSION:
        raise AssuranceError(f"{path}: baseline format_version {data.get('format_version')!r}, expected {FORMAT_VERSION}: "
                             "record it again with `assurance baseline` and re-authorize")
    return data


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
