"""People's keys and signatures: RFC 8032 test vectors, key files, and the ledger's signatures against an attacker who
can write every file of the evidence store but holds no registered person's private key."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey
from cryptography.hazmat.primitives import serialization

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.ledger import GENESIS, Ledger, LedgerEntry, _entry_hash
from assurance_pipeline.evidence.people import check_signatures, signer_for
from assurance_pipeline.evidence.signing import (
    Signer, load_private_key, new_key, parse_public_key, public_key_text, signature_holds, signed_message,
)

# RFC 8032 section 7.1, TEST 1 to 3: secret key, public key, message, signature (hex).
RFC8032 = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
]


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032)
def test_keys_and_signatures_match_rfc8032(secret: str, public: str, message: str, signature: str):
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    registered = public_key_text(key.public_key())
    assert registered == "ed25519:" + base64.b64encode(bytes.fromhex(public)).decode()
    assert key.sign(bytes.fromhex(message)).hex() == signature
    parse_public_key(registered).verify(bytes.fromhex(signature), bytes.fromhex(message))  # raises if it does not hold


def test_an_entry_signature_holds_only_for_its_own_hash():
    signer = Signer("alice", Ed25519PrivateKey.from_private_bytes(bytes.fromhex(RFC8032[0][0])))
    entry_hash = "ab" * 32
    sig = signer.sign(entry_hash)
    assert signature_holds(sig["public_key"], sig["value"], entry_hash)
    assert not signature_holds(sig["public_key"], sig["value"], "cd" * 32)  # moved to another entry
    flipped = bytearray(base64.b64decode(sig["value"]))
    flipped[10] ^= 1
    assert not signature_holds(sig["public_key"], base64.b64encode(bytes(flipped)).decode(), entry_hash)
    other = public_key_text(Ed25519PrivateKey.generate().public_key())
    assert not signature_holds(other, sig["value"], entry_hash)
    for bad_key, bad_value in (("ed25519:%%%", sig["value"]), ("rsa:abc", sig["value"]), (sig["public_key"], "not base64!"), (sig["public_key"], "")):
        assert not signature_holds(bad_key, bad_value, entry_hash)
    raw = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(RFC8032[0][0])).sign(entry_hash.encode())
    assert not signature_holds(sig["public_key"], base64.b64encode(raw).decode(), entry_hash)  # the bare hash is not what is signed
    assert signed_message(entry_hash).endswith(entry_hash.encode())


@pytest.mark.parametrize("text", ["", "ed25519:", "ed25519:abc", "ed25519:" + base64.b64encode(b"x" * 31).decode(), "ssh-ed25519 AAAA", 42])
def test_a_malformed_public_key_is_refused(text):
    with pytest.raises(ValueError):
        parse_public_key(text)


def test_keys_new_writes_a_private_key_only_its_owner_can_read(tmp_path: Path):
    path, public = new_key("alice", tmp_path / "keys")
    assert path == tmp_path / "keys" / "alice.key" and (path.stat().st_mode & 0o777) == 0o600
    key = load_private_key(path)
    assert public_key_text(key.public_key()) == public
    with pytest.raises(AssuranceError, match="never overwritten"):
        new_key("alice", tmp_path / "keys")
    assert load_private_key(path).private_bytes_raw() == key.private_bytes_raw()


def test_keys_new_refuses_an_evidence_store_and_a_name_that_is_a_path(tmp_path: Path):
    store = tmp_path / "evidence"
    store.mkdir()
    (store / "ledger.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(AssuranceError, match="inside the evidence store"):
        new_key("alice", store / "keys")
    for name in ("../alice", "", ".hidden", "a/b"):
        with pytest.raises(AssuranceError, match="keys new --name"):
            new_key(name, tmp_path / "keys")
    assert not (store / "keys").exists()


def test_a_key_file_others_can_read_or_of_another_kind_is_refused(tmp_path: Path):
    path, _ = new_key("alice", tmp_path)
    os.chmod(path, 0o644)
    with pytest.raises(AssuranceError, match="chmod 600"):
        load_private_key(path)
    other = tmp_path / "ed448.key"
    other.write_bytes(Ed448PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(other, 0o600)
    with pytest.raises(AssuranceError, match="not an Ed25519 key"):
        load_private_key(other)
    junk = tmp_path / "junk.key"
    junk.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n")
    os.chmod(junk, 0o600)
    with pytest.raises(AssuranceError, match="not an unencrypted PEM"):
        load_private_key(junk)
    with pytest.raises(AssuranceError, match="cannot be read"):
        load_private_key(tmp_path / "missing.key")


# --- the ledger's signatures against an attacker -------------------------------------------------------------------


class People:
    """Three registered people with keys, and mallory, who has a key but is registered nowhere."""

    def __init__(self, folder: Path) -> None:
        self.keys = {name: new_key(name, folder)[0] for name in ("alice", "bob", "carol", "mallory")}
        self.public = {name: public_key_text(load_private_key(path).public_key()) for name, path in self.keys.items()}
        roles = {"alice": "owner", "bob": "authorizer", "carol": "reviewer"}
        self.registry = [{"name": n, "role": r, "public_key": self.public[n], "actors": []} for n, r in roles.items()]

    def signer(self, name: str, as_name: str | None = None) -> Signer:
        return Signer(as_name or name, load_private_key(self.keys[name]))


@pytest.fixture
def signed_store(tmp_path: Path) -> tuple[Ledger, People]:
    people = People(tmp_path / "keys")
    ledger = Ledger(tmp_path / "evidence")
    ledger.append("authorization", {"authorized_by": "bob", "people": people.registry, "sha256": "0" * 64}, people.signer("bob"))
    ledger.append("cycle_decision", {"cycle_id": "c1", "findings": [{"id": "F-1"}]})
    ledger.append("disposition", {"finding_id": "F-1", "by": "carol", "disposition": "false_positive", "note": "n"}, people.signer("carol"))
    return ledger, people


def append_raw(ledger: Ledger, kind: str, body: dict, signature: dict | None = None) -> None:
    """What an attacker with write access does: a correctly chained line, hashes recomputed, any signature it likes."""
    head = ledger.head()
    seq, prev, at = (head.seq + 1, head.hash, "2026-11-30T00:00:00.000000Z") if head else (1, GENESIS, "2026-11-30T00:00:00.000000Z")
    entry = LedgerEntry(seq=seq, at=at, kind=kind, body=body, prev=prev, hash=_entry_hash(seq, at, kind, body, prev), signature=signature)
    ledger.folder.mkdir(parents=True, exist_ok=True)
    with ledger.path.open("a", encoding="utf-8") as out:
        out.write(entry.line() + "\n")


def next_hash(ledger: Ledger, kind: str, body: dict) -> str:
    head = ledger.head()
    return _entry_hash(head.seq + 1, "2026-11-30T00:00:00.000000Z", kind, body, head.hash)


def test_a_signed_store_verifies(signed_store):
    ledger, _ = signed_store
    report = check_signatures(ledger.entries())
    assert (report.problem, report.signed, report.unsigned) == (None, 2, 0)


DISPOSITION = {"finding_id": "F-1", "by": "alice", "disposition": "accept_change", "note": "forged"}


def test_an_unsigned_disposition_is_caught(signed_store):
    ledger, _ = signed_store
    append_raw(ledger, "disposition", DISPOSITION)
    assert check_signatures(ledger.entries()).problem == "line 4 (seq 4): disposition by 'alice' is not signed, but people are registered"


def test_a_disposition_signed_by_an_unregistered_key_is_caught(signed_store):
    ledger, people = signed_store
    forged = people.signer("mallory", as_name="alice").sign(next_hash(ledger, "disposition", DISPOSITION))
    append_raw(ledger, "disposition", DISPOSITION, forged)
    assert "with a key that is not the one registered for them" in check_signatures(ledger.entries()).problem
    ledger.path.write_bytes(b"".join(ledger.path.read_bytes().splitlines(keepends=True)[:3]))
    mallory = people.signer("mallory").sign(next_hash(ledger, "disposition", {**DISPOSITION, "by": "mallory"}))
    append_raw(ledger, "disposition", {**DISPOSITION, "by": "mallory"}, mallory)
    assert "signed by 'mallory', who is not a registered person" in check_signatures(ledger.entries()).problem


def test_a_signature_copied_from_another_entry_is_caught(signed_store):
    ledger, _ = signed_store
    carols = json.loads(ledger.path.read_text(encoding="utf-8").splitlines()[2])["signature"]
    append_raw(ledger, "disposition", {**DISPOSITION, "by": "carol"}, carols)
    assert "the signature does not match the entry (forged, or moved from another entry)" in check_signatures(ledger.entries()).problem


def test_a_signed_entry_recorded_under_another_name_is_caught(signed_store):
    ledger, people = signed_store
    body = {**DISPOSITION, "by": "alice"}
    append_raw(ledger, "disposition", body, people.signer("carol").sign(next_hash(ledger, "disposition", body)))
    assert "recorded as by 'alice' but signed by 'carol'" in check_signatures(ledger.entries()).problem


def test_an_authorization_needs_an_authorizer(signed_store):
    ledger, people = signed_store
    body = {"authorized_by": "alice", "people": people.registry, "sha256": "1" * 64}
    append_raw(ledger, "authorization", body, people.signer("alice").sign(next_hash(ledger, "authorization", body)))
    assert "registered as owner; only authorizers may authorize" in check_signatures(ledger.entries()).problem


def test_registering_an_attackers_key_needs_a_registered_authorizers_signature(signed_store):
    """The registry in force is the previous authorization's: mallory cannot sign her own way into it."""
    ledger, people = signed_store
    registry = [*people.registry, {"name": "mallory", "role": "authorizer", "public_key": people.public["mallory"], "actors": []}]
    body = {"authorized_by": "mallory", "people": registry, "sha256": "1" * 64}
    append_raw(ledger, "authorization", body, people.signer("mallory").sign(next_hash(ledger, "authorization", body)))
    assert "signed by 'mallory', who is not a registered person" in check_signatures(ledger.entries()).problem


