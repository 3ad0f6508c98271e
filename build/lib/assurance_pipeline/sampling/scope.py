"""What one cycle covers: its window, its decision points and its seed; for a second stage, the first stage's."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.cycle_record import recorded_sampling
from assurance_pipeline.sampling.cycle_plan import new_seed
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.models import Standard, TierName

TIERS = get_args(TierName)


def cycle_scope(
    standard: Standard, window: Window, tiers: list[str], points: list[str], seed: str | None, follow_up_of: str | None,
    evidence_dir: Path,
) -> dict:
    """{window, risk_tiers, decision_points, seed, follow_up}: checked, so a bad scope fails before anything runs."""
    unknown_tiers = sorted(set(tiers) - set(TIERS))
    if unknown_tiers:
        raise AssuranceError(f"risk_tiers: unknown tier {unknown_tiers[0]!r} (use {', '.join(TIERS)})")
    unknown_points = sorted(set(points) - set(standard.decision_points))
    if unknown_points:
        raise AssuranceError(f"decision_points: {unknown_points[0]!r} is not a decision point of the standard")
    if follow_up_of:
        return _second_stage(follow_up_of, points, evidence_dir)
    in_scope = [p.id for p in standard.points_in_tiers(tiers) if not points or p.id in points]
    return {"window": window.to_dict(), "risk_tiers": tiers, "decision_points": in_scope, "seed": seed or new_seed(), "follow_up": None}


def _second_stage(cycle_id: str, points: list[str], evidence_dir: Path) -> dict:
    """The first stage's window, seed and intensity, for its points that ended "extend" (or the ones named)."""
    recorded = recorded_sampling(cycle_id, evidence_dir)
    first = {p["decision_point"]: p for p in recorded["plan"]["points"]}
    extended = [row["id"] for row in recorded["decision_points"] if row.get("conclusion") == "extend"]
    chosen = points or extended
    not_extended = sorted(set(chosen) - set(extended))
    if not chosen or not_extended:
        raise AssuranceError(f"cycle {cycle_id}: {not_extended[0] if not_extended else 'no decision point'} did not end its first stage in 'extend'")
    return {
        "window": recorded["window"], "risk_tiers": [], "decision_points": chosen, "seed": recorded["plan"]["seed"],
        "follow_up": {"of": cycle_id, "heightened": {p: first[p]["expansion_reason"] for p in chosen if first[p].get("intensity") == "heightened"}},
    }
