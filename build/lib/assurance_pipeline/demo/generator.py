"""The demo: Acme's decision standard and six months of its production decision log.

The story
---------
Acme runs four governed decisions in production, partly by AI agents, partly by systems and people:

* ``payment_release`` (critical): the AP agent (``ap-agent`` 2.3) releases supplier-invoice payment
  holds, each release approved by an AP manager; Legal signs off every release over 10,000 (the rule
  "a payment hold requires legal sign-off"). AP managers release some holds themselves.
* ``refund_decision`` (high): the refund agent (``refund-agent`` 4.1, from mid-February 4.2) settles
  customer refunds within policy; refunds over 500 and refunds to accounts younger than 30 days go to a
  support lead. Its LLM cost is budgeted at 0.08 per decision.
* ``vendor_onboarding`` (high): the vendor onboarding agent (``vendor-onboarding-agent`` 1.7) approves
  new vendors only after sanctions screening and bank-detail verification; vendors in high-risk
  jurisdictions need a procurement review. Procurement clerks handle some cases by hand.
* ``access_provisioning`` (routine): the access workflow (``access-workflow`` 2026.1) and IT admins
  grant system roles; privileged roles need manager approval, are time-boxed, and never create a
  segregation-of-duties conflict.

The business authored the standard (``standard/``) at go-live. The log runs from 2026-01-01 to
2026-06-30 (UTC). The go-live period, January to March, is clean: every condition holds (a handful of
deviations per thousand on the high and routine points, none on ``payment_release``), costs are
within budget and only registered actors and versions execute decisions. April is clean too.

Nothing crashes after that, and every decision still looks defensible on its own. But from May on,
production quietly drifts away from what was authorized (see ``INJECTED_PROBLEMS``):

1. a skipped check: about a quarter of the holds over 10,000 that are released carry no legal
   sign-off, although nothing about the agent's version changed;
2. cost creep: the refund agent's prompt grew, it makes more tool calls, and its cost per decision
   rises steadily from about 0.05 to about 0.13, well past its 0.08 budget, with no better outcomes;
3. an ungoverned change: from mid-May a ``4.3-beta`` of the refund agent, never registered in the
   standard, executes about 15% of refunds;
4. a decision nobody governs: in June 25 ``loan_waiver`` decisions appear, a decision point the
   standard does not know;
5. behaviour drift: the vendor-onboarding agent starts approving vendors it used to send back for
   documents. No DCT condition is broken (screening passed, bank details verified, no high-risk
   country), so only the comparison with the go-live decision rules can see it.

Access provisioning stays clean throughout, and vendor onboarding breaks no condition, so a cycle over
the drift period flags the first three points' problems, the unknown decision point and the decision drift.

Generation is deterministic: the same ``rows`` and ``seed`` give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = [
    "DECISION_POINTS",
    "DemoPaths",
    "GOLIVE_FROM",
    "GOLIVE_TO",
    "DRIFT_FROM",
    "DRIFT_TO",
    "DEMO_MARK",
    "INJECTED_PROBLEMS",
    "LOG_START",
    "LOG_END",
    "POINT_SHARES",
    "write_demo",
]

LOG_START = dt.date(2026, 1, 1)
LOG_END = dt.date(2026, 6, 30)  # inclusive: the log ends at 2026-06-30 23:59:59 UTC
GOLIVE_FROM = dt.date(2026, 1, 1)
GOLIVE_TO = dt.date(2026, 3, 31)
DRIFT_FROM = dt.date(2026, 5, 1)
DRIFT_TO = dt.date(2026, 6, 30)
REFUND_V42_FROM = dt.date(2026, 2, 16)  # registered upgrade 4.1 -> 4.2 inside the go-live period
BETA_FROM = dt.date(2026, 5, 15)
UNKNOWN_POINT = "loan_waiver"
# Marks the demo's log in its Parquet metadata, so the living demo's replay (demo/replay.py) adds decisions to it only.
DEMO_MARK = (b"assurance_pipeline", b"demo decision log")
REPLAY_FOLDER = "replay"  # where the replay writes its parts; a new demo log removes those of the one before
UNKNOWN_POINT_ROWS = 25

# The realistic mix of governed decisions (the 25 loan_waiver rows come on top of it, within `rows`).
POINT_SHARES: dict[str, float] = {
    "refund_decision": 0.35,
    "payment_release": 0.25,
    "vendor_onboarding": 0.15,
    "access_provisioning": 0.25,
}
DECISION_POINTS = tuple(POINT_SHARES)

INJECTED_PROBLEMS: list[str] = [
    "payment_release PR-1 (skipped check): from 2026-05-01 about 25% of hold releases over 10,000 "
    "carry no legal sign-off; the agent version (ap-agent 2.3) is unchanged",
    "refund_decision cost creep: from 2026-05-01 the refund agent's cost per decision rises steadily "
    "from ~0.05 to ~0.13 (budget 0.08, go-live mean ~0.05)",
    "refund_decision ungoverned change: from 2026-05-15 refund-agent version 4.3-beta, not registered "
    "in the standard, executes ~15% of refunds",
    "unknown decision point: 25 'loan_waiver' decisions in June 2026 that the standard does not govern",
    "vendor_onboarding behaviour drift: from 2026-05-01 the agent approves vendors it used to send back for "
    "documents, with screening passed and bank details verified; every condition holds, the go-live decision "
    "rules disagree",
]


@dataclass(frozen=True)
class DemoPaths:
    """Where the demo was written and which periods it is meant to be looked at in."""

    standard_dir: Path
    log_path: Path
    golive_from: dt.date
    golive_to: dt.date
    drift_from: dt.date
    drift_to: dt.date


# --------------------------------------------------------------------------------------------------
# The standard, as the business authored it.
# --------------------------------------------------------------------------------------------------

STANDARD_YAML = """\
# Acme decision standard
#
# The decisions Acme governs in production, authored and owned by the business (CFO office),
# independent of the teams and vendors that build and run the agents executing them.
# One file per decision point lives in decision_points/.

