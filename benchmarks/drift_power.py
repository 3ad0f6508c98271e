"""Drift power benchmark: detection power and false-alarm rate, this project against Evidently's DataDriftPreset.

Both see the same windows of decisions drawn from a go-live distribution and from graded shifts of it. This
project compares each window with its aggregate baseline (go-live counts per cell, decision model) through the
cycle's own detectors and Benjamini–Hochberg; Evidently (0.7) compares it with a raw reference of 5,000 go-live
rows, read four ways: at this project's false-alarm rate (its per-column p-value threshold calibrated on the
stationary samples of each size), any column p < 0.05, dataset drift, and the inputs alone.

Run in the bench venv (`make bench`, or `.venv-bench/bin/python benchmarks/drift_power.py --reps 100`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from assurance_pipeline.drift.baseline import compute_baseline
from assurance_pipeline.drift.cost import cost_findings
from assurance_pipeline.drift.detectors import drift_findings, override_tests, point_drift_tests
from assurance_pipeline.sampling.cycle_plan import PointPlan
from assurance_pipeline.sampling.population import ActorGroup, PopulationProfile
from assurance_pipeline.validation.conformance import validate_point
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.models import DecisionPoint, Standard, StandardHeader

TERMS = [12, 24, 36, 48, 60]  # a loan term in months
RATING_SHARES = (0.1, 0.2, 0.4, 0.2, 0.1)  # a rating of 1 to 5, 3.0 on average
TERM_SHARES = (0.1, 0.2, 0.4, 0.2, 0.1)
POINT = DecisionPoint(
    id="approval", title="t", meaning="m", authority="a", owner="o", risk_tier="high",
    contract={"x": {"type": "float"}, "c": {"type": "string", "isin": ["a", "b", "c"]}, "flag": {"type": "boolean"},
              "rating": {"type": "integer"}, "term": {"type": "integer", "isin": TERMS},
              "decision": {"type": "string", "isin": ["approve", "reject"]}, "signoff": {"type": "string", "nullable": True}},
    conditions=[{"id": "C-1", "title": "sign-off above 100", "when": "x > 100", "require": "signoff IS NOT NULL", "severity": "high"}],
    decision_field="decision", input_fields=["x", "c", "flag", "rating", "term"], cost={"budget_per_decision": 1.0},
)
STANDARD = Standard(header=StandardHeader(name="bench", version="1", owner="o"), decision_points={"approval": POINT})
MONITORED = ["x", "c", "flag", "rating", "term", "decision", "cost", "overridden", "signed"]  # what an input/output monitor is given
INPUTS = ["x", "c", "flag", "rating", "term"]  # what an input-only monitor is given

# scenario -> (kind of drift, generator parameters)
SCENARIOS = {
    "stationary": ("none", {}),
    "input shift 0.1 sd": ("input", {"shift": 2.0}),
    "input shift 0.25 sd": ("input", {"shift": 5.0}),
    "input shift 0.5 sd": ("input", {"shift": 10.0}),
    "category mix shift (a 50%->40%)": ("input", {"mix": [0.4, 0.3, 0.3]}),
    "rating 3.0 -> 3.5 on average": ("input", {"rating": (0.05, 0.1, 0.3, 0.3, 0.25)}),
    "term mix moves 10 points (36 -> 60 months)": ("input", {"terms": (0.1, 0.2, 0.3, 0.2, 0.2)}),
    "behaviour change, inputs unchanged (mild)": ("behaviour", {"flip": (100, 110)}),
    "behaviour change, inputs unchanged (strong)": ("behaviour", {"flip": (85, 110)}),
    "cost creep +20%": ("cost", {"cost": 0.06}),
    "cost creep +60%": ("cost", {"cost": 0.08}),
    "override creep 5%->10%": ("override", {"override": 0.10}),
    "override creep 5%->20%": ("override", {"override": 0.20}),
    "skipped check 10% (sign-off above 100)": ("conformance", {"skip": 0.10}),
    "skipped check 30% (sign-off above 100)": ("conformance", {"skip": 0.30}),
}


def decisions(rng: np.random.Generator, n: int, shift: float = 0.0, mix=(0.5, 0.3, 0.2), flip=None, cost: float = 0.05,
              override: float = 0.05, skip: float = 0.0, rating=RATING_SHARES, terms=TERM_SHARES) -> pd.DataFrame:
    x = rng.normal(100 + shift, 20, n)
    c = rng.choice(["a", "b", "c"], n, p=list(mix))
    flag = rng.random(n) < 0.3
    approve = (x < 110) & ~flag
    if flip:
        approve &= ~((x > flip[0]) & (x < flip[1]))
    approve ^= rng.random(n) < 0.03
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return pd.DataFrame({
        "decision_id": [f"D{i}" for i in range(n)], "decision_point": "approval",
        "decided_at": [start + dt.timedelta(minutes=i) for i in range(n)], "actor_type": "agent", "actor_id": "bot",
        "actor_version": "1", "reviewed_by": None, "overridden": rng.random(n) < override,
        "cost": rng.gamma(4.0, cost / 4.0, n), "x": x, "c": c, "flag": flag,
        "rating": rng.choice(np.arange(1, 6), n, p=list(rating)), "term": rng.choice(TERMS, n, p=list(terms)),
        "decision": np.where(approve, "approve", "reject"),
        "signoff": np.where((x > 100) & (rng.random(n) < skip), None, "manager"),
    }).assign(signed=lambda frame: frame.signoff.notna())


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.set_column(table.schema.get_field_index("decided_at"), "decided_at",
                            table.column("decided_at").cast(pa.timestamp("us", tz="UTC")))


def golive_baseline(rng: np.random.Generator) -> dict:
    con = duckdb.connect()
    con.register("golive", to_arrow(decisions(rng, 20_000)))
    con.execute("CREATE VIEW decisions AS SELECT * FROM golive")
    return compute_baseline(con, STANDARD, Window.parse("2026-01-01", "2026-12-31"))


def ours(baseline: dict, sample: pd.DataFrame) -> bool:
    """The cycle's detectors on one sample: drift tests with BH and floors, override and cost against baseline."""
    con = duckdb.connect()
    con.register("drawn", to_arrow(sample))
    con.execute("CREATE VIEW decisions AS SELECT * FROM drawn")  # the window: drift is counted over all of it
    con.execute("CREATE TABLE sample AS SELECT * FROM drawn")  # and, sampled whole, conformance
    profile = PopulationProfile([ActorGroup("approval", "agent", "bot", "1", len(sample), len(sample), len(sample), int(sample.overridden.sum()))],
                                cost_totals={"approval": float(sample.cost.sum())})
    tests = [t.to_dict() for t in [*point_drift_tests(con, POINT, baseline["points"]["approval"], Window()), *override_tests(profile, baseline, [POINT])]]
    found = drift_findings(tests) + [f for f in cost_findings(STANDARD, profile, baseline, ["approval"]) if f.details["against"] == "baseline"]
    plan = PointPlan("approval", "high", 0.95, 0.05, 0.0, len(sample), 0, 10**9, len(sample))
    conformance = validate_point(con, POINT, plan).evaluation["conclusion"]  # the cycle's own DCT evaluation
    return bool(found) or conformance != "within_tolerable"


