"""The governed cycle as software-defined assets, one per step. Outputs carry ids, counts and statistics only:
sampled rows stay in the transient workspace, so the IO manager never stores production data."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from assurance_pipeline import cycle
from assurance_pipeline.defs.cycle import metadata as md
from assurance_pipeline.defs.resources import (
    DecisionLogResource,
    EvidenceStoreResource,
    StandardResource,
    TransientWorkspaceResource,
)
from assurance_pipeline.drift.baseline import read_baseline
from assurance_pipeline.drift.detectors import override_tests, point_drift_tests
from assurance_pipeline.errors import AssuranceError, engine_error
from assurance_pipeline.evidence.pack_page import standard_about
from assurance_pipeline.findings.lifecycle import read_findings
from assurance_pipeline.findings.model import Finding
from assurance_pipeline.sampling.cycle_plan import SamplingPlan, build_plan
from assurance_pipeline.sampling.fingerprints import fingerprint_key, key_id
from assurance_pipeline.sampling.intensity import recent_signals
from assurance_pipeline.sampling.scope import cycle_scope
from assurance_pipeline.defs.cycle.partitions import CYCLE_WINDOWS, key_window
from assurance_pipeline.sampling.population import PopulationProfile, profile_population
from assurance_pipeline.sampling.selection import SAMPLE_TABLE, draw_sample
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.drafts import refuse_drafts
from assurance_pipeline.standard.integrity import IntegrityReport, check_integrity
from assurance_pipeline.standard.loading import load_standard, standard_files
from assurance_pipeline.standard.models import Standard
from assurance_pipeline.validation.conformance import validate_point
from assurance_pipeline.validation.outcomes import compute_outcomes, window_metrics
from assurance_pipeline.validation.point_rows import window_relation

GROUP = "governed_cycle"


class CycleConfig(dg.Config):
    """What one cycle covers besides its window, which is the run's partition (see `partitions`)."""

    risk_tiers: list[str] = []
    decision_points: list[str] = []
    seed: str | None = None
    follow_up_of: str | None = None  # a cycle whose two-stage plan ended "extend": draw its second stage


@contextmanager
def user_errors(source: str = "the decision log") -> Iterator[None]:
    """A user's mistake fails the step with its one-line message, not a traceback; an engine error loses its values."""
    try:
        yield
    except duckdb.Error as err:
        failure = engine_error(err, f"{source}: could not be read")
        raise dg.Failure(description=str(failure), metadata={"exit_code": failure.exit_code}, allow_retries=False) from None
    except AssuranceError as err:
        raise dg.Failure(description=str(err), metadata={"exit_code": err.exit_code}, allow_retries=False) from None


@dg.asset(group_name=GROUP, partitions_def=CYCLE_WINDOWS, kinds={"yaml"})
def confirmed_standard(
    context: dg.AssetExecutionContext, config: CycleConfig, standard: StandardResource, evidence: EvidenceStoreResource
) -> dg.Output[dict]:
    """Re-confirm the standard: every file's sha256 against authorization.yaml and the ledger's sign-off. The files
    are read once: the standard and baseline every later step uses are parsed from the very bytes checked here."""
    with user_errors():
        files = standard_files(standard.path)
        loaded = load_standard(standard.path, files)
        refuse_drafts(loaded, "run")  # a draft from `assurance init` is never run as if the business had authored it
        scope = cycle_scope(loaded, key_window(context.partition_key), config.risk_tiers, config.decision_points,
                            config.seed, config.follow_up_of, evidence.path)
        report = check_integrity(standard.path, evidence.ledger(), files)
        baseline = read_baseline(standard.path, files)
    value = {
        "cycle_id": context.run.run_id,
        **scope,
        "standard": {"name": loaded.header.name, "version": loaded.header.version, "sha256": report.sha256, "intact": report.intact},
        "integrity": report.to_dict(),
        "checked": {"standard": loaded.model_dump(mode="json"), "baseline": baseline},
    }
    return dg.Output(value, metadata=md.standard_metadata(value))