name: Acme decision standard
version: "1.0"
owner: CFO office

# How hard each tier is tested (attribute sampling): confidence, tolerable and expected deviation rate.
risk_tiers:
  critical: {confidence: 0.95, tolerable_deviation_rate: 0.02, expected_deviation_rate: 0.0}
  high:     {confidence: 0.95, tolerable_deviation_rate: 0.05, expected_deviation_rate: 0.0}
  routine:  {confidence: 0.90, tolerable_deviation_rate: 0.10, expected_deviation_rate: 0.0}

# Who is authorized to execute decisions, and which versions of agents and systems.
# An actor without versions may act in any version (people have none).
actors:
  - {id: ap-agent, type: agent, versions: ["2.3"]}
  - {id: ap-manager, type: human}
  - {id: legal-desk, type: human}
  - {id: refund-agent, type: agent, versions: ["4.1", "4.2"]}
  - {id: support-lead, type: human}
  - {id: vendor-onboarding-agent, type: agent, versions: ["1.7"]}
  - {id: procurement-clerk, type: human}
  - {id: access-workflow, type: system, versions: ["2026.1"]}
  - {id: it-admin, type: human}
"""

PAYMENT_RELEASE_YAML = """\
id: payment_release
title: Release of a payment hold
meaning: >
  A payment hold stops an approved supplier invoice from being paid until the reason for the
  hold is cleared. Releasing a hold means the money leaves Acme on the next payment run and is
  hard to recover, so a release is correct only when the hold reason is demonstrably cleared,
  an AP manager has approved it, and Legal has signed off every release above 10,000.
authority: AP manager approves every release; Legal signs off releases over 10,000
owner: Controller
risk_tier: critical

contract:
  payee_id:               {type: string}
  amount:                 {type: float, min: 0}
  currency:               {type: string, isin: [EUR, USD, GBP]}
  hold_reason:            {type: string, isin: [missing_po, price_variance, duplicate_suspected,
                                                bank_change, tax_form_missing]}
  hold_placed_at:         {type: timestamp}
  hold_action:            {type: string, isin: [release, keep_hold, escalate]}
  legal_signoff_by:       {type: string, nullable: true}
  bank_callback_verified: {type: boolean}
  reversed:               {type: boolean}
  release_note:           {type: string, nullable: true}

conditions:
  - id: PR-1
    title: Legal sign-off before releasing a large hold
    when: "hold_action = 'release' AND amount > 10000"
    require: "legal_signoff_by IS NOT NULL"
    severity: critical
  - id: PR-2
    title: Every release is approved by an AP manager
    when: "hold_action = 'release'"
    require: "reviewed_by IS NOT NULL OR actor_type = 'human'"
    severity: high
  - id: PR-3
    title: A hold for changed bank details is released only after a call-back
    when: "hold_action = 'release' AND hold_reason = 'bank_change'"
    require: "bank_callback_verified = TRUE"
    severity: critical

outcome_evidence:
  - id: PR-OE-1
    title: Share of releases reversed within 30 days
    metric: "avg(CASE WHEN hold_action = 'release' THEN (CASE WHEN reversed THEN 1.0 ELSE 0.0 END) END)"
    expect: {max: 0.05}
  - id: PR-OE-2
    title: Average days a released hold stayed open
    metric: "avg(CASE WHEN hold_action = 'release' THEN date_diff('day', hold_placed_at, decided_at) END)"
    expect: {max: 10}

cost: {budget_per_decision: 0.40}

# What is decided, and from what: the go-live decision rules are learned from these (decision drift).
decision_field: hold_action
input_fields: [amount, currency, hold_reason, bank_callback_verified]

evidence_fields: [amount, currency, hold_action, hold_reason, legal_signoff_by, bank_callback_verified,
                  reviewed_by, actor_type]
"""

REFUND_DECISION_YAML = """\
id: refund_decision
title: Refund to a customer
meaning: >
  A refund returns money to a customer for an order that arrived damaged, late, wrong or not as
  described. The refund agent may settle routine cases on its own, but a refund is correct only
  when it never exceeds what the customer paid for the order, and when large refunds and refunds
  to brand-new accounts have been decided or reviewed by a support lead.
authority: Refund agent within policy; a support lead for refunds over 500 and for accounts younger than 30 days
owner: Head of customer operations
risk_tier: high

contract:
  order_id:             {type: string}
  order_total:          {type: float, min: 0.01}
  refund_amount:        {type: float, min: 0}
  refund_reason:        {type: string, isin: [damaged_item, late_delivery, wrong_item, not_as_described,
                                              duplicate_charge, goodwill]}
  refund_channel:       {type: string, isin: [original_payment, store_credit]}
  customer_tenure_days: {type: integer, min: 0}
  escalated:            {type: boolean}
  reopened:             {type: boolean}
  customer_note:        {type: string, nullable: true}

conditions:
  - id: RF-1
    title: Refunds above 500 are decided or reviewed by a support lead
    when: "refund_amount > 500"
    require: "reviewed_by IS NOT NULL OR actor_type = 'human'"
    severity: high
  - id: RF-2
    title: A refund never exceeds the order total
    when: "refund_amount IS NOT NULL"
    require: "refund_amount <= order_total"
    severity: high
  - id: RF-3
    title: Refunds to accounts younger than 30 days are reviewed by a person
    when: "customer_tenure_days < 30"
    require: "reviewed_by IS NOT NULL OR actor_type = 'human'"
    severity: medium