def test_an_edited_signed_entry_is_caught_even_with_every_hash_recomputed(signed_store):
    """Rewriting carol's disposition (and re-chaining after it) keeps her signature over the old hash."""
    ledger, _ = signed_store
    lines = [json.loads(line) for line in ledger.path.read_text(encoding="utf-8").splitlines()]
    lines[2]["body"]["disposition"] = "remediate"
    lines[2]["hash"] = _entry_hash(3, lines[2]["at"], "disposition", lines[2]["body"], lines[2]["prev"])
    ledger.path.write_text("".join(LedgerEntry.model_validate(e).line() + "\n" for e in lines), encoding="utf-8")
    assert ledger.verify().intact  # the chain alone cannot tell
    assert "the signature does not match the entry" in check_signatures(ledger.entries()).problem


def test_a_signature_on_an_entry_nobody_signs_is_caught(signed_store):
    ledger, people = signed_store
    body = {"cycle_id": "c2", "findings": []}
    append_raw(ledger, "cycle_decision", body, people.signer("bob").sign(next_hash(ledger, "cycle_decision", body)))
    assert "a cycle_decision entry carries a signature" in check_signatures(ledger.entries()).problem


def test_without_registered_people_entries_are_unsigned_and_counted(tmp_path: Path):
    ledger = Ledger(tmp_path / "evidence")
    ledger.append("authorization", {"authorized_by": "CFO office", "people": []})
    ledger.append("disposition", {"finding_id": "F-1", "by": "anyone", "disposition": "remediate", "note": "n"})
    report = check_signatures(ledger.entries())
    assert (report.problem, report.signed, report.unsigned) == (None, 0, 2)
    people = People(tmp_path / "keys")
    body = {"finding_id": "F-1", "by": "alice", "disposition": "remediate", "note": "n"}
    append_raw(ledger, "disposition", body, people.signer("alice").sign(next_hash(ledger, "disposition", body)))
    assert "no people are registered to check it against" in check_signatures(ledger.entries()).problem