@dg.asset(group_name=GROUP, partitions_def=CYCLE_WINDOWS, kinds={"duckdb"})
def sampling_plan(
    confirmed_standard: dict, decision_log: DecisionLogResource,
    evidence: EvidenceStoreResource, workspace: TransientWorkspaceResource,
) -> dg.Output[dict]:
    """Population per decision point in the window (one aggregate scan) and each point's sample size by its tier."""
    with user_errors(f"source {decision_log.shown}"):
        con = workspace.connection
        window = Window.from_dict(confirmed_standard["window"])
        decision_log.attach(con, window, rows=False)  # a PostgreSQL source profiles in the server
        population = profile_population(con, window, decision_log.log)
        key, points, follow_up = fingerprint_key(), confirmed_standard["decision_points"], confirmed_standard["follow_up"]
        heightened = follow_up["heightened"] if follow_up else recent_signals(evidence.ledger(), points)
        plan = build_plan(checked_standard(confirmed_standard), population, points, confirmed_standard["seed"], key_id(key), heightened,
                          stage=2 if follow_up else 1)
    with user_errors():  # an unwritable store fails the step with exit 3, naming it
        evidence.ledger().append("sampling_plan", {  # the seed's hash is committed before anything is drawn
            "cycle_id": confirmed_standard["cycle_id"], "seed_sha256": plan.seed_sha256, "algorithm": plan.algorithm,
            "follow_up_of": follow_up["of"] if follow_up else None,
            "window": confirmed_standard["window"], "key_id": plan.key_id, "population_query": population.query,
            "points": {p.decision_point: {"population": p.population, "population_fingerprint": p.population_fingerprint,
                                          "sample_size": p.sample_size, "stage": p.stage, "intensity": p.intensity,
                                          "expansion_reason": p.expansion_reason} for p in plan.points},
        })
    value = {"plan": plan.to_dict(), "population": population.to_dict()}
    return dg.Output(value, metadata=md.plan_metadata(plan))


@dg.asset(group_name=GROUP, partitions_def=CYCLE_WINDOWS, kinds={"duckdb"})
def decision_sample(
    confirmed_standard: dict, sampling_plan: dict, decision_log: DecisionLogResource, workspace: TransientWorkspaceResource
) -> dg.Output[dict]:
    """Draw the sample into the transient workspace; what is kept is each decision's id and row fingerprint."""
    with user_errors(f"source {decision_log.shown}"):
        con = workspace.connection
        window = Window.from_dict(confirmed_standard["window"])
        decision_log.attach(con, window, rows=False)  # a PostgreSQL source selects in the server
        plan = SamplingPlan.from_dict(sampling_plan["plan"])
        key = fingerprint_key()
        if key_id(key) != plan.key_id:
            raise AssuranceError(f"the fingerprint key changed since the plan was made (key id {plan.key_id}); re-run the cycle")
        selected = draw_sample(con, plan, window, key, PopulationProfile.from_dict(sampling_plan["population"]), decision_log.log)
    value = {point: {"decision_ids": s.decision_ids, "row_fingerprints": s.row_fingerprints} for point, s in selected.items()}
    return dg.Output(value, metadata={"sampled_decisions": sum(len(s["decision_ids"]) for s in value.values())})


@dg.asset(group_name=GROUP, partitions_def=CYCLE_WINDOWS, kinds={"pandera", "duckdb"})
def validation_results(
    confirmed_standard: dict, sampling_plan: dict, decision_sample: dict, decision_log: DecisionLogResource,
    workspace: TransientWorkspaceResource,
) -> dg.Output[dict]:
    """Each sampled decision against its point's data contract and DCT conditions (Pandera over DuckDB)."""
    with user_errors(f"source {decision_log.shown}"):
        loaded = checked_standard(confirmed_standard)
        con = sample_workspace(workspace, confirmed_standard, sampling_plan, decision_sample, decision_log)
        plan = SamplingPlan.from_dict(sampling_plan["plan"])
        # A point with no decision in the window has nothing to validate (it is reported as not tested).
        value = {p.decision_point: validate_point(con, loaded.decision_points[p.decision_point], p).to_dict() for p in plan.points if p.sample_size}
    return dg.Output(value, metadata=md.validation_metadata(value))