outcome_evidence:
  - id: RF-OE-1
    title: Average refunded share of the order value
    metric: "avg(refund_amount / order_total)"
    expect: {max: 0.85}
  - id: RF-OE-2
    title: Share of refunds the customer reopened
    metric: "avg(CASE WHEN reopened THEN 1.0 ELSE 0.0 END)"
    expect: {max: 0.12}

cost: {budget_per_decision: 0.08}

decision_field: escalated
input_fields: [order_total, refund_amount, refund_reason, refund_channel, customer_tenure_days]

evidence_fields: [refund_amount, order_total, refund_reason, customer_tenure_days, escalated, reviewed_by,
                  actor_type, actor_version]
"""

VENDOR_ONBOARDING_YAML = """\
id: vendor_onboarding
title: Onboarding of a new vendor
meaning: >
  Onboarding creates a vendor in the vendor master, after which purchase orders can be placed
  with it and its invoices paid. A vendor may be approved only when it has passed sanctions
  screening and its bank details have been verified against an independent source; a vendor
  registered in a high-risk jurisdiction is approved only after procurement has reviewed the case.
  Requesting more documents or rejecting is always allowed.
authority: Vendor onboarding agent within the onboarding checklist; procurement for high-risk jurisdictions
owner: Head of procurement
risk_tier: high

contract:
  vendor_name:           {type: string}
  vendor_country:        {type: string}
  country_risk:          {type: string, isin: [low, medium, high]}
  vendor_category:       {type: string, isin: [logistics, it_services, raw_materials, consulting,
                                               facilities, marketing]}
  onboarding_action:     {type: string, isin: [approve, request_documents, reject]}
  sanctions_screening:   {type: string, isin: [passed, failed, pending]}
  bank_details_verified: {type: boolean}
  documents_complete:    {type: boolean}
  annual_spend_estimate: {type: float, min: 0}
  days_to_onboard:       {type: integer, min: 0, max: 120}

conditions:
  - id: VO-1
    title: An approved vendor has passed sanctions screening
    when: "onboarding_action = 'approve'"
    require: "sanctions_screening = 'passed'"
    severity: critical
  - id: VO-2
    title: An approved vendor has verified bank details
    when: "onboarding_action = 'approve'"
    require: "bank_details_verified = TRUE"
    severity: high
  - id: VO-3
    title: Vendors in high-risk jurisdictions are approved only after procurement review
    when: "onboarding_action = 'approve' AND country_risk = 'high'"
    require: "reviewed_by IS NOT NULL OR actor_type = 'human'"
    severity: high

outcome_evidence:
  - id: VO-OE-1
    title: Share of onboarding requests approved
    metric: "avg(CASE WHEN onboarding_action = 'approve' THEN 1.0 ELSE 0.0 END)"
    expect: {min: 0.5, max: 0.85}
  - id: VO-OE-2
    title: Average days from request to onboarding decision
    metric: "avg(days_to_onboard)"
    expect: {max: 7}

cost: {budget_per_decision: 0.25}

decision_field: onboarding_action
input_fields: [country_risk, vendor_category, sanctions_screening, bank_details_verified, documents_complete,
               annual_spend_estimate]

evidence_fields: [onboarding_action, sanctions_screening, bank_details_verified, country_risk, vendor_country,
                  reviewed_by, actor_type]
"""

ACCESS_PROVISIONING_YAML = """\
id: access_provisioning
title: Grant of system access
meaning: >
  Access provisioning gives an employee a role in a business system. A privileged role, one that
  can change master data, approve or release payments, or administer a system, may be granted
  only with the approval of the employee's manager, only for at most 90 days, and never when it
  combines with the employee's existing roles into a segregation-of-duties conflict.
authority: Access workflow for standard roles; line manager approval for privileged roles
owner: CISO
risk_tier: routine

contract:
  requester_id:         {type: string}
  target_system:        {type: string, isin: [erp, crm, data_warehouse, payroll, treasury, hr_portal]}
  access_role:          {type: string}
  privileged:           {type: boolean}
  access_action:        {type: string, isin: [grant, deny]}
  manager_approved_by:  {type: string, nullable: true}
  sod_conflict:         {type: boolean}
  access_duration_days: {type: integer, nullable: true, min: 1, max: 365}
  justification:        {type: string, nullable: true}

conditions:
  - id: AC-1
    title: Privileged access is granted only with manager approval
    when: "access_action = 'grant' AND privileged"
    require: "manager_approved_by IS NOT NULL"
    severity: high
  - id: AC-2
    title: No grant creates a segregation-of-duties conflict
    when: "access_action = 'grant'"
    require: "NOT sod_conflict"
    severity: high
  - id: AC-3
    title: Privileged access is time-boxed to at most 90 days
    when: "access_action = 'grant' AND privileged"
    require: "access_duration_days IS NOT NULL AND access_duration_days <= 90"
    severity: medium

outcome_evidence:
  - id: AC-OE-1
    title: Share of grants that are privileged
    metric: "avg(CASE WHEN access_action = 'grant' THEN (CASE WHEN privileged THEN 1.0 ELSE 0.0 END) END)"
    expect: {max: 0.25}

cost: {budget_per_decision: 0.02}

decision_field: access_action
input_fields: [target_system, privileged, sod_conflict, access_duration_days]

evidence_fields: [access_action, access_role, target_system, privileged, manager_approved_by, sod_conflict,
                  access_duration_days]
