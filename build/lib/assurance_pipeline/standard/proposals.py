"""Governed change: a change of the standard is proposed (recorded, in words, against the last authorization), then
authorized by someone else. The party that enforces a rule does not define it: the authorizer may not be the
proposer, nor act as an actor the change registers or lets execute more (see `changes.widened_actors`).

Without registered people (a demo) a proposal is optional and names are only compared as written; once people are
registered, every change after the first authorization needs a signed proposal of exactly the files being authorized.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.ledger import Ledger, LedgerEntry
from assurance_pipeline.evidence.people import people_of, registry_in_force, signer_for
from assurance_pipeline.evidence.standard_texts import authorized_texts, keep_texts
from assurance_pipeline.standard.changes import describe_changes, touched, widened_actors


@dataclass(frozen=True)
class Change:
    """The standard as it is now against the last authorization in the ledger (None: never authorized)."""

    files: dict[str, bytes]
    hashes: dict[str, str]
    digest: str
    base: LedgerEntry | None
    lines: list[str]
    widened: list[str]
    touches: dict  # what the change is about: {"points": [decision point ids], "header": bool, "baseline": bool}

    @property
    def changed(self) -> bool:
        return self.base is None or self.base.body.get("sha256") != self.digest


def pending_change(ledger: Ledger, files: dict[str, bytes]) -> Change:
    from assurance_pipeline.standard.integrity import file_hashes, standard_digest

    hashes = file_hashes(files)
    authorizations = ledger.find("authorization")
    base = authorizations[-1] if authorizations else None
    if base is None:
        return Change(files, hashes, standard_digest(hashes), None, [f"{name}: added" for name in sorted(files)],
                      widened_actors({}, files), touched({}, {}, files))
    authorized = base.body.get("files")
    authorized = {k: v for k, v in authorized.items() if isinstance(v, str)} if isinstance(authorized, dict) else {}
    texts = authorized_texts(ledger.folder, authorized)
    return Change(files, hashes, standard_digest(hashes), base, describe_changes(authorized, texts, files),
                  widened_actors(texts, files), touched(authorized, texts, files))


def propose(root: Path, by: str, note: str, ledger: Ledger, key: Path | None) -> tuple[LedgerEntry, Change]:
    """Record the change since the last authorization, signed by its proposer; refuse a standard that is invalid
    (it could not be authorized) or unchanged."""
    from assurance_pipeline.standard.integrity import checked_files

    if not by.strip():
        raise AssuranceError("--by: the name of the person proposing must not be empty")
    files, standard = checked_files(root)
    change = pending_change(ledger, files)
    if not change.changed:
        raise AssuranceError(f"{root}: nothing to propose: the standard is exactly as last authorized (sha256 {change.digest[:12]}…)")
    people = [p.model_dump() for p in standard.header.people]
    signer = signer_for("proposal", by, key, registry_in_force(ledger) or {p["name"]: p for p in people})
    keep_texts(ledger.folder, files)
    body = {"standard": standard.header.name, "version": standard.header.version, "by": by, "note": note,
            "sha256": change.digest, "files": change.hashes, "base": change.base.body.get("sha256") if change.base else None,
            "changes": change.lines, "widens": change.widened, "touches": change.touches, "people": people}
    return ledger.append("proposal", body, signer), change


def check_separation(change: Change, authorizer: str, ledger: Ledger, new_people: dict[str, dict]) -> LedgerEntry | None:
    """The proposal this authorization carries out, refusing one that breaks separation of duties (one line). The first
    sign-off needs no proposal, but if one was recorded, the same rules hold."""
    if not change.changed:
        return None  # a re-authorization of the same files: nothing changes hands
    proposal = _proposal_of(ledger, change)
    signed_mode = bool((change.base and people_of(change.base.body)) or new_people)
    if proposal is None:
        if signed_mode and change.base is not None:
            raise AssuranceError(f"authorize: the standard changed since its last authorization (sha256 {change.digest[:12]}…) and no "
                                 "proposal of exactly this change is recorded: run `assurance propose` first (someone else authorizes it)")
        return None
    if proposal.body.get("by") == authorizer:
        raise AssuranceError(f"authorize --by {authorizer!r}: {authorizer} proposed this change (ledger entry {proposal.seq}); "
                             "separation of duties: someone else must authorize it")
    person = {**(people_of(change.base.body) if change.base else {}), **new_people}.get(authorizer, {})
    acts_as = sorted(set(change.widened) & ({authorizer} | set(person.get("actors") or [])))
    if acts_as:
        raise AssuranceError(f"authorize --by {authorizer!r}: the change registers or widens actor {', '.join(acts_as)}, "
                             f"which {authorizer} acts as; the party that enforces a rule does not define it")
    return proposal


def _proposal_of(ledger: Ledger, change: Change) -> LedgerEntry | None:
    """The latest proposal since the last authorization whose files are exactly the ones being authorized."""
    found = None
    for entry in ledger.entries():
        if entry.kind == "authorization":
            found = None
        elif entry.kind == "proposal" and entry.body.get("sha256") == change.digest and (change.base is None or entry.seq > change.base.seq):
            found = entry
    return found
