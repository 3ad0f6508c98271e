"""Geometry of the evidence pages' charts: where each bar, mark and point goes, in SVG user units. The templates
draw them as inline SVG (no script, no network), so a chart is computed and tested here and only drawn there."""

from __future__ import annotations

import math

DECISION_COLOURS = {"ASSURED": "green", "ASSURED_WITH_EXCEPTIONS": "amber", "INCONCLUSIVE": "grey", "NOT_ASSURED": "red"}


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above `value` (an axis end a reader can read)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value * (1 - 1e-12))


def deviation_chart(points: list[dict], width: int = 640, row: int = 34, label: int = 190) -> dict:
    """One row per decision point on a shared rate axis: the observed deviation rate (a dot), the upper deviation limit
    (a bar from the rate to it) and the tolerable rate (a tick the bar must stay left of)."""
    top = max([0.01, *(max(p["upper_deviation_limit"] if p["sample_size"] else 0.0, p["tolerable_deviation_rate"], p["deviation_rate"])
                       for p in points)])  # an untested point's limit of 100% says nothing: it does not set the scale
    end = min(1.0, nice_ceiling(top * 1.1))
    plot = width - label - 20

    def x(rate: float) -> float:
        return round(label + plot * min(rate, end) / end, 1)

    rows = [{"id": p["id"], "y": 24 + i * row, "rate": x(p["deviation_rate"]), "upper": x(p["upper_deviation_limit"]),
             "tolerable": x(p["tolerable_deviation_rate"]), "over": p["upper_deviation_limit"] > p["tolerable_deviation_rate"],
             "tested": p["sample_size"] > 0}
            for i, p in enumerate(points)]
    ticks = [{"x": x(end * k / 4), "label": _percent(end * k / 4)} for k in range(5)]
    return {"width": width, "height": 24 + len(points) * row + 24, "left": label, "right": label + plot, "rows": rows,
            "ticks": ticks, "axis_y": 24 + len(points) * row}


def _percent(rate: float) -> str:
    text = f"{100 * rate:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def effect_bar(effect: float, floor: float, width: int = 120) -> dict:
    """A drift test's effect against its floor: the floor sits at the middle, so a bar past it is over the floor."""
    scale = 2 * floor if floor > 0 else 1.0
    shown = effect if math.isfinite(effect) else 0.0  # an SVG length must be a number
    return {"width": width, "bar": round(width * min(max(shown, 0.0), scale) / scale, 1), "floor": width / 2,
            "over": shown >= floor}


def trend_chart(values: list[float | None], labels: list[str], low: float | None, high: float | None,
                width: int = 420, height: int = 150) -> dict:
    """A metric over cycles (oldest first): a point per cycle with a value, joined by a line, the expected band's
    bounds as dashed lines. A cycle without a value (withheld, not tested) leaves a gap."""
    values = [v if v is not None and math.isfinite(v) else None for v in values]
    known = [v for v in values if v is not None]
    span = [*known, *(b for b in (low, high) if b is not None)] or [0.0, 1.0]
    lo, hi = min(span), max(span)
    pad = (hi - lo) * 0.15 or abs(hi) * 0.15 or 1.0
    lo, hi = lo - pad, hi + pad
    left, right, top, bottom = 56, width - 40, 14, height - 30
    step = (right - left) / max(len(values) - 1, 1)

    def y(v: float) -> float:
        return round(bottom - (bottom - top) * (v - lo) / (hi - lo), 1)

    xs = [round(left + step * i if len(values) > 1 else (left + right) / 2, 1) for i in range(len(values))]
    marks = [{"x": xs[i], "y": y(v), "value": v, "label": labels[i]} for i, v in enumerate(values) if v is not None]
    segments, run = [], []
    for i, v in enumerate(values):
        if v is None:
            segments, run = segments + ([run] if len(run) > 1 else []), []
        else:
            run.append(f"{xs[i]},{y(v)}")
    segments += [run] if len(run) > 1 else []
    bounds = [{"y": y(b), "label": f"{name} {b:.4g}"} for name, b in (("max", high), ("min", low)) if b is not None]
    return {"width": width, "height": height, "left": left, "right": right, "top": top, "bottom": bottom, "marks": marks,
            "lines": [" ".join(s) for s in segments], "bounds": bounds,
            "axis": [{"y": y(v), "label": f"{v:.3g}"} for v in (lo + pad, hi - pad)] if hi - pad != lo + pad else [{"y": y(lo + pad), "label": f"{lo + pad:.3g}"}],
            "xlabels": [{"x": xs[i], "label": labels[i]} for i in range(len(values))] if len(values) <= 8
            else [{"x": xs[i], "label": labels[i]} for i in (0, len(values) - 1)]}


def decision_strip(cycles: list[dict], width: int = 640, height: int = 104) -> dict:
    """Each cycle's decision over time as a coloured, labelled mark (oldest first); colour never carries the meaning
    alone: each mark has its decision as text beside it in the table below the chart and a title."""
    left, right = 200, width - 30
    step = (right - left) / max(len(cycles) - 1, 1)
    levels = {"ASSURED": 0, "ASSURED_WITH_EXCEPTIONS": 1, "INCONCLUSIVE": 2, "NOT_ASSURED": 3}
    marks = [{"x": round(left + step * i if len(cycles) > 1 else (left + right) / 2, 1),
              "y": 16 + 24 * levels.get(c["decision"], 2), "colour": DECISION_COLOURS.get(c["decision"], "grey"),
              "decision": c["decision"], "label": c["label"]} for i, c in enumerate(cycles)]
    return {"width": width, "height": height, "marks": marks, "line": " ".join(f"{m['x']},{m['y']}" for m in marks),
            "levels": [{"y": 16 + 24 * n, "label": name.replace("_", " ")} for name, n in levels.items()], "left": left, "right": right}
