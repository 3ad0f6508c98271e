"""Re-perform a recorded cycle's sample from the source, trusting nothing but the source and the evidence.

The ledger seals the evidence pack; the pack holds the seed, the window, the plan, the selected ids and
their keyed fingerprints. Re-drawing with the same seed must select the same decisions in the same order,
and each must still hash to the same fingerprint: a row altered at the source after the cycle is caught.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.cycle_record import recorded_sampling
from assurance_pipeline.sampling.cycle_plan import SamplingPlan
from assurance_pipeline.sampling.fingerprints import fingerprint_key, key_id
from assurance_pipeline.sampling.population import profile_population
from assurance_pipeline.sampling.selection import draw_sample
from assurance_pipeline.sources.decision_log import DecisionLog
from assurance_pipeline.sources.window import Window
from assurance_pipeline.workspace import transient_workspace


@dataclass(frozen=True)
class ReperformReport:
    cycle_id: str
    same: bool
    decisions: int
    problem: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def reperform(cycle_id: str, source: str, evidence_dir: Path) -> ReperformReport:
    """Re-draw and compare; the first difference found is named (population, then selection, then content)."""
    recorded = recorded_sampling(cycle_id, evidence_dir)
    plan = SamplingPlan.from_dict(recorded["plan"])
    key = fingerprint_key()
    if key_id(key) != plan.key_id:
        raise AssuranceError(f"cycle {cycle_id} was fingerprinted with key {plan.key_id}; the configured key is {key_id(key)}")
    window = Window.from_dict(recorded["window"])
    with transient_workspace() as con:
        log = DecisionLog(source)
        log.attach(con, window, rows=False)
        population = profile_population(con, window, log)
        redrawn = draw_sample(con, plan, window, key, population, log)
    total = sum(len(s.decision_ids) for s in redrawn.values())
    for point in plan.points:
        problem = _population_change(point, population) or _sample_change(point.decision_point, recorded["selected"][point.decision_point], redrawn[point.decision_point])
        if problem:
            return ReperformReport(cycle_id, False, total, problem)
    return ReperformReport(cycle_id, True, total, None)


def _population_change(point, population) -> str | None:
    now = population.frame(point.decision_point)
    if now != point.population or population.fingerprint(point.decision_point) != point.population_fingerprint:
        return f"{point.decision_point}: the population in the window changed ({point.population} decisions then, {now} now, or other ids)"
    return None


def _sample_change(point: str, recorded: dict, redrawn) -> str | None:
    for rank, (then, now) in enumerate(zip(recorded["decision_ids"], redrawn.decision_ids, strict=False), start=1):
        if then != now:
            return f"{point}: selection #{rank} is decision {now} now, was {then}"
    if len(recorded["decision_ids"]) != len(redrawn.decision_ids):
        return f"{point}: {len(redrawn.decision_ids)} decisions selected now, {len(recorded['decision_ids'])} then"
    for decision_id, then, now in zip(recorded["decision_ids"], recorded["row_fingerprints"], redrawn.row_fingerprints, strict=True):
        if then != now:
            return f"{point}: decision {decision_id} has different content than when it was sampled"
    return None