@dg.asset(group_name=GROUP, partitions_def=CYCLE_WINDOWS, kinds={"sql", "duckdb"})
def outcome_evidence(
    confirmed_standard: dict, sampling_plan: dict, decision_sample: dict, decision_log: DecisionLogResource,
    workspace: TransientWorkspaceResource,
) -> dg.Output[list]:
    """Outcome Evidence metrics by the SQL models in dbt_like_sql/: over the whole window as pushed-down aggregates
    (exact), or over the sample with a confidence interval at the tier's confidence where authored `over: sample`."""
    with user_errors(f"source {decision_log.shown}"):
        loaded = checked_standard(confirmed_standard)
        con = sample_workspace(workspace, confirmed_standard, sampling_plan, decision_sample, decision_log)
        window = Window.from_dict(confirmed_standard["window"])
        plans = [p for p in sampling_plan["plan"]["points"] if p["sample_size"]]
        decision_log.attach(con, window, rows=False)
        relation, log = window_relation(window.predicate()), decision_log.log_for(loaded)
        value = [o.to_dict() for p in plans
                 for o in compute_outcomes(con, loaded.decision_points[p["decision_point"]], relation, p["confidence"], p["population"],
                                           window_metrics(con, loaded.decision_points[p["decision_point"]], window, log))]
    return dg.Output(value, metadata=md.outcome_metadata(value))


@dg.op(out=dg.DynamicOut(str))
def drift_points(confirmed_standard: dict, sampling_plan: dict) -> Iterator[dg.DynamicOutput[str]]:
    """The decision points with decisions in the window, one step each: under the multiprocess (or Kubernetes)
    executor they are counted in parallel. A second-stage follow-up covers its first stage's window, whose drift
    is already tested: it has none."""
    if confirmed_standard["follow_up"]:
        return
    for i, plan in enumerate(p for p in sampling_plan["plan"]["points"] if p["population"]):
        yield dg.DynamicOutput(plan["decision_point"], mapping_key=f"{i}_{re.sub(r'[^A-Za-z0-9_]', '_', plan['decision_point'])}")


@dg.op
def point_drift(
    point: str, confirmed_standard: dict, decision_log: DecisionLogResource, workspace: TransientWorkspaceResource
) -> list[dict]:
    """Every drift test of one decision point, its window's decisions counted in one pushed-down scan."""
    with user_errors(f"source {decision_log.shown}"):
        baseline = checked_baseline(confirmed_standard) or {"points": {}}
        window = Window.from_dict(confirmed_standard["window"])
        decision_log.attach(workspace.connection, window, rows=False)  # a PostgreSQL source counts in the server
        standard = checked_standard(confirmed_standard)
        tests = point_drift_tests(workspace.connection, standard.decision_points[point], baseline["points"].get(point) or {},
                                  window, decision_log.log_for(standard))
    return [t.to_dict() for t in tests]


@dg.op
def drift_summary(confirmed_standard: dict, sampling_plan: dict, per_point: list[list[dict]]) -> dg.Output[list]:
    """The points' tests together with the override-rate tests, which the population profile already counted."""
    with user_errors():
        loaded, baseline = checked_standard(confirmed_standard), checked_baseline(confirmed_standard) or {"points": {}}
        points = [p["decision_point"] for p in sampling_plan["plan"]["points"] if p["population"]]
        overrides = [] if confirmed_standard["follow_up"] else override_tests(
            PopulationProfile.from_dict(sampling_plan["population"]), baseline, [loaded.decision_points[p] for p in points])
    value = [t for tests in per_point for t in tests] + [t.to_dict() for t in overrides]
    return dg.Output(value, metadata=md.drift_metadata(value))


@dg.graph_asset(group_name=GROUP, partitions_def=CYCLE_WINDOWS, kinds={"scipy", "duckdb"})
def drift_tests(confirmed_standard: dict, sampling_plan: dict) -> list:
    """Every drift test of the window's decisions against the go-live baseline, counted over the whole window in
    one pushed-down scan per point, a step per point (the same window always gives the same tests): statistics,
    p-values and effect sizes only."""
    per_point = drift_points(confirmed_standard, sampling_plan).map(lambda point: point_drift(point, confirmed_standard))
    return drift_summary(confirmed_standard, sampling_plan, per_point.collect())


