"""A small, hand-written standard and decision log with planted, known problems, for the cycle's end-to-end tests.

Three governed decision points, a go-live month (January 2026, always clean) and a cycle month (February 2026):

* ``payment_release`` (critical, 500 decisions in February): planted, 30% of them are releases without Legal's
  sign-off (PR-1 fails on every decision whose index ends in 0, 1 or 2), and every one costs 0.50 against a budget
  of 0.40 and a go-live cost of 0.30.
* ``refund`` (high, 40 decisions in February, so the hypergeometric plan tests 31 of them, not the binomial 59):
  planted, 3 refunds paid through channel 'cash' (outside the contract's ``isin``), 10 of 40 reopened (RF-OE-1 is
  0.25 against a maximum of 0.10), and 5 executed by refund-agent 9.9-beta, a version the standard does not register.
* ``access_grant`` (routine, 200 decisions in February): always clean.
* planted, 7 ``loan_waiver`` decisions in February: a decision point the standard does not govern.

Without ``planted`` nothing of that is in the log. Every row carries a free-text ``note`` that is in each point's
contract but never in its ``evidence_fields``. `prepare` records the baseline and authorizes; `materialize` runs one cycle.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from assurance_pipeline.defs.automation.jobs import cycle_run_config
from assurance_pipeline.defs.cycle.partitions import add_window, window_key
from assurance_pipeline.defs.cycle.assets import CYCLE_ASSETS
from assurance_pipeline.defs.cycle.checks import CYCLE_CHECKS
from assurance_pipeline.defs.resources import cycle_resources
from assurance_pipeline.drift.baseline import compute_baseline, write_baseline
from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.sources.decision_log import DecisionLog
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.integrity import authorize
from assurance_pipeline.standard.loading import load_standard
from assurance_pipeline.workspace import transient_workspace

BASELINE_FROM, BASELINE_TO = "2026-01-01", "2026-01-31"
CYCLE_FROM, CYCLE_TO = "2026-02-01", "2026-02-28"

CRITICAL, HIGH, ROUTINE, UNKNOWN = "payment_release", "refund", "access_grant", "loan_waiver"
CYCLE_POPULATION = {CRITICAL: 500, HIGH: 40, ROUTINE: 200, UNKNOWN: 7}
# The default tiers (95%/2%, 95%/5%, 90%/10%, zero expected deviations) plan 149, 59 and 22 by the AICPA binomial
# tables; each is over a tenth of its February population, so the plans are hypergeometric (exact enumeration, see
# sampling/test_finite_population.py): D_t = ceil(t * N) = 10, 2 and 20 deviating decisions.
PLANNED = {CRITICAL: 129, HIGH: 31, ROUTINE: 21}
UNKNOWN_ROWS = 7
CONTRACT_BREAKS = (3, 17, 29)  # refund indices paid through 'cash'
BETA_ROWS = range(35, 40)  # refund indices executed by refund-agent 9.9-beta
BUDGET, GOLIVE_COST, DRIFTED_COST = 0.40, 0.30, 0.50
SEED = "e2e-seed-1"

STANDARD_YAML = """\
name: Small test standard
version: "1.0"
owner: Test office
actors:
  - {id: ap-agent, type: agent, versions: ["2.3"]}
  - {id: refund-agent, type: agent, versions: ["4.1"]}
  - {id: access-workflow, type: system, versions: ["2026.1"]}
  - {id: ap-clerk, type: human}
"""

PAYMENT_RELEASE_YAML = """\
id: payment_release
title: Release of a payment hold
meaning: A payment hold is released only once Legal has signed the release off.
authority: Legal signs off every release
owner: Controller
risk_tier: critical
contract:
  amount: {type: float, min: 0}
  action: {type: string, isin: [release, keep_hold]}
  signoff_by: {type: string, nullable: true}
  reference: {type: string}
  note: {type: string, nullable: true}
conditions:
  - id: PR-1
    title: Legal sign-off before a release
    when: "action = 'release'"
    require: "signoff_by IS NOT NULL"
    severity: critical
cost: {budget_per_decision: 0.40}
evidence_fields: [amount, action, signoff_by, reference]
input_fields: []  # these tests are about conformance; drift has its own tests (drift/)
"""

REFUND_YAML = """\
id: refund
title: Refund to a customer
meaning: A refund never exceeds what the customer paid for the order.
authority: Refund agent within policy
owner: Customer operations
risk_tier: high
contract:
  refund_amount: {type: float, min: 0}
  order_total: {type: float, min: 0.01}
  channel: {type: string, isin: [card, credit]}
  reopened: {type: boolean}
  note: {type: string, nullable: true}
conditions:
  - id: RF-1
    title: A refund never exceeds the order total
    when: "refund_amount IS NOT NULL"
    require: "refund_amount <= order_total"
    severity: high
