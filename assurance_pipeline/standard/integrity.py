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
from pydantic import BaseModel, ConfigDict, ValidationError

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.ledger import Ledger, sha256_hex
from assurance_pipeline.standard.loading import load_standard, read_yaml

AUTHORIZATION_FILE = "authorization.yaml"
_COVERED = ("standard.yaml", "decision_points", "baseline")


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


def file_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file the authorization covers, keyed by its path relative to the standard."""
    hashes: dict[str, str] = {}
    for name in _COVERED:
        target = root / name
        paths = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
        for path in paths:
            hashes[path.relative_to(root).as_posix()] = sha256_hex(path.read_bytes())
    return hashes


def standard_digest(hashes: dict[str, str]) -> str:
    """One digest over all file hashes: sha256 of sorted `path  hash` lines (as sha256sum prints them)."""
    return sha256_hex("".join(f"{h}  {p}\n" for p, h in sorted(hashes.items())))


def read_authorization(root: Path) -> Authorization | None:
    path = root / AUTHORIZATION_FILE
    if not path.is_file():
        return None
    try:
        data = read_yaml(path, root)  # the standard's own strict reader: a duplicate key or an alias is refused here too
    except AssuranceError as err:
        raise AssuranceError(f"{err}: not a valid authorization") from None
    try:
        return Authorization.model_validate(data)
    except ValidationError as err:
        raise AssuranceError(f"{path}: not a valid authorization ({str(err).splitlines()[0]})") from None


def check_integrity(root: Path, ledger: Ledger) -> IntegrityReport:
    """Compare the standard as it is now with what was authorized; list every difference."""
    hashes = file_hashes(root)
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
    if not ledger.find("authorization", **auth.model_dump()):  # every field: a forged signer or date is caught too
        problems.append(f"{AUTHORIZATION_FILE}: this authorization (sha256 {auth.sha256[:12]}…, by {auth.authorized_by}) "
                        "is not recorded in the evidence ledger")
    return IntegrityReport(not problems, digest, auth.sha256, auth.authorized_by, auth.authorized_at, problems)


def _file_changes(authorized: dict[str, str], current: dict[str, str]) -> list[str]:
    changes = [f"{p} was added after authorization" for p in sorted(current.keys() - authorized.keys())]
    changes += [f"{p} was removed after authorization" for p in sorted(authorized.keys() - current.keys())]
    changes += [f"{p} was changed after authorization" for p in sorted(authorized.keys() & current.keys()) if authorized[p] != current[p]]
    return changes


def authorize(root: Path, by: str, note: str, ledger: Ledger) -> Authorization:
    """Sign off the standard as it is now: refuse an invalid one, record it in the ledger, then write the file."""
    if not by.strip():
        raise AssuranceError("--by: the name of the person authorizing must not be empty")
    standard = load_standard(root)
    hashes = file_hashes(root)
    auth = Authorization(
        standard=standard.header.name,
        version=standard.header.version,
        authorized_by=by,
        authorized_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        note=note,
        files=hashes,
        sha256=standard_digest(hashes),
    )
    ledger.append("authorization", auth.model_dump())
    _write_atomically(root / AUTHORIZATION_FILE, yaml.safe_dump(auth.model_dump(), sort_keys=False))
    return auth


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
