"""Cycle scaling benchmark: wall time and peak memory of one governed cycle as the decision log grows.

Compares `assurance cycle` (one pushed-down scan, only the sample leaves the source) with the naive
approach many scripts take: load the whole log into pandas, then sample it. Each measurement runs in
its own process; peak memory is that process's maximum resident set size.

    .venv/bin/python benchmarks/cycle_scaling.py --sizes 120000 1200000 4800000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
NAIVE = """
import sys, pandas as pd
log = pd.read_parquet(sys.argv[1])
window = log[(log.decided_at >= "2026-05-01") & (log.decided_at < "2026-07-01")]
sample = window.groupby("decision_point", group_keys=False).apply(lambda g: g.sample(n=min(len(g), 149), random_state=1))
print(len(sample))
"""


def measure(argv: list[str]) -> tuple[float, float]:
    """(seconds, peak MiB) of one child process."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def one_size(rows: int, workdir: Path) -> dict:
    demo = workdir / f"demo-{rows}"
    subprocess.run([BIN / "python", "-c", f"from pathlib import Path; from assurance_pipeline.demo.generator import write_demo; write_demo(Path('{demo}'), rows={rows})"], check=True)
    std, log, ev = demo / "standard", demo / "decisions.parquet", demo / "evidence"
    subprocess.run([BIN / "assurance", "baseline", "--standard", std, "--source", log, "--from", "2026-01-01", "--to", "2026-03-31"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([BIN / "assurance", "authorize", "--standard", std, "--by", "bench", "--evidence", ev], check=True, stdout=subprocess.DEVNULL)
    # RUSAGE_CHILDREN keeps the maximum over all children, so each measurement gets a fresh parent.
    ours = _isolated([str(BIN / "assurance"), "cycle", "--standard", str(std), "--source", str(log), "--evidence", str(ev),
                      "--from", "2026-05-01", "--to", "2026-06-30", "--seed", "bench"])
    naive = _isolated([str(BIN / "python"), "-c", NAIVE, str(log)])
    return {"rows": rows, "parquet_mib": log.stat().st_size / 2**20, "cycle_s": ours[0], "cycle_mib": ours[1], "naive_s": naive[0], "naive_mib": naive[1]}


def _isolated(argv: list[str]) -> tuple[float, float]:
    code = f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); from cycle_scaling import measure; print(json.dumps(measure({argv!r})))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return tuple(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[120_000, 1_200_000, 4_800_000])
    args = parser.parse_args()
    print("| decisions | parquet MiB | cycle s | cycle peak MiB | naive s | naive peak MiB | memory naive/cycle |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.sizes:
            r = one_size(rows, Path(tmp))
            results.append(r)
            print(f"| {r['rows']:,} | {r['parquet_mib']:.0f} | {r['cycle_s']:.1f} | {r['cycle_mib']:.0f} | {r['naive_s']:.1f} | {r['naive_mib']:.0f} | {r['naive_mib'] / r['cycle_mib']:.1f}x |", flush=True)
    growth = results[-1]["cycle_mib"] / results[0]["cycle_mib"]
    size_ratio = results[-1]["rows"] / results[0]["rows"]
    # The claim under test: memory scales with the sample, not the log.
    assert growth < 1.5, f"cycle peak memory grew {growth:.2f}x over a {size_ratio:.0f}x larger log"
    print(f"\ncycle peak memory grew {growth:.2f}x over a {size_ratio:.0f}x larger log (limit 1.5x)")


if __name__ == "__main__":
    main()
