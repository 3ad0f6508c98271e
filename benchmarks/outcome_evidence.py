"""How often a cycle raises an outcome finding when nothing is wrong, by tier: Outcome Evidence over the sample
(concluded with its interval) against the previous rule (the sample's value against the bound), and over the window.

Shares are computed exactly (a sum over the binomial); means are simulated. The true value sits exactly on the
bound (the worst case for a false finding) or, for shares, at the audit's stationary case (2% against a 5% bound).

    .venv/bin/python benchmarks/outcome_evidence.py [--reps 20000]
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from scipy.stats import binom

from assurance_pipeline.sampling.plans import attribute_sample_size
from assurance_pipeline.standard.models import DEFAULT_TIERS
from assurance_pipeline.validation import outcome_bounds as ob

WINDOW = 5_000
MEANS = {  # name -> (draw, true mean)
    "normal": (lambda rng, size: rng.normal(10, 2, size), 10.0),
    "exponential": (lambda rng, size: rng.exponential(1.0, size), 1.0),
    "lognormal, sigma 1": (lambda rng, size: rng.lognormal(0, 1, size), math.exp(0.5)),
    "lognormal, sigma 1.5": (lambda rng, size: rng.lognormal(0, 1.5, size), math.exp(1.125)),
}


def share_rates(p: float, bound: float, n: int, confidence: float) -> tuple[float, float, float]:
    """Exact P(finding) under the previous rule and over the sample, and P(inconclusive), for k ~ Bin(n, p)."""
    previous = exceeds = open_ = 0.0
    for k in range(n + 1):
        weight = binom.pmf(k, n, p)
        previous += weight * (k / n > bound)
        verdict = ob.judge(*ob.proportion_interval(k, n, confidence), None, bound)
        exceeds += weight * (verdict == ob.EXCEEDS)
        open_ += weight * (verdict == ob.INCONCLUSIVE)
    return previous, exceeds, open_


def mean_rates(draw, mean: float, n: int, confidence: float, side: str, reps: int, rng) -> tuple[float, float, float]:
    """Simulated P(finding) for a mean on its bound (`side`: the bound is a min or a max)."""
    x = draw(rng, (reps, n))
    m, s = x.mean(1), x.std(1, ddof=1)
    skew = ((x - m[:, None]) ** 3).mean(1) / s**3
    low, high = (None, mean) if side == "max" else (mean, None)
    verdicts = [ob.judge(*ob.mean_interval(n, *v, confidence), low, high) for v in zip(m, s, skew, strict=True)]
    previous = np.mean(m > mean) if side == "max" else np.mean(m < mean)
    return float(previous), verdicts.count(ob.EXCEEDS) / reps, verdicts.count(ob.INCONCLUSIVE) / reps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=20_000, help="simulated cycles per mean cell")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    print("| tier (confidence, sample) | metric | true value | previous rule | over the sample: finding | inconclusive | over the window: finding |")
    print("|---|---|---|---:|---:|---:|---:|")
    for name, tier in DEFAULT_TIERS.items():
        c = tier.confidence
        n = attribute_sample_size(c, tier.tolerable_deviation_rate, tier.expected_deviation_rate).sample_size
        label = f"{name} ({c:.0%}, n = {n})"
        for p, bound, what in ((0.05, 0.05, "on the max 5%"), (0.02, 0.05, "2%, max 5%")):
            previous, exceeds, open_ = share_rates(p, bound, n, c)
            window = binom.sf(math.floor(bound * WINDOW), WINDOW, p)  # the window's own share beyond the bound
            shown = "its own value" if p == bound else f"{window:.2%}"
            print(f"| {label} | share | {what} | {previous:.1%} | {exceeds:.2%} | {open_:.0%} | {shown} |")
        for metric, (draw, mean) in MEANS.items():
            for side in ("max", "min"):
                previous, exceeds, open_ = mean_rates(draw, mean, n, c, side, args.reps, rng)
                print(f"| {label} | mean, {metric} | on the {side} | {previous:.1%} | {exceeds:.2%} | {open_:.0%} | its own value |")
    print(f"\ntier risk = 1 - confidence; the interval is two-sided, so a bound is crossed falsely at most (1 - c) / 2 "
          f"for shares; means: {args.reps:,} simulated cycles a cell; window of {WINDOW:,} decisions")


if __name__ == "__main__":
    main()