def test_the_first_registration_must_be_signed_by_one_of_its_authorizers(tmp_path: Path):
    ledger, people = Ledger(tmp_path / "evidence"), People(tmp_path / "keys")
    append_raw(ledger, "authorization", {"authorized_by": "bob", "people": people.registry})
    assert "authorization by 'bob' is not signed, but people are registered" in check_signatures(ledger.entries()).problem


def test_signer_for_checks_what_verify_will_check(signed_store, tmp_path: Path):
    ledger, people = signed_store
    registry = {p["name"]: p for p in people.registry}
    assert signer_for("disposition", "carol", people.keys["carol"], registry).name == "carol"
    for by, key, message in (
        ("carol", None, "this disposition must be signed: pass --key FILE"),
        ("dave", people.keys["carol"], "--by 'dave': not a registered person"),
        ("carol", people.keys["alice"], "not the key registered for 'carol'"),
        ("carol", people.keys["mallory"], "not the key registered for 'carol'"),
    ):
        with pytest.raises(AssuranceError, match=message.replace("(", r"\(").replace(")", r"\)")):
            signer_for("disposition", by, key, registry)
    with pytest.raises(AssuranceError, match="registered as reviewer; only authorizers may authorize"):
        signer_for("authorization", "carol", people.keys["carol"], registry)
    with pytest.raises(AssuranceError, match="registers no people"):
        signer_for("disposition", "carol", people.keys["carol"], {})
    assert signer_for("disposition", "anyone", None, {}) is None
