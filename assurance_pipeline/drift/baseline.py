"""The go-live baseline: aggregates of the decision log over a clean window, never rows.

Stored as `baseline/baseline.json` inside the standard, so the authorization hash covers it. Format
version 4 holds, per decision point: population, cost and override statistics, actor mix, outcome
metrics, per contract column a profile (numbers: their shape, mean, sd, the scale a shift is measured in
and the go-live counts in their drift cells; categories with `isin` and booleans: frequencies, values
outside the contract counted, not named; free text: null and distinct counts only, since its values could
identify people), and, where the point names its `decision_field`, the go-live decision model as readable
rules with, per leaf, the held-out go-live decisions, how many disagree with it and their decisions.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from assurance_pipeline.disclosure import MIN_DECISIONS_SHOWN
from assurance_pipeline.drift.cell_counts import (
    ID_HASH,
    TRAINING_TENTHS,
    category_cells,
    choosing_rows,
    choosing_thin,
    count_cells,
    decision_model_split,
    go_live_halves,
    is_category,
    is_number,
    number_cells,
)
from assurance_pipeline.drift.decision_model import train
from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.sampling.population import profile_population
from assurance_pipeline.sources.decision_log import quote_ident
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.models import DecisionPoint, Standard
from assurance_pipeline.validation.outcomes import metric_values
from assurance_pipeline.validation.point_rows import point_rows_sql

BASELINE_FILE = Path("baseline") / "baseline.json"
FORMAT_VERSION = 4
TRAINING_ROWS = 20_000
TRAINING_SLACK = 1.2  # the decisions ranked for training, as a multiple of TRAINING_ROWS (_training_frame)


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
            "decision_model": _decision_model(con, point, present, count) if count and point.decision_field else None,
            "actors": {f"{g.actor_id}@{g.actor_version}": g.decisions for g in groups},
            "outcomes": _outcomes(con, point) if count else {},
            "columns": _profile_columns(con, point, present, count),
        }
    if not any(p["population"] for p in points.values()):
        raise AssuranceError(f"baseline window {window.to_dict()}: no decision of the standard's decision points in it")
    return {"format_version": FORMAT_VERSION, "window": window.to_dict(), "created_at": _now(), "points": points}


def _outcomes(con: duckdb.DuckDBPyConnection, point: DecisionPoint) -> dict[str, float | None]:
    """Each Outcome Evidence metric over the whole go-live window (the `sample` view here)."""
    _, values, counts = metric_values(con, point, "sample", point.outcome_evidence)
    return {oe.id: value if count >= MIN_DECISIONS_SHOWN else None  # a value of a few decisions is theirs: not kept
            for oe, value, count in zip(point.outcome_evidence, values, counts, strict=True)}


def _profile_columns(con, point: DecisionPoint, present: set[str], decisions: int) -> dict[str, dict]:
    """Per contract column: counts of values, nulls and distinct values; numbers and categories also their drift
    cells (see cell_counts) with the go-live counts in them, counted by the same scan every cycle uses. A number's
    shape, mean, sd and cells come from one half of the point's `decisions` (at most about CHOOSING_ROWS of it), its
    counts from the other."""
    choosing, counted_half = go_live_halves("sample", choosing_thin(decisions))
    profiles, numbers, categories = {}, {}, {}
    names = [name for name in point.contract if name in present]
    number_names = [n for n in names if is_number(point.contract[n])]
    rows = choosing_rows(con, point, choosing, present, number_names) if number_names else None
    counted = ", ".join(f"count({quote_ident(n)}), count(DISTINCT {quote_ident(n)})" for n in names)
    total, *counts = con.execute(f"SELECT count(*){', ' if names else ''}{counted} FROM sample WHERE decision_point = $p", {"p": point.id}).fetchone()
    for name, spec in point.contract.items():
        if name not in present:
            continue
        known, distinct = counts[2 * names.index(name):][:2]
        profiles[name] = {"type": spec.type, "count": total, "nulls": total - known, "distinct": distinct}
        if is_number(spec):
            profiles[name].update(number_cells(con, rows, name))
            numbers[name] = {"upper_edges": profiles[name]["upper_edges"]}
        elif is_category(spec):
            categories[name] = category_cells(spec)
    for name, result in count_cells(con, point, counted_half, present, numbers)[0].items():
        profiles[name]["counts"] = result["counts"]
    for name, result in count_cells(con, point, "sample", present, categories)[0].items():
        profiles[name]["frequencies"] = result["counts"]
    con.execute("DROP TABLE IF EXISTS choosing_rows")
    return profiles


def _decision_model(con, point: DecisionPoint, present: set[str], decisions: int) -> dict | None:
    """Fit the go-live decision rules on the training part of the window (`_training_frame`; rows stay in memory
    only), from the typed rows every cycle judges, the decision spelled as SQL spells it; then count the held-out part
    into the tree's leaves with the scan every cycle uses (`count_cells`)."""
    if point.decision_field not in present:
        return None
    training, held_out = decision_model_split("sample")
    frame = _training_frame(con, point, present, training, decisions)
    model = train(frame, {n: c for n, c in point.drift_inputs().items() if n in present}, point.decision_field)
    if model is None:
        return None
    spec = point.contract[point.decision_field]
    _, leaves = count_cells(con, point, held_out, present, {}, model, category_cells(spec) if is_category(spec) else None)
    held, disagreeing = sum(leaves.decided.values()), sum(leaves.disagreeing.values())
    if not held:
        return None
    return model | {"held_out": held, "held_out_disagreeing": disagreeing, "baseline_disagreement": disagreeing / held,
                    "leaves": leaves.records()}


