"""Drift detectors: each drift test of a cycle, then findings for those that hold up statistically.

A test becomes a finding only when it is significant with the false discovery rate of all the cycle's
drift tests held at FDR (Benjamini–Hochberg) AND its effect size clears the point's authored floor
(`drift_floors`), so a tiny shift in a large window is not a finding. Every test is two-sample (the window's
decisions against the go-live window's, both as counts), so it keeps its level whatever the data's shape and
however small the go-live window. Numbers: Cramér–von Mises over the go-live cells, effect the Wasserstein
distance in go-live robust standard deviations (IQR / 1.349); flags and categories: chi-square, both by
permutation, effect the Jensen–Shannon distance; overrides: one-sided Fisher exact, effect the rise.
Decisions are tested within the leaves of the go-live decision model, so inputs that merely moved (into a
region where the go-live rules were already uncertain, or where decisions were already mostly "reject")
change neither decision test: their disagreement with the rules against the held-out go-live decisions',
one-sided exact stratified test, effect the excess over the disagreement expected for the window's inputs;
their mix (the decision rates) by a stratified permutation test, effect the Jensen–Shannon distance from the
mix expected for the window's inputs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb
import numpy as np

from assurance_pipeline.drift import statistics as st
from assurance_pipeline.drift.cell_counts import LeafCounts, category_cells, count_cells, is_category, subject_cells
from assurance_pipeline.drift.grouped_counts import server_counts
from assurance_pipeline.findings.model import Finding
from assurance_pipeline.sampling.population import PopulationProfile
from assurance_pipeline.sources.decision_log import DecisionLog
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.models import DecisionPoint, DriftFloors
from assurance_pipeline.validation.conformance import sample_columns
from assurance_pipeline.validation.point_rows import window_relation

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
    expected: float | dict[str, float] | None = None  # decisions: the disagreement rate or mix expected for the window's inputs
    scale: float | None = None  # numbers: the go-live scale the effect is measured in
    scale_kind: str | None = None  # "iqr/1.349" (robust SD), or "sd" where the go-live IQR is 0

    def to_dict(self) -> dict:
        return asdict(self)


def point_drift_tests(con: duckdb.DuckDBPyConnection, point: DecisionPoint, baseline: dict, window: Window,
                      source: DecisionLog | None = None) -> list[DriftTest]:
    """Every drift test of one decision point's decisions in the window against its go-live baseline: both sides
    counted into the same cells, the window's in one pushed-down scan (every decision of the window, so the same
    window always gives the same tests; nothing but counts leaves the engine). A PostgreSQL `source` counts in the
    server where its column types allow, else its window is copied into the workspace and counted there; any other
    source is counted through the `decisions` view."""
    profiles = baseline.get("columns", {})

    def subjects(present: set[str]) -> tuple[dict, dict | None, dict | None]:
        decision = point.decision_field if point.decision_field in present else None
        model = baseline.get("decision_model") if decision else None
        decision_cells = category_cells(point.contract[decision]) if model and is_category(point.contract[decision]) else None
        names = [n for n in [*point.drift_inputs(), *([decision] if decision and not decision_cells else [])] if n in present and n in profiles]
        return {n: c for n in names if (c := subject_cells(profiles[n], point.contract[n]))}, model, decision_cells

    server = source.postgres if source else None
    counted = server_counts(server, point, window, subjects) if server else None
    if counted is None:
        if server:
            source.attach(con, window)  # the window's rows, copied once into the workspace
        present = sample_columns(con, "decisions") & set(point.contract)
        cells, model, decision_cells = subjects(present)
        counted = count_cells(con, point, window_relation(window.predicate()), present, cells, model, decision_cells)
    counts, leaves = counted
    floors, model = point.drift_floors, baseline.get("decision_model")
    tests = [t for name, subject in counts.items()
             if (t := _column_test("decision_drift" if name == point.decision_field else "data_drift", point.id, name, subject, profiles[name], floors))]
    if model and leaves:
        held_out = LeafCounts.from_records(model["leaves"])
        tests += [t for t in [_disagreement_test(point.id, model, leaves, held_out, floors.disagreement),
                              _decision_mix_test(point.id, model, leaves, held_out, floors.jensen_shannon) if leaves.decisions is not None else None] if t]
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
        scale = profile.get("scale")
        distance = st.wasserstein_cells(w, b, profile["upper_edges"]) / scale if scale else 0.0
        moved = f"{name} moved (mean {window['mean']:.4g}, go-live {profile['mean']:.4g}; {profile['shape']} values)"
        return DriftTest(kind, point_id, name, "cramer_von_mises_permutation", statistic, p, "wasserstein_sd", distance,
                         floors.wasserstein_sd, int(w.sum()), moved, profile["shape"], scale=scale, scale_kind=profile.get("scale_kind"))
    statistic, p = st.permutation_test(st.pearson_chi_square_cells, w, b)
    moved = f"{'decision rates' if kind == 'decision_drift' else name} shifted ({_shares(window['counts'])}; go-live {_shares(profile['frequencies'])})"
    return DriftTest(kind, point_id, name, "chi_square_permutation", statistic, p, "jensen_shannon", st.jensen_shannon_distance(w, b),
                     floors.jensen_shannon, int(w.sum()), moved, "categories")


def _disagreement_test(point_id: str, model: dict, window: LeafCounts, held_out: LeafCounts, floor: float) -> DriftTest | None:
    """The window's disagreement with the go-live rules against the held-out go-live decisions', leaf by leaf (exact
    stratified test): more disagreement only because the window's inputs fell where the rules were already
    uncertain is expected, not drift. Effect: the window's rate minus the rate its leaves lead to expect."""
    leaves = sorted(set(window.decided) | set(held_out.decided))
    n, x, m, y = (np.array([counts.get(leaf, 0) for leaf in leaves])
                  for counts in (window.decided, window.disagreeing, held_out.decided, held_out.disagreeing))
    decided = int(n.sum())
    if decided < MIN_VALUES:
        return None
    rate, base = x.sum() / decided, model["baseline_disagreement"]
    expected = float(np.sum(n * np.divide(y, m, out=np.full(len(m), base), where=m > 0)) / decided)
    p = st.stratified_rise_p(x, n, y, m)
    moved = (f"{rate:.0%} of the window's decisions disagree with the go-live decision rules, {expected:.0%} expected for "
             f"the window's inputs (go-live {base:.0%})")
    return DriftTest("decision_drift", point_id, model["decision_field"], "exact_stratified_by_leaf", float(rate), p,
                     "disagreement_excess", float(rate) - expected, floor, decided, moved, expected=expected)


