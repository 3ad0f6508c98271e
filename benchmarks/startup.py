"""Fixed cost of the commands: `assurance --help`, `assurance plan`, and a cycle over an empty window of a small
demo log (every step runs, nothing is sampled), each in a fresh process. Prints the median wall and CPU seconds
of `--runs` runs.

    .venv/bin/python benchmarks/startup.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-m", "assurance_pipeline.cli"]


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of the command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([*CLI, *argv], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {**os.environ, "ASSURANCE_FINGERPRINT_KEY_FILE": str(root / "fp.key"), "ASSURANCE_STORE_KEY_FILE": str(root / "store.key")}
        env.pop("DAGSTER_HOME", None)
        subprocess.run([*CLI, "demo", "--dir", str(root / "demo"), "--rows", "5000", "--json"], env=env, check=True, stdout=subprocess.DEVNULL)
        demo = root / "demo"
        commands = {
            "assurance --help": ["--help"],
            "assurance plan": ["plan", "--confidence", "0.95", "--tolerable", "0.05"],
            "cycle over an empty window": ["cycle", "--standard", str(demo / "standard"), "--source", str(demo / "decisions.parquet"),
                                           "--evidence", str(demo / "evidence"), "--from", "2031-01-01", "--to", "2031-01-02", "--seed", "s"],
        }
        print("| what | wall s (median) | CPU s (median) |")
        print("|---|---:|---:|")
        for what, argv in commands.items():
            runs = [timed(argv, env) for _ in range(args.runs)]
            print(f"| {what} | {statistics.median(r[0] for r in runs):.2f} | {statistics.median(r[1] for r in runs):.2f} |")


if __name__ == "__main__":
    main()