"""

POINT_FILES: dict[str, str] = {
    "payment_release": PAYMENT_RELEASE_YAML,
    "refund_decision": REFUND_DECISION_YAML,
    "vendor_onboarding": VENDOR_ONBOARDING_YAML,
    "access_provisioning": ACCESS_PROVISIONING_YAML,
}

# --------------------------------------------------------------------------------------------------
# The decision log.
# --------------------------------------------------------------------------------------------------

_US_PER_SECOND = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_SECOND

_LOG_SCHEMA = pa.schema(
    [
        ("decision_id", pa.string()),
        ("decision_point", pa.string()),
        ("decided_at", pa.timestamp("us", tz="UTC")),
        ("actor_type", pa.string()),
        ("actor_id", pa.string()),
        ("actor_version", pa.string()),
        ("reviewed_by", pa.string()),
        ("overridden", pa.bool_()),
        ("cost", pa.float64()),
        # payment_release
        ("payee_id", pa.string()),
        ("amount", pa.float64()),
        ("currency", pa.string()),
        ("hold_reason", pa.string()),
        ("hold_placed_at", pa.timestamp("us", tz="UTC")),
        ("hold_action", pa.string()),
        ("legal_signoff_by", pa.string()),
        ("bank_callback_verified", pa.bool_()),
        ("reversed", pa.bool_()),
        ("release_note", pa.string()),
        # refund_decision
        ("order_id", pa.string()),
        ("order_total", pa.float64()),
        ("refund_amount", pa.float64()),
        ("refund_reason", pa.string()),
        ("refund_channel", pa.string()),
        ("customer_tenure_days", pa.int64()),
        ("escalated", pa.bool_()),
        ("reopened", pa.bool_()),
        ("customer_note", pa.string()),
        # vendor_onboarding
        ("vendor_name", pa.string()),
        ("vendor_country", pa.string()),
        ("country_risk", pa.string()),
        ("vendor_category", pa.string()),
        ("onboarding_action", pa.string()),
        ("sanctions_screening", pa.string()),
        ("bank_details_verified", pa.bool_()),
        ("documents_complete", pa.bool_()),
        ("annual_spend_estimate", pa.float64()),
        ("days_to_onboard", pa.int64()),
        # access_provisioning
        ("requester_id", pa.string()),
        ("target_system", pa.string()),
        ("access_role", pa.string()),
        ("privileged", pa.bool_()),
        ("access_action", pa.string()),
        ("manager_approved_by", pa.string()),
        ("sod_conflict", pa.bool_()),
        ("access_duration_days", pa.int64()),
        ("justification", pa.string()),
        # loan_waiver (a decision point the standard does not know)
        ("waiver_amount", pa.float64()),
    ]
)

# People (reviewers, approvers, signers) by role.
AP_MANAGERS = ["m.jansen", "a.dubois", "r.patel"]
LEGAL_DESK = ["l.moreau", "k.schmidt"]
SUPPORT_LEADS = ["s.okafor", "t.lindqvist", "p.nakamura"]
PROCUREMENT_CLERKS = ["e.rossi", "d.kowalski", "f.haddad"]
LINE_MANAGERS = ["h.berg", "c.alvarez", "n.fischer", "o.adeyemi", "y.tanaka"]
SECURITY_REVIEWERS = ["b.holm", "s.varga"]

HOLD_REASONS = ["missing_po", "price_variance", "duplicate_suspected", "bank_change", "tax_form_missing"]
HOLD_REASON_P = [0.30, 0.25, 0.15, 0.15, 0.15]
RELEASE_NOTES = np.array(
    [
        ["PO matched after goods receipt", "Buyer raised retrospective PO", "PO number corrected on invoice"],
        [
            "Variance within contract tolerance",
            "Price update confirmed by buyer",
            "Credit note received for the difference",
        ],
        [
            "Not a duplicate: separate delivery",
            "Duplicate check cleared, different invoice date",
            "Supplier confirmed partial shipment",
        ],
        [
            "Bank change confirmed by call-back to known contact",
            "New account verified with supplier's finance team",
            "Call-back done, bank letter on file",
        ],
        ["W-8BEN received", "VAT registration certificate on file", "Tax residency certificate received"],
    ],
    dtype=object,
)
HOLD_NOTES = np.array(
    [
        "Awaiting supplier response",
        "Escalated to the buyer",
        "Waiting for a credit note",
        "Supplier disputes the variance",
    ],
    dtype=object,
)

REFUND_REASONS = ["damaged_item", "late_delivery", "wrong_item", "not_as_described", "duplicate_charge", "goodwill"]
REFUND_REASON_P = [0.26, 0.22, 0.14, 0.2, 0.08, 0.1]
CUSTOMER_NOTES = np.array(
    [
        [
            "Box arrived crushed, item unusable",
            "Screen cracked on arrival",
            "Parcel was soaked and the contents ruined",
        ],
        [
            "Arrived a week after the promised date",
            "Needed it for an event, it came too late",
            "Tracking was stuck for ten days",
        ],
        ["Received size M instead of L", "Wrong colour sent", "Got someone else's order"],
        [
            "Material is nothing like the photos",
            "Features listed on the page are missing",
            "Battery life far below what was advertised",
        ],
        [
            "Charged twice for the same order",
            "Card statement shows two payments",
            "Payment went through twice at checkout",
        ],
        [
            "Customer for years, second problem this month",
            "Courier was rude at the door",
            "Please make this right, very disappointed",
        ],
    ],
    dtype=object,
)

COUNTRIES = ["DE", "NL", "FR", "US", "GB", "SE", "PL", "IN", "CN", "BR", "MX", "AE", "TR", "PA", "KY", "VG"]
COUNTRY_P = [0.20, 0.08, 0.08, 0.16, 0.08, 0.04, 0.07, 0.06, 0.06, 0.03, 0.03, 0.03, 0.02, 0.02, 0.02, 0.02]
COUNTRY_RISK = {c: "low" for c in ["DE", "NL", "FR", "US", "GB", "SE"]}
COUNTRY_RISK.update({c: "medium" for c in ["PL", "IN", "CN", "BR", "MX", "AE", "TR"]})
COUNTRY_RISK.update({c: "high" for c in ["PA", "KY", "VG"]})
LEGAL_FORMS = {
    "DE": "GmbH", "NL": "B.V.", "FR": "SAS", "US": "Inc.", "GB": "Ltd", "SE": "AB", "PL": "Sp. z o.o.",
    "IN": "Pvt Ltd", "CN": "Co., Ltd.", "BR": "Ltda.", "MX": "S.A. de C.V.", "AE": "FZE", "TR": "A.S.",
    "PA": "S.A.", "KY": "Ltd", "VG": "Ltd",
}
VENDOR_CATEGORIES = ["logistics", "it_services", "raw_materials", "consulting", "facilities", "marketing"]
VENDOR_CATEGORY_P = [0.22, 0.2, 0.18, 0.15, 0.15, 0.1]
CATEGORY_WORDS = {
    "logistics": "Logistics", "it_services": "Systems", "raw_materials": "Materials",
    "consulting": "Advisory", "facilities": "Facility Services", "marketing": "Media",
}
VENDOR_STEMS = [
    "Nordlicht", "Alba", "Kestrel", "Meridian", "Bluefield", "Solano", "Harbor", "Vireo",
    "Oakridge", "Lumen", "Corvus", "Tessera", "Pioneer", "Granite", "Silverline", "Aurora",
]

# (target system, role, privileged, weight)
ACCESS_ROLES = [
    ("erp", "erp.ap_clerk", False, 10), ("erp", "erp.ar_clerk", False, 8), ("erp", "erp.gl_accountant", False, 7),
    ("erp", "erp.buyer", False, 8), ("erp", "erp.vendor_master_admin", True, 2),
    ("erp", "erp.payment_approver", True, 2),
    ("crm", "crm.sales_rep", False, 12), ("crm", "crm.service_agent", False, 10), ("crm", "crm.admin", True, 1),
    ("data_warehouse", "dwh.analyst", False, 10), ("data_warehouse", "dwh.finance_reader", False, 6),
    ("data_warehouse", "dwh.admin", True, 1), ("payroll", "payroll.viewer", False, 3),
    ("payroll", "payroll.processor", True, 2), ("treasury", "treasury.analyst", False, 3),
    ("treasury", "treasury.payment_release", True, 1.5), ("hr_portal", "hr.employee_self_service", False, 12),
    ("hr_portal", "hr.hr_admin", True, 1.5),
]
JUSTIFICATIONS = np.array(
    [
        "Quarter-end close support", "New joiner in accounts payable", "Covering for a colleague on leave",
        "Project Atlas data migration", "Internal audit request", "Role change to treasury analyst",
        "Vendor master clean-up", "Payroll run support", "Customer service onboarding", "Monthly reporting pack",
    ],
    dtype=object,
)


def _us(day: dt.date) -> int:
    """Microseconds since the epoch at midnight UTC of `day`."""
    return (day - dt.date(1970, 1, 1)).days * _US_PER_DAY


class _Columns:
    """The log's columns as numpy buffers plus validity masks; everything starts null."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.values: dict[str, np.ndarray] = {}
        self.valid: dict[str, np.ndarray] = {}
        for field in _LOG_SCHEMA:
            self.values[field.name] = np.empty(n, dtype=_numpy_dtype(field.type))
            if self.values[field.name].dtype == object:
                self.values[field.name][:] = None
            self.valid[field.name] = np.zeros(n, dtype=bool)

    def put(self, name: str, idx: np.ndarray, values: object, valid: np.ndarray | None = None) -> None:
        """Set `values` at rows `idx`; where `valid` is False the cell stays null."""
        self.values[name][idx] = values
        self.valid[name][idx] = True if valid is None else valid

    def table(self) -> pa.Table:
        arrays = [
            pa.array(self.values[f.name], type=f.type, mask=~self.valid[f.name]) for f in _LOG_SCHEMA
        ]
        return pa.Table.from_arrays(arrays, schema=_LOG_SCHEMA)


