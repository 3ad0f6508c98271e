"""The governed cycle end to end, through the Dagster assets and checks, on a small log with planted, known problems
(see small_cycle.py for what is planted where)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg
import pytest
from scipy.stats import hypergeom

from assurance_pipeline.defs.cycle import assets
from assurance_pipeline.defs.cycle.run import run_cycle
from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.evidence.verification import verify_store
from assurance_pipeline_tests.small_cycle import (
    BETA_ROWS,
    BUDGET,
    CONTRACT_BREAKS,
    CRITICAL,
    CYCLE_FROM,
    CYCLE_POPULATION,
    CYCLE_TO,
    expected_population_fingerprint,
    DRIFTED_COST,
    GOLIVE_COST,
    HIGH,
    PLANNED,
    ROUTINE,
    SEED,
    UNKNOWN,
    Cycle,
    Store,
    build_rows,
    expected_selection,
    materialize,
    prepare,
    skips_signoff,
)

OTHER_SEED = "e2e-seed-2"
CONTRACT_KEYS = {"cycle_id", "window", "decision", "standard", "decision_points", "findings", "ledger", "evidence_pack"}
WINDOW_KEYS = {"from", "to"}
STANDARD_KEYS = {"name", "version", "sha256", "intact"}
POINT_KEYS = {"id", "risk_tier", "population", "sample_size", "deviations", "deviation_rate", "upper_deviation_limit", "tolerable_deviation_rate"}
FINDING_KEYS = {"id", "decision_point", "kind", "severity", "summary", "statistic", "threshold"}
PACK_FILES = {"index.html", "summary.md", "result.json", "sampling.json", "validation.json", "findings.json"}


def cycle_rows(rows: list[dict], point: str) -> list[dict]:
    return [r for r in rows if r["decision_point"] == point and r["decided_at"].month == 2]


def hypergeometric_upper(n: int, k: int, population: int, confidence: float) -> float:
    """The largest population rate D/N with P(X <= k; N, D, n) > 1 - confidence, by enumerating every D."""
    return max(d for d in range(population + 1) if hypergeom.cdf(k, population, d, n) > 1 - confidence) / population


def by_kind(findings: list[dict]) -> dict[tuple[str, str | None], list[dict]]:
    grouped: dict[tuple[str, str | None], list[dict]] = {}
    for f in findings:
        grouped.setdefault((f["kind"], f["decision_point"]), []).append(f)
    return grouped


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Cycle:
    return materialize(prepare(tmp_path_factory.mktemp("planted"), build_rows(planted=True)))


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Cycle:
    return materialize(prepare(tmp_path_factory.mktemp("clean"), build_rows(planted=False)))


# --- the planted cycle -------------------------------------------------------------------------------------------


def test_planted_cycle_runs_and_is_not_assured(planted: Cycle):
    assert planted.run.success
    decision = planted.decision
    assert decision["decision"] == "NOT_ASSURED"
    assert decision["reason"] == "4 critical or high finding(s)"
    assert decision["cycle_id"] == planted.run.run_id
    assert decision["window"] == {"from": "2026-02-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}
    assert decision["standard"]["intact"] is True
    assert decision["standard"]["name"] == "Small test standard"


def test_sample_sizes_follow_the_hypergeometric_plan_for_these_small_populations(planted: Cycle):
    points = planted.points()
    assert set(points) == {CRITICAL, HIGH, ROUTINE}
    for point_id, point in points.items():
        assert point["population"] == CYCLE_POPULATION[point_id]
        assert point["planned_sample_size"] == PLANNED[point_id]
        assert point["sample_size"] == min(PLANNED[point_id], CYCLE_POPULATION[point_id])
        assert len(planted.output("decision_sample")[point_id]["decision_ids"]) == point["sample_size"]
        assert point["distribution"] == "hypergeometric"
    assert points[HIGH]["sample_size"] == 31 < CYCLE_POPULATION[HIGH] == 40  # the binomial would ask 59 of 40
    assert {p: points[p]["risk_tier"] for p in points} == {CRITICAL: "critical", HIGH: "high", ROUTINE: "routine"}
    assert {p: points[p]["tolerable_deviation_rate"] for p in points} == {CRITICAL: 0.02, HIGH: 0.05, ROUTINE: 0.10}


def test_selection_is_the_documented_keyed_hash_lowest_n(planted: Cycle):
    selected = planted.output("decision_sample")
    for point_id in (CRITICAL, HIGH, ROUTINE):
        expected = expected_selection(planted.store.rows, point_id, SEED, CYCLE_FROM, CYCLE_TO, planted.points()[point_id]["sample_size"])
        assert selected[point_id]["decision_ids"] == expected
        assert len(set(selected[point_id]["row_fingerprints"])) == len(expected)


def test_planted_findings_are_exactly_the_planted_problems(planted: Cycle):
    findings = planted.decision["findings"]
    assert sorted((f["kind"], f["decision_point"], f["severity"]) for f in findings) == sorted([
        ("conformance", CRITICAL, "critical"),
        ("contract", HIGH, "high"),
        ("outcome", HIGH, "high"),
        ("ungoverned_change", HIGH, "high"),
        ("cost", CRITICAL, "medium"),
        ("cost", CRITICAL, "medium"),
        ("unknown_decision_point", UNKNOWN, "medium"),
    ])
    cycle_prefix = f"F-{planted.run.run_id[:8]}-"
    assert sorted(f["id"] for f in findings) == [f"{cycle_prefix}{n:02d}" for n in range(1, 8)]


def test_conformance_finding_counts_the_sampled_releases_without_signoff(planted: Cycle):
    failing = {r["decision_id"] for i, r in enumerate(cycle_rows(planted.store.rows, CRITICAL)) if skips_signoff(i)}
    sampled = planted.output("decision_sample")[CRITICAL]["decision_ids"]
    deviations = len(failing & set(sampled))
    point = planted.points()[CRITICAL]
    assert point["deviations"] == deviations > 3  # 30% of the population fails: the 2% tier is surely exceeded
    assert point["conclusion"] == "exceeds"
    upper = hypergeometric_upper(129, deviations, 500, 0.95)
    [finding] = by_kind(planted.decision["findings"])[("conformance", CRITICAL)]
    assert finding["statistic"] == pytest.approx(upper)
    assert point["upper_deviation_limit"] == pytest.approx(upper)
    assert finding["threshold"] == 0.02
    assert f"{deviations} of 129" in finding["summary"] and "PR-1 failed" in finding["summary"]
    assert "(hypergeometric: 129 of a population of 500)" in finding["summary"]
    validation = planted.output("validation_results")[CRITICAL]
    assert set(validation["deviating_decisions"]) == failing & set(sampled)
    assert validation["condition_counts"]["PR-1"]["fail"] == deviations


def test_contract_finding_names_the_value_outside_isin(planted: Cycle):
    [finding] = by_kind(planted.decision["findings"])[("contract", HIGH)]
    assert finding["statistic"] == pytest.approx(len(CONTRACT_BREAKS) / 31)
    assert finding["threshold"] == 0.0
    assert "channel" in finding["summary"]
    [failure] = planted.output("validation_results")[HIGH]["contract_failures"]
    rows = cycle_rows(planted.store.rows, HIGH)
    breaks = sorted(rows[i]["decision_id"] for i in CONTRACT_BREAKS)
    assert set(breaks) <= set(planted.output("decision_sample")[HIGH]["decision_ids"])  # this seed's 31 hold all 3
    assert failure["column"] == "channel"
    assert failure["decision_ids"] == breaks


def test_outcome_metric_over_the_whole_window_is_out_of_range(planted: Cycle):
    [finding] = by_kind(planted.decision["findings"])[("outcome", HIGH)]
    assert finding["statistic"] == pytest.approx(10 / 40)  # every fourth refund reopened, over all 40 in the window
    assert finding["threshold"] == 0.10
    [details] = [f["details"] for f in by_kind(planted.output("findings"))[("outcome", HIGH)]]
    assert details["effect"] == pytest.approx(10 / 40 - 0.10) and details["sample_size"] == 40
    [outcome] = planted.output("outcome_evidence")
    assert (outcome["outcome_id"], outcome["over"], outcome["sample_size"], outcome["conclusion"]) == ("RF-OE-1", "window", 40, "exceeds")


def test_unregistered_actor_version_is_an_ungoverned_change(planted: Cycle):
    [finding] = by_kind(planted.decision["findings"])[("ungoverned_change", HIGH)]
    assert finding["statistic"] == pytest.approx(len(BETA_ROWS) / 40)
    assert finding["threshold"] == 0.0
    assert "9.9-beta" in finding["summary"] and "refund-agent" in finding["summary"]


def test_cost_over_budget_and_over_the_golive_baseline(planted: Cycle):
    budget, baseline = sorted(by_kind(planted.decision["findings"])[("cost", CRITICAL)], key=lambda f: f["threshold"])[::-1]
    assert budget["statistic"] == pytest.approx(DRIFTED_COST) and budget["threshold"] == pytest.approx(BUDGET)
    assert baseline["statistic"] == pytest.approx(DRIFTED_COST) and baseline["threshold"] == pytest.approx(GOLIVE_COST * 1.25)
    assert "budget" in budget["summary"] and "baseline" in baseline["summary"]
    details = {f["details"]["against"]: f["details"] for f in by_kind(planted.output("findings"))[("cost", CRITICAL)]}
    assert details["budget"]["effect"] == pytest.approx(DRIFTED_COST / BUDGET - 1)
    assert details["baseline"]["effect"] == pytest.approx(DRIFTED_COST / GOLIVE_COST - 1)
    assert details["budget"]["sample_size"] == details["baseline"]["sample_size"] == planted.points()[CRITICAL]["population"]


def test_decisions_at_an_unknown_point_are_counted_not_dropped(planted: Cycle):
    [finding] = by_kind(planted.decision["findings"])[("unknown_decision_point", UNKNOWN)]
    assert (finding["statistic"], finding["threshold"]) == (7.0, 0.0)
    assert UNKNOWN in finding["summary"]
    assert UNKNOWN not in planted.output("decision_sample")


def test_asset_checks_of_the_planted_cycle(planted: Cycle):
    assert planted.checks() == {
        "standard_is_authorized": (True, dg.AssetCheckSeverity.ERROR),
        "sample_size_reached": (True, dg.AssetCheckSeverity.ERROR),
        "data_contract_holds": (False, dg.AssetCheckSeverity.WARN),
        "ledger_is_intact": (True, dg.AssetCheckSeverity.ERROR),
    }


def test_ledger_records_authorization_plan_and_decision_and_verifies(planted: Cycle):
    ledger = Ledger(planted.store.evidence)
    cycle_id = planted.run.run_id
    assert len(ledger.find("authorization")) >= 1
    [plan] = ledger.find("sampling_plan", cycle_id=cycle_id)
    assert plan.body["seed_sha256"] == hashlib.sha256(SEED.encode()).hexdigest()
    rows = build_rows(planted=True)
    assert plan.body["points"] == {
        p: {"population": CYCLE_POPULATION[p], "sample_size": min(PLANNED[p], CYCLE_POPULATION[p]),
            "population_fingerprint": expected_population_fingerprint(rows, p, CYCLE_FROM, CYCLE_TO),
            "stage": 1, "intensity": "normal", "expansion_reason": ""}
        for p in PLANNED
    }
    assert "FROM decisions" in plan.body["population_query"] and plan.body["key_id"]
    [decision] = ledger.find("cycle_decision", cycle_id=cycle_id)
    assert decision.body["decision"] == "NOT_ASSURED"
    assert decision.seq == planted.decision["ledger"]["entry"] and decision.hash == planted.decision["ledger"]["head"]
    assert plan.seq < decision.seq
    assert ledger.verify().intact
    assert verify_store(planted.store.evidence).intact


def test_evidence_pack_and_contract_shape_of_the_result(planted: Cycle):
    result = planted.decision
    pack = Path(result["evidence_pack"])
    assert pack == planted.store.evidence / "packs" / planted.run.run_id
    assert PACK_FILES <= {p.name for p in pack.iterdir()}
    assert CONTRACT_KEYS <= set(result)
    assert set(result["window"]) == WINDOW_KEYS
    assert STANDARD_KEYS <= set(result["standard"])
    assert all(POINT_KEYS <= set(p) for p in result["decision_points"])
    assert all(FINDING_KEYS <= set(f) for f in result["findings"])
    assert set(result["ledger"]) == {"entry", "head"}
    # result.json is sealed by the ledger entry, so it cannot hold that entry's position itself.
    on_disk = json.loads((pack / "result.json").read_text(encoding="utf-8"))
    assert CONTRACT_KEYS - {"ledger", "evidence_pack"} <= set(on_disk)
    assert {k: on_disk[k] for k in ("decision", "findings", "decision_points")} == {k: result[k] for k in ("decision", "findings", "decision_points")}
    sampling = json.loads((pack / "sampling.json").read_text(encoding="utf-8"))
    assert sampling["selected"] == planted.output("decision_sample")
    assert sampling["plan"]["seed"] == SEED
    assert len(json.loads((pack / "findings.json").read_text(encoding="utf-8"))) == 7
    assert "NOT_ASSURED" in (pack / "summary.md").read_text(encoding="utf-8")
    assert "Owner: Controller" in (pack / "index.html").read_text(encoding="utf-8")  # each point's owner, from the standard


def test_pack_keeps_evidence_fields_of_failing_decisions_only(planted: Cycle):
    validation = json.loads((Path(planted.decision["evidence_pack"]) / "validation.json").read_text(encoding="utf-8"))
    release = validation[CRITICAL]
    assert set(release["failing_evidence"]) == set(release["deviating_decisions"])
    assert all(set(values) == {"amount", "action", "signoff_by", "reference"} for values in release["failing_evidence"].values())
    assert all(values["signoff_by"] is None and values["action"] == "release" for values in release["failing_evidence"].values())
    refund = validation[HIGH]
    assert set(refund["failing_evidence"]) == set(refund["contract_failures"][0]["decision_ids"])
    assert {v["channel"] for v in refund["failing_evidence"].values()} == {"cash"}
    assert validation[ROUTINE]["failing_evidence"] == {}


# --- the clean variant ---------------------------------------------------------------------------------------------


def test_clean_cycle_is_assured(clean: Cycle):
    assert clean.run.success
    assert clean.decision["decision"] == "ASSURED"
    assert clean.decision["findings"] == []
    points = clean.points()
    assert {p: points[p]["conclusion"] for p in points} == dict.fromkeys(PLANNED, "within_tolerable")
    assert all(p["deviations"] == 0 for p in points.values())
    # 31 of 40 refunds, drawn without replacement: 2 deviating refunds (5%) would show with probability 95.4%,
    # so with none found at most 1 of the 40 deviates (2.5%). The binomial bound for 0 of 31 would be 9.2%.
    assert (points[HIGH]["sample_size"], points[HIGH]["population"]) == (31, 40)
    assert points[HIGH]["upper_deviation_limit"] == hypergeometric_upper(31, 0, 40, 0.95) == 1 / 40
    assert points[CRITICAL]["upper_deviation_limit"] == pytest.approx(hypergeometric_upper(129, 0, 500, 0.95))
    assert points[CRITICAL]["upper_deviation_limit"] < 0.02
    assert clean.checks() == {
        "standard_is_authorized": (True, dg.AssetCheckSeverity.ERROR),
        "sample_size_reached": (True, dg.AssetCheckSeverity.ERROR),
        "data_contract_holds": (True, dg.AssetCheckSeverity.WARN),
        "ledger_is_intact": (True, dg.AssetCheckSeverity.ERROR),
    }


def test_a_point_without_decisions_in_the_window_is_not_tested(clean: Cycle):
    # Refunds end on Feb 20, releases on Feb 21: over Feb 24-28 only access grants were executed.
    late = materialize(clean.store, window=("2026-02-24", "2026-02-28"))
    assert late.run.success
    points = late.points()
    assert {p: (points[p]["population"], points[p]["sample_size"], points[p]["conclusion"]) for p in points} == {
        CRITICAL: (0, 0, "not_tested"), HIGH: (0, 0, "not_tested"), ROUTINE: (16, 11, "within_tolerable"),
    }
    assert late.decision["decision"] == "ASSURED"
    # Scoped to the critical tier alone, nothing in scope was executed: nothing could be tested.
    critical_only = materialize(clean.store, window=("2026-02-24", "2026-02-28"), tiers=["critical"])
    assert critical_only.run.success
    assert [p["id"] for p in critical_only.decision["decision_points"]] == [CRITICAL]
    assert critical_only.decision["decision"] == "INCONCLUSIVE"


# --- an unauthorized change ----------------------------------------------------------------------------------------


def test_unauthorized_change_blocks_the_cycle_and_is_recorded_not_assured(tmp_path: Path):
    store = prepare(tmp_path, build_rows(planted=False))
    point_file = store.standard / "decision_points" / f"{HIGH}.yaml"
    point_file.write_text(point_file.read_text(encoding="utf-8").replace("expect: {max: 0.10}", "expect: {max: 0.50}"), encoding="utf-8")

    cycle = materialize(store)

    assert not cycle.run.success
    [check] = cycle.run.get_asset_check_evaluations()
    assert (check.check_name, check.passed, check.severity) == ("standard_is_authorized", False, dg.AssetCheckSeverity.ERROR)
    materialized = {e.asset_key.path[-1] for e in cycle.run.get_asset_materialization_events()}
    assert materialized == {"confirmed_standard"}
    ledger = Ledger(store.evidence)
    assert ledger.find("sampling_plan", cycle_id=cycle.run.run_id) == []
    [entry] = ledger.find("cycle_decision", cycle_id=cycle.run.run_id)
    assert entry.body["decision"] == "NOT_ASSURED"
    assert entry.body["standard"]["intact"] is False
    [finding] = entry.body["findings"]
    assert (finding["kind"], finding["severity"]) == ("standard_integrity", "critical")
    assert f"decision_points/{HIGH}.yaml was changed after authorization" in finding["summary"]
    assert verify_store(store.evidence).intact
    page = (store.evidence / "packs" / cycle.run.run_id / "index.html").read_text(encoding="utf-8")
    assert "NOT ASSURED" in page and "No sample was drawn" in page and "NOT INTACT" in page and "Owner: Test office" not in page
    assert f"finding-{finding['id']}" in page and "Test office" in page  # the standard's owner owns a finding about it


# --- reproducibility -------------------------------------------------------------------------------------------------


def test_same_seed_draws_the_same_sample_and_another_seed_a_different_one(planted: Cycle):
    again = materialize(planted.store, seed=SEED)
    other = materialize(planted.store, seed=OTHER_SEED)
    assert again.run.success and other.run.success
    first, second, third = (c.output("decision_sample") for c in (planted, again, other))
    # The first cycle left open findings, so the re-run tests those points at heightened intensity: by the same seed,
    # its larger sample begins with exactly the first cycle's decisions and content fingerprints.
    plan = {p["decision_point"]: p for p in again.output("sampling_plan")["plan"]["points"]}
    for point, first_sample in first.items():
        n = len(first_sample["decision_ids"])
        assert {k: v[:n] for k, v in second[point].items()} == first_sample
        if plan[point]["intensity"] == "heightened":
            assert "open finding" in plan[point]["expansion_reason"] and plan[point]["confidence"] == 0.99
        else:
            assert second[point] == first_sample
    assert plan[CRITICAL]["intensity"] == "heightened" and len(second[CRITICAL]["decision_ids"]) > len(first[CRITICAL]["decision_ids"])
    assert third[CRITICAL]["decision_ids"] != first[CRITICAL]["decision_ids"]
    assert third[ROUTINE]["decision_ids"] != first[ROUTINE]["decision_ids"]
    assert third[HIGH]["decision_ids"] != first[HIGH]["decision_ids"]  # 31 of 40: another seed, other refunds


def test_the_same_window_gives_the_same_drift_tests_whatever_the_seed(planted: Cycle):
    """Drift is counted over every decision of the window, so another seed (another audit sample) changes nothing."""
    other = materialize(planted.store, seed=OTHER_SEED)
    assert other.output("decision_sample") != planted.output("decision_sample")
    assert other.output("drift_tests") == planted.output("drift_tests") and planted.output("drift_tests")
    drift_kinds = {"data_drift", "decision_drift", "override"}
    assert [f["summary"] for f in other.output("findings") if f["kind"] in drift_kinds] == \
        [f["summary"] for f in planted.output("findings") if f["kind"] in drift_kinds]


# --- a renamed contract column -----------------------------------------------------------------------------------------


def test_renamed_contract_columns_are_contract_findings_and_untestable_conditions(tmp_path: Path):
    store = prepare(tmp_path, build_rows(planted=False), rename={"signoff_by": "legal_signoff", "reopened": "was_reopened"})
    cycle = materialize(store)
    assert cycle.run.success
    findings = by_kind(cycle.decision["findings"])

    [release_contract] = findings[("contract", CRITICAL)]
    assert "signoff_by" in release_contract["summary"] and "missing" in release_contract["summary"]
    assert release_contract["statistic"] == 1.0  # the field is absent from every sampled decision
    [refund_contract] = findings[("contract", HIGH)]
    assert "reopened" in refund_contract["summary"]
    assert cycle.output("validation_results")[CRITICAL]["missing_columns"] == ["signoff_by"]

    sampled = set(cycle.output("decision_sample")[CRITICAL]["decision_ids"])
    actions = [r["action"] for r in store.rows if r["decision_id"] in sampled]
    counts = cycle.output("validation_results")[CRITICAL]["condition_counts"]["PR-1"]
    assert counts == {"pass": 0, "fail": 0, "untestable": actions.count("release"), "not_applicable": actions.count("keep_hold")}
    [conformance] = findings[("conformance", CRITICAL)]
    assert conformance["severity"] == "critical"
    assert cycle.points()[CRITICAL]["deviations"] == actions.count("release")
    assert "untestable" in conformance["summary"]

    [outcome] = findings[("outcome", HIGH)]  # a metric over a missing field cannot be computed
    assert outcome["statistic"] is None and "could not be computed" in outcome["summary"]
    assert cycle.decision["decision"] == "NOT_ASSURED"
    assert cycle.checks()["data_contract_holds"] == (False, dg.AssetCheckSeverity.WARN)


# --- the CLI path ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # an ephemeral instance: nothing of the run kept on disk
    return prepare(tmp_path, build_rows(planted=True))


def test_run_cycle_returns_the_recorded_contract_result(cli_store: Store):
    result = run_cycle(cli_store.standard, str(cli_store.log), cli_store.evidence, CYCLE_FROM, CYCLE_TO, seed=SEED)
    assert CONTRACT_KEYS <= set(result)
    assert result["decision"] == "NOT_ASSURED"
    head = Ledger(cli_store.evidence).head()
    assert head.kind == "cycle_decision" and head.body["cycle_id"] == result["cycle_id"]
    assert result["ledger"] == {"entry": head.seq, "head": head.hash}
    assert Path(result["evidence_pack"]) == cli_store.evidence / "packs" / result["cycle_id"]
    assert PACK_FILES <= {p.name for p in Path(result["evidence_pack"]).iterdir()}
    json.dumps(result)  # what `assurance cycle --json` prints
    kinds = sorted(f["kind"] for f in result["findings"])
    assert kinds == sorted(["conformance", "contract", "outcome", "ungoverned_change", "cost", "cost", "unknown_decision_point"])
    sizes = {p["id"]: p["sample_size"] for p in result["decision_points"]}
    assert sizes == PLANNED


def test_run_cycle_refuses_a_bad_tier_without_half_a_cycle_in_the_ledger(cli_store: Store):
    before = len(list(Ledger(cli_store.evidence).entries()))
    with pytest.raises(AssuranceError, match="unknown tier 'urgent'") as raised:
        run_cycle(cli_store.standard, str(cli_store.log), cli_store.evidence, CYCLE_FROM, CYCLE_TO, tiers=["urgent"])
    assert raised.value.exit_code == 2
    assert len(list(Ledger(cli_store.evidence).entries())) == before


def test_every_step_uses_the_standard_as_it_was_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The standard is read once: a decision point file rewritten right after `confirmed_standard` read it (here,
    PR-1 made to pass always) changes nothing the cycle does, because no later step reads the folder again."""
    store = prepare(tmp_path, build_rows(planted=True))
    point_file = store.standard / "decision_points" / f"{CRITICAL}.yaml"
    read = assets.standard_files

    def read_then_rewrite(root):
        files = read(root)
        text = point_file.read_text(encoding="utf-8")
        point_file.write_text(text.replace('require: "signoff_by IS NOT NULL"', 'require: "amount >= 0"'), encoding="utf-8")
        return files

    monkeypatch.setattr(assets, "standard_files", read_then_rewrite)
    cycle = materialize(store)

    assert cycle.output("confirmed_standard")["standard"]["intact"]
    assert "amount >= 0" in point_file.read_text(encoding="utf-8")  # the folder did change under the running cycle
    assert cycle.output("validation_results")[CRITICAL]["condition_counts"]["PR-1"]["fail"] > 0
    [conformance] = by_kind(cycle.output("findings"))[("conformance", CRITICAL)]
    assert conformance["details"]["conditions"] == ["PR-1"]


def test_the_decision_links_to_its_pack_page_and_verify_runs_as_its_check(planted: Cycle):
    [event] = [e for e in planted.run.get_asset_materialization_events() if e.asset_key.path[-1] == "assurance_decision"]
    link = event.materialization.metadata["evidence_page"]
    assert link.url == (Path(planted.decision["evidence_pack"]).resolve() / "index.html").as_uri()
    assert Path(link.url.removeprefix("file://")).is_file()
    [verify] = [e for e in planted.run.get_asset_check_evaluations() if e.check_name == "ledger_is_intact"]
    entries = verify.metadata["entries"].value  # checked right after the decision was appended
    assert entries >= planted.decision["ledger"]["entry"] and verify.metadata["checkpoint"].value == entries
    assert verify.passed and verify.description == f"intact: {entries} entries"
