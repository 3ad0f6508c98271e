"""Re-confirm the standard: the sha256 of every file against the sign-off in authorization.yaml and the ledger.

A standard is intact when its files hash to exactly what was authorized, and that authorization was
recorded in the evidence ledger by `assurance authorize` (a hand-written authorization.yaml is caught).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.ledger import Ledger, LedgerEntry, sha256_hex
from assurance_pipeline.evidence.people import check_signatures
from assurance_pipeline.standard.drafts import refuse_drafts
from assurance_pipeline.standard.limits import LimitError, check_inside, read_bytes_bounded
from assurance_pipeline.standard.loading import load_standard, read_yaml, standard_files
from assurance_pipeline.standard.models import Standard

AUTHORIZATION_FILE = "authorization.yaml"


class Authorization(BaseModel):
    """The sign-off: who authorized the standard, when, and the hash of every file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    standard: str
    version: str
    authorized_by: str
    authorized_at: str
    note: str = ""
    files: dict[str, str]
    sha256: str
    people: list[dict] = Field(default_factory=list)  # who may sign from now on (name, role, public key, actors)


@dataclass(frozen=True)
class IntegrityReport:
    intact: bool
    sha256: str
    authorized_sha256: str | None
    authorized_by: str | None = None
    authorized_at: str | None = None
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def file_hashes(files: dict[str, bytes]) -> dict[str, str]:
    """sha256 of every file the authorization covers (`standard_files`), keyed by its path relative to the standard."""
    return {name: sha256_hex(raw) for name, raw in files.items()}


def standard_digest(hashes: dict[str, str]) -> str:
    """One digest over all file hashes: sha256 of sorted `path  hash` lines (as sha256sum prints them)."""
    return sha256_hex("".join(f"{h}  {p}\n" for p, h in sorted(hashes.items())))


def read_authorization(root: Path) -> Authorization | None:
    path = root / AUTHORIZATION_FILE
    if not path.is_file():
        return None
    try:
        check_inside(path, root)
        data = read_yaml(path, read_bytes_bounded(path))  # the standard's own strict reader: a duplicate key or an alias is refused here too
    except LimitError as err:
        raise AssuranceError(f"{path}: {err}: not a valid authorization") from None
    except OSError as err:
        raise AssuranceError(f"{path}: cannot be read ({err.strerror or err}): not a valid authorization") from None
    except AssuranceError as err:
        raise AssuranceError(f"{err}: not a valid authorization") from None
    try:
        return Authorization.model_validate(data)
    except ValidationError as err:
        raise AssuranceError(f"{path}: not a valid authorization ({str(err).splitlines()[0]})") from None


def check_integrity(root: Path, ledger: Ledger, files: dict[str, bytes] | None = None) -> IntegrityReport:
    """Compare the standard as it is now (`files`, read by `standard_files`) with what was authorized; list every
    difference."""
    hashes = file_hashes(standard_files(root) if files is None else files)
    digest = standard_digest(hashes)
    try:
        auth = read_authorization(root)
    except AssuranceError as err:
        return IntegrityReport(False, digest, None, problems=[str(err)])
    if auth is None:
        return IntegrityReport(False, digest, None, problems=[f"{AUTHORIZATION_FILE} is missing: the standard was never authorized"])
    problems = [*_file_changes(auth.files, hashes)]
    if standard_digest(auth.files) != auth.sha256:
        problems.append(f"{AUTHORIZATION_FILE} was edited: its sha256 does not match its own file list")
    entries = list(ledger.entries())  # read once for both checks
    signatures = check_signatures(entries)
    if signatures.problem:  # an authorization someone appended in another's name, say
        problems.append(f"the evidence ledger's signatures do not hold: {signatures.problem}")
    if not _recorded(entries, auth):  # every field: a forged signer or date is caught too
        problems.append(f"{AUTHORIZATION_FILE}: this authorization (sha256 {auth.sha256[:12]}…, by {auth.authorized_by}) "
                        "is not recorded in the evidence ledger")
    return IntegrityReport(not problems, digest, auth.sha256, auth.authorized_by, auth.authorized_at, problems)


def _recorded(entries: list[LedgerEntry], auth: Authorization) -> bool:
    """Whether the ledger holds this very authorization (entries from before people were registered have none)."""
    wanted = auth.model_dump()
    return any(e.kind == "authorization" and all({"people": [], **e.body}.get(k) == v for k, v in wanted.items()) for e in entries)


def _file_changes(authorized: dict[str, str], current: dict[str, str]) -> list[str]:
    changes = [f"{p} was added after authorization" for p in sorted(current.keys() - authorized.keys())]
    changes += [f"{p} was removed after authorization" for p in sorted(authorized.keys() - current.keys())]
    changes += [f"{p} was changed after authorization" for p in sorted(authorized.keys() & current.keys()) if authorized[p] != current[p]]
    return changes


def checked_files(root: Path) -> tuple[dict[str, bytes], Standard]:
    """The standard's files, read once, and the standard they make, refusing one a cycle could not use (an invalid
    file, a baseline of the wrong shape): what is signed off or proposed is what a cycle will run."""
    from assurance_pipeline.drift.baseline import read_baseline  # drift builds on the standard, not the reverse

    files = standard_files(root)
    standard = load_standard(root, files)
    read_baseline(root, files)
    return files, standard


@dataclass(frozen=True)
class Authorized:
    authorization: Authorization
    changes: list[str]
    proposal_seq: int | None
    signed_by: str | None


def authorize(root: Path, by: str, note: str, ledger: Ledger, key: Path | None = None) -> Authorized:
    """Sign off the standard as it is now: refuse an invalid one and one that breaks separation of duties, record it in
    the ledger (signed, with the change in words and the proposal it carries out), then write authorization.yaml."""
    from assurance_pipeline.evidence.people import registry_in_force, signer_for
    from assurance_pipeline.evidence.standard_texts import keep_texts
    from assurance_pipeline.standard.proposals import check_separation, pending_change

    if not by.strip():
        raise AssuranceError("--by: the name of the person authorizing must not be empty")
    files, standard = checked_files(root)  # read once: the bytes signed off are the bytes checked
    refuse_drafts(standard, "authorized")
    people = [p.model_dump() for p in standard.header.people]
    new_people = {p["name"]: p for p in people}
    change = pending_change(ledger, files)
    proposal = check_separation(change, by, ledger, new_people)
    signer = signer_for("authorization", by, key, registry_in_force(ledger) or new_people)
    auth = Authorization(
        standard=standard.header.name,
        version=standard.header.version,
        authorized_by=by,
        authorized_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        note=note,
        files=change.hashes,
        sha256=change.digest,
        people=people,
    )
    keep_texts(ledger.folder, files)
    body = {**auth.model_dump(), "changes": change.lines, "touches": change.touches, "proposal": proposal.seq if proposal else None}
    ledger.append("authorization", body, signer)
    _write_atomically(root / AUTHORIZATION_FILE, yaml.safe_dump(auth.model_dump(), sort_keys=False))
    return Authorized(auth, change.lines, proposal.seq if proposal else None, signer.name if signer else None)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
