"""Drift detectors: each drift test of a cycle, then findings for those that hold up statistically.

A test becomes a finding only when it is significant with the false discovery rate of all the cycle's
drift tests held at FDR (Benjamini–Hochberg) AND its effect size clears the point's authored floor
(`drift_floors`), so a tiny shift in a large window is not a finding. Every test is two-sample (the window's
decisions against the go-live window's, both as counts), so it keeps its level whatever the data's shape and
however small the go-live window. Numbers: Cramér–von Mises over the go-live cells, effect the Wasserstein
distance in go-live standard deviations; flags and categories: chi-square, both by permutation, effect the
Jensen–Shannon distance; decisions: disagreement with the go-live decision model against its held-out
disagreement, one-sided Fisher exact, effect the rise; overrides: one-sided Fisher exact, effect the rise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb
import numpy as np

from assurance_pipeline.drift import statistics as st
from assurance_pipeline.drift.cell_counts import count_cells, subject_cells, window_relation
from assurance_pipeline.findings.model import Finding
from assurance_pipeline.sampling.population import PopulationProfile
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.models import DecisionPoint, DriftFloors
from assurance_pipeline.validation.conformance import sample_columns

# Benjamini–Hochberg level. Under no drift every test's p-value is valid, so a cycle raises a false drift
# finding with probability at most FDR; 3% rather than 5% keeps that rate under 5% in every data shape
# measured (benchmarks/false_alarms.py), where the tests run close to their level at small windows.
FDR = 0.03
MIN_VALUES = 20  # fewer values than this in the window: no test (it could not see anything)
SEVERITY = {"data_drift": "medium", "decision_drift": "high", "override": "medium"}


@dataclass(frozen=True)
class DriftTest:
    kind: str
    decision_point: str
    subject: str
    test: str
    statistic: float
    p_value: float
    effect_name: str
    effect: float
    effect_floor: float
    sample_size: int
    what_moved: str
    shape: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def point_drift_tests(con: duckdb.DuckDBPyConnection, point: DecisionPoint, baseline: dict, window: Window) -> list[DriftTest]:
    """Every drift test of one decision point's decisions in the window against its go-live baseline: both sides
    counted into the same cells, the window's in one pushed-down scan of the `decisions` view (every decision of
    the window, so the same window always gives the same tests; nothing but counts leaves the engine)."""
    present = sample_columns(con, "decisions") & set(point.contract)
    decision = point.decision_field if point.decision_field in present else None
    profiles = baseline.get("columns", {})
    subjects = [n for n in [*point.drift_inputs(), *([decision] if decision else [])] if n in present and n in profiles]
    cells = {n: c for n in subjects if (c := subject_cells(profiles[n], point.contract[n]))}
    model = baseline.get("decision_model") if decision else None
    counted, disagreement = count_cells(con, point, window_relation(window.predicate()), present, cells, model)
    floors = point.drift_floors
    tests = [t for name, counts in counted.items()
             if (t := _column_test("decision_drift" if name == decision else "data_drift", point.id, name, counts, profiles[name], floors))]
    if model and disagreement:
        tests += [t for t in [_disagreement_test(point.id, model, *disagreement, floors.disagreement)] if t]
    return tests


def _column_test(kind: str, point_id: str, name: str, window: dict, profile: dict, floors: DriftFloors) -> DriftTest | None:
    """A number over its go-live cells (Cramér–von Mises), or a flag or category over its values (chi-square)."""
    number = "upper_edges" in profile
    categories = [] if number else sorted(set(window["counts"]) | set(profile["frequencies"]))
    w = np.array(window["counts"] if number else [window["counts"].get(c, 0) for c in categories])
    b = np.array(profile["counts"] if number else [profile["frequencies"].get(c, 0) for c in categories])
    if w.sum() < MIN_VALUES or b.sum() == 0:
        return None
    if number:
        statistic, p = st.permutation_test(st.cramer_von_mises_cells, w, b)
        distance = st.wasserstein_cells(w, b, profile["upper_edges"]) / profile["std"] if profile.get("std") else 0.0
        moved = f"{name} moved (mean {window['mean']:.4g}, go-live {profile['mean']:.4g}; {profile['shape']} values)"
        return DriftTest(kind, point_id, name, "cramer_von_mises_permutation", statistic, p, "wasserstein_sd", distance,
                         floors.wasserstein_sd, int(w.sum()), moved, profile["shape"])
    statistic, p = st.permutation_test(st.pearson_chi_square_cells, w, b)
    moved = f"{'decision rates' if kind == 'decision_drift' else name} shifted ({_shares(window['counts'])}; go-live {_shares(profile['frequencies'])})"
    return DriftTest(kind, point_id, name, "chi_square_permutation", statistic, p, "jensen_shannon", st.jensen_shannon_distance(w, b),
                     floors.jensen_shannon, int(w.sum()), moved, "categories")


def _disagreement_test(point_id: str, model: dict, disagree: int, decided: int, floor: float) -> DriftTest | None:
    """The window's disagreement with the go-live rules against the held-out go-live decisions' (two samples)."""
    if decided < MIN_VALUES:
        return None
    rate, base = disagree / decided, model["baseline_disagreement"]
    p = st.rise_p(disagree, decided, model["held_out_disagreeing"], model["held_out"])
    moved = f"{rate:.0%} of the window's decisions disagree with the go-live decision rules (baseline {base:.0%})"
    return DriftTest("decision_drift", point_id, model["decision_field"], "fisher_exact_vs_baseline_model", rate, p,
                     "disagreement_increase", rate - base, floor, decided, moved)


def override_tests(population: PopulationProfile, baseline: dict, points: list[DecisionPoint]) -> list[DriftTest]:
    """Human override rate over the whole window (exact counts) against go-live."""
    tests = []
    for point in points:
        base = (baseline.get("points", {}).get(point.id) or {}).get("overrides")
        groups = [g for g in population.groups if g.decision_point == point.id]
        known, overridden = sum(g.override_known for g in groups), sum(g.overrides for g in groups)
        if not base or not base["known"] or known < MIN_VALUES:
            continue
        rate, base_rate = overridden / known, base["overridden"] / base["known"]
        p = st.rise_p(overridden, known, base["overridden"], base["known"])
        tests.append(DriftTest("override", point.id, "overridden", "fisher_exact_rise", rate, p, "override_rate_increase",
                               rate - base_rate, point.drift_floors.override_rate, known,
                               f"human override rate {rate:.1%} (go-live {base_rate:.1%})"))
    return tests


def drift_findings(tests: list[dict], fdr: float = FDR) -> list[Finding]:
    """Findings for the tests rejected by Benjamini–Hochberg at `fdr` whose effect also clears its floor."""
    rejected = st.benjamini_hochberg([t["p_value"] for t in tests], fdr)
    return [
        Finding(t["kind"], SEVERITY[t["kind"]], f"{t['decision_point']}: {t['what_moved']}; {_p(t['p_value'])}, "
                f"{t['effect_name']} {t['effect']:.3f} (floor {t['effect_floor']:g}), n = {t['sample_size']}",
                t["decision_point"], statistic=t["statistic"], threshold=t["effect_floor"], details={"test": t, "fdr": fdr})
        for t, significant in zip(tests, rejected, strict=True)
        if significant and t["effect"] >= t["effect_floor"]
    ]


def _shares(counts: dict[str, int]) -> str:
    total = sum(counts.values()) or 1
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
    return ", ".join(f"{k} {v / total:.0%}" for k, v in top)


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