outcome_evidence:
  - id: RF-OE-1
    title: Share of refunds reopened
    metric: "avg(CASE WHEN reopened THEN 1.0 ELSE 0.0 END)"
    expect: {max: 0.10}
evidence_fields: [refund_amount, order_total, channel]
input_fields: []  # these tests are about conformance; drift has its own tests (drift/)
"""

ACCESS_GRANT_YAML = """\
id: access_grant
title: Grant of a system role
meaning: An admin role is granted only with a manager's approval.
authority: Access workflow; a manager for admin roles
owner: IT security
risk_tier: routine
contract:
  role: {type: string, isin: [viewer, editor, admin]}
  approved_by: {type: string, nullable: true}
  note: {type: string, nullable: true}
conditions:
  - id: AC-1
    title: Admin roles need a manager's approval
    when: "role = 'admin'"
    require: "approved_by IS NOT NULL"
    severity: medium
evidence_fields: [role]
input_fields: []  # these tests are about conformance; drift has its own tests (drift/)
"""

COLUMNS = {
    "decision_id": pa.string(), "decision_point": pa.string(), "decided_at": pa.timestamp("us", tz="UTC"),
    "actor_type": pa.string(), "actor_id": pa.string(), "actor_version": pa.string(), "reviewed_by": pa.string(),
    "overridden": pa.bool_(), "cost": pa.float64(), "note": pa.string(),
    "amount": pa.float64(), "action": pa.string(), "signoff_by": pa.string(), "reference": pa.string(),
    "refund_amount": pa.float64(), "order_total": pa.float64(), "channel": pa.string(), "reopened": pa.bool_(),
    "role": pa.string(), "approved_by": pa.string(),
}


def write_standard(directory: Path, extra: str = "") -> Path:
    """The small standard; `extra` is appended to standard.yaml (e.g. risk tiers)."""
    (directory / "decision_points").mkdir(parents=True)
    (directory / "standard.yaml").write_text(STANDARD_YAML + extra, encoding="utf-8")
    for name, text in ((CRITICAL, PAYMENT_RELEASE_YAML), (HIGH, REFUND_YAML), (ROUTINE, ACCESS_GRANT_YAML)):
        (directory / "decision_points" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return directory


def skips_signoff(index: int) -> bool:
    """The planted PR-1 deviation: releases (index % 5 != 4) whose index ends in 0, 1 or 2 carry no sign-off."""
    return index % 10 in (0, 1, 2)


def build_rows(planted: bool, note: str = "note", reference: str = "PR", failing_reference: str | None = None) -> list[dict]:
    """Every row of the log: `note` starts each row's free text, `reference` each release's reference, and
    `failing_reference` (when given) is the reference of every release that fails PR-1."""
    rows: list[dict] = []

    def add(point: str, at: dt.datetime, **values) -> None:
        n = len(rows)
        row = {name: None for name in COLUMNS}
        row.update(decision_id=f"D{n:05d}", decision_point=point, decided_at=at, overridden=False, note=f"{note} {n}", **values)
        rows.append(row)

    for month, cycle in ((dt.datetime(2026, 1, 1, tzinfo=dt.UTC), False), (dt.datetime(2026, 2, 1, tzinfo=dt.UTC), True)):
        drift = planted and cycle
        for i in range(CYCLE_POPULATION[CRITICAL] if cycle else 300):
            fails = drift and skips_signoff(i)
            add(CRITICAL, month + dt.timedelta(minutes=30 + 60 * i if cycle else 30 + 120 * i),
                actor_type="agent", actor_id="ap-agent", actor_version="2.3", reviewed_by="ap-manager",
                cost=DRIFTED_COST if drift else GOLIVE_COST, amount=100.0 + (i * 37) % 20000,
                action="keep_hold" if i % 5 == 4 else "release", signoff_by=None if fails else "legal-desk",
                reference=failing_reference if fails and failing_reference else f"{reference}-{i}")
        for i in range(CYCLE_POPULATION[HIGH] if cycle else 60):
            add(HIGH, month + dt.timedelta(hours=1 + 12 * i), actor_type="agent", actor_id="refund-agent",
                actor_version="9.9-beta" if drift and i in BETA_ROWS else "4.1", cost=0.05,
                refund_amount=10.0 + i, order_total=100.0 + i,
                channel="cash" if drift and i in CONTRACT_BREAKS else ("card" if i % 2 else "credit"),
                reopened=(i % 4 == 0) if drift else (i % 20 == 0))
        for i in range(CYCLE_POPULATION[ROUTINE] if cycle else 100):
            role = ("viewer", "editor", "admin")[i % 3]
            add(ROUTINE, month + dt.timedelta(hours=2 + 3 * i), actor_type="system", actor_id="access-workflow",
                actor_version="2026.1", role=role, approved_by="it-manager" if role == "admin" else None)
        if drift:
            for i in range(UNKNOWN_ROWS):
                add(UNKNOWN, month + dt.timedelta(days=i, hours=5), actor_type="human", actor_id="ap-clerk")
    return rows


def write_log(path: Path, rows: list[dict], rename: dict[str, str] | None = None, columns: dict | None = None) -> Path:
    """The rows as Parquet, with the log's `columns` (default COLUMNS)."""
    table = pa.Table.from_pylist(rows, schema=pa.schema(columns or COLUMNS))
    if rename:
        table = table.rename_columns([rename.get(name, name) for name in table.column_names])
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def expected_selection(rows: list[dict], point: str, seed: str, start: str, end: str, size: int) -> list[str]:
    """The documented selection (stratified-keyed-sha256-lowest-n/v1), recomputed in Python: the `size` decisions of
    `point` in [start, end] (whole days) with the lowest sha256(seed ':' decision_id)."""
    lo = dt.datetime.fromisoformat(start).replace(tzinfo=dt.UTC)
    hi = dt.datetime.fromisoformat(end).replace(tzinfo=dt.UTC) + dt.timedelta(days=1)
    ids = [r["decision_id"] for r in rows if r["decision_point"] == point and lo <= r["decided_at"] < hi]
    return sorted(ids, key=lambda d: hashlib.sha256(f"{seed}:{d}".encode()).hexdigest())[:size]