def _evidently(reference: pd.DataFrame, sample: pd.DataFrame, **preset_options) -> list[dict]:
    """One Evidently DataDriftPreset report of the monitored columns; its metrics."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=["x", "rating", "cost"], categorical_columns=["c", "flag", "term", "decision", "overridden", "signed"])

    def as_data(frame: pd.DataFrame) -> Dataset:
        return Dataset.from_pandas(frame[MONITORED].astype({"flag": str, "term": str, "overridden": str, "signed": str}), data_definition=definition)

    return Report([DataDriftPreset(**preset_options)]).run(current_data=as_data(sample), reference_data=as_data(reference)).dict()["metrics"]


def evidently_p_values(reference: pd.DataFrame, sample: pd.DataFrame) -> dict[str, float]:
    """Evidently's per-column drift p-values (KS for numbers, chi-square for categories)."""
    metrics = _evidently(reference, sample, num_method="ks", cat_method="chisquare", num_threshold=0.05, cat_threshold=0.05)
    return {m["config"]["column"]: float(m["value"]) for m in metrics if m["metric_name"].startswith("ValueDrift")}


def evidently_default_flags(reference: pd.DataFrame, sample: pd.DataFrame) -> bool:
    """Evidently's defaults with this reference (normed Wasserstein / Jensen-Shannon >= 0.1): any column flagged."""
    metrics = _evidently(reference, sample)
    return next(m for m in metrics if m["metric_name"].startswith("DriftedColumnsCount"))["value"]["count"] > 0


