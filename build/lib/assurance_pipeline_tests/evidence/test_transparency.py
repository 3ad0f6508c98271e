"""The evidence log as a transparency log, against an adversary who controls the store's files (and, where said, the
store's own checkpoint key): a checkpoint kept elsewhere catches truncation, rollback and a rewritten history; a
witness refuses to cosign a fork and `verify` names it; an inclusion proof checks with nothing but the checkpoint; a
torn line is repaired without rewriting anything else; concurrent writers never interleave."""

from __future__ import annotations

import base64
import json
import multiprocessing
import shutil
from pathlib import Path

import pytest

from assurance_pipeline.cli import main
from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.evidence.merkle import leaf_hash, verify_inclusion
from assurance_pipeline.evidence.notes import open_note, parse_checkpoint, parse_vkey
from assurance_pipeline.evidence.signing import new_key
from assurance_pipeline_tests.evidence.test_store_damage import _forge, _resign_checkpoints


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def keep_checkpoint(capsys, store: Path, where: Path) -> Path:
    code, out, _ = run(capsys, "checkpoint", "--evidence", str(store))
    assert code == 0
    where.write_text(out, encoding="utf-8")
    return where


def append_disposition(store: Path) -> None:
    finding = next(f["id"] for e in Ledger(store).find("cycle_decision") for f in e.body["findings"])
    assert main(["dispose", finding, "--as", "escalate", "--to", "CFO", "--by", "Controller", "--note", "to the CFO", "--evidence", str(store)]) == 0


def test_the_checkpoint_is_a_signed_c2sp_checkpoint_of_the_ledger(store, capsys):
    code, out, _ = run(capsys, "checkpoint", "--evidence", str(store), "--json")
    shown = json.loads(out)
    text, _ = open_note(shown["checkpoint"], parse_vkey(shown["checkpoint_key"]))
    checkpoint = parse_checkpoint(text)
    lines = Ledger(store).raw_lines()
    from assurance_pipeline.evidence.merkle import root

    assert code == 0 and checkpoint.size == len(lines) and checkpoint.root == root([leaf_hash(line) for line in lines])


def test_a_held_checkpoint_catches_truncation_and_a_consistent_rollback(store, capsys, tmp_path):
    held = keep_checkpoint(capsys, store, tmp_path / "held.note")
    append_disposition(store)
    code, out, _ = run(capsys, "verify", "--evidence", str(store), "--checkpoint", str(held))
    assert code == 0 and "the log extends the checkpoint" in out
    lines = (store / "ledger.jsonl").read_bytes().splitlines(keepends=True)
    (store / "ledger.jsonl").write_bytes(b"".join(lines[:2]))  # back to before the cycle's decision ...
    shutil.rmtree(store / "packs")
    for path in sorted((store / "checkpoints").iterdir())[2:]:
        path.unlink()  # ... with its checkpoints and pack: the store alone looks as it once was
    code, out, _ = run(capsys, "verify", "--evidence", str(store))
    assert code == 0
    code, out, _ = run(capsys, "verify", "--evidence", str(store), "--checkpoint", str(held))
    assert code == 1 and "covers 3 entries, the ledger holds 2: entries were removed (the log was truncated or rolled back)" in out


def test_a_held_checkpoint_catches_a_history_rewritten_with_the_stores_own_key(store, capsys, tmp_path):
    held = keep_checkpoint(capsys, store, tmp_path / "held.note")
    _forge(store, 1, lambda e: e["body"].update(note="a different sign-off"))
    _resign_checkpoints(store)
    assert run(capsys, "verify", "--evidence", str(store))[0] == 0  # consistent with itself, as forged
    code, out, _ = run(capsys, "verify", "--evidence", str(store), "--checkpoint", str(held))
    assert code == 1 and "the log does not extend the checkpoint given (size 3)" in out and "history was rewritten" in out