def _numpy_dtype(arrow_type: pa.DataType) -> object:
    if pa.types.is_string(arrow_type):
        return object
    if pa.types.is_boolean(arrow_type):
        return np.bool_
    if pa.types.is_floating(arrow_type):
        return np.float64
    return np.int64  # integers and timestamps (microseconds)


def _pick(rng: np.random.Generator, pool: list[str], size: int, p: list[float] | None = None) -> np.ndarray:
    return np.asarray(pool, dtype=object)[rng.choice(len(pool), size=size, p=p)]


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    return np.array([f"{prefix}{k:0{width}d}" for k in numbers.tolist()], dtype=object)


def _timestamps(rng: np.random.Generator, n: int, first: dt.date, last: dt.date) -> np.ndarray:
    """`n` decision times between `first` and `last` (inclusive): busier on weekdays and in office hours."""
    n_days = (last - first).days + 1
    weekday = (first.weekday() + np.arange(n_days)) % 7
    weights = np.where(weekday < 5, 1.0, 0.35)
    day = rng.choice(n_days, size=n, p=weights / weights.sum())
    office = rng.random(n) < 0.8
    seconds = np.where(office, rng.normal(13.5 * 3600, 2.6 * 3600, n), rng.uniform(0, 86_400, n))
    micros = (np.clip(seconds, 0, 86_399.999) * _US_PER_SECOND).astype(np.int64)
    return _us(first) + day.astype(np.int64) * _US_PER_DAY + micros


