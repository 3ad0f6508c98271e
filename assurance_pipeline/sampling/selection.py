"""Draw the sample into the transient workspace with one pushed-down query; return only ids and fingerprints."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from assurance_pipeline.sampling.cycle_plan import SamplingPlan
from assurance_pipeline.sources.window import Window
from assurance_pipeline.sql_models import render

SAMPLE_TABLE = "sample"


@dataclass(frozen=True)
class SelectedPoint:
    """What may be kept of a point's sample: its decision ids in selection order and their content fingerprints."""

    decision_point: str
    decision_ids: list[str] = field(default_factory=list)
    row_fingerprints: list[str] = field(default_factory=list)


def draw_sample(con: duckdb.DuckDBPyConnection, plan: SamplingPlan, window: Window) -> dict[str, SelectedPoint]:
    """Create the workspace table `sample` (the selected rows, whole) and summarize it per decision point."""
    sizes = pa.table({
        "decision_point": [p.decision_point for p in plan.points],
        "sample_size": [p.sample_size for p in plan.points],
    })
    con.register("sampling_plan_arrow", sizes)
    con.execute("CREATE OR REPLACE TEMP TABLE sampling_plan AS SELECT * FROM sampling_plan_arrow")
    con.unregister("sampling_plan_arrow")
    con.execute(f"DROP TABLE IF EXISTS {SAMPLE_TABLE}")
    max_n = max([p.sample_size for p in plan.points], default=0)
    con.execute(render("sample_selection", window=window.predicate()), {"seed": plan.seed, "max_n": max(max_n, 1)})
    rows = con.execute(
        f"SELECT decision_point, decision_id, __row_fingerprint FROM {SAMPLE_TABLE} ORDER BY decision_point, __selection_key"
    ).fetchall()
    selected = {p.decision_point: SelectedPoint(p.decision_point) for p in plan.points}
    for point, decision_id, fingerprint in rows:
        selected[point].decision_ids.append(decision_id)
        selected[point].row_fingerprints.append(fingerprint)
    return selected
