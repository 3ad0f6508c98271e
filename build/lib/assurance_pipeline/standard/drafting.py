"""Foundation Initialization: draft a standard from the live decision log, for people to review and authorize.

Everything drafted carries `draft: true` and its evidence as data (`draft_evidence`: the share of rows each rule
holds on, a condition's support), and `authorize` and `cycle` refuse the standard until a person has removed
every mark. What lands in the draft is aggregates only: a category's values are named only for a low-cardinality
column of code-like values each seen on at least MIN_ROWS rows, bounds are rounded (`profiling.rounded_bound`),
and free text, names and ids never appear.
"""

from __future__ import annotations

import math
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.sources.decision_log import DecisionLog
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard import mining
from assurance_pipeline.standard.drafts import draft_items
from assurance_pipeline.standard.loading import POINTS_DIR, STANDARD_FILE, load_standard
from assurance_pipeline.standard.models import DEFAULT_TIERS, LOG_COLUMNS, ContractColumn
from assurance_pipeline.standard.profiling import (
    MAX_CATEGORIES, MIN_ROWS, ColumnProfile, LogProfile, PointProfile, profile_log, round_outwards, rounded_bound,
)
from assurance_pipeline.workspace import transient_workspace

MIN_HOLDS = 0.99  # a drafted bound or category list must hold on at least this share of a column's values
_POINT_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_PLAIN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_CODE = re.compile(r"^[A-Za-z0-9_.:/+-]{1,40}$")  # a category value looks like a code, never like a sentence
_PERSONAL = re.compile(r"(_by|_id|name|email|e_mail|phone|address|note|comment|description|justification|text|message|reason_text)$",
                       re.IGNORECASE)  # a person, an id or free text: never named as a category
_MONEY = re.compile(r"amount|total|value|spend|price|balance|fee|limit|exposure", re.IGNORECASE)
CRITICAL_TYPICAL_AMOUNT = 5_000  # a point whose typical amount (median) reaches this is drafted critical
HIGH_TYPICAL_AMOUNT = 100
_SEVERITY = {"critical": "critical", "high": "high", "routine": "medium"}
TODO = "TODO: "


@dataclass(frozen=True)
class InitResult:
    out: Path
    window: dict
    rows: int
    points: list[dict]
    actors: int
    drafts: int
    skipped_points: list[str]

    def to_dict(self) -> dict:
        return {"out": str(self.out), "window": self.window, "rows": self.rows, "decision_points": self.points,
                "actors": self.actors, "drafts": self.drafts, "skipped_points": self.skipped_points}


def init_standard(source: str, out: Path, window_from: str | None = None, window_to: str | None = None) -> InitResult:
    """Profile the log over the window, mine its conditions, and write the draft standard folder at `out` atomically."""
    window = Window.parse(window_from, window_to)
    out = Path(out)
    _refuse_existing(out)
    log = DecisionLog(source)
    with transient_workspace() as con:
        log.attach(con, window)
        profile = profile_log(con, window)
        if not profile.rows:
            raise AssuranceError(f"source {log.shown}: no decisions in the window {_window_text(window)}; nothing to draft from")
        points = {pid: p for pid, p in profile.points.items() if _POINT_ID.match(pid)}
        if not points:
            raise AssuranceError(f"source {log.shown}: no decision_point value in the window is a valid id "
                                 "(a letter, then letters, digits, _ or -, at most 64); nothing to draft")
        contracts = {pid: draft_contract(p) for pid, p in points.items()}
        conditions, decisions = _mine(con, window, {pid: _models(c) for pid, c in contracts.items()})
    header = draft_header(profile, log.shown, window)
    files = {STANDARD_FILE: _yaml(header, "the standard")}
    summary = []
    for pid, point in points.items():
        body = draft_point(point, contracts[pid], conditions.get(pid, []), decisions.get(pid), window)
        files[f"{POINTS_DIR}/{pid}.yaml"] = _yaml(body, f"decision point {pid}")
        summary.append({"id": pid, "rows": point.rows, "risk_tier": body["risk_tier"], "contract_columns": len(body["contract"]),
                        "conditions": len(body["conditions"]), "decision_field": body.get("decision_field")})
    drafts = _write_atomically(out, files)
    skipped = sorted(pid for pid in profile.points if pid not in points)
    return InitResult(out, window.to_dict(), profile.rows, summary, len(header["actors"]), drafts, skipped)


def _window_text(window: Window) -> str:
    shown = window.to_dict()
    return f"{shown['from'] or 'start'} .. {shown['to'] or 'end'}"


def _refuse_existing(out: Path) -> None:
    """Never overwrite: a draft goes to a new (or empty) folder."""
    if out.exists() or out.is_symlink():
        if not out.is_dir() or out.is_symlink():
            raise AssuranceError(f"--out {out}: exists and is not a folder; give a new folder for the draft")
        if any(out.iterdir()):
            raise AssuranceError(f"--out {out}: exists and is not empty; init never overwrites, give a new folder")