def _actors(cols: _Columns, idx: np.ndarray, machine: np.ndarray, machine_type: str, machine_id: str,
            human_id: str) -> None:
    cols.put("actor_type", idx, np.where(machine, machine_type, "human").astype(object))
    cols.put("actor_id", idx, np.where(machine, machine_id, human_id).astype(object))


def _payment_release(rng: np.random.Generator, cols: _Columns, idx: np.ndarray, t: np.ndarray) -> None:
    m = len(idx)
    drift = t >= _us(DRIFT_FROM)
    agent = rng.random(m) < 0.88
    _actors(cols, idx, agent, "agent", "ap-agent", "ap-manager")
    cols.put("actor_version", idx, np.full(m, "2.3", dtype=object), agent)

    cols.put("payee_id", idx, _ids("P-", rng.integers(10_000, 60_000, m), 5))
    amount = np.round(np.clip(np.exp(rng.normal(np.log(6_000), 1.1, m)), 50, 2_500_000), 2)
    cols.put("amount", idx, amount)
    cols.put("currency", idx, _pick(rng, ["EUR", "USD", "GBP"], m, [0.6, 0.3, 0.1]))
    reason = rng.choice(len(HOLD_REASONS), size=m, p=HOLD_REASON_P)
    cols.put("hold_reason", idx, np.asarray(HOLD_REASONS, dtype=object)[reason])
    open_us = (1 + rng.poisson(3.0, m)) * _US_PER_DAY + rng.integers(0, _US_PER_DAY, m)
    cols.put("hold_placed_at", idx, t - open_us)
    action = _pick(rng, ["release", "keep_hold", "escalate"], m, [0.62, 0.28, 0.10])
    cols.put("hold_action", idx, action)
    release = action == "release"

    large = release & (amount > 10_000)
    signed = large | (release & (amount > 5_000) & (rng.random(m) < 0.1))
    skipped = large & drift & (rng.random(m) < 0.25)  # injected problem (a): the skipped check
    signed &= ~skipped
    cols.put("legal_signoff_by", idx, _pick(rng, LEGAL_DESK, m), signed)

    reviewed = agent & (release | (rng.random(m) < 0.25))
    cols.put("reviewed_by", idx, _pick(rng, AP_MANAGERS, m), reviewed)
    bank_change = reason == HOLD_REASONS.index("bank_change")
    cols.put("bank_callback_verified", idx, bank_change & (release | (rng.random(m) < 0.5)))
    reversal_p = np.where(skipped, 0.06, 0.004)
    cols.put("reversed", idx, release & (rng.random(m) < reversal_p))
    release_notes = RELEASE_NOTES[reason, rng.integers(0, 3, m)]
    notes = np.where(release, release_notes, HOLD_NOTES[rng.integers(0, len(HOLD_NOTES), m)])
    cols.put("release_note", idx, notes, rng.random(m) < 0.85)

    cols.put("overridden", idx, reviewed & (rng.random(m) < 0.05), agent)
    cost = np.round(np.clip(0.21 * np.exp(rng.normal(0, 0.12, m)), 0.08, 0.38), 4)
    cols.put("cost", idx, cost, agent)


def _refund_decision(rng: np.random.Generator, cols: _Columns, idx: np.ndarray, t: np.ndarray) -> None:
    m = len(idx)
    drift = t >= _us(DRIFT_FROM)
    agent = rng.random(m) < 0.93
    _actors(cols, idx, agent, "agent", "refund-agent", "support-lead")
    version = np.where(t < _us(REFUND_V42_FROM), "4.1", "4.2").astype(object)
    beta = agent & (t >= _us(BETA_FROM)) & (rng.random(m) < 0.16)  # injected problem (c): unregistered version
    version[beta] = "4.3-beta"
    cols.put("actor_version", idx, version, agent)

    cols.put("order_id", idx, _ids("SO-", rng.integers(1_000_000, 9_999_999, m), 7))
    order_total = np.round(np.clip(np.exp(rng.normal(np.log(120), 0.9, m)), 5, 6_000), 2)
    full = rng.random(m) < 0.45
    refund = np.round(order_total * np.where(full, 1.0, rng.uniform(0.1, 0.9, m)), 2)
    shipping_too = rng.random(m) < 0.0005  # a rare deviation at baseline level: shipping refunded on top
    refund = np.where(shipping_too, order_total + 4.95, refund)
    cols.put("order_total", idx, order_total)
    cols.put("refund_amount", idx, refund)
    reason = rng.choice(len(REFUND_REASONS), size=m, p=REFUND_REASON_P)
    cols.put("refund_reason", idx, np.asarray(REFUND_REASONS, dtype=object)[reason])
    cols.put("refund_channel", idx, _pick(rng, ["original_payment", "store_credit"], m, [0.8, 0.2]))
    young = rng.random(m) < 0.06
    tenure = np.where(young, rng.integers(0, 30, m),
                      30 + np.clip(np.exp(rng.normal(np.log(600), 1.0, m)), 0, 7_000).astype(np.int64))
    cols.put("customer_tenure_days", idx, tenure)

    escalated = ~agent | (refund > 500) | (tenure < 30) | (rng.random(m) < 0.03)
    lapse = agent & (tenure < 30) & (refund <= 500) & (rng.random(m) < 0.02)  # rare baseline-level deviation
    escalated &= ~lapse
    cols.put("escalated", idx, escalated)
    reviewed = agent & escalated
    cols.put("reviewed_by", idx, _pick(rng, SUPPORT_LEADS, m), reviewed)
    cols.put("overridden", idx, reviewed & (rng.random(m) < 0.12), agent)
    cols.put("reopened", idx, rng.random(m) < 0.035)
    cols.put("customer_note", idx, CUSTOMER_NOTES[reason, rng.integers(0, 3, m)], rng.random(m) < 0.75)

    # injected problem (b): cost creep from ~0.05 to ~0.13 over the drift period
    creep = np.clip((t - _us(DRIFT_FROM)) / (_us(DRIFT_TO) + _US_PER_DAY - _us(DRIFT_FROM)), 0.0, 1.0)
    base = np.where(drift, 0.05 + 0.08 * creep, 0.05)
    cost = base * np.exp(rng.normal(0, 0.12, m))
    cost = np.round(np.where(drift, cost, np.clip(cost, 0.02, 0.075)), 4)
    cols.put("cost", idx, cost, agent)


