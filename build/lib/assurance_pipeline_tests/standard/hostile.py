"""Hypothesis strategies for hostile or sloppy standards, shared by the property tests and benchmarks/hostile_standards.py.

A minimal valid standard (one header, one decision point) is the starting point; the strategies
replace the decision point file with broken YAML, a valid point with one field swapped for junk, a
point with duplicated lines, anchors or aliases, deep nesting, or a condition with a generated expression.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import strategies as st

HEADER = "name: Hostile test standard\nversion: '1'\nowner: Test office\n"
POINT: dict = {
    "id": "payment_release",
    "title": "Release of a payment hold",
    "meaning": "A hold is released only when its reason is cleared.",
    "authority": "AP manager",
    "owner": "Controller",
    "risk_tier": "critical",
    "contract": {
        "amount": {"type": "float", "min": 0},
        "hold_action": {"type": "string", "isin": ["release", "keep_hold"]},
        "signoff_by": {"type": "string", "nullable": True},
        "reversed": {"type": "boolean"},
    },
    "conditions": [{"id": "PR-1", "title": "Sign-off", "when": "hold_action = 'release' AND amount > 10000",
                    "require": "signoff_by IS NOT NULL", "severity": "critical"}],
    "outcome_evidence": [{"id": "PR-OE-1", "title": "Reversals", "metric": "avg(CASE WHEN reversed THEN 1.0 ELSE 0.0 END)",
                          "expect": {"max": 0.05}}],
}
POINT_FILE = "decision_points/payment_release.yaml"


class _SpelledOut(yaml.SafeDumper):
    def ignore_aliases(self, data: object) -> bool:
        return True


def dump(data: object) -> str:
    return yaml.dump(data, Dumper=_SpelledOut, sort_keys=False, allow_unicode=True)


def write_standard(root: Path, point_text: str) -> None:
    """The minimal standard under `root`, its one decision point file holding `point_text`."""
    (root / "decision_points").mkdir(parents=True, exist_ok=True)
    (root / "standard.yaml").write_text(HEADER, encoding="utf-8")
    (root / POINT_FILE).write_text(point_text, encoding="utf-8")


_YAML_PIECES = st.sampled_from(list("abcxyz019 :-,{}[]&*!|>'\"#?%@`\n\t.\x00\x01\x85\u2028\ufeff") +
                               ["\n  ", ": ", "- ", "<<: ", "&a ", "*a", "!!python/object ", "!!binary ", "2026-13-45", "9" * 5000])
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
_JUNK = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                     max_leaves=20)
_EXPRESSION_TOKENS = st.sampled_from([
    "(", ")", "amount", "hold_action", "reversed", "signoff_by", "cost", "decided_at", "NOT", "AND", "OR", "CASE", "WHEN",
    "THEN", "ELSE", "END", ">", "=", "<>", "1", "0.5", "'release'", "abs(", "lower(", "coalesce(", "avg(", "sum(", "count(*)",
    ",", "+", "-", "*", "/", "IN", "IS", "NULL", "LIKE", "BETWEEN", "TRUE", "random()", "(SELECT 1)", ";", "x.amount", "'",
])

raw_yaml = st.lists(_YAML_PIECES, max_size=200).map("".join)
expressions = st.one_of(st.lists(_EXPRESSION_TOKENS, max_size=60).map(" ".join), st.text(max_size=100))


@st.composite
def point_with_junk(draw: st.DrawFn) -> str:
    """The valid point with one field, at any depth, replaced by generated data."""
    data = yaml.safe_load(dump(POINT))
    target, key = data, draw(st.sampled_from(sorted(data)))
    while isinstance(target[key], dict | list) and draw(st.booleans()):
        target = target[key]
        key = draw(st.sampled_from(sorted(target) if isinstance(target, dict) else range(len(target))))
    target[key] = draw(_JUNK)
    return dump(data)


@st.composite
def point_with_edited_lines(draw: st.DrawFn) -> str:
    """The valid point with a line repeated, or an anchor/alias/merge key spliced into a line."""
    lines = dump(POINT).splitlines()
    index = draw(st.integers(0, len(lines) - 1))
    edit = draw(st.sampled_from(["repeat", "anchor", "alias", "merge"]))
    if edit == "repeat":
        lines.insert(index, lines[index])
    elif ": " in lines[index]:
        key, value = lines[index].split(": ", 1)
        spliced = {"anchor": f"{key}: &a {value}", "alias": f"{key}: *a", "merge": f"{key[: len(key) - len(key.lstrip())]}<<: {{x: 1}}"}
        lines[index] = spliced[edit]
    return "\n".join(lines) + "\n"


@st.composite
def point_with_expression(draw: st.DrawFn) -> str:
    """The valid point with one condition or metric replaced by a generated expression."""
    data = yaml.safe_load(dump(POINT))
    text = draw(expressions)
    field = draw(st.sampled_from(["when", "require", "metric"]))
    (data["outcome_evidence"] if field == "metric" else data["conditions"])[0][field] = text
    return dump(data)


deep_nesting = st.tuples(st.integers(1, 30_000), st.sampled_from(["[", "{a: "])).map(
    lambda nd: "id: " + nd[1] * nd[0] + "x" + ("]" if nd[1] == "[" else "}") * nd[0] + "\n")

point_documents = st.one_of(raw_yaml, point_with_junk(), point_with_edited_lines(), point_with_expression(), deep_nesting,
                            st.just(dump(POINT)))
