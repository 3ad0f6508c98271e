"""The run-scoped IO manager hands each value to the step that needs it, on an instance that keeps its runs: an
asset's value by its key, and each output of a dynamic op (a step per decision point) by its own mapping key."""

from __future__ import annotations

import dagster as dg

from assurance_pipeline.defs.resources import run_scoped_io_manager


@dg.op(out=dg.DynamicOut(str))
def points():
    for point in ("refund", "access", "payment"):
        yield dg.DynamicOutput(point, mapping_key=point)


@dg.op
def count_point(point: str) -> dict:
    return {"point": point, "letters": len(point)}


@dg.op
def summary(counted: list[dict]) -> list[dict]:
    return sorted(counted, key=lambda c: c["point"])


@dg.graph_asset
def drift_like() -> list[dict]:
    return summary(points().map(count_point).collect())


@dg.asset
def downstream(drift_like: list[dict]) -> int:
    return sum(c["letters"] for c in drift_like)


def test_each_mapped_output_and_each_asset_reaches_its_consumer(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = dg.materialize([drift_like, downstream], instance=instance, resources={"io_manager": run_scoped_io_manager})
    assert result.success
    assert result.output_for_node("drift_like") == [{"point": "access", "letters": 6}, {"point": "payment", "letters": 7},
                                                    {"point": "refund", "letters": 6}]
    assert result.output_for_node("downstream") == 19
