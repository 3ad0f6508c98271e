"""Signed notes, checkpoints and cosignatures in the C2SP formats, against published vectors: golang.org/x/mod
sumdb/note's example (key PeterNeumann; Ed25519 is deterministic, so our note must be the same bytes) and
transparency-dev/formats' cosignature verifier key (type 0x04), and against an attacker who edits notes."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assurance_pipeline.evidence.notes import (
    COSIGNATURE_V1, ED25519, Checkpoint, NoteError, Verifier, cosign, cosigned_at, open_note, parse_checkpoint, parse_vkey,
    sign, split, vkey,
)

GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
COSIGNER_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"


def go_key() -> Ed25519PrivateKey:
    raw = base64.b64decode(GO_SKEY.split("+", 4)[4])
    assert raw[0] == ED25519
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def test_the_go_sumdb_note_example_is_reproduced_byte_for_byte():
    key = go_key()
    assert vkey("PeterNeumann", ED25519, key.public_key()) == GO_VKEY
    assert sign(GO_TEXT, "PeterNeumann", key) == GO_NOTE
    text, signatures = open_note(GO_NOTE, parse_vkey(GO_VKEY))
    assert text == GO_TEXT and [s.name for s in signatures] == ["PeterNeumann"]


def test_a_published_cosigner_key_parses_with_its_key_id():
    verifier = parse_vkey(COSIGNER_VKEY)
    assert (verifier.name, verifier.kind, verifier.id.hex()) == ("remora.n621.de", COSIGNATURE_V1, "da77ade7")
    assert vkey(verifier.name, verifier.kind, verifier.public_key) == COSIGNER_VKEY


@pytest.mark.parametrize("bad", [
    "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong key ID
    "PeterNeumann+c74f20a3+AhRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # wrong type byte
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",  # short
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "PeterNeumann+c74f20a3", "", "+++",
])
def test_malformed_verifier_keys_are_refused(bad: str):
    with pytest.raises(NoteError):
        parse_vkey(bad)


@pytest.mark.parametrize("edit", [
    lambda n: n.replace("cryptography", "cryptographY"),  # the text
    lambda n: n.replace("x08go", "x08gp"),  # the signature
    lambda n: n.replace("\u2014 PeterNeumann", "\u2014 PeterNeuman"),  # the signer's name
    lambda n: n.replace("\n\n", "\n"),  # no separator
    lambda n: n.replace("\u2014", "-"),  # not a signature line
    lambda n: n[:-1],  # no final newline
    lambda n: n.replace("answer", "ans\x00wer"),  # a control character
])
def test_an_edited_note_does_not_open(edit):
    with pytest.raises(NoteError):
        open_note(edit(GO_NOTE), parse_vkey(GO_VKEY))


def test_a_note_signed_by_another_key_of_the_same_name_does_not_open():
    forged = sign(GO_TEXT, "PeterNeumann", Ed25519PrivateKey.generate())
    with pytest.raises(NoteError, match="carries no signature of PeterNeumann"):
        open_note(forged, parse_vkey(GO_VKEY))


def test_checkpoints_round_trip_and_malformed_ones_are_refused():
    cp = Checkpoint("example.com/log", 20852163, base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="))
    assert cp.text() == "example.com/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert parse_checkpoint(cp.text()) == cp
    assert parse_checkpoint(cp.text() + "an extension line\n") == cp
    for bad in ("example.com/log\n20852163\n", "o\n012\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "o\n-1\nCsUY=\n",
                "o\n1\nnot base64!\n", "o\n1\nCsUY\n", "\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="):
        with pytest.raises(NoteError):
            parse_checkpoint(bad)


def test_a_cosignature_verifies_with_its_time_and_only_for_its_checkpoint():
    witness_key, log_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    witness = Verifier("auditor.example/w1", COSIGNATURE_V1, witness_key.public_key())
    text = Checkpoint("assurance/test", 7, b"\x01" * 32).text()
    note = sign(text, "assurance/test", log_key) + cosign(text, witness.name, witness_key, 1_790_000_000)
    opened, signatures = open_note(note, Verifier("assurance/test", ED25519, log_key.public_key()))
    assert cosigned_at(opened, signatures, witness) == 1_790_000_000
    other = Checkpoint("assurance/test", 8, b"\x01" * 32).text()
    _, moved = split(sign(other, "assurance/test", log_key) + cosign(text, witness.name, witness_key, 1_790_000_000))
    with pytest.raises(NoteError, match="does not verify"):
        cosigned_at(other, moved, witness)  # a cosignature copied onto another checkpoint
    assert cosigned_at(opened, signatures, Verifier("someone.else", COSIGNATURE_V1, witness_key.public_key())) is None
