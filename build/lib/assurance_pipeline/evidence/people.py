"""Who may sign what, at each point of the ledger: the people the authorized standard registered.

The registry in force at an entry is the `people` of the last authorization before it. The first authorization
that registers people (and a proposal of it) has no registry before it and is checked against its own list (trust
on first registration; signed checkpoints held by others are what anchor it). Where no people are registered, entries are unsigned: allowed
so a demo runs without keys, and marked unsigned wherever they are listed. Once people are registered, every
authorization, proposal and disposition must be signed by a registered person in a role allowed to sign it, with
the key registered for that person, and the name it is recorded under must be the signer's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.ledger import Ledger, LedgerEntry
from assurance_pipeline.evidence.signing import Signer, key_file, load_private_key, public_key_text, signature_holds

ANYONE = ("owner", "authorizer", "reviewer")
ROLES = {"authorization": ("authorizer",), "proposal": ANYONE, "disposition": ANYONE}  # the kinds people sign
SIGNER_FIELD = {"authorization": "authorized_by", "proposal": "by", "disposition": "by"}
COMMAND = {"authorization": "authorize", "proposal": "propose", "disposition": "dispose"}


def people_of(authorization_body: dict) -> dict[str, dict]:
    """The registry an authorization puts in force: name -> {role, public_key, actors}."""
    people = authorization_body.get("people") or []
    return {p["name"]: p for p in people if isinstance(p, dict) and isinstance(p.get("name"), str)}


def registry_in_force(ledger: Ledger) -> dict[str, dict]:
    """The people registered by the last authorization in the ledger (empty when none registers anyone)."""
    last = ledger.find("authorization")
    return people_of(last[-1].body) if last else {}


@dataclass(frozen=True)
class SignatureReport:
    problem: str | None  # the first entry whose signature or signer is wrong, named
    signed: int
    unsigned: int  # entries of a signing kind recorded while no people were registered


def check_signatures(entries: Iterable[LedgerEntry]) -> SignatureReport:
    """Walk the ledger in order, checking every entry of a signing kind against the registry in force there."""
    registry: dict[str, dict] = {}
    signed = unsigned = 0
    for entry in entries:
        if entry.kind not in ROLES:
            if entry.signature is not None:
                return SignatureReport(_at(entry, f"a {entry.kind} entry carries a signature no one signs it with"), signed, unsigned)
            continue
        if not isinstance(entry.body, dict):
            return SignatureReport(_at(entry, "not an entry as the store writes it"), signed, unsigned)
        own = people_of(entry.body) if entry.kind in ("authorization", "proposal") else {}  # the registry it proposes
        in_force = registry or own
        problem = _entry_problem(entry, in_force)
        if problem:
            return SignatureReport(_at(entry, problem), signed, unsigned)
        signed, unsigned = (signed + 1, unsigned) if entry.signature else (signed, unsigned + 1)
        if entry.kind == "authorization":
            registry = own
    return SignatureReport(None, signed, unsigned)


def _entry_problem(entry: LedgerEntry, registry: dict[str, dict]) -> str | None:
    signature, named = entry.signature, entry.body.get(SIGNER_FIELD[entry.kind])
    if signature is None:
        return f"{entry.kind} by {named!r} is not signed, but people are registered" if registry else None
    if not registry:
        return f"{entry.kind} is signed by {signature.by!r}, but no people are registered to check it against"
    person = registry.get(signature.by)
    if person is None:
        return f"{entry.kind} is signed by {signature.by!r}, who is not a registered person"
    if signature.public_key != person.get("public_key"):
        return f"{entry.kind} is signed by {signature.by!r} with a key that is not the one registered for them"
    if person.get("role") not in ROLES[entry.kind]:
        return f"{entry.kind} is signed by {signature.by!r}, registered as {person.get('role')}; only {' or '.join(ROLES[entry.kind])}s may {COMMAND[entry.kind]}"
    if named != signature.by:
        return f"{entry.kind} is recorded as by {named!r} but signed by {signature.by!r}"
    if not signature_holds(signature.public_key, signature.value, entry.hash):
        return f"{entry.kind} by {signature.by!r}: the signature does not match the entry (forged, or moved from another entry)"
    return None


def _at(entry: LedgerEntry, problem: str) -> str:
    return f"line {entry.seq} (seq {entry.seq}): {problem}"


def signer_for(kind: str, by: str, key: Path | None, registry: dict[str, dict]) -> Signer | None:
    """The signer of a new entry, checked as `verify` will check it; None (unsigned) only while no one is registered.
    `key` is --key, else the file ASSURANCE_SIGNING_KEY names."""
    path = key_file(key)
    if not registry:
        if path is None:
            return None
        raise AssuranceError(f"--key {path}: the authorized standard registers no people, so there is no key to check a "
                             "signature against; register people in standard.yaml and authorize it first")
    if path is None:
        raise AssuranceError(f"{COMMAND[kind]}: the authorized standard registers people, so this {kind} must be signed: "
                             "pass --key FILE (or set ASSURANCE_SIGNING_KEY)")
    person = registry.get(by)
    if person is None:
        raise AssuranceError(f"--by {by!r}: not a registered person (standard.yaml `people`: {', '.join(sorted(registry)) or 'none'})")
    if person.get("role") not in ROLES[kind]:
        raise AssuranceError(f"--by {by!r}: registered as {person.get('role')}; only {' or '.join(ROLES[kind])}s may {COMMAND[kind]}")
    private = load_private_key(path)
    if public_key_text(private.public_key()) != person.get("public_key"):
        raise AssuranceError(f"--key {path}: not the key registered for {by!r}")
    return Signer(by, private)
