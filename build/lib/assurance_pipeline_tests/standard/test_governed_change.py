"""Governed change: a change of the standard is proposed in words and authorized by someone else, signed, with the
party that enforces a rule kept from defining it; and the same rules where no people are registered (a demo)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assurance_pipeline.cli import main
from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.evidence.signing import load_private_key, new_key, public_key_text
from assurance_pipeline.evidence.standard_texts import TEXTS_DIR
from assurance_pipeline.standard.changes import describe_changes, widened_actors
from assurance_pipeline.standard.integrity import check_integrity, file_hashes
from assurance_pipeline_tests.evidence.test_signing import append_raw
from assurance_pipeline_tests.small_cycle import write_standard

STANDARD = "standard.yaml"
PR = "decision_points/payment_release.yaml"


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    return {name: new_key(name, tmp_path / "keys")[0] for name in ("alice", "bob", "carol")}


def people_yaml(keys: dict[str, Path]) -> str:
    public = {n: public_key_text(load_private_key(p).public_key()) for n, p in keys.items()}
    return ("people:\n"
            f"  - {{name: alice, role: owner, public_key: \"{public['alice']}\"}}\n"
            f"  - {{name: bob, role: authorizer, public_key: \"{public['bob']}\"}}\n"
            f"  - {{name: carol, role: authorizer, public_key: \"{public['carol']}\", actors: [refund-agent]}}\n")


@pytest.fixture
def signed(tmp_path: Path, keys: dict[str, Path], capsys) -> tuple[Path, Path]:
    """A standard registering alice (owner), bob and carol (authorizers; carol acts as refund-agent), signed off by bob."""
    standard, evidence = write_standard(tmp_path / "standard", people_yaml(keys)), tmp_path / "evidence"
    code, _, err = run(capsys, "authorize", "--standard", str(standard), "--by", "bob", "--key", str(keys["bob"]), "--evidence", str(evidence))
    assert code == 0, err
    return standard, evidence


def change_the_standard(standard: Path) -> None:
    """PR-1 tightened, and a new refund-agent version registered."""
    pr = standard / PR
    pr.write_text(pr.read_text(encoding="utf-8").replace('require: "signoff_by IS NOT NULL"', 'require: "signoff_by IS NOT NULL AND amount > 0"'), encoding="utf-8")
    header = standard / STANDARD
    header.write_text(header.read_text(encoding="utf-8").replace('versions: ["4.1"]', 'versions: ["4.1", "4.3-beta"]'), encoding="utf-8")


CHANGES = [
    f"{PR}: conditions PR-1 require: `signoff_by IS NOT NULL` → `signoff_by IS NOT NULL AND amount > 0`",
    f"{STANDARD}: actors refund-agent versions: [4.1] → [4.1, 4.3-beta]",
]


def authorize(capsys, standard: Path, evidence: Path, by: str, key: Path | None) -> tuple[int, str, str]:
    return run(capsys, "authorize", "--standard", str(standard), "--by", by, *(["--key", str(key)] if key else []), "--evidence", str(evidence))


def test_a_change_is_proposed_in_words_and_authorized_by_someone_else(signed, keys, capsys):
    standard, evidence = signed
    change_the_standard(standard)

    code, out, err = run(capsys, "propose", "--standard", str(standard), "--by", "alice", "--note", "CR-7", "--key", str(keys["alice"]),
                         "--evidence", str(evidence), "--json")
    assert code == 0, err
    proposal = json.loads(out)
    assert proposal["changes"] == CHANGES and proposal["widens"] == ["refund-agent"] and proposal["by"] == "alice"

    code, out, err = authorize(capsys, standard, evidence, "bob", keys["bob"])
    assert code == 0, err
    assert f"carrying out proposal {proposal['entry']}" in out and all(line in out for line in CHANGES)
    entry = Ledger(evidence).find("authorization")[-1]
    assert (entry.body["changes"], entry.body["proposal"], entry.signature.by) == (CHANGES, proposal["entry"], "bob")
    assert check_integrity(standard, Ledger(evidence)).intact

    code, out, _ = run(capsys, "verify", "--evidence", str(evidence))
    assert code == 0 and "3 signed" in out and "UNSIGNED" not in out


@pytest.mark.parametrize(("by", "key", "message"), [
    ("alice", "alice", "alice proposed this change (ledger entry 2); separation of duties: someone else must authorize it"),
    ("carol", "carol", "the change registers or widens actor refund-agent, which carol acts as"),
    ("bob", "carol", "not the key registered for 'bob'"),
    ("bob", None, "authorize: the authorized standard registers people, so this authorization must be signed"),
])
def test_an_authorization_breaking_separation_of_duties_is_refused(signed, keys, capsys, by, key, message):
    standard, evidence = signed
    change_the_standard(standard)
    assert run(capsys, "propose", "--standard", str(standard), "--by", "alice", "--key", str(keys["alice"]), "--evidence", str(evidence))[0] == 0
    before = Ledger(evidence).path.read_bytes()

    code, out, err = authorize(capsys, standard, evidence, by, keys[key] if key else None)

    assert code == 2 and out == "" and len(err.splitlines()) == 1 and message in err
    assert Ledger(evidence).path.read_bytes() == before
    assert not check_integrity(standard, Ledger(evidence)).intact  # nothing was signed off: the change is still unauthorized


def test_a_change_needs_a_proposal_of_exactly_that_change(signed, keys, capsys):
    standard, evidence = signed
    change_the_standard(standard)
    code, _, err = authorize(capsys, standard, evidence, "bob", keys["bob"])
    assert code == 2 and "no proposal of exactly this change is recorded: run `assurance propose` first" in err
    assert run(capsys, "propose", "--standard", str(standard), "--by", "alice", "--key", str(keys["alice"]), "--evidence", str(evidence))[0] == 0
    (standard / PR).write_text((standard / PR).read_text(encoding="utf-8").replace("severity: critical", "severity: high"), encoding="utf-8")
    code, _, err = authorize(capsys, standard, evidence, "bob", keys["bob"])  # edited after it was proposed
    assert code == 2 and "no proposal of exactly this change" in err


def test_nothing_to_propose_and_an_unregistered_proposer_are_refused(signed, keys, capsys, tmp_path):
    standard, evidence = signed
    code, _, err = run(capsys, "propose", "--standard", str(standard), "--by", "alice", "--key", str(keys["alice"]), "--evidence", str(evidence))
    assert code == 2 and "nothing to propose: the standard is exactly as last authorized" in err
    change_the_standard(standard)
    mallory = new_key("mallory", tmp_path / "keys")[0]
    code, _, err = run(capsys, "propose", "--standard", str(standard), "--by", "mallory", "--key", str(mallory), "--evidence", str(evidence))
    assert code == 2 and "--by 'mallory': not a registered person" in err


def test_a_forged_authorization_in_the_ledger_does_not_make_a_changed_standard_intact(signed, capsys):
    """An attacker edits the standard, writes authorization.yaml and appends a matching, unsigned authorization."""
    standard, evidence = signed
    change_the_standard(standard)
    import yaml

    from assurance_pipeline.standard.integrity import AUTHORIZATION_FILE, standard_digest
    from assurance_pipeline.standard.loading import standard_files

    auth = yaml.safe_load((standard / AUTHORIZATION_FILE).read_text(encoding="utf-8"))
    hashes = file_hashes(standard_files(standard))
    auth.update(files=hashes, sha256=standard_digest(hashes), authorized_by="bob")
    (standard / AUTHORIZATION_FILE).write_text(yaml.safe_dump(auth), encoding="utf-8")
    append_raw(Ledger(evidence), "authorization", auth)

    report = check_integrity(standard, Ledger(evidence))

    assert not report.intact
    assert any("authorization by 'bob' is not signed, but people are registered" in p for p in report.problems)
    code, out, _ = run(capsys, "verify", "--evidence", str(evidence))
    assert code == 1 and "line 2 (seq 2): authorization by 'bob' is not signed" in out


def test_an_edited_kept_text_of_the_standard_is_caught(signed, capsys):
    _, evidence = signed
    kept = sorted((evidence / TEXTS_DIR).iterdir())
    assert len(kept) == 4  # standard.yaml and three decision points; never the baseline
    kept[0].write_bytes(kept[0].read_bytes() + b"# edited\n")
    code, out, _ = run(capsys, "verify", "--evidence", str(evidence))
    assert code == 1 and f"{TEXTS_DIR}/{kept[0].name}: a kept text of the standard no longer matches its sha256" in out


def test_without_people_changes_are_unsigned_marked_and_still_not_self_authorized(tmp_path: Path, capsys):
    standard, evidence = write_standard(tmp_path / "standard"), tmp_path / "evidence"
    assert authorize(capsys, standard, evidence, "CFO office", None)[0] == 0
    change_the_standard(standard)
    code, out, err = authorize(capsys, standard, evidence, "CFO office", None)  # a demo: a proposal is optional
    assert code == 0, err
    assert "UNSIGNED (no people registered)" in out and all(line in out for line in CHANGES)
    change_the_standard_again = (standard / PR).read_text(encoding="utf-8").replace("severity: critical", "severity: high")
    (standard / PR).write_text(change_the_standard_again, encoding="utf-8")
    assert run(capsys, "propose", "--standard", str(standard), "--by", "Controller", "--evidence", str(evidence))[0] == 0
    code, _, err = authorize(capsys, standard, evidence, "Controller", None)
    assert code == 2 and "Controller proposed this change" in err
    assert authorize(capsys, standard, evidence, "CFO office", None)[0] == 0
    code, out, _ = run(capsys, "verify", "--evidence", str(evidence))
    assert code == 0 and "0 signed, 4 UNSIGNED (recorded while no people were registered)" in out


def test_changes_are_described_item_by_item():
    old = {STANDARD: b"name: S\nactors:\n  - {id: a, type: agent, versions: ['1']}\n  - {id: h, type: human}\n",
           PR: b"id: p\nconditions:\n  - {id: C-1, require: x > 1}\n  - {id: C-2, require: y}\n",
           "decision_points/gone.yaml": b"id: gone\n", "baseline/baseline.json": b"{}"}
    new = {STANDARD: b"name: S\nactors:\n  - {id: a, type: agent, versions: ['1', '2']}\n  - {id: h, type: human}\n  - {id: n, type: system}\n"
                     b"people:\n  - {name: eve, role: owner, public_key: k}\n",
           PR: b"# a comment is not a change\nid: p\nconditions:\n  - {id: C-1, require: x > 2}\n  - {id: C-3, require: z}\n",
           "decision_points/new.yaml": b"id: new\n", "baseline/baseline.json": b"{ }"}
    authorized = file_hashes(old)

    lines = describe_changes(authorized, old, new)

    assert lines == [
        "baseline/baseline.json: a new go-live baseline",
        "decision_points/gone.yaml: removed",
        "decision_points/new.yaml: added",
        f"{PR}: conditions C-1 require: `x > 1` → `x > 2`",
        f"{PR}: conditions C-2: removed",
        f"{PR}: conditions C-3: added",
        f"{STANDARD}: actors a versions: [1] → [1, 2]",
        f"{STANDARD}: actors n: added",
        f"{STANDARD}: people: added",
    ]
    assert describe_changes(authorized, {}, new)[3] == f"{PR}: changed (the authorized text is not in the evidence store to compare with)"
    assert widened_actors(old, new) == ["a", "n"]


@pytest.mark.parametrize(("before", "after", "widened"), [
    ("{id: a, type: agent, versions: ['1']}", "{id: a, type: agent, versions: ['1']}", []),
    ("{id: a, type: agent, versions: ['1', '2']}", "{id: a, type: agent, versions: ['2']}", []),  # narrowed
    ("{id: a, type: agent, versions: ['1']}", "{id: a, type: agent}", ["a"]),  # any version
    ("{id: a, type: agent, versions: ['1']}", "{id: a, type: human, versions: ['1']}", ["a"]),
    ("{id: a, type: human}", "{id: a, type: human}", []),
])
def test_widened_actors(before: str, after: str, widened: list[str]):
    header = "name: S\nversion: '1'\nowner: o\nactors:\n  - {}\n"
    assert widened_actors({STANDARD: header.format(before).encode()}, {STANDARD: header.format(after).encode()}) == widened


def test_an_authorization_records_what_its_change_touches(signed, keys, capsys):
    standard, evidence = signed
    change_the_standard(standard)
    assert run(capsys, "propose", "--standard", str(standard), "--by", "alice", "--key", str(keys["alice"]), "--evidence", str(evidence))[0] == 0
    assert authorize(capsys, standard, evidence, "bob", keys["bob"])[0] == 0
    first, second = Ledger(evidence).find("authorization")
    assert second.body["touches"] == {"points": ["payment_release"], "header": True, "baseline": False}
    assert first.body["touches"] == {"points": ["access_grant", "payment_release", "refund"], "header": True, "baseline": False}


def test_the_first_version_can_be_proposed_and_then_its_proposer_cannot_sign_it_off(tmp_path: Path, keys, capsys):
    """Foundation Initialization's path: the reviewed draft is proposed (signed under the people it registers) and
    signed off by someone else."""
    standard, evidence = write_standard(tmp_path / "standard", people_yaml(keys)), tmp_path / "evidence"
    code, out, err = run(capsys, "propose", "--standard", str(standard), "--by", "alice", "--key", str(keys["alice"]), "--evidence", str(evidence))
    assert code == 0 and "signed by alice" in out, err
    code, _, err = authorize(capsys, standard, evidence, "alice", keys["alice"])
    assert code == 2 and "alice proposed this change (ledger entry 1)" in err  # an owner, and its proposer
    code, out, err = authorize(capsys, standard, evidence, "bob", keys["bob"])
    assert code == 0 and "carrying out proposal 1" in out, err
    code, out, _ = run(capsys, "verify", "--evidence", str(evidence))
    assert code == 0 and "2 signed" in out


def test_a_listing_cut_short_by_its_reader_ends_quietly(signed, tmp_path: Path):
    import subprocess
    import sys

    _, evidence = signed
    assurance = Path(sys.executable).with_name("assurance")
    process = subprocess.Popen([str(assurance), "verify", "--evidence", str(evidence)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader is gone before anything is written (`| head` having had enough)
    err = process.stderr.read().decode()
    assert process.wait(60) == 141 and err == ""


def test_a_proposal_against_a_forged_authorization_is_one_line_not_a_traceback(signed, keys, capsys):
    """A kept standard.yaml edited in the store (no longer its hash): the change is still described, every actor
    counting as newly registered, never a traceback."""
    standard, evidence = signed
    kept = evidence / "standards"
    for text in kept.iterdir():
        if b"actors:" in text.read_bytes():
            body = text.read_bytes().replace(b"actors:", b"actors_were:") + b"actors: [1, 2]\n"
            text.chmod(0o644)
            text.write_bytes(body)  # no longer its hash: treated as unknown, as is a missing text
    change_the_standard(standard)
    code, out, err = run(capsys, "propose", "--standard", str(standard), "--by", "alice", "--key", str(keys["alice"]), "--evidence", str(evidence), "--json")
    assert code == 0, err
    proposal = json.loads(out)
    assert f"{STANDARD}: changed (the authorized text is not in the evidence store to compare with)" in proposal["changes"]
    assert proposal["widens"] == ["access-workflow", "ap-agent", "ap-clerk", "refund-agent"]  # nothing to compare with


def test_an_unreadable_authorized_registry_counts_every_actor_as_new():
    new = {STANDARD: b"name: S\nversion: '1'\nowner: o\nactors:\n  - {id: a, type: agent, versions: ['1']}\n"}
    for garbage in (b"actors: [1, 2]\n", b"actors: {id: x}\n", b"- just a list\n"):
        assert widened_actors({STANDARD: garbage}, new) == ["a"]
