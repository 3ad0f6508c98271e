"""Decision drift that separates changed behaviour from moved inputs: the share of windows with a decision_drift
finding, this project's tests within the go-live tree's leaves against the unstratified tests they replaced.

A car-loan decision point: the car's value, the loan's length and the applicant's salary band decide approval.
Cars well within what the salary band affords are approved and cars well beyond it rejected; in between, and
for the longest loans, the go-live decisions were a coin toss (a region where the rules were already
uncertain), with 3% noise everywhere. Windows are drawn

- with the inputs moved into the uncertain region (dearer cars, longer loans, lower salary bands) and the
  decision rules unchanged: no decision drift happened, only data drift;
- with the inputs unchanged and the rules changed (cars of 70% to 95% of the band's limit, approved at
  go-live, now rejected: a third of them (mild) or all (strong));
- stationary.

Each window goes through the cycle's own drift tests (Benjamini–Hochberg at the cycle's FDR across every test of
the point, the default floors). "New": the disagreement and decision-mix tests within the go-live tree's leaves
(exact stratified and stratified permutation). "Old": the same cycle with those two replaced by the tests before
this change: one-sided Fisher exact of the window's disagreement against the held-out go-live rate, and the
permutation chi-square of the decision mix against the go-live frequencies, effect floors as they had.
The go-live window (20,000 decisions) is redrawn for every block of windows.

    nice -n 10 .venv/bin/python benchmarks/decision_drift.py --windows 150
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import duckdb
import numpy as np
import pyarrow as pa

from assurance_pipeline.drift import statistics as st
from assurance_pipeline.drift.baseline import compute_baseline
from assurance_pipeline.drift.cell_counts import category_cells, count_cells
from assurance_pipeline.validation.point_rows import window_relation
from assurance_pipeline.drift.detectors import DriftTest, drift_findings, point_drift_tests
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.models import DecisionPoint, Standard, StandardHeader

SALARY_BANDS = ["low", "mid", "high"]
AFFORDABLE = {"low": 15_000.0, "mid": 30_000.0, "high": 60_000.0}  # the car value each band affords
MONTHS = [24, 36, 48, 60, 72]
POINT = DecisionPoint(
    id="car_loan", title="t", meaning="m", authority="a", owner="o", risk_tier="high",
    contract={"car_value": {"type": "float"}, "loan_months": {"type": "integer", "isin": MONTHS},
              "salary_band": {"type": "string", "isin": SALARY_BANDS}, "decision": {"type": "string", "isin": ["approve", "reject"]}},
    decision_field="decision", input_fields=["car_value", "loan_months", "salary_band"],
)
STANDARD = Standard(header=StandardHeader(name="decision drift", version="1", owner="o"), decision_points={"car_loan": POINT})
MONTH_SHARES = (0.15, 0.25, 0.3, 0.2, 0.1)
BAND_SHARES = (0.3, 0.5, 0.2)

# scenario -> generator parameters
SCENARIOS = {
    "stationary": {},
    "inputs: cars 15% dearer": {"value": 1.15},
    "inputs: cars 30% dearer": {"value": 1.3},
    "inputs: cars 30% dearer, longer loans, lower bands": {"value": 1.3, "months": (0.05, 0.15, 0.3, 0.25, 0.25), "bands": (0.45, 0.45, 0.1)},
    "behaviour: a third of cars at 70-95% of the limit now rejected (mild)": {"reject": (0.7, 0.95, 1 / 3)},
    "behaviour: all cars at 70-95% of the limit now rejected (strong)": {"reject": (0.7, 0.95, 1.0)},
}


def decisions(rng: np.random.Generator, n: int, value: float = 1.0, months=MONTH_SHARES, bands=BAND_SHARES,
              reject: tuple[float, float, float] | None = None) -> pa.Table:
    """n car-loan decisions: approved within 95% of the band's limit, rejected beyond 120%, a coin toss in between
    and for 72-month loans over 75% of it; 3% noise. `reject` = (low, high, share): that share of cars between low
    and high times the limit, approved at go-live, now rejected."""
    band = rng.choice(SALARY_BANDS, n, p=list(bands))
    loan = rng.choice(MONTHS, n, p=list(months))
    car = rng.lognormal(np.log(14_000), 0.5, n) * np.where(band == "high", 2.5, np.where(band == "mid", 1.6, 1.0)) * value
    ratio = car / np.array([AFFORDABLE[b] for b in band])
    uncertain = ((ratio > 0.95) & (ratio <= 1.2)) | ((loan == 72) & (ratio > 0.75))
    approve = np.where(uncertain, rng.random(n) < 0.5, ratio <= 0.95)
    if reject:
        approve &= ~(~uncertain & (ratio > reject[0]) & (ratio <= reject[1]) & (rng.random(n) < reject[2]))
    approve ^= rng.random(n) < 0.03
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return pa.table({
        "decision_id": [f"D{i}" for i in range(n)], "decision_point": ["car_loan"] * n,
        "decided_at": pa.array([start + dt.timedelta(minutes=i) for i in range(n)], pa.timestamp("us", tz="UTC")),
        "actor_type": ["agent"] * n, "actor_id": ["bot"] * n, "actor_version": ["1"] * n, "reviewed_by": pa.nulls(n, pa.string()),
        "overridden": [False] * n, "cost": [0.1] * n, "car_value": np.round(car, -1), "loan_months": loan, "salary_band": band,
        "decision": np.where(approve, "approve", "reject"),
    })


def connect(table: pa.Table) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("log_rows", table)
    con.execute("CREATE VIEW decisions AS SELECT * FROM log_rows")
    return con


def golive_baseline(rng: np.random.Generator, rows: int = 20_000) -> dict:
    return compute_baseline(connect(decisions(rng, rows)), STANDARD, Window())["points"]["car_loan"]


def old_decision_tests(con: duckdb.DuckDBPyConnection, baseline: dict) -> list[DriftTest]:
    """The decision tests before this change, on the same window: unstratified Fisher on the disagreement, and the
    permutation chi-square of the decision mix against the go-live frequencies."""
    model, floors = baseline["decision_model"], POINT.drift_floors
    present = set(POINT.contract)
    _, leaves = count_cells(con, POINT, window_relation("TRUE"), present, {}, model, category_cells(POINT.contract["decision"]))
    disagree, decided = sum(leaves.disagreeing.values()), sum(leaves.decided.values())
    rate, base = disagree / decided, model["baseline_disagreement"]
    fisher = DriftTest("decision_drift", POINT.id, "decision", "fisher_exact_vs_baseline_model", rate,
                       st.rise_p(disagree, decided, model["held_out_disagreeing"], model["held_out"]),
                       "disagreement_increase", rate - base, floors.disagreement, decided, "")
    go_live = baseline["columns"]["decision"]["frequencies"]
    values = sorted(go_live)
    window = np.array([sum(leaf.get(v, 0) for leaf in leaves.decisions.values()) for v in values])
    golive = np.array([go_live[v] for v in values])
    statistic, p = st.permutation_test(st.pearson_chi_square_cells, window, golive)
    rates = DriftTest("decision_drift", POINT.id, "decision", "chi_square_permutation", statistic, p, "jensen_shannon",
                      st.jensen_shannon_distance(window, golive), floors.jensen_shannon, int(window.sum()), "", "categories")
    return [fisher, rates]


def one_window(baseline: dict, table: pa.Table) -> dict[str, float]:
    """Whether each method raises a decision_drift finding on this window (and the old Fisher test alone), whether
    data drift is found, and the window's disagreement with the go-live rules against what its inputs lead to expect."""
    con = connect(table)
    new = point_drift_tests(con, POINT, baseline, Window())
    old = [t for t in new if t.kind != "decision_drift"] + old_decision_tests(con, baseline)
    found_new, found_old = drift_findings([t.to_dict() for t in new]), drift_findings([t.to_dict() for t in old])
    [disagreement] = [t for t in new if t.test == "exact_stratified_by_leaf"]
    return {"new": any(f.kind == "decision_drift" for f in found_new), "old": any(f.kind == "decision_drift" for f in found_old),
            "old_fisher": any(f.details["test"]["test"] == "fisher_exact_vs_baseline_model" for f in found_old),
            "data": any(f.kind == "data_drift" for f in found_new),
            "disagreeing": disagreement.statistic, "expected": disagreement.expected}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--windows", type=int, default=150, help="windows per cell")
    parser.add_argument("--golive-draws", type=int, default=5, help="go-live windows per size, each with windows / draws windows a cell")
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS))
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    rows, started = [], time.perf_counter()
    for n in args.sizes:
        measured = {name: [] for name in args.scenarios}
        golive = []
        for _ in range(args.golive_draws):
            baseline = golive_baseline(rng)
            golive.append(baseline["decision_model"]["baseline_disagreement"])
            for name in args.scenarios:
                measured[name] += [one_window(baseline, decisions(rng, n, **SCENARIOS[name])) for _ in range(args.windows // args.golive_draws)]
        for name in args.scenarios:
            mean = {key: float(np.mean([m[key] for m in measured[name]])) for key in measured[name][0]}
            rows.append((name, n, len(measured[name]), mean, float(np.mean(golive))))
            print(f"{name} n={n}: {mean} ({time.perf_counter() - started:.0f} s)", flush=True)
    print("\n| scenario | n | windows | disagreeing (expected for the inputs; go-live) | decision_drift, old: Fisher + chi-square "
          "(Fisher alone) | decision_drift, new: within leaves | data_drift |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, n, windows, m, golive in rows:
        print(f"| {name} | {n} | {windows} | {m['disagreeing']:.1%} ({m['expected']:.1%}; {golive:.1%}) | "
              f"{m['old']:.1%} ({m['old_fisher']:.1%}) | {m['new']:.1%} | {m['data']:.1%} |")
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
