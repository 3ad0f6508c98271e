"""Draw the sample into the transient workspace with one pushed-down query; return only ids and fingerprints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb

from assurance_pipeline.sampling.cycle_plan import SamplingPlan
from assurance_pipeline.sampling.fingerprints import row_fingerprints
from assurance_pipeline.sampling.population import PopulationProfile
from assurance_pipeline.sources.window import Window
from assurance_pipeline.sql_models import render

if TYPE_CHECKING:
    from assurance_pipeline.sources.decision_log import DecisionLog

SAMPLE_TABLE = "sample"


@dataclass(frozen=True)
class SelectedPoint:
    """What may be kept of a point's sample: its decision ids in selection order and their content fingerprints."""

    decision_point: str
    decision_ids: list[str] = field(default_factory=list)
    row_fingerprints: list[str] = field(default_factory=list)


def draw_sample(
    con: duckdb.DuckDBPyConnection, plan: SamplingPlan, window: Window, key: bytes, population: PopulationProfile | None = None,
    source: DecisionLog | None = None,
) -> dict[str, SelectedPoint]:
    """Create the workspace table `sample` (the selected rows, whole); return per point the ids in selection
    order and each row's keyed fingerprint. Rows without an id are never drawn, nor the rows of an id the
    `population` scan found logged twice or more, so no id is drawn twice.
    A PostgreSQL `source` ranks and cuts in the server: only the selected rows come into the workspace."""
    duplicated = {p.decision_point: p.duplicated_rows for p in population.id_problems} if population else {}
    if source is not None and source.postgres:
        sizes = {p.decision_point: p.sample_size for p in plan.points}
        frames = {p: population.frame(p) for p in sizes} if population else {}
        con.register("sample_arrow", source.postgres.selected_rows(window, sizes, plan.seed, frames))
        con.execute(f"CREATE OR REPLACE TABLE {SAMPLE_TABLE} AS SELECT * FROM sample_arrow")
        con.unregister("sample_arrow")
    else:
        _select_in_workspace(con, plan, window, duplicated)
    order = con.execute(f"SELECT decision_point, decision_id FROM {SAMPLE_TABLE} ORDER BY decision_point, __selection_key").fetchall()
    fingerprints = row_fingerprints(con, key, f"SELECT * EXCLUDE (__selection_key) FROM {SAMPLE_TABLE}")
    selected = {p.decision_point: SelectedPoint(p.decision_point) for p in plan.points}
    for point, decision_id in order:
        selected[point].decision_ids.append(decision_id)
        selected[point].row_fingerprints.append(fingerprints[decision_id])
    return selected


def _select_in_workspace(con: duckdb.DuckDBPyConnection, plan: SamplingPlan, window: Window, duplicated: dict[str, int]) -> None:
    """Run `sample_selection.sql`: each point ranks n ids, plus as many as its rows of ids logged more than once."""
    sizes = [p.sample_size for p in plan.points]
    fetched = [p.sample_size + duplicated.get(p.decision_point, 0) for p in plan.points]
    # Bound lists, not a registered Arrow table: registering one imports pandas, half a second of every cycle.
    con.execute("CREATE OR REPLACE TEMP TABLE sampling_plan AS SELECT unnest($points) AS decision_point, "
                "CAST(unnest($sizes) AS BIGINT) AS sample_size, CAST(unnest($fetched) AS BIGINT) AS fetched",
                {"points": [p.decision_point for p in plan.points] or [""], "sizes": sizes or [0], "fetched": fetched or [0]})
    con.execute(f"DROP TABLE IF EXISTS {SAMPLE_TABLE}")
    con.execute(render("sample_selection", window=window.predicate()), {"seed": plan.seed, "max_fetched": max([*fetched, 1])})