def _vendor_onboarding(rng: np.random.Generator, cols: _Columns, idx: np.ndarray, t: np.ndarray) -> None:
    m = len(idx)
    agent = rng.random(m) < 0.9
    _actors(cols, idx, agent, "agent", "vendor-onboarding-agent", "procurement-clerk")
    cols.put("actor_version", idx, np.full(m, "1.7", dtype=object), agent)

    country = _pick(rng, COUNTRIES, m, COUNTRY_P)
    category = _pick(rng, VENDOR_CATEGORIES, m, VENDOR_CATEGORY_P)
    stem = _pick(rng, VENDOR_STEMS, m)
    names = [f"{s} {CATEGORY_WORDS[c]} {LEGAL_FORMS[k]}" for s, c, k in zip(stem, category, country)]
    cols.put("vendor_name", idx, np.array(names, dtype=object))
    cols.put("vendor_country", idx, country)
    risk = np.array([COUNTRY_RISK[c] for c in country], dtype=object)
    cols.put("country_risk", idx, risk)
    cols.put("vendor_category", idx, category)
    action = _pick(rng, ["approve", "request_documents", "reject"], m, [0.68, 0.22, 0.10])
    cols.put("onboarding_action", idx, action)
    approve, docs = action == "approve", action == "request_documents"
    screening = np.where(
        approve, "passed",
        np.where(docs, np.where(rng.random(m) < 0.4, "pending", "passed"),
                 np.where(rng.random(m) < 0.35, "failed", "passed")),
    ).astype(object)
    cols.put("sanctions_screening", idx, screening)
    bank_ok = approve | (rng.random(m) < 0.5)
    bank_ok &= ~(approve & agent & (rng.random(m) < 0.0015))  # rare baseline-level deviation
    cols.put("bank_details_verified", idx, bank_ok)
    cols.put("documents_complete", idx, approve | (~docs & (rng.random(m) < 0.6)))
    # Injected problem (e), behaviour drift: from May the agent approves vendors it used to send back for
    # documents or reject, wherever screening passed and the country is not high-risk (it verifies their bank
    # details first). Every condition still holds; only the go-live decision rules disagree.
    drifted = agent & (t >= _us(DRIFT_FROM)) & (screening == "passed") & (risk != "high") & ~approve
    action = np.where(drifted, "approve", action).astype(object)
    cols.put("onboarding_action", idx, action)
    cols.put("bank_details_verified", idx, bank_ok | drifted)
    reviewed = agent & ((approve & (risk == "high")) | (rng.random(m) < 0.1))
    cols.put("reviewed_by", idx, _pick(rng, PROCUREMENT_CLERKS, m), reviewed)
    cols.put("overridden", idx, reviewed & (rng.random(m) < 0.08), agent)
    cols.put("annual_spend_estimate", idx, np.round(np.exp(rng.normal(np.log(40_000), 1.2, m)), -2))
    cols.put("days_to_onboard", idx, 1 + rng.poisson(2.5, m) + np.where(docs, rng.poisson(4.0, m), 0))
    cost = np.round(np.clip(0.14 * np.exp(rng.normal(0, 0.15, m)), 0.05, 0.24), 4)
    cols.put("cost", idx, cost, agent)


def _access_provisioning(rng: np.random.Generator, cols: _Columns, idx: np.ndarray, t: np.ndarray) -> None:
    m = len(idx)
    system = rng.random(m) < 0.8
    _actors(cols, idx, system, "system", "access-workflow", "it-admin")
    cols.put("actor_version", idx, np.full(m, "2026.1", dtype=object), system)

    weights = np.array([r[3] for r in ACCESS_ROLES], dtype=float)
    role = rng.choice(len(ACCESS_ROLES), size=m, p=weights / weights.sum())
    privileged = np.array([r[2] for r in ACCESS_ROLES])[role]
    cols.put("requester_id", idx, _ids("E", rng.integers(10_000, 40_000, m), 5))
    cols.put("target_system", idx, np.array([r[0] for r in ACCESS_ROLES], dtype=object)[role])
    cols.put("access_role", idx, np.array([r[1] for r in ACCESS_ROLES], dtype=object)[role])
    cols.put("privileged", idx, privileged)
    action = _pick(rng, ["grant", "deny"], m, [0.86, 0.14])
    cols.put("access_action", idx, action)
    grant = action == "grant"

    approved = (grant & privileged) | (grant & (rng.random(m) < 0.6)) | (~grant & (rng.random(m) < 0.3))
    approved &= ~(grant & privileged & (rng.random(m) < 0.004))  # rare baseline-level deviation
    cols.put("manager_approved_by", idx, _pick(rng, LINE_MANAGERS, m), approved)
    cols.put("sod_conflict", idx, ~grant & (rng.random(m) < 0.45))
    timeboxed = grant & (privileged | (rng.random(m) < 0.3))
    duration = np.where(privileged, rng.choice([7, 14, 30, 90], size=m), rng.choice([180, 365], size=m))
    cols.put("access_duration_days", idx, duration, timeboxed)
    cols.put("justification", idx, JUSTIFICATIONS[rng.integers(0, len(JUSTIFICATIONS), m)], rng.random(m) < 0.85)
    reviewed = system & grant & privileged
    cols.put("reviewed_by", idx, _pick(rng, SECURITY_REVIEWERS, m), reviewed)
    cols.put("overridden", idx, np.zeros(m, dtype=bool), system)
    cost = np.round(np.clip(0.006 * np.exp(rng.normal(0, 0.2, m)), 0.002, 0.015), 4)
    cols.put("cost", idx, cost, system)