@dataclass
class Store:
    """A standard with its baseline, signed off into an evidence store, and the log it is tested against."""

    standard: Path
    log: Path
    evidence: Path
    rows: list[dict]


def expected_population_fingerprint(rows: list[dict], point: str, start: str, end: str) -> str:
    """The documented population fingerprint recomputed with hashlib: sha256 of count:xor:sum over each decision
    id's md5 bytes 8-15 read little-endian (DuckDB's md5_number_lower)."""
    lo = dt.datetime.fromisoformat(start).replace(tzinfo=dt.UTC)
    hi = dt.datetime.fromisoformat(end).replace(tzinfo=dt.UTC) + dt.timedelta(days=1)
    numbers = [int.from_bytes(hashlib.md5(r["decision_id"].encode()).digest()[8:], "little")
               for r in rows if r["decision_point"] == point and lo <= r["decided_at"] < hi]
    xor = 0
    for n in numbers:
        xor ^= n
    return hashlib.sha256(f"{len(numbers)}:{xor}:{sum(numbers)}".encode()).hexdigest()


@dataclass
class Cycle:
    store: Store
    run: dg.ExecuteInProcessResult
    instance: dg.DagsterInstance | None = None  # held: the run's result reads its events through this instance

    def output(self, asset: str):
        return self.run.output_for_node(asset)

    @property
    def decision(self) -> dict:
        return self.output("assurance_decision")

    def points(self) -> dict[str, dict]:
        return {p["id"]: p for p in self.decision["decision_points"]}

    def checks(self) -> dict[str, tuple[bool, dg.AssetCheckSeverity]]:
        return {e.check_name: (e.passed, e.severity) for e in self.run.get_asset_check_evaluations()}


def prepare(root: Path, rows: list[dict], rename: dict[str, str] | None = None, standard_extra: str = "") -> Store:
    """Write the standard and the log, record the go-live baseline from January, and authorize the standard."""
    standard = write_standard(root / "standard", standard_extra)
    log = write_log(root / "decisions.parquet", rows, rename)
    with transient_workspace() as con:
        DecisionLog(str(log)).attach(con)
        baseline = compute_baseline(con, load_standard(standard), Window.parse(BASELINE_FROM, BASELINE_TO))
    write_baseline(standard, baseline)
    authorize(standard, "Tess Tester", "go-live", Ledger(root / "evidence"))
    return Store(standard, log, root / "evidence", rows)


def materialize(store: Store, seed: str = SEED, window: tuple[str, str] = (CYCLE_FROM, CYCLE_TO), tiers: list[str] | None = None,
                extra: list | None = None, follow_up_of: str | None = None) -> Cycle:
    """The whole cycle in one run, as the job runs it, with a memory IO manager and this store's resources."""
    key = window_key(Window.parse(*window))
    instance = dg.DagsterInstance.ephemeral()
    add_window(instance, key)
    run = dg.materialize(
        [*CYCLE_ASSETS, *CYCLE_CHECKS, *(extra or [])],
        resources={**cycle_resources(store.standard, store.log, store.evidence), "io_manager": dg.mem_io_manager},
        run_config=cycle_run_config(tiers, seed, follow_up_of), instance=instance, partition_key=key,
        raise_on_error=False,
    )
    return Cycle(store, run, instance)
