"""False alarms on stationary data: the share of cycles that raise any drift finding when nothing drifted.

A matrix of the shapes decision logs really have (continuous, heavy-tailed, a rating 0–5, Poisson counts,
rounded amounts, zero-inflated amounts, a 30-level category with rare levels, 20 input columns on one point,
6 decision points in one cycle), windows of n decisions per point and go-live windows of 500 and 20,000.
Every point also has a score and a decision made from it, so the decision-rate and decision-rule tests run
too. Go-live and window are drawn from the same distribution; the go-live window is redrawn for every
block of cycles, so its own sampling error is part of what is measured. A cycle is the cycle's own drift
detectors over the window (every test of every point, Benjamini–Hochberg at 5% across them, the default
materiality floors).

    .venv/bin/python benchmarks/false_alarms.py --cycles 400 --jobs 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import multiprocessing
import time

import duckdb
import numpy as np
import pyarrow as pa
from scipy import stats

from assurance_pipeline.drift.baseline import compute_baseline
from assurance_pipeline.drift.detectors import drift_findings, point_drift_tests
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.models import DecisionPoint, Standard, StandardHeader

LEVELS = [f"L{i:02d}" for i in range(30)]
LEVEL_SHARES = np.array([0.3, 0.2, 0.1, *[0.06] * 5, *[0.0345] * 2, *[0.002] * 20])  # 20 rare levels of 0.2%
LEVEL_SHARES = LEVEL_SHARES / LEVEL_SHARES.sum()
RATING_SHARES = [0.05, 0.1, 0.2, 0.3, 0.25, 0.1]

# column kind -> (contract, generator)
KINDS = {
    "continuous": ({"type": "float"}, lambda rng, n: rng.normal(100, 20, n)),
    "heavy-tailed": ({"type": "float"}, lambda rng, n: (rng.pareto(2.5, n) + 1) * 100),
    "integer 0-5": ({"type": "integer"}, lambda rng, n: rng.choice(6, n, p=RATING_SHARES)),
    "Poisson(30)": ({"type": "integer"}, lambda rng, n: rng.poisson(30, n)),
    "rounded amounts": ({"type": "float"}, lambda rng, n: np.round(rng.lognormal(5, 0.6, n), -1)),
    "zero-inflated": ({"type": "float"}, lambda rng, n: np.where(rng.random(n) < 0.4, 0.0, np.round(rng.lognormal(4, 1, n), 2))),
    "30-level category": ({"type": "string", "isin": LEVELS}, lambda rng, n: rng.choice(LEVELS, n, p=LEVEL_SHARES)),
}
MIXED = list(KINDS)[1:]  # the tied and skewed kinds, repeated to 20 columns

# shape -> per decision point, the kinds of its input columns
SHAPES = {
    **{kind: [[kind]] for kind in KINDS},
    "20 input columns": [[MIXED[i % len(MIXED)] for i in range(20)]],
    "6 decision points": [["continuous", "integer 0-5", "zero-inflated", "30-level category"]] * 6,
}


def standard_for(shape: str) -> Standard:
    points = {}
    for p, kinds in enumerate(SHAPES[shape]):
        contract = {f"in{i}": KINDS[k][0] for i, k in enumerate(kinds)}
        contract |= {"score": {"type": "float"}, "decision": {"type": "string", "isin": ["approve", "reject"]}}
        points[f"p{p}"] = DecisionPoint(id=f"p{p}", title="t", meaning="m", authority="a", owner="o", risk_tier="high",
                                        contract=contract, decision_field="decision", input_fields=[*contract][:-1])
    return Standard(header=StandardHeader(name="false alarms", version="1", owner="o"), decision_points=points)


def decisions(rng: np.random.Generator, shape: str, n: int) -> pa.Table:
    """n stationary decisions per point of `shape`: its inputs, a score, a decision made from the score (5% noise)."""
    columns: dict[str, list] = {}
    for p, kinds in enumerate(SHAPES[shape]):
        score = rng.normal(0, 1, n)
        approve = (score > 0) ^ (rng.random(n) < 0.05)
        values = {f"in{i}": KINDS[k][1](rng, n) for i, k in enumerate(kinds)} | {"score": score, "decision": np.where(approve, "approve", "reject")}
        values |= {"decision_id": [f"{p}-{i}" for i in range(n)], "decision_point": [f"p{p}"] * n}
        for name, column in values.items():
            columns.setdefault(name, []).extend(list(column))
    total = len(columns["decision_id"])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return pa.table({
        **{k: columns[k] for k in ("decision_id", "decision_point")},
        "decided_at": pa.array([start + dt.timedelta(seconds=i) for i in range(total)], pa.timestamp("us", tz="UTC")),
        "actor_type": ["agent"] * total, "actor_id": ["bot"] * total, "actor_version": ["1"] * total,
        "reviewed_by": pa.nulls(total, pa.string()), "overridden": [False] * total, "cost": [0.1] * total,
        **{k: v for k, v in columns.items() if k not in ("decision_id", "decision_point")},
    })


def _window_of(con: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
    con.register("rows", table)
    con.execute("CREATE OR REPLACE VIEW decisions AS SELECT * FROM rows")


def alarms(shape: str, n: int, golive: int, cycles: int, golive_draws: int, seed: int) -> tuple[int, int]:
    """How many of `cycles` stationary cycles raise any drift finding; the go-live is redrawn `golive_draws` times."""
    rng, standard, con = np.random.default_rng(seed), standard_for(shape), duckdb.connect()
    alarmed = 0
    for block in range(golive_draws):
        _window_of(con, decisions(rng, shape, golive))
        baseline = compute_baseline(con, standard, Window())["points"]
        for _ in range(cycles // golive_draws + (block < cycles % golive_draws)):
            _window_of(con, decisions(rng, shape, n))
            tests = [t.to_dict() for p in standard.decision_points.values() for t in point_drift_tests(con, p, baseline[p.id], Window())]
            alarmed += bool(drift_findings(tests))
    return alarmed, cycles


def _cell(args: tuple) -> tuple:
    shape, golive, n, cycles, draws, seed = args
    start = time.perf_counter()
    alarmed, total = alarms(shape, n, golive, cycles, draws, seed)
    return shape, golive, n, alarmed, total, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=400, help="stationary cycles per cell")
    parser.add_argument("--golive-draws", type=int, default=10, help="go-live windows per cell (cycles are split among them)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 60, 150, 1000])
    parser.add_argument("--golive", type=int, nargs="+", default=[500, 20_000])
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="first seed of the cells (another seed, fresh data)")
    args = parser.parse_args()
    cells = [(s, g, n, args.cycles, args.golive_draws, seed)
             for seed, (s, g, n) in enumerate(itertools.product(args.shapes, args.golive, args.sizes), start=args.seed)]
    with multiprocessing.Pool(args.jobs) as pool:
        results = {(s, g, n): (a, t, sec) for s, g, n, a, t, sec in pool.imap_unordered(_cell, cells)}
    print("| shape | go-live | " + " | ".join(f"n = {n:,}" for n in args.sizes) + " |")
    print("|---|---:|" + "---:|" * len(args.sizes))
    worst = 0.0
    for shape, golive in itertools.product(args.shapes, args.golive):
        row = []
        for n in args.sizes:
            alarmed, total, _ = results[(shape, golive, n)]
            high = stats.binomtest(alarmed, total).proportion_ci(0.95, method="exact").high
            row.append(f"{alarmed / total:.1%} (≤ {high:.1%})")
            worst = max(worst, alarmed / total)
        print(f"| {shape} | {golive:,} | " + " | ".join(row) + " |")
    seconds = sum(r[2] for r in results.values())
    print(f"\nrate of cycles with any drift finding (upper end of its exact 95% interval), {args.cycles} cycles a cell, "
          f"{args.golive_draws} go-live windows each; worst cell {worst:.1%}; {seconds / 60:.0f} CPU minutes")


if __name__ == "__main__":
    main()
