"""the retention rule (README: What is kept, and what never is), with every finding kind raised: raw field values of sampled rows are never kept anywhere (the
evidence store, Dagster's storage, event log and instance databases, the standard and its baseline, temp files, the
commands' output), except the `evidence_fields` of failing rows.

Every non-evidence column carries a sentinel that differs per row: the free text `note`, `reviewed_by`,
access_grant's `approved_by`, and credit_limit's `segment`, a drift input with authored values that half of the
window breaks (a `data_drift` and a `contract` finding about it, neither may name a value); credit_limit's `score`,
a number, carries one sentinel number on one sampled row and one go-live row. The identity columns (`decision_id`,
`decision_point`, `actor_type`, `actor_id`, `actor_version`) carry no sentinel: the sampling plan lists the sampled
ids, and an unknown decision point or an unregistered actor version is the very subject of its finding.

Four cycles in one DAGSTER_HOME raise every finding kind: the planted small cycle (see small_cycle) with
credit_limit's decision, data and override drift; the same window again holding dispositions overdue at once; and one
after the standard was edited without authorization.
"""

from __future__ import annotations

import datetime as dt
import json
import struct
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from assurance_pipeline.findings.model import KINDS
from assurance_pipeline_tests.installation import Installation, files_under
from assurance_pipeline_tests.small_cycle import (
    BASELINE_FROM,
    BASELINE_TO,
    COLUMNS,
    CRITICAL,
    CYCLE_FROM,
    CYCLE_TO,
    ROUTINE,
    build_rows,
    expected_selection,
    write_log,
    write_standard,
)

SEED = "retention-everywhere-" + uuid.uuid4().hex
CREDIT = "credit_limit"
# One go-live decision and the window's first sampled credit decision carry these: a drift input (`score`), a number
# only go-live decisions have otherwise, with two common values (`manual_limit`), and the log's `cost`, which no other
# credit decision has.
NUMBERS = {"score": 7351.123456789, "manual_limit": 8462.234567891, "cost": 9573.345678912}
CREDIT_YAML = """\
id: credit_limit
title: Credit limit for a customer
meaning: A credit limit is approved only for a score of at least 600.
authority: AP agent within policy
owner: Credit risk
risk_tier: routine
contract:
  score: {type: float, min: 0}
  segment: {type: string, isin: [retail, business, public]}
  limit_decision: {type: string, isin: [approve, decline]}
  manual_limit: {type: float, nullable: true}
  note: {type: string, nullable: true}
conditions:
  - id: CL-1
    title: No approval below a score of 600
    when: "limit_decision = 'approve'"
    require: "score >= 600"
    severity: medium
evidence_fields: [limit_decision]
decision_field: limit_decision
input_fields: [score, segment]
"""
CREDIT_COLUMNS = {**COLUMNS, "score": pa.float64(), "segment": pa.string(), "limit_decision": pa.string(), "manual_limit": pa.float64()}
NO_GRACE = "disposition_grace_days: {critical: 0, high: 0, routine: 0}\n"  # every finding left undisposed is overdue at once


def sentinel(column: str) -> str:
    return f"SNTL{column}{uuid.uuid4().hex}"


