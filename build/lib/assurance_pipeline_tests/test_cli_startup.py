"""`assurance --help` and `assurance plan` answer without loading Dagster, scipy, scikit-learn, pandas or DuckDB:
those cost seconds to import, and a command that needs none of them should not pay for them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("dagster", "scipy", "sklearn", "pandas", "pandera", "duckdb")
PROBE = """
import json, sys
from assurance_pipeline.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "loaded": sorted({m.split('.')[0] for m in sys.modules})}), file=sys.stderr)
"""


@pytest.mark.parametrize("argv", [
    ["--help"],
    ["plan", "--confidence", "0.95", "--tolerable", "0.05"],
    ["plan", "--confidence", "0.95", "--tolerable", "0.05", "--expected", "0.01", "--population", "300"],
])
def test_light_commands_load_no_heavy_library(argv: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=120)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), done.stderr
    assert done.stdout.strip()  # it answered
    assert not set(HEAVY) & set(report["loaded"]), f"{argv} loaded {sorted(set(HEAVY) & set(report['loaded']))}"