def _training_frame(con, point: DecisionPoint, present: set[str], training: str, decisions: int) -> pd.DataFrame:
    """The TRAINING_ROWS decisions of the `training` part with the lowest md5 of their id: any engine picks the same
    ones, in parallel (a repeatable reservoir sample ran in one thread: 6.1 against 3.8 s per point of a
    100M-decision log). Of the point's `decisions`, only those whose md5 is under a bound that about TRAINING_SLACK x
    TRAINING_ROWS of them clear are ranked (ranking all held the training part in memory: 250 MiB at 10M), and all of
    them when fewer clear it than are needed."""
    decision = quote_ident(point.decision_field)
    select = ", ".join([*(quote_ident(c) for c in point.drift_inputs() if c in present), f"CAST({decision} AS VARCHAR) AS {decision}"])
    share = TRAINING_SLACK * TRAINING_ROWS / (TRAINING_TENTHS / 10 * max(decisions, 1))
    for bound in [f"{ID_HASH} <= {int(share * 2**64)}", "TRUE"] if share < 1 else ["TRUE"]:
        frame = con.execute(
            f"WITH point_rows AS ({point_rows_sql(point, present, relation=training)}) "
            f"SELECT {select} FROM point_rows WHERE {bound} ORDER BY {ID_HASH}, decision_id LIMIT {TRAINING_ROWS}",
            {"decision_point": point.id},
        ).df()
        if len(frame) == TRAINING_ROWS:
            break
    return frame


def write_baseline(standard_dir: Path, baseline: dict) -> Path:
    path = standard_dir / BASELINE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".baseline.json.tmp")
    tmp.write_text(json.dumps(baseline, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_baseline(standard_dir: Path, files: dict[str, bytes] | None = None) -> dict | None:
    """The standard's go-live baseline, from its file or from the standard's `files` already read (`standard_files`)."""
    path = standard_dir / BASELINE_FILE
    if files is None:
        if not path.is_file():
            return None
        raw = path.read_bytes()
    elif (raw := files.get(BASELINE_FILE.as_posix())) is None:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise AssuranceError(f"{path}: not a readable baseline ({err})") from None
    except RecursionError:  # json nests by recursion; a baseline is a few levels deep
        raise AssuranceError(f"{path}: not a readable baseline (nested too deeply)") from None
    if not isinstance(data, dict):
        raise AssuranceError(f"{path}: not a readable baseline (a JSON object was expected, got {type(data).__name__})")
    if not isinstance(data.get("points"), dict) or not all(isinstance(v, dict) for v in data["points"].values()):
        raise AssuranceError(f"{path}: not a baseline (its 'points' must map each decision point to its aggregates): "
                             "record it again with `assurance baseline` and re-authorize")
    if data.get("format_version") != FORMAT_VERSION:
        raise AssuranceError(f"{path}: baseline format_version {data.get('format_version')!r}, expected {FORMAT_VERSION} "
                             "(recorded by an earlier version): record it again with `assurance baseline` and re-authorize")
    return data


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
