"""The baseline decision model: the go-live decision scenarios as a shallow decision tree, kept as readable JSON.

A scikit-learn tree (Breiman et al. 1984, CART) is fitted on the go-live window's decisions at baseline time
and stored as plain nodes and rules text, never pickled: an auditor can read it, and predicting from it
needs no scikit-learn and runs no stored code. Its leaves are the strata decision drift is tested in: the
window's decisions are counted per leaf in the engine (`leaf_sql`), with those that disagree with the leaf's
decision, and compared leaf by leaf with the go-live decisions the tree was not fitted on, so inputs that
move into a leaf where the go-live rules were already uncertain are expected to disagree more.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas and scikit-learn are imported where used: a cycle with no decision model never loads them
    import pandas as pd
    from sklearn.tree import DecisionTreeClassifier

from assurance_pipeline.sources.decision_log import quote_ident
from assurance_pipeline.standard.models import ContractColumn

MAX_DEPTH = 5  # its leaves are decision drift's strata: deep enough that a move of the inputs stays mostly between them
MIN_LEAF = 25
FORMAT = "decision-tree/v2"


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
    import pandas as pd
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
    import pandas as pd
    if isinstance(value, str) or value is None or pd.isna(value):
        return math.nan
    return float(value)


def train(frame: pd.DataFrame, inputs: dict[str, ContractColumn], decision_field: str, seed: int = 0) -> dict | None:
    """Fit the tree on the go-live training decisions; None when there is too little to learn. How often held-out
    go-live decisions disagree with it, leaf by leaf, is counted in the engine (see baseline)."""
    from sklearn.tree import DecisionTreeClassifier, export_text
    frame = frame[frame[decision_field].notna()].reset_index(drop=True)
    if len(frame) < 4 * MIN_LEAF or frame[decision_field].nunique() < 2:
        return None
    spec = features(inputs)
    # scikit-learn fits in float32, and refuses an infinity or a value past its range: such a value is clipped to
    # the range's end, which every threshold (a midpoint between two float32 values) puts on the infinity's side.
    limit = float(np.finfo(np.float32).max)
    x, y = np.clip(matrix(frame, spec), -limit, limit), frame[decision_field].astype(str).to_numpy()
    tree = DecisionTreeClassifier(max_depth=MAX_DEPTH, min_samples_leaf=MIN_LEAF, random_state=seed).fit(x, y)
    model = _export(tree, spec, decision_field)
    model["trained_on"] = len(frame)
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


def leaf_sql(model: dict) -> tuple[str, dict]:
    """The stored tree as one SQL CASE expression over the point's typed rows giving each row's leaf (its node index),
    so a window's decisions are placed and judged in the engine and none leaves it; thresholds and categories go in
    as bound parameters. It takes the same paths as `leaves`."""
    features = model["features"]
    equals = [f["equals"] for f in features]
    params = {"tree_thresholds": [n["threshold"] for n in model["nodes"]], "tree_equals": [e if e is not None else "" for e in equals]}

    def feature(index: int) -> str:
        if equals[index] is not None:
            column = quote_ident(features[index]["column"])
            return f"(CASE WHEN CAST({column} AS VARCHAR) = $tree_equals[{index + 1}] THEN 1.0 ELSE 0.0 END)"
        return number_sql(features[index]["column"])

    def node(i: int) -> str:
        n = model["nodes"][i]
        if n["left"] == -1:
            return str(i)
        goes_left = f"coalesce({feature(n['feature'])} <= $tree_thresholds[{i + 1}], {str(n['missing_left']).upper()})"
        return f"CASE WHEN {goes_left} THEN {node(n['left'])} ELSE {node(n['right'])} END"

    sql = node(0)
    return sql, {k: v for k, v in params.items() if f"${k}[" in sql}


def leaves(model: dict, frame: pd.DataFrame) -> np.ndarray:
    """Walk the stored nodes for each row to its leaf (a NaN goes the way the tree sent missing values when fitted)."""
    x = matrix(frame, model["features"])
    nodes = model["nodes"]
    out = []
    for row in x:
        i = 0
        while nodes[i]["left"] != -1:
            value = row[nodes[i]["feature"]]
            go_left = nodes[i]["missing_left"] if math.isnan(value) else value <= nodes[i]["threshold"]
            i = nodes[i]["left"] if go_left else nodes[i]["right"]
        out.append(i)
    return np.array(out, dtype=int)


def predict(model: dict, frame: pd.DataFrame) -> np.ndarray:
    """The go-live rules' decision for each row: its leaf's."""
    return np.array([model["nodes"][i]["decision"] for i in leaves(model, frame)], dtype=object)
