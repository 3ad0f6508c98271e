"""Mine candidate DCT conditions and a decision field from live decisions, for `assurance init` to draft.

For each flag, category or nullable column of a decision point, a shallow scikit-learn decision tree (Breiman et
al. 1984, CART) is fitted on a bounded sample of the point's rows to predict it from the others; every leaf on which
one outcome holds on at least 99% of the sample becomes a candidate `when` (the path to the leaf) / `require` (the
outcome) pair, written in the standard's expression language and null-safe. Candidates are then counted on every
row of the window in one engine scan (`verify_conditions`): only those that hold on >= 99% of the rows their `when`
selects, on at least MIN_SUPPORT rows, are drafted. Thresholds are tree split points rounded to two significant
digits (never a row's value); categories are only the values the drafted contract already names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

from assurance_pipeline.drift.decision_model import MAX_DEPTH as DECISION_DEPTH
from assurance_pipeline.drift.decision_model import MIN_LEAF as DECISION_MIN_LEAF
from assurance_pipeline.sources.decision_log import VIEW, quote_ident
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.expressions import compile_expression
from assurance_pipeline.standard.models import ContractColumn

SAMPLE_ROWS = 20_000  # per decision point: enough to find rules, bounded whatever the log's size
RULE_DEPTH = 3  # a condition a person can read: at most three clauses
MIN_SUPPORT = 20  # rows a drafted condition's `when` must select
MIN_HOLDS = 0.99  # share of those rows its `require` must hold on
MAX_CONDITIONS = 8  # per decision point, the best supported first
MAX_BASE_RATE = 0.95  # an outcome this common at the point overall makes no rule worth drafting
MIN_DECISION_SCORE = 0.2  # how much better than always guessing the commonest outcome a decision field must be predicted
ACTOR_TYPES = ("agent", "human", "system")


@dataclass(frozen=True)
class Feature:
    """One input of the trees: a number or flag as itself, a category value as 0/1, a nullable column's presence."""

    column: str
    kind: str  # number | flag | equals | present
    nullable: bool = False
    integer: bool = False
    value: str | None = None

    @property
    def key(self) -> str:
        return {"equals": f"{self.column}={self.value}", "present": f"{self.column}?"}.get(self.kind, self.column)


@dataclass(frozen=True)
class Candidate:
    point: str
    when: str
    require: str
    gain: float  # how much likelier the required outcome is where `when` holds than at the point overall


@dataclass(frozen=True)
class VerifiedCondition:
    point: str
    when: str
    require: str
    support: int  # rows of the window its `when` selects
    holds_on: float  # share of those rows its `require` holds on
    gain: float


def point_features(contract: dict[str, ContractColumn]) -> list[Feature]:
    """The trees' inputs at a point: its contract's numbers, flags and categories, presence of nullable columns, and
    who acted (`actor_type`) and whether a person reviewed (`reviewed_by`)."""
    features = [Feature("actor_type", "equals", value=v) for v in ACTOR_TYPES]
    features.append(Feature("reviewed_by", "present"))
    for name, col in contract.items():
        if col.type in ("integer", "float", "boolean"):
            features.append(Feature(name, "flag" if col.type == "boolean" else "number", col.nullable, col.type == "integer"))
        elif col.isin is not None:
            features += [Feature(name, "equals", col.nullable, value=str(v)) for v in col.isin]
        elif col.nullable:  # free text or an id: only whether it is filled in
            features.append(Feature(name, "present"))
    return features


def sampled_features(contract: dict[str, ContractColumn]) -> list[Feature]:
    """What a point's sample rows must hold: the trees' inputs and what rules may require."""
    return [*point_features(contract), *targets(contract)]