@dg.asset(group_name=GROUP, partitions_def=CYCLE_WINDOWS)
def findings(
    confirmed_standard: dict, sampling_plan: dict, validation_results: dict, outcome_evidence: list, drift_tests: list,
    evidence: EvidenceStoreResource,
) -> dg.Output[list]:
    """Drift surfaced as findings, each needing an explicit human disposition; a problem an earlier cycle found and
    nobody has closed is a recurrence of that finding. The metadata shows where each finding stands."""
    with user_errors():
        found = cycle.gather_findings(
            confirmed_standard["cycle_id"], checked_standard(confirmed_standard), IntegrityReport(**confirmed_standard["integrity"]),
            PopulationProfile.from_dict(sampling_plan["population"]), validation_results, outcome_evidence,
            checked_baseline(confirmed_standard), evidence.ledger(),
            [p["decision_point"] for p in sampling_plan["plan"]["points"]], drift_tests,
        )
        earlier = read_findings(evidence.ledger())
    value = [f.to_dict() for f in found]
    return dg.Output(value, metadata=md.findings_metadata(value, earlier))


@dg.asset(group_name=GROUP, partitions_def=CYCLE_WINDOWS, kinds={"json"})
def assurance_decision(
    confirmed_standard: dict, sampling_plan: dict, decision_sample: dict, validation_results: dict,
    outcome_evidence: list, drift_tests: list, findings: list, evidence: EvidenceStoreResource,
) -> dg.Output[dict]:
    """The assurance decision by the written rules, sealed in the hash-chained ledger with its evidence pack."""
    with user_errors():
        result = cycle.conclude(
            evidence.path, confirmed_standard["cycle_id"], confirmed_standard["window"], confirmed_standard["standard"],
            sampling_plan["plan"], sampling_plan["population"], decision_sample, validation_results, outcome_evidence,
            [Finding(**f) for f in findings], drift_tests, checked_baseline(confirmed_standard),
            standard_about(checked_standard(confirmed_standard)),
        )
    return dg.Output(result, metadata=md.decision_metadata(result))


def checked_standard(confirmed_standard: dict) -> Standard:
    """The standard as `confirmed_standard` read and checked it (never re-read from disk mid-cycle)."""
    return Standard.model_validate(confirmed_standard["checked"]["standard"])


def checked_baseline(confirmed_standard: dict) -> dict | None:
    """The go-live baseline as `confirmed_standard` read it, under the same hashes as the standard."""
    return confirmed_standard["checked"]["baseline"]


def sample_workspace(workspace: TransientWorkspaceResource, confirmed_standard: dict, sampling_plan: dict, decision_sample: dict,
                     decision_log: DecisionLogResource) -> duckdb.DuckDBPyConnection:
    """The workspace holding this cycle's sample. A step in another process than `decision_sample` (the multiprocess
    or Kubernetes executor) re-draws it from the source with the plan's seed, and goes on only if it is the very
    sample `decision_sample` recorded: the same decisions, in the same order, with the same row fingerprints."""
    con = workspace.connection
    if con.execute(f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{SAMPLE_TABLE}'").fetchall()[0][0]:
        return con
    window, plan = Window.from_dict(confirmed_standard["window"]), SamplingPlan.from_dict(sampling_plan["plan"])
    decision_log.attach(con, window, rows=False)
    redrawn = draw_sample(con, plan, window, fingerprint_key(), PopulationProfile.from_dict(sampling_plan["population"]), decision_log.log)
    for point, recorded in decision_sample.items():
        again = redrawn[point]
        if (again.decision_ids, again.row_fingerprints) != (recorded["decision_ids"], recorded["row_fingerprints"]):
            con.execute(f"DROP TABLE {SAMPLE_TABLE}")
            raise AssuranceError(f"{point}: the sample drawn again for this step is not the one decision_sample recorded "
                                 "(the decision log changed during the cycle); run the cycle again")
    return con


CYCLE_ASSETS = [confirmed_standard, sampling_plan, decision_sample, validation_results, outcome_evidence, drift_tests, findings, assurance_decision]
