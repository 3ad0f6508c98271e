"""How long a hostile or sloppy standard takes to be loaded or refused: the worst time per input.

Runs the property tests' Hypothesis strategies with many more examples, then hand-made worst cases
(a billion laughs, a 1 MiB file, 30,000-deep nesting, 3,000 conditions, and the largest standard the
limits accept). Every outcome must be a loaded standard or one AssuranceError line; anything else
stops the run. Figures in benchmarks/README.md.

    .venv/bin/python benchmarks/hostile_standards.py [--examples 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assurance_pipeline.errors import AssuranceError  # noqa: E402
from assurance_pipeline.standard import limits  # noqa: E402
from assurance_pipeline.standard.loading import load_standard  # noqa: E402
from assurance_pipeline_tests.standard import hostile  # noqa: E402

STRATEGIES: dict[str, st.SearchStrategy[str]] = {
    "broken YAML (generated text)": hostile.raw_yaml,
    "valid point, one field junk": hostile.point_with_junk(),
    "repeated line, anchor, alias, merge": hostile.point_with_edited_lines(),
    "generated expression": hostile.point_with_expression(),
    "deep nesting (1..30,000)": hostile.deep_nesting,
}


def timed_load(root: Path, text: str) -> tuple[float, bool]:
    """Seconds to load or refuse, and whether it loaded; any other exception propagates and ends the run."""
    hostile.write_standard(root, text)
    start = time.perf_counter()
    try:
        load_standard(root)
        loaded = True
    except AssuranceError as err:
        assert "\n" not in str(err), str(err)
        loaded = False
    return time.perf_counter() - start, loaded


def run_strategy(root: Path, strategy: st.SearchStrategy[str], examples: int) -> list[tuple[float, bool]]:
    results: list[tuple[float, bool]] = []

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(text=strategy)
    def probe(text: str) -> None:
        results.append(timed_load(root, text))

    probe()
    return results


def _point(**changes: object) -> str:
    data = hostile.yaml.safe_load(hostile.dump(hostile.POINT))
    data.update(changes)
    return hostile.dump(data)


def _largest_accepted() -> str:
    """Every per-point limit at its maximum, each expression at the character limit and within the node limit."""
    columns = {f"c{i}": {"type": "float"} for i in range(limits.MAX_CONTRACT_COLUMNS - 1)}
    columns["amount"] = {"type": "string", "isin": [f"value_{i}" for i in range(limits.MAX_ISIN_VALUES)]}
    predicate = " OR ".join(f"c{i} > {i}" for i in range(100))[: limits.MAX_EXPRESSION_CHARS].rsplit(" OR ", 1)[0]
    metric = "avg(" + " + ".join(f"c{i}" for i in range(160))[: limits.MAX_EXPRESSION_CHARS - 10].rsplit(" + ", 1)[0] + ")"
    conditions = [{"id": f"C-{i}", "title": "t", "when": predicate, "require": predicate, "severity": "low"}
                  for i in range(limits.MAX_CONDITIONS)]
    metrics = [{"id": f"M-{i}", "title": "t", "metric": metric, "expect": {"max": 1}} for i in range(limits.MAX_OUTCOME_METRICS)]
    return _point(contract=columns, conditions=conditions, outcome_evidence=metrics)


CRAFTED: dict[str, Callable[[], str]] = {
    "billion laughs (9 levels of aliases)": lambda: "lol: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"l{i}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)),
    "1 MiB file (comment)": lambda: hostile.dump(hostile.POINT) + "#" * (limits.MAX_FILE_BYTES - 2_000) + "\n",
    "just over 1 MiB": lambda: hostile.dump(hostile.POINT) + "#" * limits.MAX_FILE_BYTES + "\n",
    "30,000-deep flow nesting": lambda: "id: " + "[" * 30_000 + "]" * 30_000 + "\n",
    "3,000 conditions": lambda: _point(conditions=[{**hostile.POINT["conditions"][0], "id": f"C-{i}"} for i in range(3_000)]),
    "900 nested parentheses in a condition": lambda: _point(conditions=[{**hostile.POINT["conditions"][0], "when": "(" * 900 + "amount > 1" + ")" * 900}]),
    "largest accepted point (every limit at its maximum)": _largest_accepted,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2_000, help="Hypothesis examples per strategy (default 2000)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "standard"
        for name, strategy in STRATEGIES.items():
            results = run_strategy(root, strategy, args.examples)
            times = [t for t, _ in results]
            rows.append((name, len(results), sum(ok for _, ok in results), statistics.median(times), max(times)))
        for name, make in CRAFTED.items():
            seconds, loaded = timed_load(root, make())
            rows.append((name, 1, int(loaded), seconds, seconds))
    print("| input | examples | loaded | median s | worst s |\n|---|---:|---:|---:|---:|")
    for name, count, loaded, median, worst in rows:
        print(f"| {name} | {count} | {loaded} | {median:.3f} | {worst:.3f} |")


if __name__ == "__main__":
    main()