def test_a_held_checkpoint_of_another_store_or_forged_is_refused(store, capsys, tmp_path, recorded_store):
    other = tmp_path / "other"
    shutil.copytree(recorded_store, other)
    (other / "store.json").unlink()
    shutil.rmtree(other / "checkpoints")
    append_disposition(other)  # a new identity: another store
    foreign = keep_checkpoint(capsys, other, tmp_path / "foreign.note")
    code, out, _ = run(capsys, "verify", "--evidence", str(store), "--checkpoint", str(foreign))
    assert code == 1 and "the checkpoint given is not this store's" in out
    held = keep_checkpoint(capsys, store, tmp_path / "held.note")
    held.write_text(held.read_text(encoding="utf-8").replace("\n3\n", "\n2\n"), encoding="utf-8")
    code, out, _ = run(capsys, "verify", "--evidence", str(store), "--checkpoint", str(held))
    assert code == 1 and "does not verify: the note was altered or forged" in out
    code, _, err = run(capsys, "verify", "--evidence", str(store), "--checkpoint", str(tmp_path / "missing.note"))
    assert code == 3 and "--checkpoint" in err and "cannot be read" in err


def test_an_inclusion_proof_checks_with_nothing_but_the_checkpoint(store, capsys):
    code, out, _ = run(capsys, "prove", "2", "--evidence", str(store), "--json")
    proof = json.loads(out)
    assert code == 0
    text, _ = open_note(proof["checkpoint"], parse_vkey(proof["checkpoint_key"]))
    checkpoint = parse_checkpoint(text)
    path = [base64.b64decode(h) for h in proof["inclusion_path"]]
    verify_inclusion(leaf_hash(proof["entry"].encode()), proof["leaf_index"], checkpoint.size, path, checkpoint.root)
    assert json.loads(proof["entry"])["seq"] == 2
    code, _, err = run(capsys, "prove", "9", "--evidence", str(store))
    assert code == 2 and "covers entries 1 to 3" in err


def test_a_witness_cosigns_what_extends_its_last_cosignature_and_refuses_a_fork(store, capsys, tmp_path):
    key = new_key("auditor", tmp_path / "keys")[0]
    state = tmp_path / "auditor.state"
    witness = ["witness", "--evidence", str(store), "--key", str(key), "--state", str(state), "--name", "auditor.example/w1"]
    code, out, _ = run(capsys, *witness)
    assert code == 0 and "cosigned" in out and "at size 3" in out and "first cosignature" in out
    append_disposition(store)
    code, out, _ = run(capsys, *witness)
    assert code == 0 and "at size 4" in out and "consistent with what you cosigned at size 3" in out
    code, out, _ = run(capsys, "verify", "--evidence", str(store))
    assert code == 0 and "witness auditor.example/w1 cosigned up to 4" in out

    _forge(store, 2, lambda e: e["body"].update(extra="forged"))
    _resign_checkpoints(store)  # the store's own key re-signs the forged history: only the witness can tell
    code, out, err = run(capsys, *witness)
    assert code == 1 and "the log forks from what you cosigned at size 4" in err
    code, out, _ = run(capsys, "verify", "--evidence", str(store))
    assert code == 1 and "the log forks from what auditor.example/w1 cosigned" in out


def test_a_witness_refuses_a_store_whose_key_changed(store, capsys, tmp_path, monkeypatch):
    key = new_key("sponsor", tmp_path / "keys")[0]
    witness = ["witness", "--evidence", str(store), "--key", str(key), "--state", str(tmp_path / "s.state")]
    assert run(capsys, *witness)[0] == 0
    (store / "store.json").unlink()
    monkeypatch.setenv("ASSURANCE_STORE_KEY_FILE", str(tmp_path / "attacker.key"))
    _resign_checkpoints(store)  # a new key and identity for the same entries
    code, _, err = run(capsys, *witness)
    assert code == 1 and "the store's checkpoint key is not the one you witnessed before" in err


def test_a_torn_last_line_is_reported_and_repaired_without_rewriting_anything_else(store, capsys):
    before = (store / "ledger.jsonl").read_bytes()
    (store / "ledger.jsonl").write_bytes(before + b'{"seq":4,"at":"2026-')
    code, out, _ = run(capsys, "verify", "--evidence", str(store))
    assert code == 1 and out.startswith("INTERRUPTED: line 4") and "run `assurance repair`" in out
    code, out, _ = run(capsys, "repair", "--evidence", str(store))
    assert code == 0 and "moved 20 torn bytes to repairs/" in out
    after = (store / "ledger.jsonl").read_bytes()
    assert after.startswith(before) and json.loads(after.splitlines()[-1])["kind"] == "repair"
    assert [p.read_bytes() for p in (store / "repairs").iterdir()] == [b'{"seq":4,"at":"2026-']
    assert run(capsys, "verify", "--evidence", str(store))[0] == 0
    code, out, _ = run(capsys, "repair", "--evidence", str(store))
    assert code == 0 and "nothing to repair" in out