def credit_rows(first: int, note: str, segment: str) -> list[dict]:
    """credit_limit: at go-live (600) approved from a score of 600, a manual limit of 1000 or 2000 on every tenth; in
    the window (300) approved from 700, with the same scores (decision drift), a segment outside the contract on every
    other decision (data drift and contract) and a third of the decisions overridden (go-live 2%)."""
    rows = []
    for month, count, step, cycle in ((dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 600, 70, False),
                                      (dt.datetime(2026, 2, 1, tzinfo=dt.UTC), 300, 130, True)):
        for i in range(count):
            n = first + len(rows)
            score = 400.0 + (i * 37) % 500
            known = ("retail", "business", "public")[i % 3]
            row = dict.fromkeys(CREDIT_COLUMNS)
            manual = None if cycle or i % 10 else 1000.0 * (1 + i % 20 // 10)
            row.update(decision_id=f"C{n:05d}", decision_point=CREDIT, decided_at=month + dt.timedelta(minutes=30 + step * i),
                       actor_type="agent", actor_id="ap-agent", actor_version="2.3", note=f"{note} {n}",
                       overridden=i % 3 == 0 if cycle else i % 50 == 0, score=score, manual_limit=manual,
                       segment=f"{segment}-{n}" if cycle and i % 2 == 0 else known,
                       limit_decision="approve" if score >= (700 if cycle else 600) else "decline")
            rows.append(row)
    return rows


def planted_rows(secrets: dict[str, str]) -> list[dict]:
    """The small cycle's log and credit_limit's, a sentinel per row in every non-evidence column, and the sentinel
    numbers on one go-live credit decision and on the window's first sampled one."""
    rows = build_rows(planted=True, note=secrets["note"], reference=secrets["passing"], failing_reference=secrets["failing"])
    rows += credit_rows(len(rows), secrets["note"], secrets["segment"])
    for n, row in enumerate(rows):
        row["reviewed_by"] = f"{secrets['reviewed_by']}-{n}"
        if row["decision_point"] == ROUTINE:
            row["approved_by"] = f"{secrets['approved_by']}-{n}"
    [first_sampled] = expected_selection(rows, CREDIT, SEED, CYCLE_FROM, CYCLE_TO, 1)
    go_live = next(r for r in rows if r["decision_point"] == CREDIT)
    for row in rows:
        if row["decision_id"] in (first_sampled, go_live["decision_id"]):
            row.update(NUMBERS)
    return rows


def renderings(number: float) -> list[bytes]:
    """A sentinel number as text (a few float spellings) and as the 8 bytes of a double (pickles, DuckDB, SQLite)."""
    texts = {repr(number), f"{number:.12g}", f"{number:.10g}", f"{number:.8g}", f"{number:.6f}", f"{number:.4f}"}
    return [t.encode() for t in sorted(texts)] + [struct.pack("<d", number), struct.pack(">d", number)]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """baseline, authorize, the planted cycle, the same window with its findings overdue (no grace), an unauthorized
    edit and a cycle,
    then `reperform`, `findings` and `verify`; every command's output is kept for the search."""
    root = tmp_path_factory.mktemp("retention-everywhere")
    secrets = {name: sentinel(name) for name in ("note", "reviewed_by", "approved_by", "segment", "passing")}
    secrets["failing"] = "EVIDENCE-" + uuid.uuid4().hex  # payment_release's `reference` (an evidence field) where PR-1 fails
    log = write_log(root / "decisions.parquet", planted_rows(secrets), columns=CREDIT_COLUMNS)
    standard = write_standard(root / "standard", NO_GRACE)
    (standard / "decision_points" / f"{CREDIT}.yaml").write_text(CREDIT_YAML, encoding="utf-8")
    evidence, inst = root / "evidence", Installation(root)
    source, window = ["--standard", str(standard), "--source", str(log)], ["--from", CYCLE_FROM, "--to", CYCLE_TO]
    steps = [inst.run("baseline", *source, "--from", BASELINE_FROM, "--to", BASELINE_TO),
             inst.run("authorize", "--standard", str(standard), "--by", "Tess Tester", "--evidence", str(evidence)),
             inst.run("cycle", *source, "--evidence", str(evidence), *window, "--seed", SEED, "--json"),
             inst.run("cycle", *source, "--evidence", str(evidence), *window, "--seed", SEED, "--json")]
    with (standard / "decision_points" / f"{ROUTINE}.yaml").open("a", encoding="utf-8") as edited:
        edited.write("# edited after the sign-off\n")
    steps.append(inst.run("cycle", *source, "--evidence", str(evidence), *window, "--seed", SEED, "--json"))
    results = [json.loads(step.stdout) for step in steps[2:]]
    steps += [inst.run("reperform", results[0]["cycle_id"], "--source", str(log), "--evidence", str(evidence)),
              inst.run("findings", "--evidence", str(evidence)), inst.run("verify", "--evidence", str(evidence))]
    for step in steps:
        assert step.returncode == 0, step.stderr
    output = root / "command-output.txt"  # searched with the files: what the commands printed
    output.write_text("\n".join(s.stdout + s.stderr for s in steps), encoding="utf-8")
    return {"root": root, "inst": inst, "log": log, "evidence": evidence, "secrets": secrets, "results": results}


def kept(recorded: dict) -> list[Path]:
    """Everything the test's installation holds but the decision log itself: DAGSTER_HOME, TMPDIR, the evidence
    store, the standard with its baseline, the commands' output."""
    return [p for p in files_under(recorded["root"]) if p != recorded["log"]]


def leaks(needle: str | bytes, recorded: dict) -> list[str]:
    """The files holding `needle`, relative to the installation (as bytes: SQLite databases and pickles too)."""
    raw = needle if isinstance(needle, bytes) else needle.encode("utf-8")
    return [p.relative_to(recorded["root"]).as_posix() for p in kept(recorded) if raw in p.read_bytes()]


def findings_of(result: dict) -> dict[tuple[str, str | None], list[dict]]:
    grouped: dict[tuple[str, str | None], list[dict]] = {}
    for f in result["findings"]:
        grouped.setdefault((f["kind"], f["decision_point"]), []).append(f)
    return grouped


def test_the_cycles_raise_every_finding_kind(recorded: dict):
    planted, overdue, edited = recorded["results"]
    assert {f["kind"] for r in recorded["results"] for f in r["findings"]} == set(KINDS)
    raised = findings_of(planted)
    for kind in ("data_drift", "contract"):
        assert [f for f in raised[(kind, CREDIT)] if "segment" in f["summary"]], f"no {kind} finding about segment"
    assert ("decision_drift", CREDIT) in raised and ("override", CREDIT) in raised
    assert "overdue_disposition" in {f["kind"] for f in overdue["findings"]}
    assert [f["kind"] for f in edited["findings"]] == ["standard_integrity"]


def test_the_search_covers_the_instance_the_temp_folder_and_the_store(recorded: dict):
    inst, names = recorded["inst"], {p.name for p in kept(recorded)}
    assert files_under(inst.tmp) == [], "a temp file outlived the cycles"
    assert {"ledger.jsonl", "baseline.json", "runs.db", "validation.json", "drift.json", "command-output.txt"} <= names
    assert len(files_under(inst.home / "history" / "runs")) >= 3  # the event log of each cycle's run


@pytest.mark.parametrize("column", ["note", "reviewed_by", "approved_by", "segment", "passing"])
def test_no_sentinel_of_a_non_evidence_column_is_kept_anywhere(recorded: dict, column: str):
    assert leaks(recorded["secrets"][column], recorded) == []


@pytest.mark.parametrize("column", sorted(NUMBERS))
def test_no_sentinel_number_is_kept_anywhere(recorded: dict, column: str):
    for rendering in renderings(NUMBERS[column]):
        assert leaks(rendering, recorded) == [], rendering


def test_the_sentinel_numbers_were_sampled_and_the_search_finds_a_double(recorded: dict):
    """The planted numbers sit on a decision the cycle sampled (else they would prove little), and the byte search
    finds a double where it is: in the decision log."""
    pack = Path(recorded["results"][0]["evidence_pack"])
    sampled = json.loads((pack / "sampling.json").read_text(encoding="utf-8"))["selected"][CREDIT]["decision_ids"]
    [first] = expected_selection(pq.read_table(recorded["log"]).to_pylist(), CREDIT, SEED, CYCLE_FROM, CYCLE_TO, 1)
    assert first in sampled
    assert all(struct.pack("<d", number) in recorded["log"].read_bytes() for number in NUMBERS.values())


def test_evidence_fields_of_failing_decisions_are_kept_only_in_the_evidence_pack(recorded: dict):
    """Allowed by the retention rule (README: What is kept, and what never is), and the proof that the search finds what is there."""
    found = leaks(recorded["secrets"]["failing"], recorded)
    assert found and all(p.startswith("evidence/packs/") and p.endswith("/validation.json") for p in found), found
    validation = json.loads((Path(recorded["results"][0]["evidence_pack"]) / "validation.json").read_text(encoding="utf-8"))
    assert {v["reference"] for v in validation[CRITICAL]["failing_evidence"].values()} == {recorded["secrets"]["failing"]}
    broke_segment = {d for f in validation[CREDIT]["contract_failures"] if f["column"] == "segment" for d in f["decision_ids"]}
    assert broke_segment and broke_segment <= set(validation[CREDIT]["failing_evidence"])  # sampled sentinels, failing
    assert {tuple(v) for v in validation[CREDIT]["failing_evidence"].values()} == {("limit_decision",)}  # and only that


def test_the_stores_private_checkpoint_key_is_kept_only_in_its_own_file(recorded: dict):
    key_file = recorded["root"] / "keys" / "store.key"
    secret = b"".join(key_file.read_bytes().splitlines()[1:-1])  # the PEM body: the private key itself
    assert leaks(secret, recorded) == ["keys/store.key"]
    assert (recorded["evidence"] / "store.json").is_file() and any((recorded["evidence"] / "checkpoints").iterdir())