def _fresh_process(setup: str, timed: str) -> tuple[float, float]:
    """Wall seconds of `timed` and peak resident MiB of a fresh interpreter that runs `setup` then `timed`."""
    script = (
        "import resource, sys, time; sys.path.insert(0, 'benchmarks'); import numpy as np; import drift_power as b\n"
        f"{setup}\nstart = time.perf_counter()\n{timed}\n"
        "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout.split()
    return float(out[-2]), float(out[-1])


def per_sample_memory(n: int, reps: int = 20) -> dict[str, float]:
    """Peak memory of a process that builds its baseline (ours) or reference (Evidently) and checks `reps` samples."""
    setup = f"rng = np.random.default_rng(1); base = b.golive_baseline(rng); ref = b.decisions(rng, 5000); samples = [b.decisions(rng, {n}) for _ in range({reps})]"
    return {
        "ours": _fresh_process(setup, "[b.ours(base, s) for s in samples]")[1],
        "evidently": _fresh_process(setup, "[b.evidently_p_values(ref, s) for s in samples]")[1],
    }


def write_golive_log(path: Path, rows: int, chunk: int = 500_000) -> None:
    """A go-live decision log of `rows` decisions as one parquet file, written a chunk at a time."""
    rng, writer = np.random.default_rng(7), None
    for start in range(0, rows, chunk):
        table = to_arrow(decisions(rng, min(chunk, rows - start)).assign(decision_id=lambda f, s=start: f"B{s}-" + f.decision_id))
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


def golive_log_cost(path: Path) -> dict[str, tuple[float, float]]:
    """Seconds and peak MiB to hold a sample of 1,000 to this go-live log: our baseline is one DuckDB scan of
    the file into aggregates; Evidently needs the log's rows in memory as its reference."""
    setup = "import duckdb, pandas as pd; import evidently.presets; sample = b.decisions(np.random.default_rng(3), 1000)"
    ours = (
        f"con = duckdb.connect(); con.execute(\"CREATE VIEW decisions AS SELECT * FROM read_parquet('{path}')\")\n"
        "base = b.compute_baseline(con, b.STANDARD, b.Window.parse('2026-01-01', '2026-12-31')); b.ours(base, sample)"
    )
    evidently = f"b.evidently_p_values(pd.read_parquet('{path}'), sample)"
    return {"ours": _fresh_process(setup, ours), "evidently": _fresh_process(setup, evidently)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--null-reps", type=int, default=200, help="stationary samples per size (they calibrate Evidently)")
    parser.add_argument("--golive-rows", type=int, nargs="*", default=[1_000_000, 5_000_000, 10_000_000],
                        help="go-live log sizes for the memory comparison (baseline scan vs Evidently reference)")
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), help="a subset (stationary always runs first)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    rng = np.random.default_rng(2026)
    baseline, reference = golive_baseline(rng), decisions(rng, 5_000)
    rows, seconds = [], {"ours": [], "evidently": []}
    for n in args.sizes:
        calibrated = None
        for name, (_, params) in [(s, SCENARIOS[s]) for s in ["stationary", *[s for s in args.scenarios if s != "stationary"]]]:
            hits = {"ours": 0, "any_p05": 0, "dataset": 0, "calibrated": 0, "inputs_only": 0}
            min_p, reps = [], args.null_reps if name == "stationary" else args.reps
            for _ in range(reps):
                sample = decisions(rng, n, **params)
                start = time.perf_counter()
                hits["ours"] += ours(baseline, sample)
                seconds["ours"].append(time.perf_counter() - start)
                start = time.perf_counter()
                p = evidently_p_values(reference, sample)
                seconds["evidently"].append(time.perf_counter() - start)
                min_p.append(min(p.values()))
                hits["any_p05"] += min(p.values()) < 0.05
                hits["dataset"] += sum(v < 0.05 for v in p.values()) >= 0.5 * len(p)
                hits["inputs_only"] += min(p[c] for c in INPUTS) < 0.05 / len(INPUTS)  # Bonferroni over the inputs
                if calibrated is not None:
                    hits["calibrated"] += min(p.values()) < calibrated
            if calibrated is None:  # stationary comes first: the threshold that gives Evidently our false-alarm rate
                calibrated = float(np.quantile(min_p, hits["ours"] / reps))
                hits["calibrated"] = sum(v < calibrated for v in min_p)
            rows.append((name, n, reps, *(hits[k] / reps for k in ("ours", "calibrated", "any_p05", "dataset", "inputs_only"))))
            print(f"{name} n={n}: {rows[-1][3:]}", flush=True)
    defaults = {n: np.mean([evidently_default_flags(reference, decisions(rng, n)) for _ in range(20)]) for n in args.sizes}
    print("\n| scenario | n | samples | this project | Evidently, equal false-alarm rate | Evidently, any column p < 0.05 | Evidently, dataset drift | Evidently, inputs only |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, n, reps, *rates in rows:
        print(f"| {name} | {n} | {reps} | " + " | ".join(f"{r:.0%}" for r in rates) + " |")
    print("\nEvidently's defaults (distance tests, any column flagged) on stationary samples: "
          + ", ".join(f"n={n}: {v:.0%}" for n, v in defaults.items()))
    print(f"mean seconds per sample: this project {np.mean(seconds['ours']):.3f}, Evidently {np.mean(seconds['evidently']):.3f}")
    memory = per_sample_memory(1000)
    print(f"peak memory (process, 20 samples of 1000): this project {memory['ours']:.0f} MiB, Evidently {memory['evidently']:.0f} MiB")
    for rows in args.golive_rows:
        with tempfile.TemporaryDirectory() as tmp:
            write_golive_log(Path(tmp) / "golive.parquet", rows)
            cost = golive_log_cost(Path(tmp) / "golive.parquet")
        print(f"go-live log of {rows:,} decisions, one sample of 1000: this project {cost['ours'][0]:.1f} s, {cost['ours'][1]:.0f} MiB; "
              f"Evidently {cost['evidently'][0]:.1f} s, {cost['evidently'][1]:.0f} MiB")


if __name__ == "__main__":
    main()
