"""The go-live decision model (`decision_model`) as rules a person reads: one rule per distinct outcome path, without
the tree's artefacts. A subtree whose leaves all decide the same is one rule; a branch no decision can reach is left
out; `x <= inf` is what scikit-learn writes for "x is given" (a missing value goes the other way); a chain of one-hot
category splits is the set of values still possible, `country_risk in (low, medium)`; and the bounds on one number
along a path are one interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Rule:
    conditions: tuple[str, ...]  # all of them hold; none: the rule always applies
    decision: str


@dataclass(frozen=True)
class _Column:
    """What a path has established about one input so far."""

    allowed: frozenset[str] | None = None  # a category's values still possible
    low: float = -math.inf  # a number: low < x <= high
    high: float = math.inf
    missing: bool | None = None  # known to be missing (True) or given (False)
    flag: bool | None = None  # a boolean's value


@dataclass(frozen=True)
class _Path:
    columns: dict[str, _Column] = field(default_factory=dict)
    order: tuple[str, ...] = ()  # columns in the order the path first tests them

    def with_column(self, name: str, column: _Column | None) -> _Path | None:
        """The path with `name` narrowed to `column`; None when no decision can take it."""
        if column is None:
            return None
        order = self.order if name in self.order else (*self.order, name)
        return _Path({**self.columns, name: column}, order)


def simplified_rules(model: dict, types: dict[str, str] | None = None) -> list[Rule]:
    """The model's rules in the order the tree lists them; `types` (column -> type from the baseline) marks booleans."""
    tree = _Tree(model, types or {})
    rules: list[Rule] = []
    tree.walk(0, _Path(), rules)
    return rules


def column_types(point_baseline: dict) -> dict[str, str]:
    """Each input's type as the baseline recorded it (a point's entry under `points`)."""
    return {name: str(c.get("type")) for name, c in (point_baseline.get("columns") or {}).items() if isinstance(c, dict)}


def rules_text(model: dict, types: dict[str, str] | None = None) -> str:
    """One line per rule: `IF a AND b THEN field = decision`."""
    out = []
    for rule in simplified_rules(model, types):
        then = f"{model['decision_field']} = {rule.decision}"
        out.append(f"IF {' AND '.join(rule.conditions)} THEN {then}" if rule.conditions else f"ALWAYS {then}")
    return "\n".join(out)


class _Tree:
    def __init__(self, model: dict, types: dict[str, str]) -> None:
        self.nodes = model["nodes"]
        self.features = model["features"]
        self.types = types
        self.values: dict[str, list[str]] = {}  # each category's values in the authored order
        for f in self.features:
            if f["equals"] is not None:
                self.values.setdefault(f["column"], []).append(str(f["equals"]))

    def walk(self, i: int, path: _Path, rules: list[Rule]) -> None:
        reachable = self.decisions(i, path)
        if len(reachable) == 1:
            rules.append(Rule(self.conditions(path), reachable.pop()))
            return
        for child, narrowed in self.branches(i, path):
            self.walk(child, narrowed, rules)

    def decisions(self, i: int, path: _Path) -> set[str]:
        """Every decision a leaf under node i reachable on this path gives."""
        if self.nodes[i]["left"] == -1:
            return {str(self.nodes[i]["decision"])}
        return set().union(*(self.decisions(child, narrowed) for child, narrowed in self.branches(i, path)))

    def branches(self, i: int, path: _Path) -> list[tuple[int, _Path]]:
        """The node's children a decision on this path can reach, each with what taking it establishes."""
        n = self.nodes[i]
        f = self.features[n["feature"]]
        name, column = f["column"], path.columns.get(f["column"], _Column())
        if f["equals"] is not None:
            allowed = column.allowed if column.allowed is not None else frozenset(self.values[name])
            value = str(f["equals"])
            sides = (allowed - {value}, allowed & {value})
            pairs = [(n["left"], replace(column, allowed=sides[0]) if sides[0] else None),
                     (n["right"], replace(column, allowed=sides[1]) if sides[1] else None)]
        elif column.missing:  # a missing value goes the way the tree learned, whatever the threshold
            pairs = [(n["left"] if n["missing_left"] else n["right"], column)]
        elif math.isinf(n["threshold"]):  # `x <= inf`: every given value goes left, a missing one as learned
            pairs = [(n["left"], replace(column, missing=False) if not n["missing_left"] else column),
                     (n["right"], replace(column, missing=True) if not n["missing_left"] else None)]
        elif self.types.get(name) == "boolean" and 0 < n["threshold"] < 1:
            pairs = [(n["left"], None if column.flag is True else replace(column, flag=False)),
                     (n["right"], None if column.flag is False else replace(column, flag=True))]
        else:
            t = n["threshold"]
            pairs = [(n["left"], replace(column, high=min(column.high, t)) if column.low < t else None),
                     (n["right"], replace(column, low=max(column.low, t)) if t < column.high else None)]
        return [(child, narrowed) for child, c in pairs if (narrowed := path.with_column(name, c)) is not None]

    def conditions(self, path: _Path) -> tuple[str, ...]:
        return tuple(text for name in path.order if (text := _condition(name, path.columns[name], self.values.get(name, []))))


def _condition(name: str, c: _Column, authored: list[str]) -> str:
    if c.allowed is not None:
        values = [v for v in authored if v in c.allowed]
        return f"{name} = {values[0]}" if len(values) == 1 else f"{name} in ({', '.join(values)})"
    if c.missing:
        return f"{name} is missing"
    if c.flag is not None:
        return f"{name} is {'true' if c.flag else 'false'}"
    if c.low > -math.inf and c.high < math.inf:
        return f"{_number(c.low)} < {name} <= {_number(c.high)}"
    if c.high < math.inf:
        return f"{name} <= {_number(c.high)}"
    if c.low > -math.inf:
        return f"{name} > {_number(c.low)}"
    return f"{name} is given" if c.missing is False else ""


def _number(value: float) -> str:
    return f"{value:.6g}"