def _append_many(folder: str, writer: int, count: int) -> None:
    ledger = Ledger(Path(folder))
    for n in range(count):
        ledger.append("note", {"writer": writer, "n": n, "padding": "x" * 3000})  # longer than a pipe's atomic write


def test_eight_processes_appending_at_once_never_interleave(tmp_path: Path, capsys):
    store = tmp_path / "evidence"
    Ledger(store).append("note", {"first": True})
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_append_many, args=(str(store), w, 12)) for w in range(8)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(120)
    assert [p.exitcode for p in writers] == [0] * 8
    entries = list(Ledger(store).entries())
    assert len(entries) == 1 + 8 * 12 and [e.seq for e in entries] == list(range(1, 98))
    for w in range(8):
        assert [e.body["n"] for e in entries if e.body.get("writer") == w] == list(range(12))
    code, out, _ = run(capsys, "verify", "--evidence", str(store))
    assert code == 0 and "checkpoint at 97" in out


@pytest.mark.parametrize("damage", ["stray_file", "bad_vkey", "note_is_a_folder", "forged_cosignature"])
def test_damaged_witness_records_are_named_not_a_traceback(store, capsys, tmp_path, damage):
    key = new_key("auditor", tmp_path / "keys")[0]
    assert run(capsys, "witness", "--evidence", str(store), "--key", str(key), "--state", str(tmp_path / "a.state"))[0] == 0
    [folder] = list((store / "witnesses").iterdir())
    if damage == "stray_file":
        (store / "witnesses" / "stray").write_text("x", encoding="utf-8")
    elif damage == "bad_vkey":
        (folder / "witness.vkey").write_text("auditor+00000000+AAAA\n", encoding="utf-8")
    elif damage == "note_is_a_folder":
        (folder / "000000000099.note").mkdir()
    else:
        [note] = [p for p in folder.iterdir() if p.suffix == ".note"]
        text = note.read_text(encoding="utf-8")
        last = text.rstrip("\n").rsplit(" ", 1)
        note.write_text(last[0] + " " + base64.b64encode(b"\x00" * 76).decode() + "\n", encoding="utf-8")
    code, out, err = run(capsys, "verify", "--evidence", str(store))
    assert code == 1 and err == "" and len(out.splitlines()) == 1 and out.startswith("TAMPERED: witnesses/")


@pytest.mark.parametrize("damage", ["store_json_garbage", "store_json_missing", "no_checkpoints"])
def test_checkpoint_prove_and_witness_on_a_damaged_store_say_so_in_one_line(store, capsys, tmp_path, damage):
    if damage == "store_json_garbage":
        (store / "store.json").write_bytes(b"\xff{not json")
    elif damage == "store_json_missing":
        (store / "store.json").unlink()
    else:
        shutil.rmtree(store / "checkpoints")
    key = new_key("auditor", tmp_path / "keys")[0]
    for argv in (["checkpoint"], ["prove", "1"], ["witness", "--key", str(key), "--state", str(tmp_path / "s.state")]):
        code, out, err = run(capsys, *argv, "--evidence", str(store))
        assert code == 3 and out == "" and len(err.splitlines()) == 1 and err.startswith("assurance: error: evidence store"), (argv, err)


def test_a_witness_state_that_does_not_verify_is_refused(store, capsys, tmp_path):
    key = new_key("auditor", tmp_path / "keys")[0]
    state = tmp_path / "s.state"
    assert run(capsys, "witness", "--evidence", str(store), "--key", str(key), "--state", str(state))[0] == 0
    saved = json.loads(state.read_text(encoding="utf-8"))
    state.write_text(json.dumps({**saved, "checkpoint": saved["checkpoint"].replace("\n3\n", "\n2\n")}), encoding="utf-8")
    code, _, err = run(capsys, "witness", "--evidence", str(store), "--key", str(key), "--state", str(state))
    assert code == 2 and "the checkpoint it holds does not verify" in err
