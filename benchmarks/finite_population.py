"""Finite-population plans against exact values: the binomial AICPA plan, the hypergeometric plan, the one the
cycle uses, and a published value where one was found, for the three default tiers at small populations.

Each hypergeometric size is re-derived here by enumerating every n with scipy (independent of the product's
exact integer search); the script stops if they disagree. Runs in about a second:

    .venv/bin/python benchmarks/finite_population.py
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

from scipy.stats import hypergeom

from assurance_pipeline.sampling.plans import attribute_sample_size

TIERS = {"critical": (0.95, 0.02), "high": (0.95, 0.05), "routine": (0.90, 0.10)}  # zero expected deviations
POPULATIONS = (50, 60, 100, 150, 200, 500, 600, 1000)
# (population, tier) -> (published hypergeometric size, source)
PUBLISHED = {
    (100, "high"): (45, "Hayes et al., *Principles of Auditing*"),
    (200, "high"): (51, "Hayes et al., *Principles of Auditing*"),
    (600, "high"): (56, "Hayes et al., *Principles of Auditing*"),
    (100, "routine"): (20, "Hayes et al., *Principles of Auditing*"),
    (500, "critical"): (129, "DCAA EZ-Quant 2.0.6"),
    (1000, "critical"): (138, "DCAA EZ-Quant 2.0.6"),
}


def enumerated(population: int, confidence: float, tolerable: float) -> int:
    """Smallest n with P(X = 0; N, ceil(t N), n) <= 1 - confidence, every n tried with scipy."""
    deviating = math.ceil(Fraction(str(tolerable)) * population)
    return next((n for n in range(1, population + 1) if hypergeom.pmf(0, population, deviating, n) <= 1 - confidence + 1e-12), population)


def main() -> None:
    started = time.perf_counter()
    print("| N | tier | D_t | binomial n | hypergeometric n | the cycle plans | before (min of binomial, N) | published |")
    print("|---:|---|---:|---:|---:|---|---:|---|")
    for population in POPULATIONS:
        for tier, (confidence, tolerable) in TIERS.items():
            binomial = attribute_sample_size(confidence, tolerable, population=population, distribution="binomial")
            hyper = attribute_sample_size(confidence, tolerable, population=population, distribution="hypergeometric")
            chosen = attribute_sample_size(confidence, tolerable, population=population)
            if hyper.sample_size != enumerated(population, confidence, tolerable):
                raise SystemExit(f"N = {population}, {tier}: {hyper.sample_size} disagrees with the enumeration")
            published, source = PUBLISHED.get((population, tier), (None, ""))
            if published is not None and published != hyper.sample_size:
                raise SystemExit(f"N = {population}, {tier}: {hyper.sample_size} disagrees with {source} ({published})")
            shown = f"{published} ({source})" if published else "–"
            whole = " (all)" if chosen.sample_size == population else ""
            print(f"| {population:,} | {tier} {confidence:.0%}/{tolerable:.0%} | {math.ceil(Fraction(str(tolerable)) * population)} | "
                  f"{binomial.sample_size} | {hyper.sample_size} | {chosen.sample_size}{whole}, {chosen.distribution} | "
                  f"{min(binomial.sample_size, population)} | {shown} |")
    print(f"\n{time.perf_counter() - started:.1f} s; every hypergeometric n equals the scipy enumeration")


if __name__ == "__main__":
    main()
