"""Loading the standard: the demo loads into typed models; every malformed standard is refused with one
line that names the file, the field or condition id, and what is wrong (the README (The standard))."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from assurance_pipeline.demo.generator import DemoPaths, write_demo
from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.standard.loading import load_standard
from assurance_pipeline.standard.models import DEFAULT_TIERS, RiskTier

ROWS = 2_000
PR = "decision_points/payment_release.yaml"
RF = "decision_points/refund_decision.yaml"
STD = "standard.yaml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPaths:
    return write_demo(tmp_path_factory.mktemp("demo"), rows=ROWS)


@pytest.fixture
def standard(demo: DemoPaths, tmp_path: Path) -> Path:
    """A private copy of the demo standard, named `standard/` so messages read `standard/...`."""
    root = tmp_path / "standard"
    shutil.copytree(demo.standard_dir, root)
    return root


# ---------------------------------------------------------------------------------------------------
# Mutations: each edits exactly one file and fails loudly if the demo no longer has what it edits.
# ---------------------------------------------------------------------------------------------------

Mutation = Callable[[Path], None]


def replace_text(rel: str, old: str, new: str) -> Mutation:
    def mutate(root: Path) -> None:
        path = root / rel
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"mutation target {old!r} not found exactly once in {rel}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    return mutate


def edit_yaml(rel: str, change: Callable[[dict], None]) -> Mutation:
    def mutate(root: Path) -> None:
        path = root / rel
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    return mutate


def set_condition(index: int, field: str, text: str, rel: str = PR) -> Mutation:
    def change(data: dict) -> None:
        data["conditions"][index][field] = text

    return edit_yaml(rel, change)


def set_metric(index: int, text: str, rel: str = PR) -> Mutation:
    def change(data: dict) -> None:
        data["outcome_evidence"][index]["metric"] = text

    return edit_yaml(rel, change)


def set_tier(tier: str, **values: float) -> Mutation:
    def change(data: dict) -> None:
        data["risk_tiers"][tier].update(values)

    return edit_yaml(STD, change)


def _update(key: str, value: object) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        data[key] = value

    return change


def _delete(*keys: str | int) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        target = data
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return change


def _rename_condition(index: int, new_id: str) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        data["conditions"][index]["id"] = new_id

    return change


def _add_contract_column(name: str, spec: dict) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        data["contract"][name] = spec

    return change


def _add_to_condition(index: int, key: str, value: object) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        data["conditions"][index][key] = value

    return change


# (case id, mutation, file named in the message, fragments the message must contain)
MALFORMED: list[tuple[str, Mutation, str, list[str]]] = [
    # the header: tiers and fields
    ("unknown tier in standard.yaml", edit_yaml(STD, lambda d: d["risk_tiers"].update(extreme={"confidence": 0.9, "tolerable_deviation_rate": 0.1})),
     STD, ["risk_tiers.extreme", "'critical', 'high' or 'routine'"]),
    ("confidence 1.5", set_tier("high", confidence=1.5), STD, ["risk_tiers.high.confidence", "less than 1"]),
    ("confidence 0", set_tier("critical", confidence=0), STD, ["risk_tiers.critical.confidence", "greater than 0"]),
    ("confidence NaN", set_tier("routine", confidence=float("nan")), STD, ["risk_tiers.routine.confidence"]),
    ("tolerable 0", set_tier("routine", tolerable_deviation_rate=0.0), STD, ["risk_tiers.routine.tolerable_deviation_rate", "greater than 0"]),
    ("expected equals tolerable", set_tier("high", expected_deviation_rate=0.05), STD,
     ["risk_tiers.high", "expected_deviation_rate must be below tolerable_deviation_rate"]),
    ("expected above tolerable", set_tier("critical", expected_deviation_rate=0.5), STD,
     ["risk_tiers.critical", "expected_deviation_rate must be below tolerable_deviation_rate"]),
    ("unknown field in standard.yaml", edit_yaml(STD, _update("sponsor", "CEO")), STD, ["sponsor", "unknown field"]),
    ("unknown field in a tier", set_tier("high", confidance=0.9), STD, ["risk_tiers.high.confidance", "unknown field"]),
    ("missing owner in standard.yaml", edit_yaml(STD, _delete("owner")), STD, ["owner", "Field required"]),
    ("bad actor type", edit_yaml(STD, lambda d: d["actors"].append({"id": "bot", "type": "robot"})), STD,
     ["actors.9.type", "'robot'"]),
    # a decision point's fields
    ("unknown risk tier of a point", replace_text(PR, "risk_tier: critical", "risk_tier: extreme"), PR,
     ["risk_tier", "'critical', 'high' or 'routine'", "'extreme'"]),
    ("unknown field in a point", edit_yaml(PR, _update("approver", "CFO")), PR, ["approver", "unknown field"]),
    ("unknown field in a condition", edit_yaml(PR, _add_to_condition(0, "severty", "high")), PR,
     ["conditions.0.severty", "unknown field"]),
    ("missing meaning", edit_yaml(PR, _delete("meaning")), PR, ["meaning", "Field required"]),
    ("missing require", edit_yaml(PR, _delete("conditions", 1, "require")), PR, ["conditions.1.require", "Field required"]),
    ("bad severity", set_condition(0, "severity", "urgent"), PR, ["conditions.0.severity", "'urgent'"]),
    ("bad contract type", edit_yaml(PR, _add_contract_column("iban", {"type": "money"})), PR, ["contract.iban.type", "'money'"]),
    ("min/max on a string column", edit_yaml(PR, _add_contract_column("iban", {"type": "string", "min": 1})), PR,
     ["contract.iban", "min/max apply to integer or float columns"]),
    ("duplicate condition id", edit_yaml(PR, _rename_condition(1, "PR-1")), PR, ["duplicate id PR-1"]),
    ("evidence_field not a column", edit_yaml(PR, lambda d: d["evidence_fields"].append("iban")), PR,
     ["evidence_fields", "'iban'", "not a contract or log column"]),
    ("contract redefines a log column", edit_yaml(PR, _add_contract_column("cost", {"type": "float"})), PR,
     ["contract: column 'cost'", "log column"]),
    ("contract redefines decided_at", edit_yaml(PR, _add_contract_column("decided_at", {"type": "string"})), PR,
     ["contract: column 'decided_at'", "log column"]),
    # conditions: the expression language
    ("second statement", set_condition(0, "when", "amount > 1; DROP TABLE x"), PR,
     ["condition PR-1: when", "one expression", "2 statements"]),
    ("python call", set_condition(0, "require", "__import__('os').system('ls')"), PR, ["condition PR-1: require", "not allowed"]),
    ("python lambda", set_condition(1, "when", "lambda x: x"), PR, ["condition PR-2: when", "not a valid SQL expression"]),
    ("unknown column, near miss", set_condition(0, "when", "hold_action = 'release' AND amout > 10000"), PR,
     ["condition PR-1: when", "unknown column 'amout'", "did you mean 'amount'"]),
    ("unknown column, far off", set_condition(2, "require", "zzz_flag = TRUE"), PR, ["condition PR-3: require", "unknown column 'zzz_flag'"]),
    ("function random()", set_condition(0, "when", "random() < 0.5"), PR,
     ["condition PR-1: when", "function 'random' is not allowed", "allowed: abs"]),
    ("function read_csv()", set_condition(0, "require", "read_csv('x') IS NOT NULL"), PR,
     ["condition PR-1: require", "function 'read_csv' is not allowed"]),
    ("subquery", set_condition(0, "when", "amount > (SELECT max(amount) FROM decisions)"), PR,
     ["condition PR-1: when", "not allowed", "Subquery"]),
    ("IN subquery", set_condition(0, "when", "payee_id IN (SELECT payee_id FROM decisions)"), PR,
     ["condition PR-1: when", "Subquery"]),
    ("aggregate in a condition", set_condition(0, "require", "sum(amount) > 10"), PR,
     ["condition PR-1: require", "aggregate sum() is not allowed in a condition"]),
    ("qualified column", set_condition(0, "when", "t.amount > 10000"), PR,
     ["condition PR-1: when", "'t.amount'", "qualified names are not allowed"]),
    ("cast", set_condition(0, "when", "CAST(amount AS VARCHAR) = '1'"), PR, ["condition PR-1: when", "function 'cast'"]),
    ("empty expression", set_condition(0, "when", "   "), PR, ["condition PR-1: when", "0 statements"]),
    ("condition in another point", set_condition(0, "when", "refund_amout > 500", rel=RF), RF,
     ["condition RF-1: when", "unknown column 'refund_amout'", "did you mean 'refund_amount'"]),
    # outcome evidence metrics
    ("metric without aggregate", set_metric(0, "CASE WHEN reversed THEN 1.0 ELSE 0.0 END"), PR,
     ["outcome_evidence PR-OE-1: metric", "must aggregate"]),
    ("metric column outside the aggregate", set_metric(1, "avg(amount) + amount"), PR,
     ["outcome_evidence PR-OE-2: metric", "column 'amount' is used outside an aggregate"]),
    ("metric nested aggregate", set_metric(0, "avg(sum(amount))"), PR, ["outcome_evidence PR-OE-1: metric", "nested"]),
    ("metric unknown column", set_metric(0, "avg(amout)"), PR, ["outcome_evidence PR-OE-1: metric", "did you mean 'amount'"]),
    # well-formed, but the parts do not fit together: found when the standard loads, not mid-cycle
    ("condition function on the wrong type", set_condition(0, "require", "lower(amount) = 'x'"), PR,
     ["condition PR-1: require", "does not type-check", "lower(DOUBLE)"]),
    ("condition that is not true or false", set_condition(0, "require", "amount + 1"), PR,
     ["condition PR-1: require", "must be true or false", "DOUBLE"]),
    ("date_diff with an unknown unit", set_condition(0, "when", "date_diff('fortnight', hold_placed_at, decided_at) > 1"), PR,
     ["condition PR-1: when", "date_diff unit 'fortnight' is not one of year"]),
    ("metric that is not a number", set_metric(0, "max(currency)"), PR, ["outcome_evidence PR-OE-1: metric", "must give a number", "VARCHAR"]),
    ("column name in the wrong case", set_condition(0, "require", "LEGAL_SIGNOFF_BY IS NOT NULL"), PR,
     ["condition PR-1: require", "did you mean 'legal_signoff_by'"]),
    ("expectation bound NaN", replace_text(PR, "expect: {max: 10}", "expect: {max: .nan}"), PR, ["outcome_evidence.1.expect.max"]),
    # materiality floors
    ("drift floor of 0", edit_yaml(PR, _update("drift_floors", {"wasserstein_sd": 0})), PR,
     ["drift_floors.wasserstein_sd", "greater than 0"]),
    ("Jensen-Shannon floor above 1", edit_yaml(PR, _update("drift_floors", {"jensen_shannon": 1.5})), PR,
     ["drift_floors.jensen_shannon", "less than or equal to 1"]),
    ("unknown drift floor", edit_yaml(PR, _update("drift_floors", {"psi": 0.1})), PR, ["drift_floors.psi", "unknown field"]),
]


def test_the_copy_is_valid_before_any_mutation(standard: Path) -> None:
    assert set(load_standard(standard).decision_points) == {
        "payment_release", "refund_decision", "vendor_onboarding", "access_provisioning"}


@pytest.mark.parametrize(("mutation", "rel", "fragments"), [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_malformed_standard_is_refused_naming_file_and_problem(
    standard: Path, mutation: Mutation, rel: str, fragments: list[str]
) -> None:
    mutation(standard)
    with pytest.raises(AssuranceError) as caught:
        load_standard(standard)
    message = str(caught.value)
    assert "\n" not in message, f"not one line: {message!r}"
    assert message.startswith(f"standard/{rel}:"), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from {message!r}"
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("rel", "line_text", "broken"),
    [
        (STD, "owner: CFO office", "owner: CFO: office"),
        (PR, "owner: Controller", "owner: [Controller"),
        (RF, "    severity: medium", "    severity: 'medium"),
    ],
    ids=["standard.yaml", "payment_release.yaml", "refund_decision.yaml unterminated quote"],
)
def test_broken_yaml_names_file_and_line(standard: Path, rel: str, line_text: str, broken: str) -> None:
    path = standard / rel
    lines = path.read_text(encoding="utf-8").splitlines()
    line_no = lines.index(line_text) + 1
    replace_text(rel, line_text + "\n", broken + "\n")(standard)
    with pytest.raises(AssuranceError) as caught:
        load_standard(standard)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"standard/{rel}: line "), message
    assert "broken YAML" in message
    # an unclosed bracket or quote is noticed later (even at the end of the file): the line where it was
    # opened must still be named, so the author knows where to look
    assert f"line {line_no}" in message, (line_no, message)


def test_broken_yaml_reports_the_exact_line_of_a_misplaced_mapping(standard: Path) -> None:
    lines = (standard / STD).read_text(encoding="utf-8").splitlines()
    line_no = lines.index("owner: CFO office") + 1
    replace_text(STD, "owner: CFO office", "owner: CFO: office")(standard)
    with pytest.raises(AssuranceError, match=rf"^standard/standard\.yaml: line {line_no}, column \d+: broken YAML \(mapping values"):
        load_standard(standard)


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        (lambda root: (root / STD).unlink(), "not a standard folder"),
        (lambda root: shutil.rmtree(root / "decision_points"), "no decision point files"),
        (lambda root: (root / PR).write_text("- just\n- a list\n", encoding="utf-8"), "payment_release.yaml: must be a YAML mapping"),
        (lambda root: (root / PR).write_bytes(b"id: \xff\xfe\n"), "payment_release.yaml: cannot be read"),
        (lambda root: shutil.copy(root / PR, root / "decision_points" / "payment_release_copy.yaml"),
         "payment_release_copy.yaml: id: decision point 'payment_release' is defined twice"),
    ],
    ids=["no standard.yaml", "no decision points", "not a mapping", "not utf-8", "duplicate decision point"],
)
def test_structural_problems_are_refused(standard: Path, setup: Mutation, fragment: str) -> None:
    setup(standard)
    with pytest.raises(AssuranceError) as caught:
        load_standard(standard)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


# ---------------------------------------------------------------------------------------------------
# The demo standard, loaded.
# ---------------------------------------------------------------------------------------------------


def test_demo_standard_loads_into_models(demo: DemoPaths) -> None:
    standard = load_standard(demo.standard_dir)
    assert standard.header.name == "Acme decision standard"
    assert standard.header.version == "1.0"
    assert standard.header.owner == "CFO office"
    assert sorted(standard.decision_points) == ["access_provisioning", "payment_release", "refund_decision", "vendor_onboarding"]
    tiers = {p.id: p.risk_tier for p in standard.decision_points.values()}
    assert tiers == {"payment_release": "critical", "refund_decision": "high", "vendor_onboarding": "high", "access_provisioning": "routine"}

    pr = standard.decision_points["payment_release"]
    assert [c.id for c in pr.conditions] == ["PR-1", "PR-2", "PR-3"]
    assert pr.conditions[0].when == "hold_action = 'release' AND amount > 10000"
    assert pr.conditions[0].require == "legal_signoff_by IS NOT NULL"
    assert pr.conditions[0].severity == "critical"
    assert pr.contract["amount"].type == "float" and pr.contract["amount"].min == 0
    assert pr.contract["legal_signoff_by"].nullable is True and pr.contract["amount"].nullable is False
    assert pr.contract["currency"].isin == ["EUR", "USD", "GBP"]
    assert [o.id for o in pr.outcome_evidence] == ["PR-OE-1", "PR-OE-2"]
    assert pr.outcome_evidence[0].expect.max == 0.05 and pr.outcome_evidence[0].expect.min is None
    assert pr.cost is not None and pr.cost.budget_per_decision == 0.40
    assert "amount" in pr.evidence_fields and "payee_id" not in pr.evidence_fields
    # expressions may use the log's own columns as well as the contract's
    assert {"decided_at", "actor_type", "reviewed_by", "amount", "hold_action"} <= set(pr.columns())
    assert standard.tier(pr) == RiskTier(confidence=0.95, tolerable_deviation_rate=0.02, expected_deviation_rate=0.0)


def test_demo_actors_are_registered_with_their_versions(demo: DemoPaths) -> None:
    header = load_standard(demo.standard_dir).header
    assert [a.id for a in header.actors] == [
        "ap-agent", "ap-manager", "legal-desk", "refund-agent", "support-lead",
        "vendor-onboarding-agent", "procurement-clerk", "access-workflow", "it-admin"]
    assert header.actor("ap-agent").type == "agent" and header.actor("ap-agent").versions == ["2.3"]
    assert header.actor("refund-agent").versions == ["4.1", "4.2"]
    assert header.actor("access-workflow").type == "system"
    assert header.actor("ap-manager").type == "human" and header.actor("ap-manager").versions is None
    assert header.actor("refund-agent-beta") is None


def test_left_out_tiers_are_filled_with_the_defaults(standard: Path) -> None:
    def keep_only_high(data: dict) -> None:
        data["risk_tiers"] = {"high": {"confidence": 0.99, "tolerable_deviation_rate": 0.03}}

    edit_yaml(STD, keep_only_high)(standard)
    tiers = load_standard(standard).header.risk_tiers
    assert set(tiers) == {"critical", "high", "routine"}
    assert tiers["high"] == RiskTier(confidence=0.99, tolerable_deviation_rate=0.03, expected_deviation_rate=0.0)
    assert tiers["critical"] == DEFAULT_TIERS["critical"]
    assert tiers["routine"] == RiskTier(confidence=0.90, tolerable_deviation_rate=0.10, expected_deviation_rate=0.0)


def test_no_risk_tiers_at_all_gives_contract_defaults(standard: Path) -> None:
    edit_yaml(STD, _delete("risk_tiers"))(standard)
    tiers = load_standard(standard).header.risk_tiers
    assert {name: (t.confidence, t.tolerable_deviation_rate, t.expected_deviation_rate) for name, t in tiers.items()} == {
        "critical": (0.95, 0.02, 0.0), "high": (0.95, 0.05, 0.0), "routine": (0.90, 0.10, 0.0)}


def test_numeric_version_and_actor_versions_are_read_as_text(standard: Path) -> None:
    replace_text(STD, 'version: "1.0"', "version: 2")(standard)
    replace_text(STD, 'versions: ["2.3"]', "versions: [2.3]")(standard)
    header = load_standard(standard).header
    assert header.version == "2"
    assert header.actor("ap-agent").versions == ["2.3"]