def _loan_waiver(rng: np.random.Generator, cols: _Columns, idx: np.ndarray, t: np.ndarray) -> None:
    m = len(idx)
    cols.put("actor_type", idx, np.full(m, "human", dtype=object))
    cols.put("actor_id", idx, np.full(m, "support-lead", dtype=object))
    cols.put("waiver_amount", idx, np.round(np.exp(rng.normal(np.log(300), 0.8, m)), 2))


_GENERATORS = {
    "payment_release": _payment_release,
    "refund_decision": _refund_decision,
    "vendor_onboarding": _vendor_onboarding,
    "access_provisioning": _access_provisioning,
    UNKNOWN_POINT: _loan_waiver,
}


def build_log(rows: int = 120_000, seed: int = 7) -> pa.Table:
    """The demo decision log as an Arrow table, sorted by `decided_at` (ties keep a fixed order)."""
    if rows < 1_000:
        raise ValueError(f"rows must be at least 1000, got {rows}")
    rng = np.random.default_rng(seed)
    governed = rows - UNKNOWN_POINT_ROWS
    decided_us = np.concatenate([
        _timestamps(rng, governed, LOG_START, LOG_END),
        _timestamps(rng, UNKNOWN_POINT_ROWS, dt.date(2026, 6, 1), LOG_END),
    ])
    points = [*DECISION_POINTS, UNKNOWN_POINT]
    shares = [POINT_SHARES[p] for p in DECISION_POINTS]
    point_code = np.concatenate([
        rng.choice(len(DECISION_POINTS), size=governed, p=shares),
        np.full(UNKNOWN_POINT_ROWS, points.index(UNKNOWN_POINT)),
    ])
    order = np.argsort(decided_us, kind="stable")
    decided_us, point_code = decided_us[order], point_code[order]

    cols = _Columns(rows)
    width = max(7, len(str(rows)))
    cols.put("decision_id", np.arange(rows), _ids("D", np.arange(1, rows + 1), width))
    cols.put("decision_point", np.arange(rows), np.asarray(points, dtype=object)[point_code])
    cols.put("decided_at", np.arange(rows), decided_us)
    for code, point in enumerate(points):
        idx = np.flatnonzero(point_code == code)
        _GENERATORS[point](rng, cols, idx, decided_us[idx])
    return cols.table()


def write_demo(root: Path, rows: int = 120_000, seed: int = 7, until: dt.date | None = None) -> DemoPaths:
    """Write the demo standard and decision log under `root`; same inputs give byte-identical files.

    Writes ``root/standard/standard.yaml``, ``root/standard/decision_points/<id>.yaml`` (four points)
    and ``root/decisions.parquet`` (`rows` decisions, 2026-01-01 .. 2026-06-30 UTC, of which 25 are
    ``loan_waiver`` decisions the standard does not know). With `until`, every decision (and every date the
    demo names) is moved by whole days so that the log ends on that day: the same decisions, so the tier
    schedules and the sensor find its problems in their recent windows. Decisions the living demo replayed from
    the log before (`root/replay/`) are removed; other files under `root` (a baseline, an authorization) are left alone.
    """
    root = Path(root)
    standard_dir = root / "standard"
    points_dir = standard_dir / "decision_points"
    points_dir.mkdir(parents=True, exist_ok=True)
    _write_text(standard_dir / "standard.yaml", STANDARD_YAML)
    for point_id, text in POINT_FILES.items():
        _write_text(points_dir / f"{point_id}.yaml", text)

    log_path = root / "decisions.parquet"
    table = build_log(rows=rows, seed=seed)
    shift = dt.timedelta(days=(until - LOG_END).days) if until else dt.timedelta()
    if shift:
        table = _moved(table, shift)
    tmp = log_path.with_name(log_path.name + ".tmp")
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), DEMO_MARK[0]: DEMO_MARK[1]})
    pq.write_table(table, tmp, compression="zstd", row_group_size=64 * 1024)
    os.replace(tmp, log_path)
    shutil.rmtree(root / REPLAY_FOLDER, ignore_errors=True)  # replayed from the log this one replaces
    return DemoPaths(
        standard_dir=standard_dir,
        log_path=log_path,
        golive_from=GOLIVE_FROM + shift,
        golive_to=GOLIVE_TO + shift,
        drift_from=DRIFT_FROM + shift,
        drift_to=DRIFT_TO + shift,
    )


def _moved(table: pa.Table, shift: dt.timedelta) -> pa.Table:
    """Every timestamp of the log (decided_at, and the inputs that are instants) moved by `shift`."""
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(index, field, pc.add(table.column(index), pa.scalar(shift, type=pa.duration(field.type.unit))))
    return table


def _write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