def _decision_mix_test(point_id: str, model: dict, window: LeafCounts, held_out: LeafCounts, floor: float) -> DriftTest | None:
    """The window's decision rates against those the go-live decisions in the same leaves had (stratified
    permutation, generalized Cochran–Mantel–Haenszel): a mix that moved only because the inputs did is expected.
    Effect: the Jensen–Shannon distance from the mix expected for the window's inputs."""
    if held_out.decisions is None:  # a baseline recorded while the decision had no authored values
        return None
    leaves = sorted(set(window.decided) | set(held_out.decided))
    values = sorted({v for counts in (window.decisions, held_out.decisions) for leaf in counts.values() for v in leaf})
    w, b = (np.array([[counts.get(leaf, {}).get(v, 0) for v in values] for leaf in leaves]).reshape(len(leaves), len(values))
            for counts in (window.decisions, held_out.decisions))
    if w.sum() < MIN_VALUES or b.sum() == 0:
        return None
    statistic, p = st.stratified_mix_test(w, b)
    overall = b.sum(axis=0) / b.sum()
    shares = np.array([row / row.sum() if row.sum() else overall for row in b])
    expected = w.sum(axis=1) @ shares
    mix, expected_mix = dict(zip(values, w.sum(axis=0).tolist(), strict=True)), dict(zip(values, expected.tolist(), strict=True))
    moved = f"decision rates shifted ({_shares(mix)}; expected for the window's inputs {_shares(expected_mix)})"
    return DriftTest("decision_drift", point_id, model["decision_field"], "cmh_permutation_stratified_by_leaf", statistic, p,
                     "jensen_shannon", st.jensen_shannon_distance(w.sum(axis=0), expected), floor, int(w.sum()), moved,
                     "categories", expected={v: float(e / w.sum()) for v, e in expected_mix.items()})


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
