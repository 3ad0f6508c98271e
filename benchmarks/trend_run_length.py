"""Run length of the outcome-trend detector: false alarms on stationary metrics, delay on real drift.

Simulates the detector of assurance_pipeline/drift/trend.py (two-sided CUSUM on sequential-rank normal
scores, mid-ranks on ties, nothing judged before MIN_CYCLES values) on real values, vectorised over runs:
each value's sequential rank comes from a Fenwick tree over the run's distinct values (Fenwick 1994), so
ties in discrete shares are ranked exactly as the module ranks them. A self-check first replays some runs
through the module's own functions. For comparison, the detector it replaces (tabular CUSUM k = 0.5, h = 5,
sigma from moving ranges, target = the true mean as go-live) on the stationary metrics, up to 500 cycles; and
the choice of k: k = 0.5 with h = 5.5 (a like in-control run length) on the same values.

    .venv/bin/python benchmarks/trend_run_length.py --runs 2000 --max-cycles 3000 --seed 1

Runs without an alarm by --max-cycles count as --max-cycles, so where any are cut the mean run length is a
lower bound (marked >=). Drift rows count cycles from the change to the alarm, over the runs with no alarm
before the change.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from assurance_pipeline.drift.trend import CUSUM_H, CUSUM_K, MIN_CYCLES, cusum, cusum_arl, sequential_rank_scores

CHANGE_AT = 20  # the first drifted cycle is CHANGE_AT + 1
Draw = Callable[[np.random.Generator, int, int], np.ndarray]


@dataclass(frozen=True)
class Scenario:
    name: str
    draw: Draw
    change_at: int = 0
    mean: float = 0.0


def _after_change(cycles: int) -> np.ndarray:
    return np.arange(1, cycles + 1) > CHANGE_AT


def _ramp(cycles: int) -> np.ndarray:
    return np.clip(np.arange(1, cycles + 1) - CHANGE_AT, 0, None)


def _binomial_step(rng: np.random.Generator, runs: int, cycles: int, n: int, before: float, after: float) -> np.ndarray:
    return rng.binomial(n, np.where(_after_change(cycles), after, before), (runs, cycles)) / n


STATIONARY = [
    Scenario("normal", lambda rng, r, c: rng.standard_normal((r, c))),
    Scenario("lognormal (sigma 1)", lambda rng, r, c: rng.lognormal(0.0, 1.0, (r, c)), mean=float(np.exp(0.5))),
    Scenario("share k/59, k ~ Bin(59, 0.02)", lambda rng, r, c: rng.binomial(59, 0.02, (r, c)) / 59, mean=0.02),
    Scenario("share k/150, k ~ Bin(150, 0.2)", lambda rng, r, c: rng.binomial(150, 0.2, (r, c)) / 150, mean=0.2),
    Scenario("constant", lambda rng, r, c: np.full((r, c), 0.02), mean=0.02),
]
DRIFT = [
    Scenario("normal, step +1 sd after cycle 20",
             lambda rng, r, c: rng.standard_normal((r, c)) + _after_change(c), CHANGE_AT),
    Scenario("normal, step +0.5 sd after cycle 20",
             lambda rng, r, c: rng.standard_normal((r, c)) + 0.5 * _after_change(c), CHANGE_AT),
    Scenario("normal, trend +0.05 sd a cycle after cycle 20",
             lambda rng, r, c: rng.standard_normal((r, c)) + 0.05 * _ramp(c), CHANGE_AT),
    Scenario("normal, trend +0.02 sd a cycle after cycle 20",
             lambda rng, r, c: rng.standard_normal((r, c)) + 0.02 * _ramp(c), CHANGE_AT),
    Scenario("share k/59, Bin(59, 0.02 -> 0.04) after cycle 20",
             lambda rng, r, c: _binomial_step(rng, r, c, 59, 0.02, 0.04), CHANGE_AT),
    Scenario("share k/150, Bin(150, 0.2 -> 0.233) (+1 sd) after cycle 20",
             lambda rng, r, c: _binomial_step(rng, r, c, 150, 0.2, 0.2327), CHANGE_AT),
]


def dense_codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Each value's 1-based rank among the distinct values of its run (equal values share a code)."""
    order = np.argsort(values, axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    new = np.concatenate([np.ones((len(values), 1), bool), ordered[:, 1:] != ordered[:, :-1]], axis=1)
    codes = np.empty(values.shape, np.int64)
    np.put_along_axis(codes, order, np.cumsum(new, axis=1), axis=1)
    return codes, int(codes.max())


def rank_cusum_run_lengths(values: np.ndarray, k: float = CUSUM_K, h: float = CUSUM_H) -> np.ndarray:
    """First cycle (1-based) at which the sequential-rank CUSUM exceeds h; cycles + 1 where it never does.

    Mid-rank R_t = #{earlier below} + 1 + #{earlier equal} / 2, z_t = Phi^-1((R_t - 0.5) / t) (McDonald 1990),
    the counts from a Fenwick tree over the codes (Fenwick 1994, Software Pract. Exper. 24:327–336).
    """
    runs, cycles = values.shape
    codes, distinct = dense_codes(values)
    tree = np.zeros((runs, distinct + 2), np.int32)
    equal = np.zeros((runs, distinct + 1), np.int32)
    rows = np.arange(runs)
    hops = int(np.ceil(np.log2(distinct + 1))) + 1
    upper, lower = np.zeros(runs), np.zeros(runs)
    length = np.full(runs, cycles + 1)
    alive = np.ones(runs, bool)
    for t in range(1, cycles + 1):
        code = codes[:, t - 1]
        below, node = np.zeros(runs, np.int64), code - 1
        for _ in range(hops):
            below += tree[rows, node]
            node = node - (node & -node)
        z = norm.ppf((below + 0.5 + equal[rows, code] / 2) / t)
        equal[rows, code] += 1
        node = code.copy()
        for _ in range(hops):
            tree[rows, np.minimum(node, distinct + 1)] += 1
            node = node + (node & -node)
        upper, lower = np.maximum(0.0, upper + z - k), np.maximum(0.0, lower - z - k)
        alarm = alive & (np.maximum(upper, lower) > h) & (t >= MIN_CYCLES)
        length[alarm], alive = t, alive & ~alarm
        if not alive.any():
            break
    return length


def old_run_lengths(values: np.ndarray, target: float, k: float = 0.5, h: float = 5.0) -> np.ndarray:
    """The replaced detector: CUSUM of (x - go-live) / sigma, sigma = mean moving range / 1.128 (Montgomery §6.4),
    recomputed over the whole series each cycle; cycles + 1 where it never alarms."""
    runs, cycles = values.shape
    moving = np.concatenate([np.zeros((runs, 1)), np.cumsum(np.abs(np.diff(values, axis=1)), axis=1)], axis=1)
    length = np.full(runs, cycles + 1)
    for t in range(MIN_CYCLES, cycles + 1):
        open_ = np.flatnonzero(length > cycles)
        sigma = moving[open_, t - 1] / (t - 1) / 1.128
        open_, sigma = open_[sigma > 0], sigma[sigma > 0]
        upper, lower = np.zeros(len(open_)), np.zeros(len(open_))
        for j in range(t):
            z = (values[open_, j] - target) / sigma
            upper, lower = np.maximum(0.0, upper + z - k), np.maximum(0.0, lower - z - k)
        length[open_[np.maximum(upper, lower) > h]] = t
    return length


def self_check(rng: np.random.Generator) -> None:
    """The vectorised simulation alarms at the same cycle as the module's own functions."""
    for scenario in (STATIONARY[0], STATIONARY[2], DRIFT[0]):
        values = scenario.draw(rng, 12, 150)
        for run, simulated in zip(values, rank_cusum_run_lengths(values), strict=True):
            scores = sequential_rank_scores(list(run))  # sequential: a prefix's scores are the prefix of these
            module = next((t for t in range(MIN_CYCLES, 151) if cusum(scores[:t]).statistic > CUSUM_H), 151)
            assert module == simulated, (scenario.name, module, simulated)


def row(name: str, length: np.ndarray, cycles: int, change_at: int, note: str = "") -> str:
    """One table row; delays past the horizon count as the horizon, so any cut makes the mean a lower bound."""
    kept = length > change_at
    horizon = cycles - change_at
    delay = np.minimum(length[kept] - change_at, horizon + 1)
    cut = delay > horizon
    counted = np.minimum(delay, horizon)
    mean, half = counted.mean(), 1.96 * counted.std(ddof=1) / np.sqrt(len(counted))
    mean_text = note or f"{'>= ' if cut.any() else ''}{mean:.0f} ({mean - half:.0f}–{mean + half:.0f})"
    middle = np.median(delay)
    median_text = f"> {horizon}" if middle > horizon else f"{middle:.0f}"
    within = [f"{(delay <= n).mean():.1%}" if n <= horizon else "n/a" for n in (50, 500)]
    before = f"{(~kept).mean():.1%}" if change_at else "–"
    return f"| {name} | {len(length)} | {before} | {mean_text} | {median_text} | {cut.mean():.1%} | {' | '.join(within)} |"


HEADER = ("| metric | runs | false alarm before change | mean cycles to alarm (95% CI) | median | cut at max | "
          "alarmed within 50 | within 500 |\n|---|---:|---:|---:|---:|---:|---:|---:|")
ALTERNATIVE = (0.5, 5.5)  # the k of the brief, h set for a like in-control run length (Brook–Evans about 770)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--max-cycles", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--old-cycles", type=int, default=500, help="horizon for the replaced detector (O(cycles^2))")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    self_check(rng)
    print(f"Sequential-rank CUSUM k = {CUSUM_K:g}, h = {CUSUM_H:g}; Brook–Evans ARL0 on N(0, 1) scores "
          f"{cusum_arl(CUSUM_H, CUSUM_K):.0f} (k = 0.5, h = 5: {cusum_arl(5.0, 0.5):.0f}). Self-check against the module: ok.\n")
    print(HEADER)
    for scenario in [*STATIONARY, *DRIFT]:
        values = scenario.draw(rng, args.runs, args.max_cycles)
        print(row(scenario.name, rank_cusum_run_lengths(values), args.max_cycles, scenario.change_at), flush=True)

    old = min(args.old_cycles, args.max_cycles)
    print(f"\nThe replaced detector (tabular CUSUM k 0.5, h 5, sigma from moving ranges, go-live = true mean), cut at {old}:\n")
    print(HEADER)
    for scenario in STATIONARY:
        values = scenario.draw(rng, args.runs, old)
        print(row(scenario.name, old_run_lengths(values, scenario.mean), old, 0, note=f"(cut at {old})"), flush=True)

    k, h = ALTERNATIVE
    print(f"\nThe choice of k: sequential ranks with k = {k:g}, h = {h:g} (Brook–Evans ARL0 {cusum_arl(h, k):.0f}) "
          f"against k = {CUSUM_K:g}, h = {CUSUM_H:g}, on the same values:\n")
    print(HEADER)
    for scenario in (STATIONARY[0], *DRIFT[:4]):
        values = scenario.draw(rng, args.runs, args.max_cycles)
        for kk, hh in (ALTERNATIVE, (CUSUM_K, CUSUM_H)):
            print(row(f"k {kk:g}, h {hh:g}: {scenario.name}", rank_cusum_run_lengths(values, kk, hh), args.max_cycles,
                      scenario.change_at), flush=True)
    print(f"\n{time.perf_counter() - started:.0f} s; seed {args.seed}, cut at {args.max_cycles} cycles "
          f"(replaced detector at {old}); drift rows count from cycle {CHANGE_AT}.")


if __name__ == "__main__":
    main()