def sample_frame(con: duckdb.DuckDBPyConnection, window: Window, features: dict[str, list[Feature]]) -> pd.DataFrame:
    """A bounded, deterministic sample of every point's rows (the first SAMPLE_ROWS by a hash of the id), in one scan:
    numbers and flags as numbers, categories as text, other text only as present or not. Kept in memory only."""
    selected: dict[str, str] = {}
    for feature in (f for fs in features.values() for f in fs):
        col = quote_ident(feature.column)
        if feature.kind == "present":
            selected[feature.key] = f"({col} IS NOT NULL)"
        elif feature.kind == "equals":
            selected[feature.column] = f"CAST({col} AS VARCHAR)"
        else:
            selected[feature.column] = f"CAST({col} AS DOUBLE)"
    columns = ", ".join(f"{sql} AS {quote_ident(name)}" for name, sql in selected.items())
    return con.execute(
        f"SELECT decision_point, {columns} FROM {VIEW} WHERE {window.predicate()} AND decision_point IN (SELECT unnest($points)) "
        f"QUALIFY row_number() OVER (PARTITION BY decision_point ORDER BY hash(decision_id), decision_id) <= {SAMPLE_ROWS}",
        {"points": sorted(features)},
    ).df()


def matrix(frame: pd.DataFrame, features: list[Feature]) -> np.ndarray:
    columns = []
    for f in features:
        raw = frame[f.key if f.kind == "present" else f.column]
        if f.kind == "equals":
            columns.append((raw.astype("string") == f.value).fillna(False).to_numpy(dtype=float))
        else:
            columns.append(pd.to_numeric(raw.astype("object"), errors="coerce").to_numpy(dtype=float))
    return np.column_stack(columns) if columns else np.zeros((len(frame), 0))


def targets(contract: dict[str, ContractColumn]) -> list[Feature]:
    """What rules may require: a category or flag that is never null, or that a nullable column is filled in."""
    out = [Feature("reviewed_by", "present")]
    for name, col in contract.items():
        if col.nullable:
            out.append(Feature(name, "present"))
        elif col.type == "boolean":
            out.append(Feature(name, "flag"))
        elif col.isin is not None and len(col.isin) >= 2:
            out.append(Feature(name, "equals"))
    return out


def mine_point(point: str, frame: pd.DataFrame, contract: dict[str, ContractColumn]) -> list[Candidate]:
    """Candidate conditions at one point from its sample rows (see the module docstring)."""
    features, found = point_features(contract), []
    min_leaf = max(MIN_SUPPORT, math.ceil(0.01 * len(frame)))
    for target in targets(contract):
        inputs = [f for f in features if f.column != target.column]
        y = _outcome(frame, target)
        if len(frame) < 2 * min_leaf or not inputs or y.nunique() < 2:
            continue
        tree = DecisionTreeClassifier(max_depth=RULE_DEPTH, min_samples_leaf=min_leaf, random_state=0)
        tree.fit(matrix(frame, inputs), y.to_numpy())
        found += [Candidate(point, when, require, gain) for when, require, gain in _leaf_rules(tree, inputs, target)]
    return found


def _outcome(frame: pd.DataFrame, target: Feature) -> pd.Series:
    if target.kind == "present":
        return frame[target.key].astype(bool).astype(str)
    return frame[target.column].astype("object").map(lambda v: None if pd.isna(v) else str(v)).fillna("<null>")


