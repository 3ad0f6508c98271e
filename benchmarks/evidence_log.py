"""What the verifiable log costs: an append (hash chain, Merkle root over every entry, a signed checkpoint) and a
full `verify` (every checkpoint's signature and root, every signature), at growing ledger sizes.

    .venv/bin/python benchmarks/evidence_log.py [--sizes 500 2000 8000]

Each ledger is built in a temporary folder with its own store key; entries carry a 500-byte body, about a cycle's
decision entry without its findings. Figures are wall seconds on the machine it runs on.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.evidence.verification import verify_store


def measure(size: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ASSURANCE_STORE_KEY_FILE"] = str(Path(tmp) / "store.key")
        ledger = Ledger(Path(tmp) / "evidence")
        for i in range(size):
            ledger.append("note", {"i": i, "pad": "x" * 500})
        started = time.perf_counter()
        for i in range(20):
            ledger.append("note", {"i": i, "pad": "x" * 500})
        append = (time.perf_counter() - started) / 20
        started = time.perf_counter()
        report = verify_store(ledger.folder)
        assert report.intact, report.problem
        return append, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 8000])
    sizes = parser.parse_args().sizes
    print("| entries | one append (ms) | verify (s) |\n|---:|---:|---:|")
    for size in sizes:
        append, verify = measure(size)
        print(f"| {size:,} | {append * 1000:.1f} | {verify:.2f} |", flush=True)


if __name__ == "__main__":
    main()
