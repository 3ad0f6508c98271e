"""The baseline decision model: the go-live decision scenarios as a shallow decision tree, kept as readable JSON.

A scikit-learn tree (Breiman et al. 1984, CART) is fitted on the go-live window's decisions at baseline time
and stored as plain nodes and rules text, never pickled: an auditor can read it, and predicting from it
needs no scikit-learn and runs no stored code. Decision drift is the share of the window's decisions that
disagree with it (judged in the engine by `prediction_sql`), against the share of held-out go-live decisions that did.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier, export_text

from assurance_pipeline.sources.decision_log import quote_ident
from assurance_pipeline.standard.models import ContractColumn

MAX_DEPTH = 4
MIN_LEAF = 25
FORMAT = "decision-tree/v1"


def features(inputs: dict[str, ContractColumn]) -> list[dict]:
    """Numbers and flags as themselves; each authored category as a 0/1 column."""
    out = []
    for name, column in inputs.items():
        if column.isin is not None and column.type == "string":
            out += [{"name": f"{name} = {value}", "column": name, "equals": str(value)} for value in column.isin]
        else:
            out.append({"name": name, "column": name, "equals": None})
    return out


def matrix(frame: pd.DataFrame, spec: list[dict]) -> np.ndarray:
    columns = []
    for f in spec:
        raw = frame[f["column"]] if f["column"] in frame else pd.Series([None] * len(frame))
        if f["equals"] is not None:
            columns.append((raw.astype("string") == f["equals"]).fillna(False).astype(float).to_numpy())
        else:
            columns.append(pd.to_numeric(raw.astype("object").map(_number), errors="coerce").astype(float).to_numpy())
    return np.column_stack(columns) if columns else np.zeros((len(frame), 0))


def _number(value: object) -> float:
    """A number or flag as a float; anything missing (None, NaN, pd.NA) or textual as NaN."""
    if isinstance(value, str) or value is None or pd.isna(value):
        return math.nan
    return float(value)


def train(frame: pd.DataFrame, inputs: dict[str, ContractColumn], decision_field: str, seed: int = 0) -> dict | None:
    """Fit on 70% of the go-live rows, measure disagreement on the other 30%; None when there is too little to learn."""
    frame = frame[frame[decision_field].notna()].reset_index(drop=True)
    if len(frame) < 4 * MIN_LEAF or frame[decision_field].nunique() < 2:
        return None
    spec = features(inputs)
    x, y = matrix(frame, spec), frame[decision_field].astype(str).to_numpy()
    held_out = np.random.default_rng(seed).random(len(frame)) < 0.3
    tree = DecisionTreeClassifier(max_depth=MAX_DEPTH, min_samples_leaf=MIN_LEAF, random_state=seed).fit(x[~held_out], y[~held_out])
    model = _export(tree, spec, decision_field)
    model["trained_on"] = int((~held_out).sum())
    model["held_out"] = int(held_out.sum())
    disagreeing = int(np.sum(predict(model, frame[held_out]) != y[held_out]))
    model["held_out_disagreeing"] = disagreeing
    model["baseline_disagreement"] = disagreeing / int(held_out.sum())
    model["rules"] = export_text(tree, feature_names=[f["name"] for f in spec], show_weights=False)
    return model


def _export(tree: DecisionTreeClassifier, spec: list[dict], decision_field: str) -> dict:
    t = tree.tree_
    missing_left = getattr(t, "missing_go_to_left", np.zeros(t.node_count, dtype=bool))
    nodes = [
        {"feature": int(t.feature[i]), "threshold": float(t.threshold[i]), "left": int(t.children_left[i]),
         "right": int(t.children_right[i]), "missing_left": bool(missing_left[i]),
         "decision": str(tree.classes_[int(np.argmax(t.value[i][0]))])}
        for i in range(t.node_count)
    ]
    return {"format": FORMAT, "decision_field": decision_field, "features": spec, "nodes": nodes}


def number_sql(column: str) -> str:
    """A column as a SQL number, NaN as missing (as `predict` and the drift cells take it)."""
    return f"nullif(TRY_CAST({quote_ident(column)} AS DOUBLE), 'NaN'::DOUBLE)"


def prediction_sql(model: dict) -> tuple[str, dict]:
    """The stored tree as one SQL CASE expression over the point's typed rows, so a window's decisions are judged
    in the engine and none leaves it; thresholds, categories and decisions go in as bound parameters. It takes
    the same paths as `predict`."""
    features = model["features"]
    equals = [f["equals"] for f in features]
    params = {"tree_thresholds": [n["threshold"] for n in model["nodes"]], "tree_decisions": [n["decision"] for n in model["nodes"]],
              "tree_equals": [e if e is not None else "" for e in equals]}

    def feature(index: int) -> str:
        if equals[index] is not None:
            column = quote_ident(features[index]["column"])
            return f"(CASE WHEN CAST({column} AS VARCHAR) = $tree_equals[{index + 1}] THEN 1.0 ELSE 0.0 END)"
        return number_sql(features[index]["column"])

    def node(i: int) -> str:
        n = model["nodes"][i]
        if n["left"] == -1:
            return f"$tree_decisions[{i + 1}]"
        goes_left = f"coalesce({feature(n['feature'])} <= $tree_thresholds[{i + 1}], {str(n['missing_left']).upper()})"
        return f"CASE WHEN {goes_left} THEN {node(n['left'])} ELSE {node(n['right'])} END"

    sql = node(0)
    return sql, {k: v for k, v in params.items() if f"${k}[" in sql}


def predict(model: dict, frame: pd.DataFrame) -> np.ndarray:
    """Walk the stored nodes for each row (a NaN goes the way the tree sent missing values when it was fitted)."""
    x = matrix(frame, model["features"])
    nodes = model["nodes"]
    out = []
    for row in x:
        i = 0
        while nodes[i]["left"] != -1:
            value = row[nodes[i]["feature"]]
            go_left = nodes[i]["missing_left"] if math.isnan(value) else value <= nodes[i]["threshold"]
            i = nodes[i]["left"] if go_left else nodes[i]["right"]
        out.append(nodes[i]["decision"])
    return np.array(out, dtype=object)