def _leaf_rules(tree: DecisionTreeClassifier, inputs: list[Feature], target: Feature) -> list[tuple[str, str, float]]:
    """Pure leaves as (when, require, gain); an outcome already near-universal at the point (MAX_BASE_RATE) says
    nothing a `when` adds, so it is left out."""
    t, rules = tree.tree_, []
    overall = t.value[0][0] / t.value[0][0].sum()
    missing_left = getattr(t, "missing_go_to_left", np.zeros(t.node_count, dtype=bool))

    def walk(node: int, path: list[tuple[Feature, bool, float, bool]]) -> None:
        if t.children_left[node] == -1:
            counts = t.value[node][0]
            best = int(np.argmax(counts))
            outcome, share = str(tree.classes_[best]), counts.max() / counts.sum()
            if path and share >= MIN_HOLDS and outcome != "<null>" and overall[best] <= MAX_BASE_RATE:
                require = _require(target, outcome)
                if require:
                    rules.append((_when(path), require, float(share - overall[best])))
            return
        feature, threshold, nan_left = inputs[t.feature[node]], float(t.threshold[node]), bool(missing_left[node])
        if not math.isfinite(threshold):  # scikit-learn's split of the missing from the present values
            present = Feature(feature.column, "present")
            walk(t.children_left[node], [*path, (present, False, 0.5, False)] if not nan_left else path)
            walk(t.children_right[node], [*path, (present, True, 0.5, False)])
            return
        walk(t.children_left[node], [*path, (feature, True, threshold, nan_left)])
        walk(t.children_right[node], [*path, (feature, False, threshold, not nan_left)])

    walk(0, [])
    return rules


def _require(target: Feature, outcome: str) -> str | None:
    column = target.column
    if target.kind == "present":
        return f"{column} IS NOT NULL" if outcome == "True" else None  # a rule requiring absence is rarely a control
    if target.kind == "flag":
        return f"{column} = {'TRUE' if float(outcome) else 'FALSE'}"
    return f"{column} = {_text(outcome)}"


def _when(path: list[tuple[Feature, bool, float, bool]]) -> str:
    """The path to a leaf as one null-safe conjunction, a column's clauses merged (two bounds, one category)."""
    by_column: dict[tuple[str, bool], list[tuple[Feature, bool, float, bool]]] = {}
    for step in path:
        by_column.setdefault((step[0].column, step[0].kind == "present"), []).append(step)
    return " AND ".join(_clause(steps) for steps in by_column.values())


def _clause(steps: list[tuple[Feature, bool, float, bool]]) -> str:
    feature = steps[0][0]
    nulls_reach = feature.nullable and all(nan for *_, nan in steps)
    col = feature.column
    if feature.kind == "present":
        return f"{col} IS NULL" if any(goes_left for _, goes_left, *_ in steps) else f"{col} IS NOT NULL"
    if feature.kind == "flag":
        text = f"{col} = {'FALSE' if steps[-1][1] else 'TRUE'}"
    elif any(s[0].kind == "equals" for s in steps):
        equal = [s[0].value for s in steps if s[0].kind == "equals" and not s[1]]
        other = sorted({s[0].value for s in steps if s[0].kind == "equals" and s[1]})
        text = f"{col} = {_text(equal[0])}" if equal else (
            f"{col} <> {_text(other[0])}" if len(other) == 1 else f"{col} NOT IN ({', '.join(_text(v) for v in other)})")
        nulls_reach = feature.nullable and not equal
    else:
        upper = min((s[2] for s in steps if s[1]), default=None)
        lower = max((s[2] for s in steps if not s[1]), default=None)
        parts = ([f"{col} > {_number(lower, feature.integer)}"] if lower is not None else []) + (
            [f"{col} <= {_number(upper, feature.integer)}"] if upper is not None else [])
        text = " AND ".join(parts)
    if not feature.nullable:
        return text
    return f"({col} IS NULL OR {text})" if nulls_reach else f"{col} IS NOT NULL AND {text}"


