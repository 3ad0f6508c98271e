"""Chart geometry for the evidence pages: axes a reader can read, marks where the numbers put them."""

import pytest

from assurance_pipeline.evidence.charts import decision_strip, deviation_chart, effect_bar, nice_ceiling, trend_chart


@pytest.mark.parametrize("value, ceiling", [(0.078, 0.1), (0.11, 0.2), (0.21, 0.25), (0.3, 0.5), (1.0, 1.0), (0.0, 1.0), (7, 10)])
def test_an_axis_ends_at_a_round_number(value, ceiling):
    assert nice_ceiling(value) == pytest.approx(ceiling)


def test_the_deviation_chart_puts_rate_limit_and_tolerable_on_one_scale():
    points = [{"id": "a", "deviation_rate": 0.04, "upper_deviation_limit": 0.078, "tolerable_deviation_rate": 0.02, "sample_size": 149},
              {"id": "b", "deviation_rate": 0.0, "upper_deviation_limit": 0.05, "tolerable_deviation_rate": 0.05, "sample_size": 59},
              {"id": "c", "deviation_rate": 0.0, "upper_deviation_limit": 1.0, "tolerable_deviation_rate": 0.1, "sample_size": 0}]
    chart = deviation_chart(points)
    a, b, c = chart["rows"]
    assert a["over"] and not b["over"] and not c["tested"]
    assert chart["left"] <= b["rate"] < a["tolerable"] < a["rate"] < a["upper"] <= chart["right"]
    assert b["upper"] == b["tolerable"]  # at the limit is not over it
    assert chart["ticks"][-1]["label"] == "20%" and chart["ticks"][0]["x"] == chart["left"]  # c: its tolerable 10% counts, its 100% limit not


def test_an_effect_bar_crosses_the_floor_mark_exactly_when_the_effect_reaches_it():
    assert effect_bar(0.05, 0.05)["bar"] == effect_bar(0.05, 0.05)["floor"] and effect_bar(0.05, 0.05)["over"]
    assert effect_bar(float("nan"), 0.05)["bar"] == 0 and not effect_bar(float("nan"), 0.05)["over"]
    assert not effect_bar(0.049, 0.05)["over"] and effect_bar(-0.01, 0.05)["bar"] == 0 and effect_bar(9, 0.05)["bar"] == 120


def test_each_decision_sits_on_its_own_level_in_time_order():
    strip = decision_strip([{"decision": d, "label": str(i)} for i, d in enumerate(["ASSURED", "NOT_ASSURED", "INCONCLUSIVE"])])
    xs, ys = [m["x"] for m in strip["marks"]], [m["y"] for m in strip["marks"]]
    assert xs == sorted(xs) and ys[0] < ys[2] < ys[1] and [m["colour"] for m in strip["marks"]] == ["green", "red", "grey"]


def test_a_value_that_is_not_a_number_is_a_gap_in_the_trend():
    chart = trend_chart([0.1, float("nan"), 0.2, 0.3], ["a", "b", "c", "d"], None, 0.25)
    assert [m["label"] for m in chart["marks"]] == ["a", "c", "d"] and len(chart["lines"]) == 1
    assert all(str(m["y"]) not in ("nan", "inf") for m in chart["marks"])
