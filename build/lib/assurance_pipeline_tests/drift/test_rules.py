"""The go-live decision model as readable rules: no `<= inf`, no split whose branches agree, category sets, intervals."""

import math

import pytest

from assurance_pipeline.drift.rules import Rule, rules_text, simplified_rules

FEATURES = [
    {"name": "country_risk = low", "column": "country_risk", "equals": "low"},
    {"name": "country_risk = medium", "column": "country_risk", "equals": "medium"},
    {"name": "country_risk = high", "column": "country_risk", "equals": "high"},
    {"name": "amount", "column": "amount", "equals": None},
    {"name": "verified", "column": "verified", "equals": None},
    {"name": "days", "column": "days", "equals": None},
]
F = {f["name"]: i for i, f in enumerate(FEATURES)}


def split(feature: str, threshold: float, left: int, right: int, missing_left: bool = False) -> dict:
    return {"feature": F[feature], "threshold": threshold, "left": left, "right": right, "missing_left": missing_left, "decision": "-"}


def leaf(decision: str) -> dict:
    return {"feature": -2, "threshold": -2.0, "left": -1, "right": -1, "missing_left": False, "decision": decision}


def model(nodes: list[dict]) -> dict:
    return {"decision_field": "action", "features": FEATURES, "nodes": nodes}


def test_a_category_chain_is_the_set_of_values_still_possible():
    nodes = [split("country_risk = high", 0.5, 1, 4),  # 0
             split("country_risk = medium", 0.5, 2, 3),  # 1: not high
             leaf("approve"), leaf("review"), leaf("reject")]
    assert simplified_rules(model(nodes)) == [
        Rule(("country_risk = low",), "approve"), Rule(("country_risk = medium",), "review"), Rule(("country_risk = high",), "reject")]
    nodes[0], nodes[1] = split("country_risk = high", 0.5, 1, 4), split("amount", 100.0, 2, 3)
    assert simplified_rules(model(nodes))[0] == Rule(("country_risk in (low, medium)", "amount <= 100"), "approve")


def test_splits_whose_branches_agree_are_one_rule():
    nodes = [split("amount", 100.0, 1, 4),
             split("amount", 50.0, 2, 3), leaf("approve"), leaf("approve"),  # agree: amount <= 100 approves
             leaf("reject")]
    assert rules_text(model(nodes)) == "IF amount <= 100 THEN action = approve\nIF amount > 100 THEN action = reject"
    assert rules_text(model([split("amount", 100.0, 1, 2), leaf("approve"), leaf("approve")])) == "ALWAYS action = approve"


def test_less_or_equal_inf_is_whether_the_value_is_given():
    nodes = [split("days", math.inf, 1, 2), leaf("grant"), leaf("deny")]
    assert rules_text(model(nodes)) == "IF days is given THEN action = grant\nIF days is missing THEN action = deny"
    assert "inf" not in rules_text(model(nodes))
    # every value goes left when the tree also sends missing ones left: the right branch is never taken
    nodes[0] = split("days", math.inf, 1, 2, missing_left=True)
    assert rules_text(model(nodes)) == "ALWAYS action = grant"


def test_a_split_after_missing_follows_the_missing_branch_only():
    nodes = [split("days", math.inf, 1, 2), leaf("grant"), split("days", 30.0, 3, 4, missing_left=False), leaf("a"), leaf("deny")]
    assert simplified_rules(model(nodes))[-1] == Rule(("days is missing",), "deny")


def test_bounds_on_one_number_are_one_interval_and_impossible_branches_are_dropped():
    nodes = [split("amount", 100.0, 1, 6),
             split("amount", 10.0, 2, 3), leaf("a"),
             split("amount", 200.0, 4, 5), leaf("b"), leaf("never"),  # amount > 200 cannot hold under amount <= 100
             leaf("c")]
    assert simplified_rules(model(nodes)) == [Rule(("amount <= 10",), "a"), Rule(("10 < amount <= 100",), "b"), Rule(("amount > 100",), "c")]


@pytest.mark.parametrize("types, expected", [
    ({"verified": "boolean"}, ("verified is false", "verified is true")),
    ({}, ("verified <= 0.5", "verified > 0.5")),  # an integer column keeps its threshold
])
def test_a_boolean_reads_as_true_or_false(types, expected):
    nodes = [split("verified", 0.5, 1, 2), leaf("hold"), leaf("release")]
    assert [r.conditions[0] for r in simplified_rules(model(nodes), types)] == list(expected)