def _number(threshold: float, integer: bool) -> str:
    """A split point rounded to two significant digits (an integer column's to a whole number)."""
    value = math.floor(threshold) if integer else threshold
    if value != 0:
        digits = 1 - math.floor(math.log10(abs(value)))
        value = round(value, digits)
    return str(int(value)) if value == int(value) else repr(value)


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def verify_conditions(con: duckdb.DuckDBPyConnection, window: Window, candidates: list[Candidate],
                      columns: dict[str, dict[str, str]]) -> list[VerifiedCondition]:
    """Count every candidate on every row of the window, in one engine scan: the rows its `when` selects, those
    where its `require` does not hold, and those where `when` is unknown (a cycle counts those as deviations)."""
    if not candidates:
        return []
    parts, params = [], {}
    for i, c in enumerate(candidates):
        when, require = (compile_expression(text, columns[c.point]) for text in (c.when, c.require))
        params[f"p{i}"] = c.point
        at = f"decision_point = $p{i}"
        parts += [f"count(*) FILTER (WHERE {at} AND ({when}))",
                  f"count(*) FILTER (WHERE {at} AND ({when}) AND ({require}) IS NOT TRUE)",
                  f"count(*) FILTER (WHERE {at} AND ({when}) IS NULL)"]
    row = con.execute(f"SELECT {', '.join(parts)} FROM {VIEW} WHERE {window.predicate()}", params).fetchone()
    verified = []
    for i, c in enumerate(candidates):
        support, failing, unknown = row[3 * i : 3 * i + 3]
        if support >= MIN_SUPPORT and not unknown and (support - failing) / support >= MIN_HOLDS:
            holds = math.floor((support - failing) / support * 10_000) / 10_000
            verified.append(VerifiedCondition(c.point, c.when, c.require, support, holds, c.gain))
    return verified


def best_conditions(verified: list[VerifiedCondition]) -> list[VerifiedCondition]:
    """At most MAX_CONDITIONS per point, one per (when, require), those that tell most first: the rows they govern
    times how much likelier their outcome is there than overall."""
    seen, out = set(), []
    for v in sorted(verified, key=lambda v: (-v.support * v.gain, v.require, v.when)):
        if (v.when, v.require) in seen or sum(o.point == v.point for o in out) >= MAX_CONDITIONS:
            continue
        seen.add((v.when, v.require))
        out.append(v)
    return out


def propose_decision_field(frame: pd.DataFrame, contract: dict[str, ContractColumn]) -> tuple[str, list[str], float] | None:
    """The never-null category or flag the other columns predict best (a depth-5 tree, as decision drift uses, scored on
    every third row it was not fitted on by its accuracy's gain over always guessing the commonest outcome), with the
    contract columns that tree splits on, most important first; None when none is predicted usefully."""
    features, best = point_features(contract), None
    held_out = np.arange(len(frame)) % 3 == 0
    for target in (t for t in targets(contract) if t.kind != "present"):
        inputs = [f for f in features if f.column != target.column]
        y = _outcome(frame, target).to_numpy()
        if len(frame) < 6 * DECISION_MIN_LEAF or len(set(y)) < 2 or not inputs:
            continue
        x = matrix(frame, inputs)
        tree = DecisionTreeClassifier(max_depth=DECISION_DEPTH, min_samples_leaf=DECISION_MIN_LEAF, random_state=0)
        tree.fit(x[~held_out], y[~held_out])
        score = _kappa(y[held_out], tree.predict(x[held_out]), y[~held_out])
        if score >= MIN_DECISION_SCORE and (best is None or score > best[2]):
            importance: dict[str, float] = {}
            for feature, weight in zip(inputs, tree.feature_importances_, strict=True):
                if feature.column in contract and weight > 0:
                    importance[feature.column] = importance.get(feature.column, 0.0) + float(weight)
            inputs_used = sorted(importance, key=lambda n: -importance[n])
            best = (target.column, inputs_used, round(score, 3))
    return best


def _kappa(truth: np.ndarray, predicted: np.ndarray, training: np.ndarray) -> float:
    """Accuracy's gain over always predicting the training set's commonest outcome, as a share of what could be gained."""
    values, counts = np.unique(training, return_counts=True)
    baseline = float(np.mean(truth == values[np.argmax(counts)]))
    accuracy = float(np.mean(truth == predicted))
    return 0.0 if baseline >= 1 else (accuracy - baseline) / (1 - baseline)