# ---------------------------------------------------------------------------------------------------
# Contracts
# ---------------------------------------------------------------------------------------------------


def draft_contract(point: PointProfile) -> dict[str, dict]:
    """Each decision column's type, nullability, rounded range and categories, with the share of its rows each holds on."""
    contract = {}
    taken = {name.lower() for name in LOG_COLUMNS}
    for name, column in point.columns.items():
        if not _PLAIN_NAME.match(name) or name.lower() in taken:
            continue  # a contract column must be a plain name, distinct from the log's own columns whatever the case
        taken.add(name.lower())
        contract[name] = draft_column(column, point.rows)
    return contract


def draft_column(column: ColumnProfile, rows: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": column.type}
    holds: dict[str, float] = {"type": 1.0}  # the type is the source's own: every value has it
    if column.non_null < rows:
        spec["nullable"] = True
    else:
        holds["not_null"] = 1.0
    if column.type in ("integer", "float"):
        for key, values, upward in (("min", column.lowest, False), ("max", column.highest, True)):
            bound = rounded_bound(values, upward, column.type == "integer")
            if bound is None:
                continue
            outside = sum(v > bound if upward else v < bound for v in values)
            share = _share(column.non_null - outside, column.non_null)
            if share >= MIN_HOLDS:
                spec[key], holds[key] = bound, share
    categories = _categories(column)
    if categories is not None:
        spec["isin"] = categories
        holds["isin"] = _share(sum(column.categories[v] for v in categories), column.non_null)
    evidence = {"rows": rows, "non_null": _share(column.non_null, rows), "distinct_values_about": column.distinct, "holds_on": holds}
    return {**spec, "draft": True, "draft_evidence": evidence}


def _categories(column: ColumnProfile) -> list[str] | None:
    """The values of a low-cardinality string column of codes, each seen on MIN_ROWS rows or more, commonest first;
    None for free text, names and ids, or when the values that may be named cover too few rows."""
    counts = column.categories
    if column.type != "string" or not counts or len(counts) > MAX_CATEGORIES or _PERSONAL.search(column.name):
        return None
    if not all(_CODE.match(value) for value in counts):
        return None
    named = sorted((v for v, n in counts.items() if n >= MIN_ROWS), key=lambda v: (-counts[v], v))
    covered = sum(counts[v] for v in named)
    return named if named and covered / column.non_null >= MIN_HOLDS else None


def _models(contract: dict[str, dict]) -> dict[str, ContractColumn]:
    return {name: ContractColumn(**spec) for name, spec in contract.items()}


def _share(part: int, whole: int) -> float:
    """A share rounded down to four decimals, so 'holds on 1.0' means every row."""
    return math.floor(part / whole * 10_000) / 10_000 if whole else 0.0


# ---------------------------------------------------------------------------------------------------
# Conditions and the decision field
# ---------------------------------------------------------------------------------------------------


def _mine(con, window: Window, contracts: dict[str, dict[str, ContractColumn]]) -> tuple[dict, dict]:
    features = {pid: mining.sampled_features(contract) for pid, contract in contracts.items()}
    frame = mining.sample_frame(con, window, features)
    candidates, decisions = [], {}
    for pid, contract in contracts.items():
        rows = frame[frame["decision_point"] == pid].reset_index(drop=True)
        candidates += mining.mine_point(pid, rows, contract)
        decisions[pid] = (mining.propose_decision_field(rows, contract), len(rows))
    columns = {pid: {**LOG_COLUMNS, **{n: c.type for n, c in contract.items()}}
               for pid, contract in contracts.items()}
    verified = mining.best_conditions(mining.verify_conditions(con, window, candidates, columns))
    conditions: dict[str, list] = {}
    for v in verified:
        conditions.setdefault(v.point, []).append(v)
    return conditions, decisions


def _condition(point_id: str, number: int, found: mining.VerifiedCondition, severity: str) -> dict:
    return {
        "id": f"{_prefix(point_id)}-D{number}",
        "title": f"{TODO}say what this rule governs (mined from the decisions)",
        "when": found.when,
        "require": found.require,
        "severity": severity,
        "draft": True,
        "draft_evidence": {"support": found.support, "holds_on": found.holds_on,
                           "mined_by": "decision tree over a sample, counted on every row of the window"},
    }


def _prefix(point_id: str) -> str:
    words = [w for w in re.split(r"[_-]+", point_id) if w]
    return "".join(w[0] for w in words).upper()[:6] or "C"


# ---------------------------------------------------------------------------------------------------
# The files
# ---------------------------------------------------------------------------------------------------


def draft_point(point: PointProfile, contract: dict[str, dict], conditions: list, decision: tuple | None,
                window: Window) -> dict:
    tier, tier_basis = suggest_tier(point)
    body: dict[str, Any] = {
        "id": point.id,
        "draft": True,
        "title": f"{TODO}name this decision ({point.id})",
        "meaning": f"{TODO}the business definition: what this decision is, and when it is correct",
        "authority": f"{TODO}who may make this decision, and who must approve it",
        "owner": f"{TODO}the business owner of this decision",
        "risk_tier": tier,
        "contract": contract,
        "conditions": [_condition(point.id, i, c, _SEVERITY[tier]) for i, c in enumerate(conditions, 1)],
    }
    evidence: dict[str, Any] = {"rows": point.rows, "window": window.to_dict(), "risk_tier": tier_basis}
    proposal, sample_rows = decision or (None, 0)
    if proposal:
        field, inputs, score = proposal
        body["decision_field"] = field
        if inputs:
            body["input_fields"] = [n for n in inputs if contract[n]["type"] in ("integer", "float", "boolean") or "isin" in contract[n]]
        evidence["decision_field"] = {"predicted_by_the_others": score, "sample_rows": sample_rows,
                                      "how": "accuracy gain over always guessing the commonest outcome, on held-out rows"}
    else:
        evidence["decision_field"] = "none proposed: no category or flag is predicted well by the other columns"
    body["evidence_fields"] = []
    left_out = sorted(set(point.columns) - set(contract))
    if left_out:
        evidence["columns_left_out"] = {"count": len(left_out), "why": "not a plain column name, or the name of a log column"}
    body["draft_evidence"] = evidence
    return body


def suggest_tier(point: PointProfile) -> tuple[str, dict]:
    """A tier from the typical amount at stake (the largest median of its money-like columns), else routine."""
    money = {n: c.median for n, c in point.columns.items() if c.type == "float" and _MONEY.search(n) and c.median is not None}
    if not money:
        return "routine", {"basis": "no amount-like column; decisions in the window", "rows": point.rows}
    column = max(money, key=lambda n: money[n])
    typical = round_outwards(money[column], upward=True)
    typical = int(typical) if typical == int(typical) else typical
    tier = "critical" if typical >= CRITICAL_TYPICAL_AMOUNT else "high" if typical >= HIGH_TYPICAL_AMOUNT else "routine"
    return tier, {"basis": f"typical {column} (median, rounded up): critical from {CRITICAL_TYPICAL_AMOUNT}, high from {HIGH_TYPICAL_AMOUNT}",
                  "typical_amount": typical, "rows": point.rows}


def draft_header(profile: LogProfile, source: str, window: Window) -> dict:
    actors, left_out = [], 0
    for (actor_id, kind), versions in sorted(profile.actors.items()):
        rows = sum(versions.values())
        if rows < MIN_ROWS or kind not in ("human", "agent", "system"):
            left_out += 1
            continue
        seen = sorted(v for v, n in versions.items() if v is not None and n >= MIN_ROWS)
        actor: dict[str, Any] = {"id": actor_id, "type": kind}
        if kind != "human" and seen:
            actor["versions"] = seen
        actor["draft"] = True
        actor["draft_evidence"] = {"rows": rows, "versions_rows": {v: versions[v] for v in seen}} if seen else {"rows": rows}
        actors.append(actor)
    tiers = {name: {**tier.model_dump(include={"confidence", "tolerable_deviation_rate", "expected_deviation_rate"}), "draft": True,
                    "draft_evidence": {"basis": "the default; set the confidence and tolerable deviation rate your auditors accept"}}
             for name, tier in DEFAULT_TIERS.items()}
    return {
        "name": f"{TODO}name of the standard",
        "version": "0.1",
        "owner": f"{TODO}who owns the standard (e.g. the CFO office)",
        "draft": True,
        "draft_evidence": {
            "drafted_by": "assurance init", "drafted_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "source": source, "window": window.to_dict(), "rows": profile.rows,
            "actors_left_out": {"count": left_out, "why": f"seen on fewer than {MIN_ROWS} rows, or an unknown actor_type"},
        },
        "risk_tiers": tiers,
        "actors": actors,
    }


_BANNER = (
    "# Drafted by `assurance init` from the live decision log: {what}.\n"
    "# Nothing here is authorized. Review every item marked `draft: true` (its `draft_evidence` says what it was\n"
    "# drafted from), fill in every TODO, then remove the mark; `assurance authorize` refuses a standard with drafts left.\n\n"
)


def _yaml(body: dict, what: str) -> str:
    return _BANNER.format(what=what) + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, default_flow_style=None, width=120)


def _write_atomically(out: Path, files: dict[str, str]) -> int:
    """Write the folder beside `out`, check it loads as a standard, then rename it into place; returns the drafts."""
    tmp = out.parent / f".{out.name}.init-{os.getpid()}.tmp"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        for name, text in files.items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        try:
            drafts = len(draft_items(load_standard(tmp)))  # what was drafted is a standard people can edit and load
        except AssuranceError as err:  # e.g. a log beyond a standard's limits: named as the folder it would have been
            raise AssuranceError(f"--out {out}: the draft is not a standard the project can load: "
                                 f"{str(err).replace(tmp.name, out.name)}") from None
        _refuse_existing(out)
        os.rename(tmp, out)
    except OSError as err:
        raise AssuranceError(f"--out {out}: cannot be written ({err.strerror or err})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return drafts
