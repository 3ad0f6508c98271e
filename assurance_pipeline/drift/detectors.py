"""Drift detectors: each drift test of a cycle, then findings for those that hold up statistically.

A test becomes a finding only when it is significant with the false discovery rate of all the cycle's
drift tests held at FDR (Benjamini–Hochberg) AND its effect size clears the point's authored floor
(`drift_floors`), so a tiny shift in a large sample is not a finding. Numbers: Cramér–von Mises, effect the
Wasserstein distance in go-live standard deviations; flags and categories: exact binomial (two) or
chi-square (more), effect the Jensen–Shannon distance; decisions: disagreement with the go-live decision
model (one-sided binomial), effect the rise in disagreement; overrides: one-sided Fisher exact, effect the rise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb
import numpy as np
import pandas as pd

from assurance_pipeline.drift import statistics as st
from assurance_pipeline.drift.decision_model import predict
from assurance_pipeline.findings.model import Finding
from assurance_pipeline.sampling.population import PopulationProfile
from assurance_pipeline.sources.decision_log import quote_ident
from assurance_pipeline.standard.models import DecisionPoint, DriftFloors
from assurance_pipeline.validation.conformance import sample_columns
from assurance_pipeline.validation.point_rows import point_rows_sql

FDR = 0.05
MIN_VALUES = 20  # fewer values than this in a sample: no test (it could not see anything)
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

    def to_dict(self) -> dict:
        return asdict(self)


def point_drift_tests(con: duckdb.DuckDBPyConnection, point: DecisionPoint, baseline: dict) -> list[DriftTest]:
    """Every drift test of one decision point's sample against its go-live baseline (aggregates only)."""
    present = sample_columns(con) & set(point.contract)
    inputs = [n for n in point.drift_inputs() if n in present]
    decision = point.decision_field if point.decision_field in present else None
    wanted = [*inputs, *([decision] if decision else [])]
    if not wanted:
        return []
    frame = con.execute(
        f"WITH point_rows AS ({point_rows_sql(point, present)}) SELECT {', '.join(quote_ident(c) for c in wanted)} FROM point_rows",
        {"decision_point": point.id},
    ).df()
    profiles = baseline.get("columns", {})
    floors = point.drift_floors
    tests = [t for name in inputs if (t := _column_test("data_drift", point.id, name, frame[name], profiles.get(name), floors))]
    if decision:
        rates = _column_test("decision_drift", point.id, decision, frame[decision], profiles.get(decision), floors)
        tests += [rates] if rates else []
        model = baseline.get("decision_model")
        tests += [t for t in [_disagreement_test(point.id, model, frame, floors.disagreement)] if t] if model else []
    return tests


def _column_test(kind: str, point_id: str, name: str, values: pd.Series, profile: dict | None, floors: DriftFloors) -> DriftTest | None:
    values = values.dropna()
    if profile is None or len(values) < MIN_VALUES:
        return None
    if profile.get("percentiles"):
        sample = values.astype(float).to_numpy()
        w2, p = st.cramer_von_mises_against_percentiles(sample, profile["percentiles"])
        distance = st.wasserstein_in_sd(sample, profile["percentiles"], profile.get("std") or 0.0)
        moved = f"{name} moved (median {np.median(sample):.4g}, go-live {profile['percentiles'][49]:.4g})"
        return DriftTest(kind, point_id, name, "cramer_von_mises", w2, p, "wasserstein_sd", distance, floors.wasserstein_sd, len(sample), moved)
    if profile.get("frequencies"):
        counts = values.map(_category).value_counts().to_dict()
        test, statistic, p = st.categories_against_frequencies(counts, profile["frequencies"])
        js = st.jensen_shannon_distance(counts, profile["frequencies"])
        moved = f"{'decision rates' if kind == 'decision_drift' else name} shifted ({_shares(counts)}; go-live {_shares(profile['frequencies'])})"
        return DriftTest(kind, point_id, name, test, statistic, p, "jensen_shannon", js, floors.jensen_shannon, int(sum(counts.values())), moved)
    return None


def _disagreement_test(point_id: str, model: dict, frame: pd.DataFrame, floor: float) -> DriftTest | None:
    decided = frame[frame[model["decision_field"]].notna()]
    if len(decided) < MIN_VALUES:
        return None
    disagree = int(np.sum(predict(model, decided) != decided[model["decision_field"]].astype(str).to_numpy()))
    rate, base = disagree / len(decided), model["baseline_disagreement"]
    p = st.binomial_p(disagree, len(decided), base, alternative="greater")
    moved = f"{rate:.0%} of sampled decisions disagree with the go-live decision rules (baseline {base:.0%})"
    return DriftTest("decision_drift", point_id, model["decision_field"], "binomial_vs_baseline_model", rate, p,
                     "disagreement_increase", rate - base, floor, len(decided), moved)


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


def _category(value: object) -> str:
    """Spelled as the baseline spells it (DuckDB's CAST AS VARCHAR: booleans 'true' / 'false')."""
    return str(value).lower() if isinstance(value, bool | np.bool_) else str(value)


def _shares(counts: dict[str, int]) -> str:
    total = sum(counts.values()) or 1
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
    return ", ".join(f"{k} {v / total:.0%}" for k, v in top)


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
